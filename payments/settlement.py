"""What a balance means for the account, its plan and its promises.

Called in the same transaction as every ledger posting, so a paid account stops its reminders
at once: the reminder policy reads `Account.status` before planning and before sending.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, Instalment, PaymentPlan, PromiseToPay
from app.models.enums import AccountStatus, InstalmentStatus, PlanStatus, PromiseStatus
from app.services.ledger import balance_of
from payments.gateway import SavedMethod
from payments.methods import remember_method

LIVE_PLAN = (PlanStatus.PROPOSED, PlanStatus.ACTIVE)
STILL_TO_PAY = {
    InstalmentStatus.SCHEDULED,
    InstalmentStatus.PROCESSING,
    InstalmentStatus.REQUIRES_ACTION,
    InstalmentStatus.FAILED,
}


def settle_account(session: Session, account: Account, now: datetime) -> None:
    """Bring status, plan and promises in line with the ledger's balance."""
    balance = balance_of(session, account.id)
    if balance <= 0:
        if account.status is not AccountStatus.CLOSED:
            _paid(session, account, now)
    else:
        plan = live_plan(session, account.id)
        if account.status is AccountStatus.PAID:
            # A refund re-opens the debt: back to the plan if one still runs, else the sequence.
            account.status = AccountStatus.PLAN if plan else AccountStatus.OPEN
        elif (
            account.status is AccountStatus.OPEN
            and plan
            and plan.status is PlanStatus.ACTIVE
        ):
            account.status = AccountStatus.PLAN
        if plan is not None:
            end_plan_if_spent(session, plan, account, now)
    account.updated_at = now


def end_plan_if_spent(
    session: Session, plan: PaymentPlan, account: Account, now: datetime
) -> None:
    """End an active plan with nothing left to pay while money is still owed.

    A refunded or charged-back instalment, or a last instalment missed once, leaves such a plan:
    kept active it would hold the reminders back for good. It ends (broken if the debtor missed
    an instalment) and the account goes back to its sequence, where the debtor may choose again.
    """
    if plan.status is not PlanStatus.ACTIVE:
        return
    session.flush()
    statuses = set(
        session.scalars(select(Instalment.status).where(Instalment.plan_id == plan.id))
    )
    if statuses & STILL_TO_PAY:
        return
    missed = InstalmentStatus.MISSED in statuses
    plan.status = PlanStatus.BROKEN if missed else PlanStatus.COMPLETED
    plan.ended_at = now
    if account.status is AccountStatus.PLAN:
        account.status, account.updated_at = AccountStatus.OPEN, now


def _paid(session: Session, account: Account, now: datetime) -> None:
    account.status = AccountStatus.PAID
    plan = live_plan(session, account.id)
    if plan is not None:
        plan.status = PlanStatus.COMPLETED
        plan.ended_at = now
    for promise in session.scalars(
        select(PromiseToPay).where(
            PromiseToPay.account_id == account.id,
            PromiseToPay.status == PromiseStatus.PENDING,
        )
    ):
        promise.status = PromiseStatus.KEPT


def live_plan(session: Session, account_id: int) -> PaymentPlan | None:
    return session.scalar(
        select(PaymentPlan)
        .where(PaymentPlan.account_id == account_id, PaymentPlan.status.in_(LIVE_PLAN))
        .order_by(PaymentPlan.id.desc())
    )


def mark_instalment_paid(
    session: Session, instalment: Instalment, payment_intent_id: str, now: datetime
) -> None:
    instalment.status = InstalmentStatus.PAID
    instalment.paid_at = instalment.paid_at or now
    instalment.payment_intent_id = payment_intent_id
    instalment.next_attempt_on = None
    plan = session.get(PaymentPlan, instalment.plan_id)
    assert plan is not None
    if plan.status is PlanStatus.PROPOSED:
        activate_plan(session, plan)


def save_plan_method(
    session: Session,
    plan: PaymentPlan,
    payment_method_ref: str,
    customer_ref: str | None,
    described: SavedMethod | None,
) -> None:
    """Keep the card for off-session instalments; a wallet without a card id is not kept.

    `described` is what the debtor sees of it; None keeps what is known of the same method
    and forgets what was known of another.
    """
    if not payment_method_ref:
        return
    if described is not None or payment_method_ref != plan.payment_method_ref:
        remember_method(plan, described)
    plan.payment_method_ref = payment_method_ref
    plan.customer_ref = customer_ref or plan.customer_ref
    if plan.status is PlanStatus.PROPOSED:
        activate_plan(session, plan)


def activate_plan(session: Session, plan: PaymentPlan) -> None:
    plan.status = PlanStatus.ACTIVE
    account = session.get(Account, plan.account_id)
    assert account is not None
    if account.status in (AccountStatus.OPEN, AccountStatus.PROMISED):
        account.status = AccountStatus.PLAN
