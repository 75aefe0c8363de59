"""Charging instalments on their dates, off-session, and what happens when a charge fails.

One charge per instalment attempt, with an idempotency key of its own, so a crash between the
provider's answer and our commit cannot charge twice: the retry sends the same key. A charge
that needs the debtor's authentication is never retried blind; a declined one is retried at
most twice on later days; a second missed instalment breaks the plan and the account returns
to its reminder sequence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.models import Account, Debtor, Instalment, PaymentPlan
from app.models.enums import AccountStatus, InstalmentStatus, PlanStatus
from app.services.ledger import balance_of
from app.services.notices import LinkFor, context_for, queue_notice
from payments.arrangements import rules_of, terms_for
from payments.events import StripeObject, apply_event
from payments.gateway import (
    ChargeStatus,
    OffSessionCharge,
    PaymentGateway,
    PaymentGatewayError,
)
from payments.plans import due_after
from payments.settlement import end_plan_if_spent, settle_account

logger = logging.getLogger(__name__)

# A dispute stops the charges with the reminders; a paid or closed account owes nothing.
_NOT_CHARGED = (
    AccountStatus.DISPUTED,
    AccountStatus.PAUSED,
    AccountStatus.PAID,
    AccountStatus.CLOSED,
)
# A plan without a card we may charge is paid instalment by instalment from a text this early.
PAY_BY_LINK_NOTICE = timedelta(days=3)
# A charge not confirmed by its event after this long is looked up at the provider.
CONFIRMATION_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 3  # the first charge and two retries
RETRY_AFTER = timedelta(days=3)
# An instalment the debtor must act on (authenticate, or pay from a reminder) is missed
# when it is still unpaid this long after its date.
ACTION_WINDOW = timedelta(days=7)


@dataclass
class ChargeRun:
    succeeded: int = 0
    needs_action: int = 0
    failed: int = 0
    errors: int = 0
    missed: int = 0
    reconciled: int = 0
    reminded: int = 0


def charge_due_instalments(
    session: Session,
    gateway: PaymentGateway,
    *,
    now: datetime,
    link_for: LinkFor,
    limit: int = 50,
) -> ChargeRun:
    """Charge the saved card of every instalment due today (or due for a retry)."""
    run = ChargeRun()
    for instalment in _claim_due(session, now, limit):
        plan = session.get(PaymentPlan, instalment.plan_id)
        assert plan is not None
        if plan.status is not PlanStatus.ACTIVE:
            continue  # broken by an earlier instalment of this very run
        _charge(session, gateway, plan, instalment, now=now, link_for=link_for, run=run)
    run.missed = mark_overdue_missed(session, now=now)
    run.reconciled = reconcile_unconfirmed(session, gateway, now=now, link_for=link_for)
    run.reminded = remind_pay_by_link(session, now=now, link_for=link_for)
    return run


def _claim_due(session: Session, now: datetime, limit: int) -> list[Instalment]:
    """Due instalments of active plans, except while a dispute or breathing space runs."""
    today = now.date()
    first_try = and_(
        Instalment.status == InstalmentStatus.SCHEDULED, Instalment.due_on <= today
    )
    retry = and_(
        Instalment.status == InstalmentStatus.FAILED,
        Instalment.next_attempt_on <= today,
    )
    return list(
        session.scalars(
            select(Instalment)
            .join(PaymentPlan, PaymentPlan.id == Instalment.plan_id)
            .join(Account, Account.id == PaymentPlan.account_id)
            .where(
                PaymentPlan.status == PlanStatus.ACTIVE,
                PaymentPlan.payment_method_ref.is_not(None),
                Account.status.not_in(_NOT_CHARGED),
                or_(Account.paused_until.is_(None), Account.paused_until <= now),
                or_(first_try, retry),
            )
            .order_by(Instalment.due_on, Instalment.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Instalment)
        )
    )


def _charge(
    session: Session,
    gateway: PaymentGateway,
    plan: PaymentPlan,
    instalment: Instalment,
    *,
    now: datetime,
    link_for: LinkFor,
    run: ChargeRun,
) -> None:
    attempt = instalment.attempts + 1
    account = session.get(Account, plan.account_id)
    assert account is not None
    # Never more than is still owed: an extra payment or a credit note may have come in.
    amount = min(instalment.amount_minor, balance_of(session, account.id))
    if amount <= 0:
        settle_account(session, account, now)
        return
    try:
        outcome = gateway.charge_off_session(
            _charge_request(plan, account, instalment, attempt, amount)
        )
    except PaymentGatewayError as error:
        # Not an answer about the card: the same attempt (and key) is tried on the next tick.
        logger.warning("instalment %s not charged: %s", instalment.id, error)
        run.errors += 1
        return
    instalment.attempts, instalment.last_attempt_at = attempt, now
    instalment.payment_intent_id = outcome.payment_intent_id
    if outcome.status in (ChargeStatus.SUCCEEDED, ChargeStatus.PROCESSING):
        instalment.status = InstalmentStatus.PROCESSING
        run.succeeded += 1
    elif outcome.status is ChargeStatus.REQUIRES_ACTION:
        instalment.status = InstalmentStatus.REQUIRES_ACTION
        _notify(session, plan, instalment, "instalment_confirm", now, link_for)
        run.needs_action += 1
    else:
        _declined(session, plan, instalment, outcome.failure_code, now, link_for)
        run.failed += 1


def _charge_request(
    plan: PaymentPlan,
    account: Account,
    instalment: Instalment,
    attempt: int,
    amount: int,
) -> OffSessionCharge:
    assert plan.payment_method_ref is not None
    return OffSessionCharge(
        amount_minor=amount,
        currency=plan.currency,
        customer_ref=plan.customer_ref or "",
        payment_method_ref=plan.payment_method_ref,
        description=f"{account.external_reference} · {instalment.seq_no}/{len(plan.instalments)}",
        # The amount is part of the key: the provider refuses a key reused with other values.
        idempotency_key=f"venlig-instalment-{instalment.id}-attempt-{attempt}-{amount}",
        metadata={
            "account_id": str(account.id),
            "plan_id": str(plan.id),
            "instalment_id": str(instalment.id),
        },
    )


def _declined(
    session: Session,
    plan: PaymentPlan,
    instalment: Instalment,
    code: str | None,
    now: datetime,
    link_for: LinkFor,
) -> None:
    instalment.failure_code = (code or "declined")[:64]
    if instalment.attempts == 1:
        # One polite text per instalment, not one per retry.
        _notify(session, plan, instalment, "instalment_failed", now, link_for)
    if instalment.attempts < MAX_ATTEMPTS:
        instalment.status = InstalmentStatus.FAILED
        instalment.next_attempt_on = now.date() + RETRY_AFTER
    else:
        miss_instalment(session, plan, instalment, now=now)


def reconcile_unconfirmed(
    session: Session, gateway: PaymentGateway, *, now: datetime, link_for: LinkFor
) -> int:
    """Charges whose confirming event never came: ask the provider where they stand.

    A taken payment is posted through the same event code (idempotent by its payment
    intent, so a late real event changes nothing); a failed one counts as a decline.
    """
    stuck = list(
        session.scalars(
            select(Instalment)
            .where(
                Instalment.status == InstalmentStatus.PROCESSING,
                Instalment.payment_intent_id.is_not(None),
                Instalment.last_attempt_at < now - CONFIRMATION_WAIT,
            )
            .with_for_update(skip_locked=True)
        )
    )
    settled = 0
    for instalment in stuck:
        plan = session.get(PaymentPlan, instalment.plan_id)
        assert plan is not None
        settled += _reconcile(session, gateway, plan, instalment, now, link_for)
    return settled


def _reconcile(
    session: Session,
    gateway: PaymentGateway,
    plan: PaymentPlan,
    instalment: Instalment,
    now: datetime,
    link_for: LinkFor,
) -> int:
    assert instalment.payment_intent_id is not None
    try:
        outcome = gateway.charge_status(instalment.payment_intent_id)
    except PaymentGatewayError as error:
        logger.warning("instalment %s not reconciled: %s", instalment.id, error)
        return 0
    if outcome.status is ChargeStatus.SUCCEEDED and outcome.amount_minor:
        apply_event(
            session,
            _found_payment(plan, instalment, outcome.amount_minor),
            now=now,
            link_for=link_for,
            gateway=gateway,
        )
        return 1
    if outcome.status is ChargeStatus.REQUIRES_ACTION:
        instalment.status = InstalmentStatus.REQUIRES_ACTION
        _notify(session, plan, instalment, "instalment_confirm", now, link_for)
        return 1
    if outcome.status is ChargeStatus.FAILED:
        _declined(session, plan, instalment, outcome.failure_code, now, link_for)
        return 1
    return 0  # still processing at the provider


def _found_payment(
    plan: PaymentPlan, instalment: Instalment, amount: int
) -> StripeObject:
    """The payment as its lost `payment_intent.succeeded` event would have told it."""
    intent_id = instalment.payment_intent_id
    return {
        "id": f"reconciled:{intent_id}",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "status": "succeeded",
                "amount_received": amount,
                "currency": plan.currency.lower(),
                "metadata": {
                    "account_id": str(plan.account_id),
                    "plan_id": str(plan.id),
                    "instalment_id": str(instalment.id),
                },
            }
        },
    }


def remind_pay_by_link(session: Session, *, now: datetime, link_for: LinkFor) -> int:
    """Plans paid from a wallet (no card we may charge): a link a few days before each date."""
    due_soon = list(
        session.scalars(
            select(Instalment)
            .join(PaymentPlan, PaymentPlan.id == Instalment.plan_id)
            .where(
                PaymentPlan.status == PlanStatus.ACTIVE,
                PaymentPlan.payment_method_ref.is_(None),
                Instalment.status == InstalmentStatus.SCHEDULED,
                Instalment.reminded_at.is_(None),
                Instalment.due_on <= now.date() + PAY_BY_LINK_NOTICE,
            )
            .with_for_update(skip_locked=True, of=Instalment)
        )
    )
    for instalment in due_soon:
        plan = session.get(PaymentPlan, instalment.plan_id)
        assert plan is not None
        instalment.reminded_at = now
        _notify(session, plan, instalment, "instalment_due", now, link_for)
    return len(due_soon)


def mark_overdue_missed(session: Session, *, now: datetime) -> int:
    """Instalments waiting on the debtor (authentication, or a wallet payment) for too long."""
    waiting_on_debtor = or_(
        Instalment.status == InstalmentStatus.REQUIRES_ACTION,
        and_(
            Instalment.status == InstalmentStatus.SCHEDULED,
            PaymentPlan.payment_method_ref.is_(None),
        ),
    )
    overdue = list(
        session.scalars(
            select(Instalment)
            .join(PaymentPlan, PaymentPlan.id == Instalment.plan_id)
            .where(
                PaymentPlan.status == PlanStatus.ACTIVE,
                waiting_on_debtor,
                Instalment.due_on < now.date() - ACTION_WINDOW,
            )
            .with_for_update(skip_locked=True, of=Instalment)
        )
    )
    for instalment in overdue:
        plan = session.get(PaymentPlan, instalment.plan_id)
        assert plan is not None
        miss_instalment(session, plan, instalment, now=now)
    return len(overdue)


def miss_instalment(
    session: Session, plan: PaymentPlan, instalment: Instalment, *, now: datetime
) -> None:
    """Missed for good: moved to the end once if the creditor allows, else counted."""
    instalment.next_attempt_on = None
    account = session.get(Account, plan.account_id)
    assert account is not None
    if (
        rules_of(session, account.creditor_id).grace_moves_missed_instalment
        and not plan.grace_used
    ):
        _move_to_end(session, plan, instalment, account)
        return
    instalment.status = InstalmentStatus.MISSED
    session.flush()
    missed = session.scalar(
        select(func.count())
        .select_from(Instalment)
        .where(
            Instalment.plan_id == plan.id, Instalment.status == InstalmentStatus.MISSED
        )
    )
    if (missed or 0) >= 2:
        plan.status, plan.ended_at = PlanStatus.BROKEN, now
        # Back to the sequence; a dispute or a pause set meanwhile still holds it.
        if account.status is AccountStatus.PLAN:
            account.status, account.updated_at = AccountStatus.OPEN, now
    else:
        end_plan_if_spent(session, plan, account, now)


def _move_to_end(
    session: Session, plan: PaymentPlan, instalment: Instalment, account: Account
) -> None:
    plan.grace_used = True
    instalment.status = InstalmentStatus.MOVED
    last = plan.instalments[-1]
    plan.instalments.append(
        Instalment(
            seq_no=last.seq_no + 1,
            due_on=due_after(last.due_on, plan.frequency, terms_for(session, account)),
            amount_minor=instalment.amount_minor,
        )
    )


def _notify(
    session: Session,
    plan: PaymentPlan,
    instalment: Instalment,
    template_key: str,
    now: datetime,
    link_for: LinkFor,
) -> None:
    account = session.get(Account, plan.account_id)
    assert account is not None
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    context = context_for(session, debtor, on_date=instalment.due_on)
    queue_notice(session, debtor, template_key, context, link_for=link_for, now=now)
