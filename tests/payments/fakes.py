"""Test doubles for the payment port shared by the payments tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from payments.gateway import (
    ChargeOutcome,
    CheckoutRequest,
    CheckoutSession,
    OffSessionCharge,
    PaymentGatewayError,
    SavedMethod,
)


@dataclass
class CardDirectory:
    """A PaymentGateway that only describes payment methods, which is all events need.

    Methods not in `cards` are unknown to the provider, as a deleted one would be.
    """

    cards: dict[str, SavedMethod] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def describe_payment_method(self, payment_method_ref: str) -> SavedMethod:
        self.asked.append(payment_method_ref)
        if payment_method_ref not in self.cards:
            raise PaymentGatewayError(f"no such payment method {payment_method_ref}")
        return self.cards[payment_method_ref]

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        raise AssertionError("events never open a checkout")

    def charge_off_session(self, charge: OffSessionCharge) -> ChargeOutcome:
        raise AssertionError("events never charge")

    def charge_status(self, payment_intent_id: str) -> ChargeOutcome:
        raise AssertionError("events never look a charge up")
