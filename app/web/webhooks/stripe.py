"""Payment events, from Stripe's webhook or from the sandbox: one path into the ledger."""

from __future__ import annotations

from flask import current_app

from app.clock import utcnow
from app.providers import payment_gateway, portal_link_for, webhook_secret
from app.web.db import get_session
from payments.events import apply_event, verify_event


def receive_payment_event(payload: bytes, signature: str | None) -> str:
    """Verify, apply and commit one event; returns what it did.

    :raises InvalidEvent: a bad signature or payload; nothing was changed.
    """
    event = verify_event(payload, signature, webhook_secret(current_app))
    session = get_session()
    outcome = apply_event(
        session,
        event,
        now=utcnow(),
        link_for=portal_link_for(current_app),
        gateway=payment_gateway(current_app),
    )
    session.commit()
    return outcome


def deliver_events(events: list[tuple[bytes, str]]) -> list[str]:
    """Hand the sandbox's signed events to the webhook path, each in its own commit."""
    return [receive_payment_event(payload, signature) for payload, signature in events]
