"""Reminder sequences: the default one every creditor starts with, and which step is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, Creditor, Sequence, Step
from app.models.enums import Channel, StepAction, StepOffsetFrom


@dataclass(frozen=True)
class StepSpec:
    day_offset: int
    template_key: str
    action: StepAction = StepAction.SEND


# Friendly first, a plan offered before anything firmer, and never more than four texts.
DEFAULT_STEPS = (
    StepSpec(3, "friendly"),
    StepSpec(10, "reminder"),
    StepSpec(20, "plan_offer"),
    StepSpec(30, "last_notice"),
)


def ensure_default_sequence(
    session: Session, creditor: Creditor, *, now: datetime
) -> Sequence:
    """Return the creditor's default sequence, creating the standard one if it has none."""
    sequence = session.scalar(
        select(Sequence).where(Sequence.creditor_id == creditor.id, Sequence.is_default)
    )
    if sequence is not None:
        return sequence
    sequence = Sequence(
        creditor_id=creditor.id, name="Standard", is_default=True, created_at=now
    )
    sequence.steps = [
        Step(
            position=index,
            day_offset=spec.day_offset,
            offset_from=StepOffsetFrom.DUE_DATE,
            channel=Channel.SMS,
            action=spec.action,
            template_key=spec.template_key,
        )
        for index, spec in enumerate(DEFAULT_STEPS)
    ]
    session.add(sequence)
    session.flush()
    return sequence


def step_due_dates(
    steps: list[Step], due_on: date, handed_over_on: date
) -> list[tuple[Step, date]]:
    """The date each live step falls due, in sequence order.

    Steps count from the due date, but the sequence never starts before the account was
    handed to us: an invoice handed over 90 days late starts with the first, friendliest
    step, not with the last notice.
    """
    live = [s for s in sorted(steps, key=lambda s: s.position) if s.retired_at is None]
    if not live:
        return []
    start = max(due_on, handed_over_on - timedelta(days=live[0].day_offset))
    dated: list[tuple[Step, date]] = []
    previous = start
    for step in live:
        anchor = previous if step.offset_from is StepOffsetFrom.PREVIOUS_STEP else start
        previous = anchor + timedelta(days=step.day_offset)
        dated.append((step, previous))
    return dated


def sequence_for(session: Session, account: Account) -> Sequence | None:
    """The account's own sequence, else its creditor's default."""
    if account.sequence_id is not None:
        return session.get(Sequence, account.sequence_id)
    return session.scalar(
        select(Sequence).where(
            Sequence.creditor_id == account.creditor_id, Sequence.is_default
        )
    )
