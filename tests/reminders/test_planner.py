"""The set-based planner: one batch mixing every outcome writes the same rows as one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, ContactDecision, Debtor, Message, PromiseToPay
from app.models.enums import MessageStatus
from reminders.planner import PlanResult, plan_due_steps
from reminders.profiles import effective_rules, profile_for
from reminders.sequences import ensure_default_sequence
from tests.factories import make_account, make_creditor, make_debtor

MORNING = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)  # Tuesday, 10:00 in Copenhagen
LONG_AGO = MORNING - timedelta(days=60)


def rules_for(_account: Account | None, debtor: Debtor):
    return effective_rules(profile_for(debtor.country))


def _overdue(session: Session, creditor, days: int, **debtor: object) -> Account:
    person = make_debtor(session, creditor, LONG_AGO, **debtor)
    return make_account(
        session, person, LONG_AGO, due_on=MORNING.date() - timedelta(days=days)
    )


def _outbox(session: Session, account: Account) -> list[tuple[str, str, str | None]]:
    return [
        (m.template_key, m.status.value, m.suppressed_reason)
        for m in session.scalars(
            select(Message).where(Message.account_id == account.id).order_by(Message.id)
        )
    ]


def _why(session: Session, account: Account) -> list[tuple[str, str, datetime | None]]:
    return [
        (d.outcome.value, d.reason, d.defer_until)
        for d in session.scalars(
            select(ContactDecision)
            .where(ContactDecision.account_id == account.id)
            .order_by(ContactDecision.id)
        )
    ]


def test_one_batch_mixing_every_outcome(session: Session) -> None:
    creditor = make_creditor(session, LONG_AGO)
    ensure_default_sequence(session, creditor, now=MORNING)
    plain = _overdue(session, creditor, 5)
    late = _overdue(session, creditor, 25)
    opted_out = _overdue(session, creditor, 5, sms_opted_out_at=LONG_AGO)
    unreachable = _overdue(session, creditor, 5, phone_e164=None, email=None)
    by_email = _overdue(session, creditor, 5, phone_e164=None, email="a@example.test")
    promised = _overdue(session, creditor, 5)
    session.add(
        PromiseToPay(
            account_id=promised.id,
            promised_on=MORNING.date() + timedelta(days=3),
            created_at=LONG_AGO,
        )
    )
    session.flush()

    result = plan_due_steps(session, now=MORNING, rules_for=rules_for, batch_size=4)

    assert result == PlanResult(queued=3, deferred=1, suppressed=2, superseded=2)
    assert _outbox(session, plain) == [("friendly", "queued", None)]
    assert _outbox(session, late) == [
        ("friendly", "suppressed", "superseded"),
        ("reminder", "suppressed", "superseded"),
        ("plan_offer", "queued", None),
    ]
    assert _outbox(session, opted_out) == [("friendly", "suppressed", "opted_out")]
    assert _why(session, opted_out) == [("suppressed", "opted_out", None)]
    assert _outbox(session, unreachable) == [("friendly", "suppressed", "no_address")]
    assert _why(session, unreachable) == [("suppressed", "no_address", None)]
    [email] = session.scalars(select(Message).where(Message.account_id == by_email.id))
    assert (email.channel.value, email.to_address) == ("email", "a@example.test")
    [deferred] = session.scalars(
        select(Message).where(Message.account_id == promised.id)
    )
    assert deferred.status is MessageStatus.QUEUED
    assert _why(session, promised) == [
        ("deferred", "promise_pending", deferred.not_before)
    ]
    assert deferred.not_before > MORNING + timedelta(days=3)
    for quiet in (plain, late, by_email):
        assert _why(session, quiet) == []
    # Planned once: a second run claims nothing.
    again = plan_due_steps(session, now=MORNING, rules_for=rules_for, batch_size=4)
    assert again == PlanResult()
