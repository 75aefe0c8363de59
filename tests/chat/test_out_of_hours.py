"""Out of hours: a message left at night is answered the next morning, and the answer's
text message goes out within the debtor's contact hours, never at night."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.chat.actions import ChatAdapters, agent_replies, debtor_writes
from app.chat.assignment import take
from app.chat.console import expected_wait
from app.chat.conversations import find_open_conversation
from app.models import ContactDecision, Creditor, Debtor, Message, User
from app.models.enums import DecisionOutcome, MessageStatus
from app.providers import rules_for
from reminders.dispatch import dispatch_due
from tests.fakes import FakeSmsSender

NIGHT = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)  # Monday 22:00 in Copenhagen
MORNING = datetime(2026, 11, 17, 7, 5, tzinfo=UTC)  # Tuesday 08:05
LATE = datetime(2026, 11, 16, 21, 30, tzinfo=UTC)  # Monday 22:30


def _dispatch(sessions: sessionmaker[Session], now: datetime) -> FakeSmsSender:
    sms = FakeSmsSender()
    dispatch_due(sessions, sms, now=now, rules_for=rules_for, link_for=lambda t: t)
    return sms


def _leave_a_message(
    session: Session, creditor: Creditor, debtor: Debtor, adapters: ChatAdapters
):
    debtor_writes(
        session, debtor, "Kan I ringe i morgen?", now=NIGHT, adapters=adapters
    )
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    wait = expected_wait(session, creditor, conversation, now=NIGHT)
    assert not wait.open_now
    assert wait.minutes is None
    assert wait.next_opening == datetime(2026, 11, 17, 7, 0, tzinfo=UTC)
    return conversation


def test_a_message_left_at_22_is_answered_by_sms_the_next_morning(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,
    debtor: Debtor,
    agent: User,
    adapters: ChatAdapters,
) -> None:
    conversation = _leave_a_message(session, creditor, debtor, adapters)
    take(session, conversation, agent, now=MORNING, notifier=adapters.notifier)
    agent_replies(
        session,
        conversation,
        agent,
        "Godmorgen, vi ringer kl. 10",
        now=MORNING,
        adapters=adapters,
    )
    session.commit()
    sms = _dispatch(session_factory, MORNING)
    [text] = sms.to(debtor.phone_e164 or "")
    assert "?to=chat" in text
    assert "ringer kl. 10" not in text  # the answer itself waits behind the link
    assert conversation.first_response_seconds == 5 * 60  # business time only


def test_an_answer_written_late_at_night_waits_for_the_contact_window(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,
    debtor: Debtor,
    agent: User,
    adapters: ChatAdapters,
) -> None:
    conversation = _leave_a_message(session, creditor, debtor, adapters)
    take(session, conversation, agent, now=LATE, notifier=adapters.notifier)
    agent_replies(
        session, conversation, agent, "Vi ringer", now=LATE, adapters=adapters
    )
    session.commit()
    assert _dispatch(session_factory, LATE).sent == []
    text = session.scalar(select(Message).where(Message.template_key == "chat_reply"))
    assert text is not None
    session.refresh(text)
    assert text.status is MessageStatus.QUEUED
    decision = session.scalar(
        select(ContactDecision).where(ContactDecision.message_id == text.id)
    )
    assert decision is not None
    assert decision.outcome is DecisionOutcome.DEFERRED
    assert decision.defer_until is not None
    assert decision.defer_until.astimezone(UTC).hour == 7  # 08:00 in Copenhagen
    assert len(_dispatch(session_factory, decision.defer_until).sent) == 1
