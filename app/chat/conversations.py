"""Conversations and their messages: open one thread per debtor, append, close, rate.

Every message gets the next sequence number of its conversation under a row lock, so the
numbers are committed in order: a reader that has everything up to N and asks for "after N"
can never miss a message committed later with a smaller number, and never sees one twice.
Text is stored as typed (trimmed, at most MAX_LENGTH characters) and escaped when shown.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.chat.hours import OpeningHours, hours_for
from app.chat.notifier import ChatNotifier
from app.errors import N_, Conflict, ValidationFailed
from app.models import (
    ChatMessage,
    Conversation,
    Creditor,
    Debtor,
    InboundMessage,
    Message,
    User,
)
from app.models.enums import (
    ChatSender,
    ConversationOutcome,
    ConversationStatus,
    MessageStatus,
)

MAX_LENGTH = 2000
OPEN_STATUSES = (ConversationStatus.WAITING, ConversationStatus.ACTIVE)
_SENT = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNKNOWN)
# The "an answer is waiting" text itself is not part of the thread: the answer is.
CHAT_REPLY_TEMPLATE = "chat_reply"
_KEPT_CONTROLS = {"\n", "\t"}


@dataclass(frozen=True)
class ChatLine:
    """One stored chat message as readers see it, detached from the session."""

    conversation_id: int
    seq: int
    sender: ChatSender
    author_name: str | None
    body: str
    event: str | None
    payload: dict[str, Any]
    via_sms: bool
    created_at: datetime


def clean_text(text: str, *, limit: int = MAX_LENGTH) -> str:
    """The text as it will be stored: trimmed, line breaks unified, control characters out.

    :raises ValidationFailed: nothing left, or more than `limit` characters.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch
        for ch in text
        if ch in _KEPT_CONTROLS or not unicodedata.category(ch).startswith("C")
    ).strip()
    if not text:
        raise ValidationFailed(N_("Write a message first"), {"body": ["empty"]})
    if len(text) > limit:
        raise ValidationFailed(
            f"Please keep it under {limit} characters", {"body": ["too_long"]}
        )
    return text


def find_open_conversation(session: Session, debtor_id: int) -> Conversation | None:
    return session.scalar(
        select(Conversation).where(
            Conversation.debtor_id == debtor_id,
            Conversation.status.in_(OPEN_STATUSES),
        )
    )


def latest_conversation(session: Session, debtor_id: int) -> Conversation | None:
    return session.scalar(
        select(Conversation)
        .where(Conversation.debtor_id == debtor_id)
        .order_by(Conversation.opened_at.desc(), Conversation.id.desc())
        .limit(1)
    )


def open_or_get(
    session: Session,
    debtor: Debtor,
    *,
    now: datetime,
    notifier: ChatNotifier,
    via: str = "portal",
    reply_by_sms: bool = True,
) -> Conversation:
    """The debtor's open conversation, or a new one waiting for an agent."""
    existing = find_open_conversation(session, debtor.id)
    if existing is not None:
        return existing
    conversation = Conversation(
        creditor_id=debtor.creditor_id,
        debtor_id=debtor.id,
        status=ConversationStatus.WAITING,
        language=debtor.language,
        opened_at=now,
        opened_via=via,
        reply_by_sms=reply_by_sms,
        waiting_since=now,
    )
    try:
        with session.begin_nested():
            session.add(conversation)
    except IntegrityError:
        # Opened by a concurrent request of the same debtor (the unique open index).
        winner = find_open_conversation(session, debtor.id)
        assert winner is not None
        return winner
    append(
        session,
        conversation,
        ChatSender.SYSTEM,
        f"Conversation opened ({via})",
        now=now,
        notifier=notifier,
        event="opened",
        payload={"via": via},
    )
    return conversation


def append(
    session: Session,
    conversation: Conversation,
    sender: ChatSender,
    body: str,
    *,
    now: datetime,
    notifier: ChatNotifier,
    author: User | None = None,
    event: str | None = None,
    payload: dict[str, Any] | None = None,
    via_sms: bool = False,
    inbound: InboundMessage | None = None,
) -> ChatMessage:
    """Store one message as the conversation's next in order, keep the SLA clock, publish.

    :raises Conflict: the conversation is closed.
    """
    locked = lock_conversation(session, conversation)
    if locked.status is ConversationStatus.CLOSED:
        raise Conflict(N_("This conversation is closed"))
    locked.last_seq += 1
    message = ChatMessage(
        conversation_id=locked.id,
        seq=locked.last_seq,
        sender=sender,
        author_user_id=author.id if author else None,
        body=body,
        event=event,
        payload=json.dumps(payload or {}, default=str),
        via_sms=via_sms,
        inbound_message_id=inbound.id if inbound else None,
        created_at=now,
    )
    session.add(message)
    _keep_sla_clock(session, locked, sender, now)
    session.flush()
    notifier.publish(session, locked.id)
    return message


def lock_conversation(session: Session, conversation: Conversation) -> Conversation:
    """Re-read the row under FOR UPDATE (SQLite: the write transaction already serialises)."""
    session.flush()
    locked = session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked


def _keep_sla_clock(
    session: Session, conversation: Conversation, sender: ChatSender, now: datetime
) -> None:
    """The clock runs while the debtor waits for the agent and pauses while we wait on them."""
    if sender is ChatSender.DEBTOR and conversation.waiting_since is None:
        conversation.waiting_since = now
    elif sender is ChatSender.AGENT:
        hours = desk_hours(session, conversation)
        if conversation.waiting_since is not None:
            conversation.agent_wait_seconds += hours.business_seconds(
                conversation.waiting_since, now
            )
            conversation.waiting_since = None
        if conversation.first_response_at is None:
            conversation.first_response_at = now
            conversation.first_response_seconds = hours.business_seconds(
                conversation.opened_at, now
            )


def desk_hours(session: Session, conversation: Conversation) -> OpeningHours:
    creditor = session.get(Creditor, conversation.creditor_id)
    assert creditor is not None
    return hours_for(session, creditor)


def close_conversation(
    session: Session,
    conversation: Conversation,
    actor: User,
    outcome: ConversationOutcome,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    """Close with an outcome; the handling time is the business time the debtor waited.

    :raises Conflict: already closed.
    """
    append(
        session,
        conversation,
        ChatSender.SYSTEM,
        f"Closed by {actor.name}: {outcome.value}",
        now=now,
        notifier=notifier,
        author=actor,
        event="closed",
        payload={"outcome": outcome.value},
    )
    if conversation.waiting_since is not None:
        conversation.agent_wait_seconds += desk_hours(
            session, conversation
        ).business_seconds(conversation.waiting_since, now)
        conversation.waiting_since = None
    conversation.handling_seconds = conversation.agent_wait_seconds
    conversation.status = ConversationStatus.CLOSED
    conversation.outcome = outcome
    conversation.closed_at = now
    conversation.closed_by_user_id = actor.id
    session.flush()


def record_csat(
    session: Session,
    conversation: Conversation,
    score: int,
    comment: str,
    *,
    now: datetime,
) -> None:
    """The debtor's one answer (1-5, optional comment) after the conversation closed.

    :raises Conflict: not closed yet, or already answered.
    :raises ValidationFailed: the score is not 1-5, or the comment is too long.
    """
    if conversation.status is not ConversationStatus.CLOSED:
        raise Conflict(N_("The conversation is still open"))
    if conversation.csat_score is not None:
        raise Conflict(N_("Thank you, we already have your answer"))
    if not 1 <= score <= 5:
        raise ValidationFailed(N_("Choose from 1 to 5"), {"score": ["range"]})
    conversation.csat_score = score
    conversation.csat_comment = clean_text(comment) if comment.strip() else None
    conversation.csat_at = now
    session.flush()


def mark_debtor_seen(
    session: Session, conversation_id: int, *, read_seq: int, now: datetime
) -> None:
    """The debtor's page is connected and has shown every message up to `read_seq`."""
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(
            debtor_seen_at=now,
            debtor_read_seq=func.max(Conversation.debtor_read_seq, read_seq)
            if session.get_bind().dialect.name == "sqlite"
            else func.greatest(Conversation.debtor_read_seq, read_seq),
        )
    )


def lines_after(
    session: Session, conversation_id: int, after_seq: int, *, limit: int = 200
) -> list[ChatLine]:
    """Messages numbered after `after_seq`, in order."""
    rows = session.execute(
        select(ChatMessage, User.name)
        .outerjoin(User, User.id == ChatMessage.author_user_id)
        .where(
            ChatMessage.conversation_id == conversation_id,
            ChatMessage.seq > after_seq,
        )
        .order_by(ChatMessage.seq)
        .limit(limit)
    )
    return [_line(message, name) for message, name in rows]


def _line(message: ChatMessage, author_name: str | None) -> ChatLine:
    return ChatLine(
        conversation_id=message.conversation_id,
        seq=message.seq,
        sender=message.sender,
        author_name=author_name,
        body=message.body,
        event=message.event,
        payload=json.loads(message.payload or "{}"),
        via_sms=message.via_sms,
        created_at=message.created_at,
    )


@dataclass(frozen=True)
class ThreadItem:
    """One line of the debtor's whole story: a text we sent, a text they sent, or chat."""

    at: datetime
    kind: str  # "text_out", "text_in" or "chat"
    body: str
    line: ChatLine | None = None


def debtor_thread(
    session: Session, debtor: Debtor, *, limit: int = 300
) -> list[ThreadItem]:
    """Texts sent (exactly as sent), SMS replies and every chat message, in time order."""
    items = [*_texts_out(session, debtor), *_texts_in(session, debtor)]
    for conversation_id in session.scalars(
        select(Conversation.id).where(Conversation.debtor_id == debtor.id)
    ):
        items += [
            ThreadItem(line.created_at, "chat", line.body, line)
            for line in lines_after(session, conversation_id, 0, limit=limit)
        ]
    items.sort(key=lambda item: (item.at, item.line.seq if item.line else 0))
    return items[-limit:]


def _texts_out(session: Session, debtor: Debtor) -> list[ThreadItem]:
    rows = session.execute(
        select(Message.sent_at, Message.body).where(
            Message.debtor_id == debtor.id,
            Message.status.in_(_SENT),
            Message.sent_at.is_not(None),
            Message.body.is_not(None),
            Message.template_key != CHAT_REPLY_TEMPLATE,
        )
    )
    return [ThreadItem(at, "text_out", body) for at, body in rows if at and body]


def _texts_in(session: Session, debtor: Debtor) -> list[ThreadItem]:
    in_chat = select(ChatMessage.inbound_message_id).where(
        ChatMessage.inbound_message_id.is_not(None)
    )
    rows = session.execute(
        select(InboundMessage.received_at, InboundMessage.body).where(
            InboundMessage.debtor_id == debtor.id,
            InboundMessage.id.not_in(in_chat),
        )
    )
    return [ThreadItem(at, "text_in", body) for at, body in rows]


def last_seq_of(session: Session, conversation_id: int) -> int:
    return int(
        session.scalar(
            select(Conversation.last_seq).where(Conversation.id == conversation_id)
        )
        or 0
    )
