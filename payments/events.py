"""Provider events into the ledger: verified, applied once, in any order, with the same result.

Stripe's webhooks and the sandbox gateway both arrive here as Stripe-shaped, signed JSON. Every
event id is stored, so a replay is recognised; every ledger posting carries the provider's id,
so two events about one payment (checkout.session.completed and payment_intent.succeeded)
post it once; and paid, refunded and disputed are decided from the ledger's sum, never from
the order events came in.

Card disputes (chargebacks) follow one model: the dispute's outcome, not its cash flow.
charge.dispute.created raises a risk signal (a person reviews, reminders pause) and moves no
money; charge.dispute.closed moves it once the card network has decided. Lost: the money went
back to the card holder, so a REFUND entry of the disputed amount raises the balance again
(and a paid account returns to its plan or sequence). Won: the payment stands; nothing is
posted. Stripe's charge.dispute.funds_withdrawn and funds_reinstated describe the same money
moving provisionally while the dispute is open; posting them as well would count it twice,
so they are stored and ignored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Account,
    CheckoutAttempt,
    Debtor,
    Instalment,
    LedgerEntry,
    PaymentEvent,
    PaymentPlan,
    RiskSignal,
)
from app.models.enums import (
    CheckoutPurpose,
    CheckoutStatus,
    LedgerKind,
    RiskAction,
    Severity,
    SignalSource,
)
from app.services.ledger import balance_of, post_entry
from app.services.notices import LinkFor, context_for, queue_notice
from payments.gateway import PaymentGateway
from payments.methods import describe_method, is_described
from payments.settlement import mark_instalment_paid, save_plan_method, settle_account

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300
# The outcome of a refund or dispute that overtook its payment; applied when the payment is.
AWAITING_PAYMENT = "waiting for its payment"
# Dispute statuses after which the money stays with the card holder.
DISPUTE_LOST = "lost"
StripeObject = dict[str, Any]
# The columns events are kept in (PaymentEvent): an id that does not fit is not Stripe's; a
# type that does not fit is one we do not handle, stored cut rather than refused.
MAX_EVENT_ID = 255
MAX_EVENT_TYPE = 64
# Amounts are integers in minor units in the document, with no bound; ours are 64-bit.
MAX_AMOUNT = 2**63 - 1
# Our own ids (in metadata we set) are 32-bit integers.
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class EventContext:
    now: datetime
    link_for: LinkFor
    gateway: PaymentGateway  # to describe a saved payment method the event names only


Handler = Callable[[Session, StripeObject, EventContext], str]


class InvalidEvent(Exception):
    """The payload is not a correctly signed event: refuse it and change nothing."""


def verify_event(payload: bytes, signature: str | None, secret: str) -> StripeObject:
    """Check Stripe's signature scheme (also used by the sandbox) and parse the event.

    :raises InvalidEvent: missing or wrong signature, too old, or not an event.
    """
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature or "", secret, SIGNATURE_TOLERANCE_SECONDS
        )
        event = json.loads(text)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise InvalidEvent(f"Refused payment event: {error}") from error
    # Signed is not the same as well formed: `data` may be anything, even null.
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= MAX_EVENT_ID
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise InvalidEvent("Refused payment event: not an event object")
    return event


def apply_event(
    session: Session,
    event: StripeObject,
    *,
    now: datetime,
    link_for: LinkFor,
    gateway: PaymentGateway,
) -> str:
    """Apply a verified event once; returns what it did, in words for the log."""
    known = session.scalar(
        select(PaymentEvent.id).where(PaymentEvent.provider_event_id == event["id"])
    )
    if known is not None:
        return "duplicate"
    # Stored first: a concurrent delivery of the same event fails on the unique id.
    record = PaymentEvent(
        provider_event_id=event["id"],
        type=event["type"][:MAX_EVENT_TYPE],
        payload=json.dumps(event, separators=(",", ":")),
        received_at=now,
    )
    session.add(record)
    session.flush()
    handler = HANDLERS.get(event["type"])
    outcome = (
        handler(session, event["data"]["object"], EventContext(now, link_for, gateway))
        if handler
        else "ignored"
    )
    record.outcome = outcome[:200]
    logger.info("payment event %s %s: %s", event["id"], event["type"], outcome)
    return outcome


def _checkout_completed(session: Session, obj: StripeObject, ctx: EventContext) -> str:
    attempt = _attempt(session, obj)
    if attempt is None:
        return "no matching checkout"
    _complete(attempt, ctx.now)
    if obj.get("mode") == "payment" and obj.get("payment_status") == "paid":
        return _record_payment(
            session,
            _amount(obj, "amount_total"),
            _text(obj, "currency"),
            _ref(obj.get("payment_intent")) or "",  # may come expanded
            _metadata(obj),
            ctx,
        )
    return "checkout completed; waiting for the payment or setup to confirm"


def _checkout_ended(session: Session, obj: StripeObject, _ctx: EventContext) -> str:
    attempt = _attempt(session, obj)
    if attempt is None or attempt.status is not CheckoutStatus.OPEN:
        return "nothing to change"
    attempt.status = CheckoutStatus.EXPIRED
    return "checkout expired"


def _payment_succeeded(session: Session, obj: StripeObject, ctx: EventContext) -> str:
    metadata = _metadata(obj)
    outcome = _record_payment(
        session,
        _amount(obj, "amount_received"),
        _text(obj, "currency"),
        _ref(obj.get("id")) or "",
        metadata,
        ctx,
    )
    plan = _plan_saving_method(session, metadata)
    if plan is not None and obj.get("setup_future_usage") == "off_session":
        _save_method(session, plan, obj, ctx)
    return outcome


def _payment_failed(session: Session, obj: StripeObject, _ctx: EventContext) -> str:
    error = obj.get("last_payment_error")
    error = error if isinstance(error, dict) else {}
    code = str(error.get("decline_code") or error.get("code") or "failed")
    attempt = _attempt(session, obj)
    if attempt is None:
        # Off-session instalment charges are judged by the charging job from the response.
        return f"payment failed ({code}); no open checkout"
    if attempt.status is CheckoutStatus.OPEN:
        attempt.failure_code = code[:64]
    return f"payment failed ({code}); the debtor may try again"


def _setup_succeeded(session: Session, obj: StripeObject, ctx: EventContext) -> str:
    attempt = _attempt(session, obj)
    if attempt is None or attempt.plan_id is None:
        return "no matching plan"
    plan = session.get(PaymentPlan, attempt.plan_id)
    assert plan is not None
    _complete(attempt, ctx.now)
    _save_method(session, plan, obj, ctx)
    return f"payment method saved for plan {plan.id}"


def _save_method(
    session: Session, plan: PaymentPlan, obj: StripeObject, ctx: EventContext
) -> None:
    """Keep the intent's payment method for the plan, with what the debtor sees of it."""
    method = obj.get("payment_method")
    ref = _ref(method)
    if ref is None:
        return
    described = (
        describe_method(ctx.gateway, method if isinstance(method, dict) else ref)
        if ref != plan.payment_method_ref or not is_described(plan)
        else None
    )
    save_plan_method(session, plan, ref, _ref(obj.get("customer")), described)


def _charge_refunded(session: Session, obj: StripeObject, ctx: EventContext) -> str:
    account = _account_for(session, obj)
    if account is None:
        return _unmatched(obj, "refund of an unknown payment")
    currency = _text(obj, "currency").upper()
    if currency != account.currency:
        return f"refund in {currency} refused for a {account.currency} account"
    charge_id = _ref(obj.get("id")) or ""
    if not charge_id:
        return "refund without a charge id; nothing posted"
    refunded_total = _amount(obj, "amount_refunded")
    # Refund events carry the running total: only the part not yet posted is new. Charge ids
    # contain "_", a LIKE wildcard, hence the escaped prefix match.
    already = sum(
        entry.amount_minor
        for entry in session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.external_id.startswith(
                    f"stripe:refund:{charge_id}:", autoescape=True
                )
            )
        )
    )
    if refunded_total <= already:
        return "refund already posted"
    post_entry(
        session,
        account,
        LedgerKind.REFUND,
        refunded_total - already,
        now=ctx.now,
        external_id=f"stripe:refund:{charge_id}:{refunded_total}",
        note="Refund",
    )
    settle_account(session, account, ctx.now)
    return f"refund of {refunded_total - already} posted to account {account.id}"


def _dispute_created(session: Session, obj: StripeObject, ctx: EventContext) -> str:
    account = _account_for(session, obj)
    if account is None:
        return _unmatched(obj, "dispute of an unknown payment")
    session.add(
        RiskSignal(
            debtor_id=account.debtor_id,
            account_id=account.id,
            category="chargeback",
            severity=Severity.HIGH,
            source=SignalSource.EVENT,
            evidence=f"Card dispute opened: {_text(obj, 'reason') or 'unknown reason'}",
            confidence=1.0,
            action_taken=RiskAction.PAUSED_FOR_REVIEW,
            created_at=ctx.now,
        )
    )
    return f"card dispute on account {account.id}: risk signal raised"


def _dispute_closed(session: Session, obj: StripeObject, ctx: EventContext) -> str:
    """A lost dispute returns the disputed money to the balance, once (see the module)."""
    account = _account_for(session, obj)
    if account is None:
        return _unmatched(obj, "closed dispute of an unknown payment")
    status = _text(obj, "status")
    if status != DISPUTE_LOST:
        return f"card dispute on account {account.id} closed ({status}); nothing posted"
    currency = _text(obj, "currency").upper()
    if currency != account.currency:
        return f"lost dispute in {currency} refused for a {account.currency} account"
    amount = _amount(obj, "amount")
    dispute_id = _ref(obj.get("id")) or ""
    if amount <= 0 or not dispute_id:
        return "lost dispute without an amount or id; nothing posted"
    external_id = f"stripe:dispute:{dispute_id}"
    if session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.external_id == external_id)
    ):
        return "lost dispute already posted"
    post_entry(
        session,
        account,
        LedgerKind.REFUND,
        amount,
        now=ctx.now,
        external_id=external_id,
        note="Card dispute lost: the payment went back to the card holder",
    )
    settle_account(session, account, ctx.now)
    return f"lost dispute of {amount} posted to account {account.id}"


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "checkout.session.expired": _checkout_ended,
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    "setup_intent.succeeded": _setup_succeeded,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}


def _record_payment(
    session: Session,
    amount_minor: int,
    currency: str,
    payment_intent_id: str,
    metadata: dict[str, str],
    ctx: EventContext,
) -> str:
    now = ctx.now
    account = _account_by_metadata(session, metadata)
    if account is None or not payment_intent_id or amount_minor <= 0:
        return "payment not matched to an account"
    if currency.upper() != account.currency:
        logger.error(
            "payment %s in %s for a %s account",
            payment_intent_id,
            currency,
            account.currency,
        )
        return f"payment in {currency.upper()} refused for a {account.currency} account"
    external_id = f"stripe:pi:{payment_intent_id}"
    if session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.external_id == external_id)
    ):
        return "payment already posted"
    post_entry(
        session,
        account,
        LedgerKind.PAYMENT,
        amount_minor,
        now=now,
        external_id=external_id,
        note="Card payment",
    )
    instalment_id = _int(metadata.get("instalment_id"))
    if instalment_id is not None:
        instalment = session.get(Instalment, instalment_id)
        if instalment is not None:
            mark_instalment_paid(session, instalment, payment_intent_id, now)
    settle_account(session, account, now)
    _send_receipt(session, account, amount_minor, now, ctx.link_for)
    _apply_waiting(session, payment_intent_id, ctx)
    return f"payment of {amount_minor} posted to account {account.id}"


def _unmatched(obj: StripeObject, outcome: str) -> str:
    """A refund or dispute of a payment not posted yet waits for it (Stripe keeps no order)."""
    return AWAITING_PAYMENT if _ref(obj.get("payment_intent")) else outcome


def _apply_waiting(session: Session, payment_intent_id: str, ctx: EventContext) -> None:
    """Apply the refunds and disputes of this payment that arrived before it."""
    waiting = []
    for record in session.scalars(
        select(PaymentEvent)
        .where(PaymentEvent.outcome == AWAITING_PAYMENT)
        .order_by(PaymentEvent.id)
    ):
        obj = json.loads(record.payload)["data"]["object"]
        if _ref(obj.get("payment_intent")) == payment_intent_id:
            waiting.append((record, obj))
    # Refunds carry running totals: the smaller one happened first, as if in order.
    waiting.sort(key=lambda pair: _amount(pair[1], "amount_refunded"))
    for record, obj in waiting:
        record.outcome = HANDLERS[record.type](session, obj, ctx)[:200]


def _send_receipt(
    session: Session,
    account: Account,
    paid_minor: int,
    now: datetime,
    link_for: LinkFor,
) -> None:
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    context = context_for(
        session,
        debtor,
        currency=account.currency,
        paid_minor=paid_minor,
        balance_minor=balance_of(session, account.id),
    )
    queue_notice(
        session, debtor, "receipt", context, link_for=link_for, now=now, also_email=True
    )


def _plan_saving_method(
    session: Session, metadata: dict[str, str]
) -> PaymentPlan | None:
    attempt_id = _int(metadata.get("attempt_id"))
    attempt = session.get(CheckoutAttempt, attempt_id) if attempt_id else None
    if attempt is None or attempt.plan_id is None:
        return None
    if attempt.purpose not in (
        CheckoutPurpose.START_PLAN,
        CheckoutPurpose.PAY_INSTALMENT,
    ):
        return None
    return session.get(PaymentPlan, attempt.plan_id)


def _attempt(session: Session, obj: StripeObject) -> CheckoutAttempt | None:
    attempt_id = _int(_metadata(obj).get("attempt_id"))
    if attempt_id is not None:
        return session.get(CheckoutAttempt, attempt_id)
    if str(obj.get("object")) == "checkout.session":
        return session.scalar(
            select(CheckoutAttempt).where(
                CheckoutAttempt.provider_session_id == str(obj.get("id"))
            )
        )
    return None


def _complete(attempt: CheckoutAttempt, now: datetime) -> None:
    if attempt.status is not CheckoutStatus.COMPLETED:
        attempt.status = CheckoutStatus.COMPLETED
        attempt.completed_at = now


def _account_for(session: Session, obj: StripeObject) -> Account | None:
    """The account a charge or dispute belongs to: that of its payment, once posted.

    Only a charge made without a PaymentIntent is found by its metadata: a refund must never
    be posted before the payment it returns, or the account's story depends on arrival order.
    """
    payment_intent_id = _ref(obj.get("payment_intent"))
    if not payment_intent_id:
        return _account_by_metadata(session, _metadata(obj))
    account_id = session.scalar(
        select(LedgerEntry.account_id).where(
            LedgerEntry.external_id == f"stripe:pi:{payment_intent_id}"
        )
    )
    return session.get(Account, account_id) if account_id else None


def _account_by_metadata(session: Session, metadata: dict[str, str]) -> Account | None:
    account_id = _int(metadata.get("account_id"))
    return session.get(Account, account_id) if account_id is not None else None


def _metadata(obj: StripeObject) -> dict[str, str]:
    metadata = obj.get("metadata")
    return (
        {str(k): str(v) for k, v in metadata.items()}
        if isinstance(metadata, dict)
        else {}
    )


def _ref(value: object) -> str | None:
    """An id that may arrive expanded (an object with an id) or as a plain string."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _amount(obj: StripeObject, key: str) -> int:
    """A whole amount in minor units; 0 (nothing to post) when absent, null or unusable."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value <= MAX_AMOUNT:
        return value
    return 0


def _text(obj: StripeObject, key: str) -> str:
    """A string field, "" when absent or null (never the text "None")."""
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _int(value: str | None) -> int | None:
    """One of our ids, from metadata; anything else (or too large for an id) is none."""
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None
