"""The payment port: what Venlig needs from a payment provider.

Two adapters implement it: `StripeGateway` (payments/stripe_gateway.py) and `SandboxGateway`
(payments/sandbox.py). Neither changes a balance: money moves only when a signed event
(Stripe-shaped JSON, from Stripe or from the sandbox) passes through payments/events.py.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol


class CheckoutMode(enum.StrEnum):
    PAYMENT = "payment"  # take money now (optionally keeping the method for later)
    SETUP = "setup"  # only save a payment method for later off-session charges


class ChargeStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    PROCESSING = "processing"
    REQUIRES_ACTION = (
        "requires_action"  # the debtor must authenticate: never retry blind
    )
    FAILED = "failed"


@dataclass(frozen=True)
class CheckoutRequest:
    """A hosted checkout for one debtor.

    `metadata` is copied onto the session and onto the PaymentIntent or SetupIntent it creates,
    so every later event can be traced back to our CheckoutAttempt.
    """

    mode: CheckoutMode
    currency: str  # ISO 4217, upper case
    description: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    country: str  # ISO 3166 alpha-2 of the creditor: decides the wallets offered
    locale: str  # "da", "nb" or "en"
    amount_minor: int | None = None  # required for PAYMENT, None for SETUP
    save_payment_method: bool = False  # PAYMENT only: setup_future_usage=off_session
    customer_ref: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutSession:
    provider_id: str  # e.g. "cs_test_..."
    url: str  # where to send the debtor's browser


@dataclass(frozen=True)
class OffSessionCharge:
    """Charge a saved payment method without the debtor present (an instalment)."""

    amount_minor: int
    currency: str
    customer_ref: str
    payment_method_ref: str
    description: str
    idempotency_key: str  # one per instalment attempt
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeOutcome:
    status: ChargeStatus
    payment_intent_id: str | None
    failure_code: str | None = None
    failure_message: str | None = None
    amount_minor: int | None = None  # what was taken, when the provider says


@dataclass(frozen=True)
class SavedMethod:
    """What a debtor needs to recognise a saved payment method, never the method itself.

    A card has its brand, last four digits and expiry; a wallet its name, plus the card's
    details when the wallet holds a card (Apple Pay, Google Pay).
    """

    brand: str | None = None  # the provider's code: "visa", "mastercard", ...
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    wallet: str | None = None  # "apple_pay", "mobilepay", ...


class PaymentGatewayError(Exception):
    """The provider could not be reached or refused the request itself (not a card decline)."""


class PaymentGateway(Protocol):
    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    def charge_off_session(self, charge: OffSessionCharge) -> ChargeOutcome: ...

    def charge_status(self, payment_intent_id: str) -> ChargeOutcome:
        """Where a charge stands now: for reconciling one whose event never arrived."""
        ...

    def describe_payment_method(self, payment_method_ref: str) -> SavedMethod:
        """Brand, last four and expiry of a saved method, to show the debtor which it is."""
        ...
