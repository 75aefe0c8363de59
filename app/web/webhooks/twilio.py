"""Twilio request authentication and the inbound path shared with the dev phone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from app.chat.actions import sms_lands
from app.clock import utcnow
from app.models import Debtor
from app.models.enums import SignalSource
from app.risk.actions import record_risk
from app.web.db import get_session
from app.web.live.wiring import chat_adapters
from reminders.inbound import InboundResult, receive_sms
from reminders.keywords import Keyword


def auth_token() -> str:
    """The token Twilio signs with; the dev phone signs with its own in development."""
    if current_app.config["SMS_BACKEND"] == "twilio":
        return str(current_app.config["TWILIO_AUTH_TOKEN"])
    return str(current_app.config["DEV_TWILIO_AUTH_TOKEN"])


def public_url(path: str, query: str = "") -> str:
    """The URL exactly as Twilio requested it: our public base URL, not what the proxy says."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}{path}" + (f"?{query}" if query else "")


def signature_valid(url: str, params: Mapping[str, str], signature: str) -> bool:
    return bool(RequestValidator(auth_token()).validate(url, dict(params), signature))


def sign(url: str, params: Mapping[str, str]) -> str:
    return str(RequestValidator(auth_token()).compute_signature(url, dict(params)))


def _risk_from_sms(session: Session, debtor: Debtor, text: str, now: datetime) -> None:
    record_risk(session, debtor, text, source=SignalSource.SMS, now=now)


def handle_inbound(params: Mapping[str, str]) -> str:
    """Record and act on one inbound SMS; answer with empty TwiML (replies go via the outbox)."""
    session, now = get_session(), utcnow()
    result = receive_sms(
        session,
        from_number=params.get("From", ""),
        to_number=params.get("To", ""),
        body=params.get("Body", ""),
        provider_message_id=params["MessageSid"],
        now=now,
        risk_hook=_risk_from_sms,
    )
    _into_chat(session, result, now)
    session.commit()
    return str(MessagingResponse())


def _into_chat(session: Session, result: InboundResult, now: datetime) -> None:
    """Free text from a debtor joins their open chat; asking for a person opens one."""
    debtor_id = result.inbound.debtor_id
    if result.duplicate or result.keyword is not Keyword.NONE or debtor_id is None:
        return
    debtor = session.get(Debtor, debtor_id)
    assert debtor is not None
    sms_lands(
        session,
        result.inbound,
        debtor,
        wants_person=result.wants_person,
        now=now,
        adapters=chat_adapters(current_app),
    )
