"""The demo data: realistic, complete, and idempotent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import holidays
import phonenumbers
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from app.cli import DEMO_ZONE, recent_working_mornings
from app.clock import utcnow
from app.demo import seed_demo
from app.models import (
    Account,
    Conversation,
    Creditor,
    Debtor,
    LedgerEntry,
    Message,
    PaymentPlan,
    RiskSignal,
    User,
)
from app.models.enums import (
    AccountStatus,
    ConversationStatus,
    InstalmentStatus,
    MessageStatus,
    PlanStatus,
    Role,
)
from app.services.ledger import balances_of
from app.services.portal_links import find_link
from app.web.db import get_session
from app.web.demo_stories import STORIES


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_demo_has_two_creditors_staff_debtors_and_accounts(
    session: Session, now: datetime
) -> None:
    seed_demo(session, now=now)
    creditors = session.scalars(select(Creditor).order_by(Creditor.country)).all()
    assert [(c.country, c.currency) for c in creditors] == [
        ("DK", "DKK"),
        ("NO", "NOK"),
    ]
    roles = [u.role for u in session.scalars(select(User))]
    assert roles.count(Role.SUPERVISOR) == 1
    assert roles.count(Role.AGENT) == 2
    assert roles.count(Role.CREDITOR) == 2
    assert _count(session, Debtor) == 40
    assert _count(session, Account) == 60


def test_demo_debtors_have_mobile_numbers_of_their_country(
    session: Session, now: datetime
) -> None:
    seed_demo(session, now=now)
    for debtor in session.scalars(select(Debtor)):
        assert debtor.phone_e164 is not None
        number = phonenumbers.parse(debtor.phone_e164)
        assert phonenumbers.is_valid_number(number), debtor.phone_e164
        assert phonenumbers.region_code_for_number(number) == debtor.country
        assert debtor.phone_e164.startswith({"DK": "+45", "NO": "+47"}[debtor.country])


def test_demo_accounts_are_overdue_within_ninety_days_with_balances(
    session: Session, now: datetime
) -> None:
    seed_demo(session, now=now)
    accounts = session.scalars(select(Account)).all()
    for account in accounts:
        assert now.date() - timedelta(days=90) <= account.due_on < now.date()
    balances = balances_of(session, [a.id for a in accounts])
    assert all(0 < balances[a.id] <= a.original_amount_minor for a in accounts)
    assert any(balances[a.id] < a.original_amount_minor for a in accounts)


def test_running_the_demo_twice_changes_nothing(
    session: Session, now: datetime
) -> None:
    assert seed_demo(session, now=now) > 0
    counts = [
        _count(session, m) for m in (Creditor, User, Debtor, Account, LedgerEntry)
    ]
    assert seed_demo(session, now=now + timedelta(days=3)) == 0
    assert [
        _count(session, m) for m in (Creditor, User, Debtor, Account, LedgerEntry)
    ] == counts


@dataclass(frozen=True)
class DemoRun:
    app: Flask
    output: str


@pytest.fixture
def demo_run(tmp_path: Path) -> Iterator[DemoRun]:
    """`flask db upgrade` and `flask demo --if-empty` on a fresh SQLite file, as `make run`."""
    app = create_app(
        {"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db"}
    )
    runner = app.test_cli_runner()
    with app.app_context():
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        result = runner.invoke(args=["demo", "--if-empty"])
        assert result.exit_code == 0, result.output
        yield DemoRun(app, result.output)


def test_the_demo_command_leaves_texts_with_working_links_on_the_dev_phone(
    demo_run: DemoRun,
) -> None:
    session = get_session()
    bodies = session.scalars(
        select(Message.body).where(Message.status == MessageStatus.DELIVERED)
    ).all()
    assert len(bodies) >= 20
    token = re.search(r"/p/([A-Za-z0-9_-]+)", bodies[0] or "")
    assert token is not None
    assert find_link(session, token.group(1), now=utcnow()) is not None


def test_the_demo_mornings_are_working_days_in_copenhagen_not_in_utc() -> None:
    # Sunday 23:30 UTC is already Monday in Copenhagen: the last working morning is Friday's.
    mornings = recent_working_mornings(datetime(2026, 11, 22, 23, 30, tzinfo=UTC))
    assert mornings[0] == datetime(2026, 11, 20, 10, 30, tzinfo=DEMO_ZONE)
    assert mornings[1] == datetime(2026, 11, 19, 10, 30, tzinfo=DEMO_ZONE)
    # After Christmas: no weekend and no Danish or Norwegian holiday.
    closed = holidays.country_holidays("DK") + holidays.country_holidays("NO")
    for morning in recent_working_mornings(datetime(2026, 12, 28, 9, tzinfo=UTC)):
        assert morning.weekday() < 5
        assert morning.date() not in closed
        assert morning.date() < datetime(2026, 12, 25).date()


def test_the_demo_command_leaves_debtors_who_answered_on_every_screen(
    demo_run: DemoRun,
) -> None:
    runner = demo_run.app.test_cli_runner()
    assert f"{len(STORIES)} debtors who answered" in demo_run.output
    session = get_session()
    # The supervisor's risk queue: replies by SMS, one of them a request to stop.
    signals = session.scalars(select(RiskSignal)).all()
    assert {"already_paid", "hardship", "cease_contact"} <= {
        s.category for s in signals
    }
    # The agents' queues: someone waiting at each creditor.
    waiting = session.execute(
        select(Debtor.creditor_id, func.count())
        .join(Conversation, Conversation.debtor_id == Debtor.id)
        .where(Conversation.status == ConversationStatus.WAITING)
        .group_by(Debtor.creditor_id)
    ).all()
    assert len(waiting) == 2
    # The creditor's recovery: paid by card, promised, and on a plan begun by card.
    statuses = session.scalars(select(Account.status)).all()
    assert {AccountStatus.PAID, AccountStatus.PROMISED, AccountStatus.PLAN} <= set(
        statuses
    )
    plan = session.scalars(select(PaymentPlan)).one()
    assert plan.status is PlanStatus.ACTIVE
    assert [i.status for i in plan.instalments] == [
        InstalmentStatus.PAID,
        InstalmentStatus.SCHEDULED,
        InstalmentStatus.SCHEDULED,
    ]
    paid = session.scalars(
        select(Account).where(Account.status == AccountStatus.PAID)
    ).one()
    assert balances_of(session, [paid.id]).get(paid.id, 0) == 0
    counts = [_count(session, m) for m in (RiskSignal, Conversation, LedgerEntry)]
    session.close()

    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0
    session = get_session()
    assert [
        _count(session, m) for m in (RiskSignal, Conversation, LedgerEntry)
    ] == counts
