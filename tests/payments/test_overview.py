"""The debtor's overview: each account's balance and its story, read in one go."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.models import Account, Instalment, Message, PaymentPlan, PromiseToPay
from app.models.enums import (
    Channel,
    Language,
    LedgerKind,
    MessageStatus,
    PlanFrequency,
    PlanStatus,
    PromiseStatus,
)
from app.services.ledger import post_entry
from payments.overview import Happening, accounts_for
from tests.factories import make_account, make_creditor, make_debtor


def _text(
    session: Session,
    account: Account,
    status: MessageStatus,
    now: datetime,
    sent_at: datetime | None = None,
) -> None:
    session.add(
        Message(
            debtor_id=account.debtor_id,
            account_id=account.id,
            channel=Channel.SMS,
            template_key="reminder",
            language=Language.DA,
            to_address="+4520000000",
            body="Hej",
            status=status,
            not_before=now,
            created_at=now,
            sent_at=sent_at,
        )
    )
    session.flush()


def test_the_story_tells_entries_and_sent_reminders_in_order(
    session: Session, now: datetime
) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now, amount_minor=100_000)
    other = make_account(
        session, debtor, now + timedelta(seconds=1), amount_minor=5_000
    )
    for status, offset in (
        (MessageStatus.DELIVERED, 1),
        (MessageStatus.SENT, 2),
        (MessageStatus.UNKNOWN, 3),
    ):
        _text(session, account, status, now, now + timedelta(hours=offset))
    for status in (
        MessageStatus.QUEUED,
        MessageStatus.FAILED,
    ):  # never reached the debtor
        _text(session, account, status, now)
    post_entry(
        session, account, LedgerKind.PAYMENT, 30_000, now=now + timedelta(hours=4)
    )
    post_entry(session, account, LedgerKind.FEE, 2_500, now=now + timedelta(hours=5))

    views = {view.account.id: view for view in accounts_for(session, debtor)}

    assert views[account.id].balance_minor == 100_000 - 30_000 + 2_500
    assert views[account.id].history == [
        Happening(at=now, kind="charge", amount_minor=100_000),
        Happening(at=now + timedelta(hours=1), kind="reminder"),
        Happening(at=now + timedelta(hours=2), kind="reminder"),
        Happening(at=now + timedelta(hours=3), kind="reminder"),
        Happening(at=now + timedelta(hours=4), kind="payment", amount_minor=30_000),
        Happening(at=now + timedelta(hours=5), kind="fee", amount_minor=2_500),
    ]
    assert views[other.id].balance_minor == 5_000
    assert views[other.id].history == [
        Happening(at=now + timedelta(seconds=1), kind="charge", amount_minor=5_000)
    ]


def _plan(
    session: Session, account: Account, status: PlanStatus, now: datetime
) -> PaymentPlan:
    plan = PaymentPlan(
        account_id=account.id,
        status=status,
        frequency=PlanFrequency.MONTHLY,
        total_minor=10_000,
        currency="DKK",
        created_at=now,
        instalments=[
            Instalment(seq_no=n, due_on=date(2026, 12, n), amount_minor=5_000)
            for n in (1, 2)
        ],
    )
    session.add(plan)
    session.flush()
    return plan


def _promise(
    session: Session, account: Account, status: PromiseStatus, now: datetime
) -> PromiseToPay:
    promise = PromiseToPay(
        account_id=account.id,
        promised_on=date(2026, 12, 1),
        status=status,
        created_at=now,
    )
    session.add(promise)
    session.flush()
    return promise


def test_each_account_shows_only_its_own_live_plan_and_pending_promise(
    session: Session, now: datetime
) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    on_plan, promised, neither, ended = (
        make_account(session, debtor, now) for _ in range(4)
    )
    _plan(session, on_plan, PlanStatus.BROKEN, now)
    live = _plan(session, on_plan, PlanStatus.ACTIVE, now)
    _promise(session, promised, PromiseStatus.BROKEN, now)
    pending = _promise(session, promised, PromiseStatus.PENDING, now)
    _plan(session, ended, PlanStatus.COMPLETED, now)
    _promise(session, ended, PromiseStatus.KEPT, now)

    views = {view.account.id: view for view in accounts_for(session, debtor)}

    assert (views[on_plan.id].plan, views[on_plan.id].promise) == (live, None)
    assert [i.seq_no for i in views[on_plan.id].plan.instalments] == [1, 2]
    assert (views[promised.id].plan, views[promised.id].promise) == (None, pending)
    for account in (neither, ended):
        assert (views[account.id].plan, views[account.id].promise) == (None, None)
