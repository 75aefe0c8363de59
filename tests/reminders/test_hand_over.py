"""A hand-to-agent step puts the account in front of a person once, instead of a text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, ContactDecision, Creditor, Debtor, Message, Step
from app.models.enums import MessageStatus, StepAction, StepOffsetFrom
from reminders.planner import HANDED_TO_AGENT, plan_due_steps
from reminders.sequences import ensure_default_sequence
from tests.reminders.test_engine import (
    MORNING,
    creditor,  # noqa: F401  (fixture)
    overdue_account,
    rules_for,
)


def _add_hand_over_step(session: Session, creditor: Creditor, day: int) -> None:  # noqa: F811
    sequence = ensure_default_sequence(session, creditor, now=MORNING)
    sequence.steps.append(
        Step(
            position=len(sequence.steps),
            day_offset=day,
            offset_from=StepOffsetFrom.DUE_DATE,
            action=StepAction.HAND_TO_AGENT,
            template_key="hand_to_agent",
        )
    )
    session.flush()


def test_a_due_hand_over_step_is_taken_once_and_sends_nothing(
    session: Session,
    creditor: Creditor,  # noqa: F811
) -> None:
    _add_hand_over_step(session, creditor, day=40)
    account = overdue_account(session, creditor, days=45)
    handed: list[tuple[Account, Debtor, datetime]] = []

    def hand_over(
        _session: Session, account: Account, debtor: Debtor, now: datetime
    ) -> None:
        handed.append((account, debtor, now))

    first = plan_due_steps(
        session, now=MORNING, rules_for=rules_for, hand_over=hand_over
    )
    again = plan_due_steps(
        session, now=MORNING, rules_for=rules_for, hand_over=hand_over
    )
    assert (first.handed_over, again.handed_over) == (1, 0)
    assert [a.id for a, _d, _n in handed] == [account.id]
    rows = session.scalars(
        select(Message).where(Message.account_id == account.id)
    ).all()
    assert {m.status for m in rows} == {MessageStatus.SUPPRESSED}
    assert HANDED_TO_AGENT in {m.suppressed_reason for m in rows}
    reasons = session.scalars(select(ContactDecision.reason)).all()
    assert HANDED_TO_AGENT in reasons


def test_before_the_hand_over_day_the_texts_go_on(
    session: Session,
    creditor: Creditor,  # noqa: F811
) -> None:
    _add_hand_over_step(session, creditor, day=40)
    overdue_account(session, creditor, days=12)
    result = plan_due_steps(session, now=MORNING, rules_for=rules_for, hand_over=None)
    assert (result.queued, result.handed_over) == (1, 0)
