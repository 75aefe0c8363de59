"""What the debtor arranges on the portal: an instalment plan or a promise to pay by a date."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import N_, Conflict, ValidationFailed
from app.models import (
    Account,
    Creditor,
    Debtor,
    Instalment,
    PaymentPlan,
    PlanRules,
    PromiseToPay,
)
from app.models.enums import AccountStatus, PlanFrequency, PlanStatus, PromiseStatus
from app.services.ledger import balance_of
from app.services.notices import LinkFor, context_for, queue_notice
from payments.plans import PlanOffer, PlanTerms, find_offer, offers
from payments.settlement import live_plan

# A plan or a promise replaces the reminders only while the account is in one of these.
ARRANGEABLE = (AccountStatus.OPEN, AccountStatus.PROMISED)


def rules_of(session: Session, creditor_id: int) -> PlanRules:
    """The creditor's rules; a creditor that never set any gets the defaults."""
    rules = session.scalar(
        select(PlanRules).where(PlanRules.creditor_id == creditor_id)
    )
    return rules or PlanRules(
        creditor_id=creditor_id,
        max_instalments=6,
        min_instalment_minor=10000,
        first_payment_within_days=7,
        allow_weekly=False,
        allow_fortnightly=True,
        allow_monthly=True,
        promise_max_days=14,
        grace_moves_missed_instalment=False,
        breathing_space_days=30,
    )


def terms_for(session: Session, account: Account) -> PlanTerms:
    creditor = session.get(Creditor, account.creditor_id)
    assert creditor is not None
    rules = rules_of(session, account.creditor_id)
    return PlanTerms(
        max_instalments=rules.max_instalments,
        min_instalment_minor=rules.min_instalment_minor,
        first_payment_within_days=rules.first_payment_within_days,
        allow_weekly=rules.allow_weekly,
        allow_fortnightly=rules.allow_fortnightly,
        allow_monthly=rules.allow_monthly,
        country=creditor.country,
        payday_day_of_month=rules.payday_day_of_month,
    )


def plan_offers(session: Session, account: Account, today: date) -> list[PlanOffer]:
    """The plans this debtor may choose for this account today; empty if none apply."""
    if account.status not in ARRANGEABLE or _has_active_plan(session, account.id):
        return []
    balance = balance_of(session, account.id)
    if balance <= 0:
        return []
    return offers(balance, terms_for(session, account), today)


def propose_plan(
    session: Session,
    account: Account,
    frequency: PlanFrequency,
    count: int,
    *,
    today: date,
    now: datetime,
) -> PaymentPlan:
    """Create the chosen plan; it becomes active once its first payment or card is confirmed.

    :raises ValidationFailed: the choice is not among today's offers.
    :raises Conflict: the account already has a plan or cannot take one.
    """
    if _has_active_plan(session, account.id):
        raise Conflict(N_("This account already has a plan"))
    offer = find_offer(plan_offers(session, account, today), frequency, count)
    if offer is None:
        raise ValidationFailed(N_("That plan is not available for this account"))
    _cancel_proposed_plans(session, account.id, now)
    plan = PaymentPlan(
        account_id=account.id,
        status=PlanStatus.PROPOSED,
        frequency=frequency,
        total_minor=sum(i.amount_minor for i in offer.instalments),
        currency=account.currency,
        created_at=now,
        instalments=[
            Instalment(seq_no=i.seq_no, due_on=i.due_on, amount_minor=i.amount_minor)
            for i in offer.instalments
        ],
    )
    session.add(plan)
    session.flush()
    return plan


def _has_active_plan(session: Session, account_id: int) -> bool:
    plan = live_plan(session, account_id)
    return plan is not None and plan.status is PlanStatus.ACTIVE


def _cancel_proposed_plans(session: Session, account_id: int, now: datetime) -> None:
    """A plan whose first payment was never made gives way to the debtor's new choice."""
    for plan in session.scalars(
        select(PaymentPlan).where(
            PaymentPlan.account_id == account_id,
            PaymentPlan.status == PlanStatus.PROPOSED,
        )
    ):
        plan.status, plan.ended_at = PlanStatus.CANCELLED, now


def promise_limit(session: Session, account: Account, today: date) -> date:
    return today + timedelta(
        days=rules_of(session, account.creditor_id).promise_max_days
    )


def promise_to_pay(
    session: Session, account: Account, on: date, *, today: date, now: datetime
) -> PromiseToPay:
    """Pause reminders until `on`; a nudge goes the day before, a broken one resumes them.

    :raises ValidationFailed: the date is not after today or beyond the creditor's limit.
    :raises Conflict: the account has a plan, is paid, or is otherwise not open.
    """
    if account.status not in ARRANGEABLE or _has_active_plan(session, account.id):
        raise Conflict(N_("A promise cannot be made on this account now"))
    if not today < on <= promise_limit(session, account, today):
        raise ValidationFailed(N_("Choose a date within the allowed period"))
    balance = balance_of(session, account.id)
    if balance <= 0:
        raise Conflict(N_("Nothing is owed on this account"))
    for earlier in session.scalars(
        select(PromiseToPay).where(
            PromiseToPay.account_id == account.id,
            PromiseToPay.status == PromiseStatus.PENDING,
        )
    ):
        earlier.status = PromiseStatus.CANCELLED
    _cancel_proposed_plans(session, account.id, now)
    promise = PromiseToPay(
        account_id=account.id,
        promised_on=on,
        amount_minor=balance,
        status=PromiseStatus.PENDING,
        created_at=now,
    )
    session.add(promise)
    account.status = AccountStatus.PROMISED
    account.updated_at = now
    session.flush()
    return promise


# Bank transfers take a couple of days to show; a promise is judged after that.
PROMISE_SETTLEMENT = timedelta(days=2)


def review_promises(session: Session, *, now: datetime, link_for: LinkFor) -> int:
    """Nudge the day before each promised date; a promise still unpaid after it is broken.

    Dates are the debtor's own: "tomorrow" at 00:30 in Copenhagen is not UTC's tomorrow.
    """
    changed = 0
    for promise in session.scalars(
        select(PromiseToPay)
        .where(PromiseToPay.status == PromiseStatus.PENDING)
        .with_for_update(skip_locked=True)
    ):
        today = _debtor_today(session, promise, now)
        if promise.promised_on + PROMISE_SETTLEMENT < today:
            _break_promise(session, promise, now)
            changed += 1
        elif (
            promise.nudged_at is None
            and promise.promised_on - timedelta(days=1) == today
        ):
            # Only the day before: the text says "tomorrow", so a late run sends none.
            _nudge(session, promise, now, link_for)
            changed += 1
    return changed


def _debtor_today(session: Session, promise: PromiseToPay, now: datetime) -> date:
    account = session.get(Account, promise.account_id)
    assert account is not None
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    return now.astimezone(ZoneInfo(debtor.timezone)).date()


def _break_promise(session: Session, promise: PromiseToPay, now: datetime) -> None:
    promise.status = PromiseStatus.BROKEN
    account = session.get(Account, promise.account_id)
    assert account is not None
    if account.status is AccountStatus.PROMISED:
        account.status, account.updated_at = AccountStatus.OPEN, now


def _nudge(
    session: Session, promise: PromiseToPay, now: datetime, link_for: LinkFor
) -> None:
    promise.nudged_at = now
    account = session.get(Account, promise.account_id)
    assert account is not None
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    context = context_for(session, debtor, on_date=promise.promised_on)
    queue_notice(session, debtor, "promise_nudge", context, link_for=link_for, now=now)
