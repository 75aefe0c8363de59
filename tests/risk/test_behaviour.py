"""Behavioural signals: each pattern is raised once, and not without its evidence."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    ContactDecision,
    Debtor,
    InboundMessage,
    Instalment,
    Message,
    PaymentPlan,
    Sequence,
    Step,
)
from app.models.enums import (
    Channel,
    DecisionOutcome,
    InstalmentStatus,
    Language,
    MessageStatus,
    PlanFrequency,
    PlanStatus,
    Severity,
)
from app.risk.behaviour import detect_behaviour
from tests.factories import make_account, make_creditor, make_debtor


def _categories(session: Session, now: datetime) -> list[str]:
    return sorted(signal.category for signal in detect_behaviour(session, now=now))


def _inbound(session: Session, debtor_id: int, keyword: str, at: datetime) -> None:
    session.add(
        InboundMessage(
            debtor_id=debtor_id,
            from_address="+4520000000",
            to_address="+4570000000",
            body=keyword.upper(),
            provider_message_id=f"SM{keyword}{at.timestamp()}",
            keyword=keyword,
            received_at=at,
        )
    )


def test_stop_after_start_is_raised_once(session: Session, now: datetime) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    for minutes, keyword in enumerate(("stop", "start", "stop")):
        _inbound(session, debtor.id, keyword, now - timedelta(days=1, minutes=-minutes))
    assert _categories(session, now) == ["stop_after_start"]
    assert _categories(session, now + timedelta(hours=1)) == []


def test_stop_then_start_alone_is_not_a_pattern(
    session: Session, now: datetime
) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    _inbound(session, debtor.id, "stop", now - timedelta(days=2))
    _inbound(session, debtor.id, "start", now - timedelta(days=1))
    assert _categories(session, now) == []


def _sent_steps(
    session: Session, account_id: int, debtor_id: int, now: datetime, count: int
) -> None:
    creditor_id = session.get(Debtor, debtor_id).creditor_id
    sequence = Sequence(
        creditor_id=creditor_id, name="test", is_default=False, created_at=now
    )
    session.add(sequence)
    session.flush()
    for n in range(count):
        step = Step(
            sequence_id=sequence.id,
            position=n + 1,
            day_offset=3 * n,
            template_key="reminder",
        )
        session.add(step)
        session.flush()
        session.add(
            Message(
                debtor_id=debtor_id,
                account_id=account_id,
                step_id=step.id,
                channel=Channel.SMS,
                template_key="reminder",
                language=Language.DA,
                to_address="+4520000000",
                status=MessageStatus.DELIVERED,
                not_before=now,
                sent_at=now - timedelta(days=10 - 3 * n),
                created_at=now,
            )
        )


def test_three_reminders_without_reaction(session: Session, now: datetime) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now)
    _sent_steps(session, account.id, debtor.id, now, 3)
    assert _categories(session, now) == ["no_reaction"]


def test_a_reply_counts_as_a_reaction(session: Session, now: datetime) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now)
    _sent_steps(session, account.id, debtor.id, now, 3)
    _inbound(session, debtor.id, "help", now - timedelta(days=2))
    assert _categories(session, now) == []


def test_quiet_hours_three_times_and_the_frequency_cap(
    session: Session, now: datetime
) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now)
    _sent_steps(session, account.id, debtor.id, now, 1)
    session.flush()
    message_id = session.scalar(select(Message.id))
    for n, reason in enumerate(
        ("quiet_hours", "quiet_hours", "quiet_hours", "frequency_cap")
    ):
        session.add(
            ContactDecision(
                debtor_id=debtor.id,
                account_id=account.id,
                message_id=message_id,
                channel=Channel.SMS,
                outcome=DecisionOutcome.DEFERRED,
                reason=reason,
                checked_at=now - timedelta(hours=n),
            )
        )
    assert _categories(session, now) == ["deferred_repeatedly", "frequency_cap_hit"]


def test_two_failed_instalments(session: Session, now: datetime) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now, amount_minor=90_000)
    session.add(
        PaymentPlan(
            account_id=account.id,
            status=PlanStatus.ACTIVE,
            frequency=PlanFrequency.MONTHLY,
            total_minor=90_000,
            currency="DKK",
            created_at=now,
            instalments=[
                Instalment(
                    seq_no=n + 1, due_on=now.date(), amount_minor=30_000, status=status
                )
                for n, status in enumerate(
                    (
                        InstalmentStatus.PAID,
                        InstalmentStatus.FAILED,
                        InstalmentStatus.MISSED,
                    )
                )
            ],
        )
    )
    signals = detect_behaviour(session, now=now)
    assert [(s.category, s.severity) for s in signals] == [
        ("instalments_failing", Severity.MEDIUM)
    ]
