"""The plan's saved payment method as the debtor sees it: which card, and until when it works.

The provider keeps the method; the plan keeps only what lets the debtor recognise it (brand,
last four, expiry, wallet). It is learnt when the method is saved, from the event's own object
when that carries the card, otherwise by asking the gateway. A failed lookup never stops the
method being saved: the details are then filled in the next time the debtor looks at the card.
"""

from __future__ import annotations

import calendar
import logging
from datetime import date
from typing import Any

from app.models import PaymentPlan
from app.models.enums import InstalmentStatus
from payments.gateway import PaymentGateway, PaymentGatewayError, SavedMethod

logger = logging.getLogger(__name__)

# Instalments the saved card will still be asked to pay.
_STILL_TO_CHARGE = (
    InstalmentStatus.SCHEDULED,
    InstalmentStatus.FAILED,
    InstalmentStatus.REQUIRES_ACTION,
)


def describe_method(
    gateway: PaymentGateway, payment_method: str | dict[str, Any]
) -> SavedMethod | None:
    """The details of a method named in an event: read from it when expanded, else asked for.

    None when the provider cannot say (unreachable, or the method is unknown to it).
    """
    if isinstance(payment_method, dict):
        described = method_from_object(payment_method)
        if described is not None:
            return described
        payment_method = str(payment_method.get("id") or "")
    if not payment_method:
        return None
    try:
        return gateway.describe_payment_method(payment_method)
    except PaymentGatewayError as error:
        logger.warning("payment method %s not described: %s", payment_method, error)
        return None


def method_from_object(obj: dict[str, Any]) -> SavedMethod | None:
    """Read a Stripe-shaped PaymentMethod object; None when it carries no details."""
    card = obj.get("card")
    if isinstance(card, dict) and card.get("last4"):
        wallet = card.get("wallet")
        return SavedMethod(
            brand=_text(card.get("display_brand")) or _text(card.get("brand")),
            last4=_text(card.get("last4")),
            exp_month=_number(card.get("exp_month")),
            exp_year=_number(card.get("exp_year")),
            wallet=_text(wallet.get("type")) if isinstance(wallet, dict) else None,
        )
    kind = _text(obj.get("type"))
    if kind and kind != "card":
        return SavedMethod(wallet=kind)
    return None


def remember_method(plan: PaymentPlan, method: SavedMethod | None) -> None:
    """Keep the details on the plan; None forgets those of a previous method."""
    method = method or SavedMethod()
    plan.payment_method_brand = _fit(method.brand, 32)
    plan.payment_method_last4 = _fit(method.last4, 4)
    plan.payment_method_exp_month = method.exp_month
    plan.payment_method_exp_year = method.exp_year
    plan.payment_method_wallet = _fit(method.wallet, 32)


def fill_in_method(gateway: PaymentGateway, plan: PaymentPlan) -> None:
    """Ask for the details of a saved method whose details are not known yet."""
    if plan.payment_method_ref is None or is_described(plan):
        return
    described = describe_method(gateway, plan.payment_method_ref)
    if described is not None:
        remember_method(plan, described)


def is_described(plan: PaymentPlan) -> bool:
    return bool(plan.payment_method_last4 or plan.payment_method_wallet)


def expires_on(plan: PaymentPlan) -> date | None:
    """The last day the saved card works: the end of its expiry month."""
    year, month = plan.payment_method_exp_year, plan.payment_method_exp_month
    if year is None or month is None or not (1 <= month <= 12 and 1 <= year <= 9999):
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


def last_charge_on(plan: PaymentPlan) -> date | None:
    """When the saved method is charged for the last time, as the plan stands now."""
    dates = [
        i.next_attempt_on or i.due_on
        for i in plan.instalments
        if i.status in _STILL_TO_CHARGE
    ]
    return max(dates, default=None)


def expires_before_plan_ends(plan: PaymentPlan) -> bool:
    """True when the saved card stops working before its last instalment is charged."""
    last_day, last_charge = expires_on(plan), last_charge_on(plan)
    if plan.payment_method_ref is None or last_day is None or last_charge is None:
        return False
    return last_charge > last_day


def _fit(value: str | None, length: int) -> str | None:
    """Provider codes are short; a longer one is cut rather than refused by the column."""
    return value[:length] if value else None


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
