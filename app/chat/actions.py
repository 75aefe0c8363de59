"""What the debtor and the agent say: chat from the portal, SMS into the thread, replies.

A debtor's words are checked for complaint risk on every message. An agent's reply reaches a
debtor who has left the page by SMS: one "an answer is waiting" text with a link back, not
repeated until the debtor has been back; the outbox sends it within the contact window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.chat.assignment import OVERSEERS, assign_round_robin, serves
from app.chat.canned import placeholders_left
from app.chat.conversations import (
    CHAT_REPLY_TEMPLATE,
    append,
    clean_text,
    find_open_conversation,
    open_or_get,
)
from app.chat.notifier import ChatNotifier
from app.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from app.models import (
    Account,
    ChatMessage,
    Conversation,
    Debtor,
    InboundMessage,
    Message,
    User,
)
from app.models.enums import (
    ChatSender,
    ConversationStatus,
    PlanFrequency,
    SignalSource,
)
from app.risk.actions import record_risk
from app.services.notices import LinkFor, context_for, queue_notice
from payments.arrangements import plan_offers
from payments.plans import find_offer

DEBTOR_AWAY_AFTER = timedelta(seconds=45)
# The tick gives the debtor's page this long to show a reply before texting about it.
SMS_GRACE = timedelta(minutes=1)


@dataclass(frozen=True)
class ChatAdapters:
    """What the chat needs from outside: the notifier and the link back to the chat."""

    notifier: ChatNotifier
    link_for: LinkFor
    debtor_away_after: timedelta = DEBTOR_AWAY_AFTER


def debtor_writes(
    session: Session,
    debtor: Debtor,
    text: str,
    *,
    now: datetime,
    adapters: ChatAdapters,
    reply_by_sms: bool | None = None,
) -> ChatMessage:
    """The debtor writes on the portal; the first message opens the conversation.

    :raises ValidationFailed: empty or too long.
    """
    body = clean_text(text)
    conversation = open_or_get(
        session,
        debtor,
        now=now,
        notifier=adapters.notifier,
        reply_by_sms=True if reply_by_sms is None else reply_by_sms,
    )
    if reply_by_sms is not None:
        conversation.reply_by_sms = reply_by_sms
    message = append(
        session,
        conversation,
        ChatSender.DEBTOR,
        body,
        now=now,
        notifier=adapters.notifier,
    )
    record_risk(session, debtor, body, source=SignalSource.CHAT, now=now)
    assign_round_robin(session, conversation, now=now, notifier=adapters.notifier)
    return message


def sms_lands(
    session: Session,
    inbound: InboundMessage,
    debtor: Debtor,
    *,
    wants_person: bool,
    now: datetime,
    adapters: ChatAdapters,
) -> ChatMessage | None:
    """An SMS reply joins the debtor's open conversation; one asking for a person opens one.

    Its risk was already checked as an SMS; it is not counted twice.
    """
    conversation = find_open_conversation(session, debtor.id)
    if conversation is None and not wants_person:
        return None
    try:
        body = clean_text(inbound.body)
    except ValidationFailed:
        return None
    if conversation is None:
        conversation = open_or_get(
            session, debtor, now=now, notifier=adapters.notifier, via="sms"
        )
    message = append(
        session,
        conversation,
        ChatSender.DEBTOR,
        body,
        now=now,
        notifier=adapters.notifier,
        via_sms=True,
        inbound=inbound,
    )
    assign_round_robin(session, conversation, now=now, notifier=adapters.notifier)
    return message


def must_handle(
    session: Session,
    conversation: Conversation,
    agent: User,
    *,
    overseer_may: bool = True,
) -> None:
    """Only the assigned agent acts on an open conversation (and, if allowed, a supervisor).

    :raises Conflict: closed.
    :raises Forbidden: someone else handles it.
    """
    if conversation.status is ConversationStatus.CLOSED:
        raise Conflict(N_("This conversation is closed"))
    if conversation.assigned_user_id == agent.id:
        return
    if (
        overseer_may
        and agent.role in OVERSEERS
        and serves(session, agent, conversation.creditor_id)
    ):
        return
    raise Forbidden("Only the agent handling this conversation can do that")


def agent_replies(
    session: Session,
    conversation: Conversation,
    agent: User,
    text: str,
    *,
    now: datetime,
    adapters: ChatAdapters,
) -> ChatMessage:
    """The assigned agent answers.

    :raises Forbidden: not the assigned agent.
    :raises Conflict: closed.
    :raises ValidationFailed: empty or too long, or a placeholder left unfilled.
    """
    must_handle(session, conversation, agent, overseer_may=False)
    body = clean_text(text)
    left = placeholders_left(body)
    if left:
        raise ValidationFailed(
            "Fill in " + ", ".join("{" + name + "}" for name in left) + " first",
            {"body": ["placeholder"]},
        )
    message = append(
        session,
        conversation,
        ChatSender.AGENT,
        body,
        now=now,
        notifier=adapters.notifier,
        author=agent,
    )
    notify_if_away(session, conversation, now=now, adapters=adapters)
    return message


def offer_plan(
    session: Session,
    conversation: Conversation,
    agent: User,
    account: Account,
    frequency: PlanFrequency,
    count: int,
    *,
    now: datetime,
    adapters: ChatAdapters,
) -> ChatMessage:
    """Send the debtor a link to the portal's plan page with these terms chosen.

    :raises NotFound: not one of this debtor's accounts.
    :raises ValidationFailed: these terms are not on offer for the account today.
    """
    must_handle(session, conversation, agent, overseer_may=False)
    if account.debtor_id != conversation.debtor_id:
        raise NotFound(N_("No such account"))
    offer = find_offer(plan_offers(session, account, now.date()), frequency, count)
    if offer is None:
        raise ValidationFailed(N_("That plan is not on offer for this account"))
    payload = {
        "account_id": account.id,
        "reference": account.external_reference,
        "choice": f"{frequency.value}:{count}",
        "frequency": frequency.value,
        "count": count,
        "first_minor": offer.first_amount_minor,
        "rest_minor": offer.instalments[-1].amount_minor,
        "currency": account.currency,
        "last_on": offer.last_on.isoformat(),
    }
    message = append(
        session,
        conversation,
        ChatSender.AGENT,
        f"Plan offer for {account.external_reference}: {count} x {frequency.value}",
        now=now,
        notifier=adapters.notifier,
        author=agent,
        event="plan_offer",
        payload=payload,
    )
    notify_if_away(session, conversation, now=now, adapters=adapters)
    return message


def debtor_is_away(conversation: Conversation, now: datetime, away: timedelta) -> bool:
    seen = conversation.debtor_seen_at
    return seen is None or seen < now - away


def notify_if_away(
    session: Session,
    conversation: Conversation,
    *,
    now: datetime,
    adapters: ChatAdapters,
) -> Message | None:
    """Text the debtor that an answer waits, once per visit, if they chose SMS and left."""
    if not conversation.reply_by_sms or not debtor_is_away(
        conversation, now, adapters.debtor_away_after
    ):
        return None
    if conversation.sms_notified_seq > conversation.debtor_read_seq:
        return None  # already told; not back since
    debtor = session.get(Debtor, conversation.debtor_id)
    assert debtor is not None
    message = queue_notice(
        session,
        debtor,
        CHAT_REPLY_TEMPLATE,
        context_for(session, debtor),
        link_for=adapters.link_for,
        now=now,
    )
    if message is not None:
        conversation.sms_notified_seq = conversation.last_seq
    return message


def notify_unseen_replies(
    session: Session, *, now: datetime, adapters: ChatAdapters
) -> int:
    """For the worker: replies the debtor's page never showed, older than SMS_GRACE."""
    last_reply = (
        select(
            ChatMessage.conversation_id,
            func.max(ChatMessage.seq).label("seq"),
            func.max(ChatMessage.created_at).label("at"),
        )
        .where(ChatMessage.sender == ChatSender.AGENT)
        .group_by(ChatMessage.conversation_id)
        .subquery()
    )
    waiting = session.scalars(
        select(Conversation)
        .join(last_reply, last_reply.c.conversation_id == Conversation.id)
        .where(
            Conversation.status == ConversationStatus.ACTIVE,
            Conversation.reply_by_sms.is_(True),
            last_reply.c.seq > Conversation.debtor_read_seq,
            last_reply.c.seq > Conversation.sms_notified_seq,
            last_reply.c.at <= now - SMS_GRACE,
        )
        .with_for_update(skip_locked=True, of=Conversation)
    )
    return sum(
        notify_if_away(session, conversation, now=now, adapters=adapters) is not None
        for conversation in waiting
    )
