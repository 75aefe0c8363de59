"""The sandbox gateway: a local stand-in for Stripe, for development and the demo.

It keeps no state of its own. A checkout is a signed token carrying the request; completing it
with a demo card produces the same Stripe-shaped, signed events Stripe would send, which the
caller hands to the webhook path (payments/events.py) exactly like a real delivery.
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import stripe
from itsdangerous import BadSignature, URLSafeSerializer

from payments.gateway import (
    ChargeOutcome,
    ChargeStatus,
    CheckoutMode,
    CheckoutRequest,
    CheckoutSession,
    OffSessionCharge,
    PaymentGatewayError,
    SavedMethod,
)


class Card(enum.StrEnum):
    """Stripe's own test card numbers, with the behaviour Stripe gives them."""

    SUCCEEDS = "4242424242424242"
    DECLINED = "4000000000000002"
    INSUFFICIENT_FUNDS = "4000000000009995"
    AUTHENTICATE = "4000002500003155"  # asks for authentication on and off session
    FAILS_LATER = "4000000000000341"  # can be saved, but every later charge fails


# Stripe's test cards take any future expiry; the sandbox's cards all carry this one.
SANDBOX_CARD_EXPIRY = (12, 2030)
_METHOD_PREFIX = "pm_sandbox_"

_DECLINES = {
    Card.DECLINED: "generic_decline",
    Card.INSUFFICIENT_FUNDS: "insufficient_funds",
}


class UnknownCard(ValueError):
    """Only the demo cards work in the sandbox."""


class UnknownCheckout(Exception):
    """The checkout token was not issued by this sandbox (tampered or from elsewhere)."""


@dataclass(frozen=True)
class SandboxCheckout:
    session_id: str
    request: CheckoutRequest


@dataclass
class SandboxOutcome:
    """What a demo card did, and the signed events (payload, signature header) it caused."""

    succeeded: bool
    needs_authentication: bool = False
    decline_code: str | None = None
    events: list[tuple[bytes, str]] = field(default_factory=list)


class SandboxGateway:
    """`PaymentGateway` for development; `checkout_url` turns a token into our local page."""

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        checkout_url: Callable[[str], str],
    ) -> None:
        self._tokens = URLSafeSerializer(secret_key, salt="venlig.sandbox.checkout")
        self._webhook_secret = webhook_secret
        self._checkout_url = checkout_url
        # Events of off-session charges, delivered by the caller after its transaction.
        self.pending_events: list[tuple[bytes, str]] = []

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        session_id = f"cs_sandbox_{secrets.token_hex(12)}"
        token = self._tokens.dumps({"id": session_id, "request": asdict(request)})
        return CheckoutSession(provider_id=session_id, url=self._checkout_url(token))

    def read_checkout(self, token: str) -> SandboxCheckout:
        try:
            data = self._tokens.loads(token)
        except BadSignature as error:
            raise UnknownCheckout("This checkout link is not valid") from error
        request = data["request"]
        request["mode"] = CheckoutMode(request["mode"])
        return SandboxCheckout(
            session_id=data["id"], request=CheckoutRequest(**request)
        )

    def complete_checkout(
        self,
        checkout: SandboxCheckout,
        card_number: str,
        *,
        authenticated: bool = False,
    ) -> SandboxOutcome:
        """Pay (or save) with a demo card; `authenticated` is the debtor's answer to 3-D Secure."""
        card = _card(card_number)
        if card in _DECLINES:
            return self._declined(checkout, _DECLINES[card])
        if card is Card.AUTHENTICATE and not authenticated:
            return SandboxOutcome(succeeded=False, needs_authentication=True)
        if checkout.request.mode is CheckoutMode.SETUP:
            return SandboxOutcome(
                succeeded=True, events=self._setup_events(checkout, card)
            )
        return SandboxOutcome(
            succeeded=True, events=self._payment_events(checkout, card)
        )

    def pay_with_wallet(self, checkout: SandboxCheckout) -> SandboxOutcome:
        """MobilePay or Vipps: money now, but nothing that can be charged again later."""
        if checkout.request.mode is CheckoutMode.SETUP:
            raise UnknownCard("a wallet cannot be saved for later charges")
        intent_id = _intent_id(checkout.session_id)
        request = checkout.request
        intent = _intent(
            intent_id, request.amount_minor or 0, request.currency, request.metadata
        )
        intent.update(
            payment_method="pm_sandbox_wallet", payment_method_types=["wallet"]
        )
        session = _session(checkout, request.customer_ref or "")
        session.update(
            payment_intent=intent_id,
            payment_status="paid",
            amount_total=request.amount_minor,
        )
        return SandboxOutcome(
            succeeded=True,
            events=[
                self._event("payment_intent.succeeded", intent),
                self._event("checkout.session.completed", session),
            ],
        )

    def fail_authentication(self, checkout: SandboxCheckout) -> SandboxOutcome:
        return self._declined(checkout, "authentication_failed")

    def charge_off_session(self, charge: OffSessionCharge) -> ChargeOutcome:
        intent_id = _intent_id(charge.idempotency_key)
        card = charge.payment_method_ref.removeprefix(_METHOD_PREFIX)
        if card == Card.AUTHENTICATE:
            return ChargeOutcome(
                ChargeStatus.REQUIRES_ACTION, intent_id, "authentication_required"
            )
        if card != Card.SUCCEEDS:
            return ChargeOutcome(
                ChargeStatus.FAILED, intent_id, "card_declined", "Declined"
            )
        intent = _intent(
            intent_id, charge.amount_minor, charge.currency, charge.metadata
        )
        intent.update(
            customer=charge.customer_ref, payment_method=charge.payment_method_ref
        )
        self.pending_events.append(self._event("payment_intent.succeeded", intent))
        return ChargeOutcome(ChargeStatus.SUCCEEDED, intent_id)

    def charge_status(self, payment_intent_id: str) -> ChargeOutcome:
        """The sandbox keeps no record: its off-session charges either succeeded at once
        (with their event in `pending_events`) or failed in the answer itself."""
        return ChargeOutcome(ChargeStatus.SUCCEEDED, payment_intent_id)

    def describe_payment_method(self, payment_method_ref: str) -> SavedMethod:
        """A saved demo card, read from its reference; wallets are never saved."""
        try:
            card = _card(payment_method_ref.removeprefix(_METHOD_PREFIX))
        except UnknownCard:
            raise PaymentGatewayError(
                f"Sandbox: no saved card {payment_method_ref!r}"
            ) from None
        month, year = SANDBOX_CARD_EXPIRY
        # Every test card in `Card` is a Visa number.
        return SavedMethod(
            brand="visa", last4=card.value[-4:], exp_month=month, exp_year=year
        )

    def _declined(self, checkout: SandboxCheckout, code: str) -> SandboxOutcome:
        request = checkout.request
        intent = _intent(
            _intent_id(checkout.session_id),
            request.amount_minor or 0,
            request.currency,
            request.metadata,
        )
        intent.update(
            status="requires_payment_method",
            amount_received=0,
            last_payment_error={"code": "card_declined", "decline_code": code},
        )
        event = self._event("payment_intent.payment_failed", intent)
        return SandboxOutcome(succeeded=False, decline_code=code, events=[event])

    def _payment_events(
        self, checkout: SandboxCheckout, card: Card
    ) -> list[tuple[bytes, str]]:
        request = checkout.request
        intent_id = _intent_id(checkout.session_id)
        customer = request.customer_ref or f"cus_sandbox_{secrets.token_hex(8)}"
        intent = _intent(
            intent_id, request.amount_minor or 0, request.currency, request.metadata
        )
        intent.update(customer=customer, payment_method=f"{_METHOD_PREFIX}{card.value}")
        if request.save_payment_method:
            intent["setup_future_usage"] = "off_session"
        session = _session(checkout, customer)
        session.update(
            payment_intent=intent_id,
            payment_status="paid",
            amount_total=request.amount_minor,
        )
        # Stripe does not promise an order; the ledger must not care.
        return [
            self._event("payment_intent.succeeded", intent),
            self._event("checkout.session.completed", session),
        ]

    def _setup_events(
        self, checkout: SandboxCheckout, card: Card
    ) -> list[tuple[bytes, str]]:
        request = checkout.request
        customer = request.customer_ref or f"cus_sandbox_{secrets.token_hex(8)}"
        setup_id = f"seti_sandbox_{secrets.token_hex(12)}"
        setup = {
            "id": setup_id,
            "object": "setup_intent",
            "status": "succeeded",
            "usage": "off_session",
            "customer": customer,
            "payment_method": f"{_METHOD_PREFIX}{card.value}",
            "metadata": dict(request.metadata),
        }
        session = _session(checkout, customer)
        session.update(setup_intent=setup_id, payment_status="no_payment_required")
        return [
            self._event("checkout.session.completed", session),
            self._event("setup_intent.succeeded", setup),
        ]

    def _event(self, event_type: str, obj: dict[str, Any]) -> tuple[bytes, str]:
        event = {
            "id": f"evt_sandbox_{secrets.token_hex(12)}",
            "object": "event",
            "type": event_type,
            "livemode": False,
            "data": {"object": obj},
        }
        payload = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(
            payload, self._webhook_secret
        )
        return payload.encode(), header


def _card(card_number: str) -> Card:
    digits = "".join(ch for ch in card_number if ch.isdigit())
    try:
        return Card(digits)
    except ValueError:
        raise UnknownCard(digits) from None


def _intent_id(seed: str) -> str:
    """As at Stripe, one PaymentIntent per checkout session and per idempotency key: paying
    one checkout twice, or retrying a charge after a lost answer, cannot pay twice."""
    return f"pi_sandbox_{hashlib.sha256(seed.encode()).hexdigest()[:24]}"


def _intent(
    intent_id: str, amount_minor: int, currency: str, metadata: dict[str, str]
) -> dict[str, Any]:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": amount_minor,
        "amount_received": amount_minor,
        "currency": currency.lower(),
        "metadata": dict(metadata),
    }


def _session(checkout: SandboxCheckout, customer: str) -> dict[str, Any]:
    request = checkout.request
    return {
        "id": checkout.session_id,
        "object": "checkout.session",
        "mode": request.mode.value,
        "status": "complete",
        "currency": request.currency.lower(),
        "customer": customer,
        "client_reference_id": request.metadata.get("attempt_id"),
        "metadata": dict(request.metadata),
    }
