"""Conversations: one open thread per debtor, ordered messages, SLA clock, close and CSAT."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.actions import (
    ChatAdapters,
    agent_replies,
    debtor_writes,
    notify_unseen_replies,
    sms_lands,
)
from app.chat.assignment import take
from app.chat.conversations import (
    MAX_LENGTH,
    append,
    clean_text,
    close_conversation,
    debtor_thread,
    find_open_conversation,
    lines_after,
    mark_debtor_seen,
    open_or_get,
    record_csat,
)
from app.chat.notifier import LocalNotifier
from app.errors import Conflict, ValidationFailed
from app.models import (
    Account,
    Debtor,
    InboundMessage,
    Message,
    RiskSignal,
    User,
)
from app.models.enums import (
    Channel,
    ChatSender,
    ConversationOutcome,
    ConversationStatus,
    Language,
    MessageStatus,
    SignalSource,
)


def test_text_is_trimmed_and_kept_as_typed() -> None:
    assert clean_text("  <b>hej</b>\r\nlinje 2 \x00\x07 ") == "<b>hej</b>\nlinje 2"
    assert len(clean_text("x" * MAX_LENGTH)) == MAX_LENGTH
    with pytest.raises(ValidationFailed):
        clean_text("x" * (MAX_LENGTH + 1))
    with pytest.raises(ValidationFailed):
        clean_text(" \n\t ")


def test_one_open_thread_per_debtor(
    session: Session, debtor: Debtor, now: datetime, notifier: LocalNotifier
) -> None:
    first = open_or_get(session, debtor, now=now, notifier=notifier)
    again = open_or_get(
        session, debtor, now=now + timedelta(minutes=1), notifier=notifier
    )
    assert again.id == first.id
    assert first.status is ConversationStatus.WAITING
    assert first.language is Language.DA


def test_a_closed_thread_gives_way_to_a_new_one(
    session: Session,
    debtor: Debtor,
    agent: User,
    now: datetime,
    notifier: LocalNotifier,
) -> None:
    first = open_or_get(session, debtor, now=now, notifier=notifier)
    close_conversation(
        session, first, agent, ConversationOutcome.RESOLVED, now=now, notifier=notifier
    )
    second = open_or_get(session, debtor, now=now, notifier=notifier)
    assert second.id != first.id
    assert find_open_conversation(session, debtor.id) == second


def test_messages_are_numbered_in_order_and_read_after_a_number(
    session: Session, debtor: Debtor, now: datetime, adapters: ChatAdapters
) -> None:
    for n in range(3):
        debtor_writes(session, debtor, f"besked {n}", now=now, adapters=adapters)
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    lines = lines_after(session, conversation.id, 0)
    assert [line.seq for line in lines] == [1, 2, 3, 4]
    assert lines[0].event == "opened"
    assert [line.body for line in lines_after(session, conversation.id, 2)] == [
        "besked 1",
        "besked 2",
    ]
    assert conversation.last_seq == 4


def test_every_debtor_message_is_checked_for_risk(
    session: Session, debtor: Debtor, now: datetime, adapters: ChatAdapters
) -> None:
    debtor_writes(
        session, debtor, "Jeg vil klage til Finanstilsynet", now=now, adapters=adapters
    )
    signal = session.scalar(select(RiskSignal).where(RiskSignal.debtor_id == debtor.id))
    assert signal is not None
    assert signal.source is SignalSource.CHAT
    assert signal.category == "regulator"


def test_markup_is_stored_as_typed(
    session: Session, debtor: Debtor, now: datetime, adapters: ChatAdapters
) -> None:
    message = debtor_writes(
        session, debtor, "<script>alert(1)</script>", now=now, adapters=adapters
    )
    assert message.body == "<script>alert(1)</script>"


def test_first_response_and_handling_time_count_business_time_only(
    session: Session,
    debtor: Debtor,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    # Friday 15:50 local: ten minutes before closing.
    friday = datetime.fromisoformat("2026-11-20T14:50:00+00:00")
    debtor_writes(session, debtor, "Hej?", now=friday, adapters=adapters)
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    # Monday 08:05 local: answered five business minutes after opening hours began.
    monday = datetime.fromisoformat("2026-11-23T07:05:00+00:00")
    take(session, conversation, agent, now=monday, notifier=adapters.notifier)
    agent_replies(
        session, conversation, agent, "Godmorgen", now=monday, adapters=adapters
    )
    assert conversation.first_response_seconds == 15 * 60
    assert conversation.waiting_since is None
    # Waiting on the debtor for an hour does not count...
    later = monday + timedelta(hours=1)
    debtor_writes(session, debtor, "Tak", now=later, adapters=adapters)
    assert conversation.waiting_since == later
    # ...the three minutes the debtor then waits for us do.
    close_conversation(
        session,
        conversation,
        agent,
        ConversationOutcome.RESOLVED,
        now=later + timedelta(minutes=3),
        notifier=adapters.notifier,
    )
    assert conversation.handling_seconds == 15 * 60 + 3 * 60
    assert conversation.status is ConversationStatus.CLOSED


def test_csat_once_after_closing_from_one_to_five(
    session: Session,
    debtor: Debtor,
    agent: User,
    now: datetime,
    notifier: LocalNotifier,
) -> None:
    conversation = open_or_get(session, debtor, now=now, notifier=notifier)
    with pytest.raises(Conflict):
        record_csat(session, conversation, 5, "", now=now)
    close_conversation(
        session,
        conversation,
        agent,
        ConversationOutcome.PLAN,
        now=now,
        notifier=notifier,
    )
    with pytest.raises(ValidationFailed):
        record_csat(session, conversation, 6, "", now=now)
    record_csat(session, conversation, 4, "  Fin hjælp  ", now=now)
    assert (conversation.csat_score, conversation.csat_comment) == (4, "Fin hjælp")
    with pytest.raises(Conflict):
        record_csat(session, conversation, 1, "", now=now)
    with pytest.raises(Conflict):
        append(
            session, conversation, ChatSender.DEBTOR, "hej", now=now, notifier=notifier
        )


def _chat_replies(session: Session, debtor: Debtor) -> list[Message]:
    return list(
        session.scalars(
            select(Message).where(
                Message.debtor_id == debtor.id, Message.template_key == "chat_reply"
            )
        )
    )


def test_a_reply_to_a_debtor_who_left_goes_by_sms_once_with_the_link(
    session: Session,
    debtor: Debtor,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    debtor_writes(session, debtor, "Kan I ringe?", now=now, adapters=adapters)
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    take(session, conversation, agent, now=now, notifier=adapters.notifier)
    agent_replies(session, conversation, agent, "Ja", now=now, adapters=adapters)
    agent_replies(session, conversation, agent, "Hvornår?", now=now, adapters=adapters)
    texts = _chat_replies(session, debtor)
    assert len(texts) == 1  # not one per reply
    assert texts[0].status is MessageStatus.QUEUED
    assert "https://venlig.test/p/" in (texts[0].body or "")
    assert "?to=chat" in (texts[0].body or "")
    # Back on the page, reading everything: the next reply while away texts again.
    mark_debtor_seen(session, conversation.id, read_seq=conversation.last_seq, now=now)
    session.refresh(conversation)
    later = now + timedelta(minutes=5)
    agent_replies(session, conversation, agent, "Igen", now=later, adapters=adapters)
    assert len(_chat_replies(session, debtor)) == 2


def test_no_sms_while_the_debtor_is_on_the_page_or_said_no(
    session: Session,
    debtor: Debtor,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    debtor_writes(
        session, debtor, "Hej", now=now, adapters=adapters, reply_by_sms=False
    )
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    take(session, conversation, agent, now=now, notifier=adapters.notifier)
    agent_replies(session, conversation, agent, "Hej", now=now, adapters=adapters)
    conversation.reply_by_sms = True
    mark_debtor_seen(session, conversation.id, read_seq=1, now=now)
    session.refresh(conversation)
    agent_replies(session, conversation, agent, "Hej igen", now=now, adapters=adapters)
    assert _chat_replies(session, debtor) == []


def test_an_opted_out_debtor_gets_no_sms(
    session: Session,
    debtor: Debtor,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    debtor.sms_opted_out_at = now
    debtor_writes(session, debtor, "Hej", now=now, adapters=adapters)
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    take(session, conversation, agent, now=now, notifier=adapters.notifier)
    agent_replies(session, conversation, agent, "Hej", now=now, adapters=adapters)
    assert _chat_replies(session, debtor) == []


def _inbound(
    session: Session, debtor: Debtor, body: str, now: datetime
) -> InboundMessage:
    inbound = InboundMessage(
        debtor_id=debtor.id,
        from_address=debtor.phone_e164 or "",
        to_address="+4512345678",
        body=body,
        provider_message_id=f"SM{abs(hash(body))}",
        received_at=now,
    )
    session.add(inbound)
    session.flush()
    return inbound


def test_an_sms_lands_in_the_open_thread_and_one_asking_for_a_person_opens_one(
    session: Session, debtor: Debtor, now: datetime, adapters: ChatAdapters
) -> None:
    ignored = _inbound(session, debtor, "ok tak", now)
    assert (
        sms_lands(
            session, ignored, debtor, wants_person=False, now=now, adapters=adapters
        )
        is None
    )
    asking = _inbound(session, debtor, "Kan jeg tale med en person?", now)
    message = sms_lands(
        session, asking, debtor, wants_person=True, now=now, adapters=adapters
    )
    assert message is not None
    assert message.via_sms
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    assert conversation.opened_via == "sms"
    follow_up = _inbound(session, debtor, "Jeg venter", now + timedelta(minutes=1))
    again = sms_lands(
        session, follow_up, debtor, wants_person=False, now=now, adapters=adapters
    )
    assert again is not None
    assert again.conversation_id == conversation.id


def test_the_thread_shows_texts_as_sent_replies_and_chat_in_time_order(
    session: Session,
    debtor: Debtor,
    account: Account,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    def sent(template: str, body: str, at: datetime) -> None:
        session.add(
            Message(
                debtor_id=debtor.id,
                account_id=account.id,
                channel=Channel.SMS,
                template_key=template,
                language=Language.DA,
                to_address=debtor.phone_e164 or "",
                body=body,
                status=MessageStatus.DELIVERED,
                not_before=at,
                created_at=at,
                sent_at=at,
            )
        )

    sent("reminder", "Hej Mette. En venlig påmindelse ...", now - timedelta(days=3))
    sent("chat_reply", "Der er svar til dig", now + timedelta(minutes=3))
    _inbound(session, debtor, "Hvad er det for en regning?", now - timedelta(days=2))
    landed = _inbound(session, debtor, "Ring til mig", now - timedelta(minutes=1))
    sms_lands(session, landed, debtor, wants_person=True, now=now, adapters=adapters)
    later = now + timedelta(minutes=2)
    debtor_writes(session, debtor, "Er der nogen?", now=later, adapters=adapters)
    items = debtor_thread(session, debtor)
    said = [i for i in items if i.line is None or i.line.event is None]
    assert [(item.kind, item.body) for item in said] == [
        ("text_out", "Hej Mette. En venlig påmindelse ..."),
        ("text_in", "Hvad er det for en regning?"),
        ("chat", "Ring til mig"),
        ("chat", "Er der nogen?"),
    ]


def test_seen_never_goes_backwards(
    session: Session, debtor: Debtor, now: datetime, adapters: ChatAdapters
) -> None:
    debtor_writes(session, debtor, "Hej", now=now, adapters=adapters)
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    mark_debtor_seen(session, conversation.id, read_seq=2, now=now)
    mark_debtor_seen(session, conversation.id, read_seq=1, now=now)
    session.refresh(conversation)
    assert conversation.debtor_read_seq == 2
    assert conversation.debtor_seen_at == now


def test_the_worker_texts_about_a_reply_the_page_never_showed(
    session: Session,
    debtor: Debtor,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    debtor_writes(session, debtor, "Hej", now=now, adapters=adapters)
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    mark_debtor_seen(session, conversation.id, read_seq=conversation.last_seq, now=now)
    session.refresh(conversation)
    take(session, conversation, agent, now=now, notifier=adapters.notifier)
    agent_replies(session, conversation, agent, "Svar", now=now, adapters=adapters)
    assert _chat_replies(session, debtor) == []  # the page was open
    soon = now + timedelta(seconds=30)
    assert notify_unseen_replies(session, now=soon, adapters=adapters) == 0
    later = now + timedelta(minutes=2)
    assert notify_unseen_replies(session, now=later, adapters=adapters) == 1
    assert notify_unseen_replies(session, now=later, adapters=adapters) == 0
    assert len(_chat_replies(session, debtor)) == 1
