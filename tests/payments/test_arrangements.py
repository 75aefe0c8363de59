"""What the debtor arranges: a plan among the offers, a promise to pay by a date, and the
requests that pause the sequence (a dispute, breathing space)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, ValidationFailed
from app.models import (
    Account,
    Debtor,
    Message,
    PaymentPlan,
    PlanRules,
    PromiseToPay,
    RiskSignal,
)
from app.models.enums import (
    AccountStatus,
    InstalmentStatus,
    LedgerKind,
    PlanFrequency,
    PlanStatus,
    PromiseStatus,
)
from app.risk.requests import (
    BREATHING_SPACE,
    MAX_TEXT,
    DisputeReason,
    HardshipReason,
    ask_for_breathing_space,
    open_dispute,
    report_wrong_number,
)
from app.services.ledger import post_entry
from payments.arrangements import (
    plan_offers,
    promise_limit,
    promise_to_pay,
    propose_plan,
    review_promises,
)
from payments.settlement import settle_account
from reminders.policy import Channel as PolicyChannel
from reminders.policy import (
    ContactKind,
    Defer,
    ProposedContact,
    Reason,
    decide_contact,
)
from reminders.profiles import effective_rules, profile_for
from reminders.state import ContactFacts
from tests.factories import make_account, make_creditor, make_debtor

MONTHLY, WEEKLY = PlanFrequency.MONTHLY, PlanFrequency.WEEKLY


def link_for(token: str) -> str:
    return f"https://venlig.example/p/{token}"


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 30), tzinfo=UTC)


def review(session: Session, day: date) -> int:
    return review_promises(session, now=at(day), link_for=link_for)


def nudges(session: Session, debtor: Debtor) -> list[Message]:
    return list(
        session.scalars(
            select(Message).where(
                Message.debtor_id == debtor.id,
                Message.template_key == "promise_nudge",
            )
        )
    )


def pay(session: Session, account: Account, amount: int, now: datetime) -> None:
    post_entry(session, account, LedgerKind.PAYMENT, amount, now=now)
    settle_account(session, account, now)


@pytest.fixture
def debtor(session: Session, now: datetime) -> Debtor:
    creditor = make_creditor(session, now, name="Nordlys Energi A/S")
    return make_debtor(session, creditor, now, name="Mette Hansen")


@pytest.fixture
def account(session: Session, debtor: Debtor, now: datetime) -> Account:
    return make_account(session, debtor, now, amount_minor=120_000)


@pytest.fixture
def today(now: datetime) -> date:
    return now.date()


# --- plans ---------------------------------------------------------------------------------


def test_a_plan_among_the_offers_is_proposed_with_an_exact_schedule(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    offered = {(o.frequency, o.count) for o in plan_offers(session, account, today)}
    assert (MONTHLY, 3) in offered
    assert all(f is not WEEKLY for f, _count in offered)  # the default rules: no weekly
    plan = propose_plan(session, account, MONTHLY, 3, today=today, now=now)
    assert plan.status is PlanStatus.PROPOSED
    assert [i.amount_minor for i in plan.instalments] == [40_000] * 3
    assert plan.total_minor == 120_000
    assert [i.seq_no for i in plan.instalments] == [1, 2, 3]
    assert plan.instalments[0].due_on == today
    assert all(i.status is InstalmentStatus.SCHEDULED for i in plan.instalments)
    # Reminders keep running until the first payment or the card is confirmed.
    assert account.status is AccountStatus.OPEN


@pytest.mark.parametrize(
    ("frequency", "count"),
    [
        pytest.param(WEEKLY, 3, id="weekly-not-allowed"),
        pytest.param(MONTHLY, 7, id="more-than-the-maximum"),
        pytest.param(MONTHLY, 1, id="one-is-not-a-plan"),
        pytest.param(MONTHLY, 40, id="under-the-minimum-instalment"),
    ],
)
def test_a_plan_not_on_offer_is_refused(
    session: Session,
    account: Account,
    now: datetime,
    today: date,
    frequency: PlanFrequency,
    count: int,
) -> None:
    with pytest.raises(ValidationFailed):
        propose_plan(session, account, frequency, count, today=today, now=now)
    assert session.scalar(select(PaymentPlan)) is None


def test_the_creditors_rules_decide_the_offers(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    session.add(
        PlanRules(
            creditor_id=account.creditor_id,
            max_instalments=4,
            min_instalment_minor=30_000,
            allow_weekly=True,
            allow_fortnightly=False,
        )
    )
    session.flush()
    offered = {(o.frequency, o.count) for o in plan_offers(session, account, today)}
    assert offered == {(f, n) for f in (MONTHLY, WEEKLY) for n in (2, 3, 4)}
    assert propose_plan(session, account, WEEKLY, 4, today=today, now=now)


def test_an_unpaid_plan_gives_way_but_an_active_one_refuses_a_second(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    abandoned = propose_plan(session, account, MONTHLY, 3, today=today, now=now)
    assert plan_offers(session, account, today) != []
    chosen = propose_plan(session, account, MONTHLY, 2, today=today, now=now)
    assert abandoned.status is PlanStatus.CANCELLED
    chosen.status = PlanStatus.ACTIVE
    assert plan_offers(session, account, today) == []
    with pytest.raises(Conflict):
        propose_plan(session, account, MONTHLY, 3, today=today, now=now)
    live = session.scalars(
        select(PaymentPlan).where(PaymentPlan.status != PlanStatus.CANCELLED)
    ).all()
    assert live == [chosen]


def test_after_a_broken_plan_a_new_one_may_be_chosen(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    first = propose_plan(session, account, MONTHLY, 3, today=today, now=now)
    first.status = PlanStatus.BROKEN
    second = propose_plan(session, account, MONTHLY, 2, today=today, now=now)
    assert second.id != first.id


@pytest.mark.parametrize(
    "status", [AccountStatus.PAID, AccountStatus.DISPUTED, AccountStatus.CLOSED]
)
def test_no_plan_for_an_account_that_is_not_open(
    session: Session,
    account: Account,
    now: datetime,
    today: date,
    status: AccountStatus,
) -> None:
    account.status = status
    assert plan_offers(session, account, today) == []
    with pytest.raises(ValidationFailed):
        propose_plan(session, account, MONTHLY, 3, today=today, now=now)


def test_no_plan_when_nothing_is_owed(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    post_entry(session, account, LedgerKind.CREDIT, 120_000, now=now)
    assert plan_offers(session, account, today) == []


def test_a_promised_account_may_still_choose_a_plan(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    promise_to_pay(session, account, today + timedelta(days=3), today=today, now=now)
    assert plan_offers(session, account, today)


# --- promises: a date from tomorrow up to the creditor's limit ------------------------------


@pytest.mark.parametrize(
    ("days", "allowed"),
    [(-1, False), (0, False), (1, True), (7, True), (14, True), (15, False)],
)
def test_a_promise_date_runs_from_tomorrow_to_the_limit(
    session: Session,
    account: Account,
    now: datetime,
    today: date,
    days: int,
    allowed: bool,
) -> None:
    on = today + timedelta(days=days)
    if not allowed:
        with pytest.raises(ValidationFailed):
            promise_to_pay(session, account, on, today=today, now=now)
        assert account.status is AccountStatus.OPEN
        assert session.scalar(select(PromiseToPay)) is None
        return
    promise = promise_to_pay(session, account, on, today=today, now=now)
    assert (promise.promised_on, promise.status) == (on, PromiseStatus.PENDING)
    assert promise.amount_minor == 120_000
    assert account.status is AccountStatus.PROMISED


def test_the_creditor_sets_the_promise_limit(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    session.add(PlanRules(creditor_id=account.creditor_id, promise_max_days=5))
    session.flush()
    assert promise_limit(session, account, today) == today + timedelta(days=5)
    with pytest.raises(ValidationFailed):
        promise_to_pay(
            session, account, today + timedelta(days=6), today=today, now=now
        )
    promise_to_pay(session, account, today + timedelta(days=5), today=today, now=now)


def test_a_new_promise_replaces_the_pending_one(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    first = promise_to_pay(
        session, account, today + timedelta(days=3), today=today, now=now
    )
    second = promise_to_pay(
        session, account, today + timedelta(days=10), today=today, now=now
    )
    assert first.status is PromiseStatus.CANCELLED
    assert second.status is PromiseStatus.PENDING


def test_no_promise_on_an_account_with_a_plan_or_nothing_owed(
    session: Session, debtor: Debtor, now: datetime, today: date
) -> None:
    planned = make_account(session, debtor, now, amount_minor=60_000)
    propose_plan(
        session, planned, MONTHLY, 2, today=today, now=now
    ).status = PlanStatus.ACTIVE
    with pytest.raises(Conflict):
        promise_to_pay(
            session, planned, today + timedelta(days=3), today=today, now=now
        )
    settled = make_account(session, debtor, now, amount_minor=60_000)
    post_entry(session, settled, LedgerKind.CREDIT, 60_000, now=now)
    with pytest.raises(Conflict):
        promise_to_pay(
            session, settled, today + timedelta(days=3), today=today, now=now
        )
    disputed = make_account(session, debtor, now, status=AccountStatus.DISPUTED)
    with pytest.raises(Conflict):
        promise_to_pay(
            session, disputed, today + timedelta(days=3), today=today, now=now
        )


def test_a_promise_holds_the_reminders_until_two_days_after_its_date(
    session: Session, account: Account, debtor: Debtor, now: datetime, today: date
) -> None:
    on = today + timedelta(days=5)
    promise_to_pay(session, account, on, today=today, now=now)
    decision = decide_contact(
        ContactFacts(session, [account], now).state_for(account),
        ProposedContact(PolicyChannel.SMS, ContactKind.REMINDER),
        effective_rules(profile_for(debtor.country)),
        now,
    )
    assert isinstance(decision, Defer)
    assert decision.reason is Reason.PROMISE_PENDING
    assert decision.until.date() >= on + timedelta(days=2)


# --- reviewing promises: a nudge the day before, broken after the settlement days -----------


def test_the_nudge_goes_once_the_day_before(
    session: Session, account: Account, debtor: Debtor, now: datetime, today: date
) -> None:
    on = today + timedelta(days=4)
    promise = promise_to_pay(session, account, on, today=today, now=now)
    assert review(session, on - timedelta(days=2)) == 0
    assert nudges(session, debtor) == []
    assert review(session, on - timedelta(days=1)) == 1
    assert promise.nudged_at == at(on - timedelta(days=1))
    assert review(session, on - timedelta(days=1)) == 0
    [nudge] = nudges(session, debtor)
    body = nudge.body or ""
    assert body.startswith("Hej Mette.")
    assert "i morgen" in body
    assert f"{on.day}." in body  # the promised date, in Danish
    assert "Nordlys Energi A/S" in body
    assert "/p/" in body
    assert promise.status is PromiseStatus.PENDING


def test_a_promise_for_tomorrow_is_nudged_at_once(
    session: Session, account: Account, debtor: Debtor, now: datetime, today: date
) -> None:
    promise_to_pay(session, account, today + timedelta(days=1), today=today, now=now)
    assert review(session, today) == 1
    assert len(nudges(session, debtor)) == 1


def test_no_nudge_saying_tomorrow_on_or_after_the_day(
    session: Session, account: Account, debtor: Debtor, now: datetime, today: date
) -> None:
    # The worker was down the day before: "tomorrow is the day" would now be untrue.
    on = today + timedelta(days=4)
    promise_to_pay(session, account, on, today=today, now=now)
    for day in (on, on + timedelta(days=1), on + timedelta(days=2)):
        review(session, day)
    assert nudges(session, debtor) == []


def test_no_nudge_text_to_a_debtor_who_said_stop(
    session: Session, account: Account, debtor: Debtor, now: datetime, today: date
) -> None:
    on = today + timedelta(days=2)
    promise = promise_to_pay(session, account, on, today=today, now=now)
    debtor.sms_opted_out_at = now
    review(session, on - timedelta(days=1))
    assert nudges(session, debtor) == []
    assert promise.nudged_at is not None  # decided, not retried every run


def test_an_unpaid_promise_is_broken_after_the_settlement_days(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    on = today + timedelta(days=3)
    promise = promise_to_pay(session, account, on, today=today, now=now)
    # A bank transfer made on the day may take two days to show.
    for day in (on, on + timedelta(days=1), on + timedelta(days=2)):
        review(session, day)
        assert promise.status is PromiseStatus.PENDING
        assert account.status is AccountStatus.PROMISED
    assert review(session, on + timedelta(days=3)) == 1
    assert promise.status is PromiseStatus.BROKEN
    assert account.status is AccountStatus.OPEN
    assert account.updated_at == at(on + timedelta(days=3))
    assert review(session, on + timedelta(days=4)) == 0


def test_a_part_payment_does_not_keep_the_promise(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    on = today + timedelta(days=3)
    promise = promise_to_pay(session, account, on, today=today, now=now)
    pay(session, account, 50_000, now)
    assert promise.status is PromiseStatus.PENDING
    review(session, on + timedelta(days=3))
    assert promise.status is PromiseStatus.BROKEN


def test_a_paid_promise_is_kept_and_never_broken(
    session: Session, account: Account, debtor: Debtor, now: datetime, today: date
) -> None:
    on = today + timedelta(days=3)
    promise = promise_to_pay(session, account, on, today=today, now=now)
    pay(session, account, 120_000, now)
    assert promise.status is PromiseStatus.KEPT
    assert account.status is AccountStatus.PAID
    for day in range(1, 10):
        review(session, today + timedelta(days=day))
    assert promise.status is PromiseStatus.KEPT
    assert account.status is AccountStatus.PAID
    assert nudges(session, debtor) == []


def test_a_broken_promise_leaves_a_disputed_account_disputed(
    session: Session, account: Account, now: datetime, today: date
) -> None:
    on = today + timedelta(days=3)
    promise = promise_to_pay(session, account, on, today=today, now=now)
    open_dispute(session, account, DisputeReason.QUALITY, "It never worked", now=now)
    review(session, on + timedelta(days=3))
    assert promise.status is PromiseStatus.BROKEN
    assert account.status is AccountStatus.DISPUTED


# --- requests that pause the sequence: a dispute, breathing space, "not me" ----------------


def test_a_dispute_pauses_the_account_and_raises_one_signal(
    session: Session, account: Account, now: datetime
) -> None:
    signal = open_dispute(session, account, DisputeReason.NOT_MINE, "", now=now)
    assert account.status is AccountStatus.DISPUTED
    assert (signal.category, signal.account_id) == ("dispute_not_owed", account.id)
    with pytest.raises(Conflict):
        open_dispute(session, account, DisputeReason.OTHER, "again", now=now)
    assert len(session.scalars(select(RiskSignal)).all()) == 1


def test_a_dispute_with_too_long_a_text_changes_nothing(
    session: Session, account: Account, now: datetime
) -> None:
    with pytest.raises(ValidationFailed):
        open_dispute(session, account, DisputeReason.OTHER, "x " * MAX_TEXT, now=now)
    assert account.status is AccountStatus.OPEN
    assert session.scalar(select(RiskSignal)) is None


def test_a_paid_account_cannot_be_disputed(
    session: Session, account: Account, now: datetime
) -> None:
    pay(session, account, 120_000, now)
    with pytest.raises(Conflict):
        open_dispute(session, account, DisputeReason.ALREADY_PAID, "", now=now)


def test_breathing_space_pauses_every_open_account_for_the_days_given(
    session: Session, debtor: Debtor, account: Account, now: datetime
) -> None:
    paid = make_account(session, debtor, now, amount_minor=10_000)
    pay(session, paid, 10_000, now)
    signal = ask_for_breathing_space(
        session, debtor, HardshipReason.ILLNESS, "", days=45, now=now
    )
    assert account.paused_until == now + timedelta(days=45)
    assert account.pause_reason == BREATHING_SPACE
    assert paid.paused_until is None
    assert (signal.category, signal.account_id) == ("hardship", None)
    state = ContactFacts(session, [account], now).state_for(account)
    assert state.breathing_space_until == now + timedelta(days=45)


def test_not_me_stops_texts_to_the_number(
    session: Session, debtor: Debtor, now: datetime
) -> None:
    signal = report_wrong_number(session, debtor, now=now)
    assert debtor.phone_unusable_reason == "wrong_number"
    assert signal.category == "wrong_number"


def test_the_day_before_is_the_debtors_own_day(
    session: Session, account: Account, debtor: Debtor, now: datetime, today: date
) -> None:
    on = today + timedelta(days=4)
    promise_to_pay(session, account, on, today=today, now=now)
    # 23:30 UTC is already 00:30 the next day in Copenhagen: the day before the promise there.
    late_evening_utc = datetime.combine(
        on - timedelta(days=2), time(23, 30), tzinfo=UTC
    )
    assert review_promises(session, now=late_evening_utc, link_for=link_for) == 1
    assert len(nudges(session, debtor)) == 1
