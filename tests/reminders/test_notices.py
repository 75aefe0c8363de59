"""Texts without an account are checked again just before sending, like reminders."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from app.models import Debtor, Message
from app.models.enums import Channel, Language, MessageStatus
from reminders.dispatch import DispatchResult, deliver_one
from reminders.jobs import run_tick
from reminders.profiles import effective_rules, profile_for
from tests.factories import make_creditor, make_debtor
from tests.fakes import FakeSmsSender

NIGHT = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)  # 03:00 in Copenhagen
MORNING = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)


def _claimed(session: Session, template_key: str, created_at: datetime) -> Message:
    debtor = make_debtor(session, make_creditor(session, created_at), created_at)
    message = Message(
        debtor_id=debtor.id,
        channel=Channel.SMS,
        template_key=template_key,
        language=Language.DA,
        to_address=debtor.phone_e164 or "",
        body="Hej. Din rate gik ikke igennem.",
        status=MessageStatus.SENDING,
        not_before=created_at,
        created_at=created_at,
    )
    session.add(message)
    session.flush()
    return message


def _deliver(session: Session, message: Message, now: datetime) -> FakeSmsSender:
    sender = FakeSmsSender()
    deliver_one(
        session,
        sender,
        message.id,
        now=now,
        rules_for=lambda _account, debtor: effective_rules(profile_for(debtor.country)),
        link_for=lambda token: token,
        result=DispatchResult(),
    )
    return sender


def test_a_failed_instalment_notice_made_at_night_waits_for_the_morning(
    session: Session,
) -> None:
    message = _claimed(session, "instalment_failed", NIGHT)
    assert _deliver(session, message, NIGHT).sent == []
    assert message.status is MessageStatus.QUEUED
    assert message.not_before.astimezone(UTC).hour == 7  # 08:00 in Copenhagen


def test_a_receipt_answers_the_payment_at_once_even_at_night(session: Session) -> None:
    message = _claimed(session, "receipt", NIGHT)
    assert len(_deliver(session, message, NIGHT).sent) == 1


def test_a_queued_notice_is_dropped_after_the_debtor_says_stop(
    session: Session,
) -> None:
    message = _claimed(session, "promise_nudge", MORNING)
    session.get(Debtor, message.debtor_id).sms_opted_out_at = MORNING
    assert _deliver(session, message, MORNING).sent == []
    assert message.status is MessageStatus.SUPPRESSED


def test_a_tick_dispatches_in_small_claims_until_the_queue_is_empty(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    debtor = make_debtor(session, make_creditor(session, MORNING), MORNING)
    for n in range(60):
        session.add(
            Message(
                debtor_id=debtor.id,
                channel=Channel.SMS,
                template_key="receipt",
                language=Language.DA,
                to_address=debtor.phone_e164 or "",
                body=f"Kvittering {n}",
                status=MessageStatus.QUEUED,
                not_before=MORNING,
                created_at=MORNING,
            )
        )
    session.commit()
    sender = FakeSmsSender()
    result = run_tick(
        session_factory,
        sender,
        now=MORNING,
        rules_for=lambda _account, debtor: effective_rules(profile_for(debtor.country)),
        link_for=lambda token: token,
        dispatch_batch=25,
    )
    assert (result.dispatched.claimed, result.dispatched.sent) == (60, 60)
    assert len(sender.sent) == 60
