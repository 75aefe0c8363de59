"""Who answers: the agents of each creditor, their presence, taking and assigning chats.

An agent answers the chats of the creditors they are placed with (ChatAgent); agency
supervisors and admins see every creditor's chats and may reassign them. Round-robin goes to
agents who are online (seen within ONLINE_FOR) and available, speakers of the conversation's
language first, then whoever was assigned least recently, never above their `max_active`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.chat.conversations import append, lock_conversation
from app.chat.notifier import ChatNotifier
from app.errors import Conflict, Forbidden
from app.models import (
    AgentPresence,
    ChatAgent,
    Conversation,
    ConversationAssignment,
    User,
)
from app.models.enums import AssignmentKind, ChatSender, ConversationStatus, Role

ONLINE_FOR = timedelta(seconds=90)
CHAT_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
OVERSEERS = (Role.SUPERVISOR, Role.ADMIN)


def sees_all_desks(user: User) -> bool:
    return user.role in OVERSEERS and user.is_agency_staff


def served_creditor_ids(session: Session, user: User) -> list[int] | None:
    """The creditors whose chats `user` may see; None means all of them."""
    if user.role not in CHAT_ROLES or not user.is_active:
        return []
    if sees_all_desks(user):
        return None
    return list(
        session.scalars(
            select(ChatAgent.creditor_id).where(ChatAgent.user_id == user.id)
        )
    )


def serves(session: Session, user: User, creditor_id: int) -> bool:
    served = served_creditor_ids(session, user)
    return served is None or creditor_id in served


def place_agent(session: Session, user: User, creditor_id: int) -> ChatAgent:
    """Let `user` answer the chats of the creditor (idempotent)."""
    placed = session.scalar(
        select(ChatAgent).where(
            ChatAgent.user_id == user.id, ChatAgent.creditor_id == creditor_id
        )
    )
    if placed is None:
        placed = ChatAgent(user_id=user.id, creditor_id=creditor_id)
        session.add(placed)
        session.flush()
    return placed


def presence_of(session: Session, user: User, *, now: datetime) -> AgentPresence:
    presence = session.scalar(
        select(AgentPresence).where(AgentPresence.user_id == user.id)
    )
    if presence is None:
        presence = AgentPresence(user_id=user.id, available=False, last_seen_at=now)
        session.add(presence)
        session.flush()
    return presence


def heartbeat(session: Session, user: User, *, now: datetime) -> AgentPresence:
    """The agent's console is open."""
    presence = presence_of(session, user, now=now)
    presence.last_seen_at = now
    return presence


def set_available(
    session: Session, user: User, available: bool, *, now: datetime
) -> AgentPresence:
    presence = heartbeat(session, user, now=now)
    presence.available = available
    return presence


def is_online(presence: AgentPresence | None, now: datetime) -> bool:
    return presence is not None and presence.last_seen_at >= now - ONLINE_FOR


def online_agents(
    session: Session, creditor_ids: list[int] | None, *, now: datetime
) -> list[User]:
    """Agents seen within ONLINE_FOR who answer one of `creditor_ids` (None: any desk)."""
    statement = (
        select(User)
        .join(AgentPresence, AgentPresence.user_id == User.id)
        .where(
            AgentPresence.last_seen_at >= now - ONLINE_FOR,
            User.is_active.is_(True),
            User.role.in_(CHAT_ROLES),
        )
        .order_by(User.name)
    )
    placed = select(ChatAgent.user_id)
    if creditor_ids is not None:
        placed = placed.where(ChatAgent.creditor_id.in_(creditor_ids))
    return list(session.scalars(statement.where(User.id.in_(placed))))


def take(
    session: Session,
    conversation: Conversation,
    agent: User,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    """The agent takes the conversation from the queue.

    :raises Forbidden: the agent does not answer this creditor's chats.
    :raises Conflict: closed, or another agent has it.
    """
    if not serves(session, agent, conversation.creditor_id):
        raise Forbidden("You do not answer this creditor's chats")
    # Under the row lock: two agents taking at once queue up, the second sees the first.
    lock_conversation(session, conversation)
    if conversation.status is ConversationStatus.CLOSED:
        raise Conflict("This conversation is closed")
    if conversation.assigned_user_id not in (None, agent.id):
        raise Conflict("Another agent has taken this conversation")
    if conversation.assigned_user_id == agent.id:
        return
    _assign(session, conversation, agent, AssignmentKind.TAKE, None, now, notifier)


def reassign(
    session: Session,
    conversation: Conversation,
    supervisor: User,
    agent: User,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    """A supervisor hands the conversation to another agent of the creditor.

    :raises Forbidden: not a supervisor, or the agent does not answer this creditor.
    :raises Conflict: the conversation is closed.
    """
    if supervisor.role not in OVERSEERS or not serves(
        session, supervisor, conversation.creditor_id
    ):
        raise Forbidden("Only a supervisor reassigns conversations")
    if agent.role not in CHAT_ROLES or not _placed(session, agent, conversation):
        raise Forbidden("That agent does not answer this creditor's chats")
    if conversation.status is ConversationStatus.CLOSED:
        raise Conflict("This conversation is closed")
    _assign(
        session,
        conversation,
        agent,
        AssignmentKind.REASSIGN,
        supervisor,
        now,
        notifier,
    )


def _placed(session: Session, agent: User, conversation: Conversation) -> bool:
    return sees_all_desks(agent) or conversation.creditor_id in (
        served_creditor_ids(session, agent) or []
    )


def assign_round_robin(
    session: Session,
    conversation: Conversation,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> User | None:
    """Give a waiting, unassigned conversation to the next online, available agent."""
    lock_conversation(session, conversation)
    if conversation.assigned_user_id is not None or (
        conversation.status is not ConversationStatus.WAITING
    ):
        return None
    agent = next_agent(session, conversation, now=now)
    if agent is not None:
        _assign(
            session,
            conversation,
            agent,
            AssignmentKind.ROUND_ROBIN,
            None,
            now,
            notifier,
        )
    return agent


def next_agent(
    session: Session, conversation: Conversation, *, now: datetime
) -> User | None:
    active = (
        select(func.count())
        .select_from(Conversation)
        .where(
            Conversation.assigned_user_id == User.id,
            Conversation.status == ConversationStatus.ACTIVE,
        )
        .scalar_subquery()
    )
    candidates = session.execute(
        select(User, AgentPresence)
        .join(AgentPresence, AgentPresence.user_id == User.id)
        .join(ChatAgent, ChatAgent.user_id == User.id)
        .where(
            ChatAgent.creditor_id == conversation.creditor_id,
            AgentPresence.available.is_(True),
            AgentPresence.last_seen_at >= now - ONLINE_FOR,
            User.is_active.is_(True),
            User.role.in_(CHAT_ROLES),
            active < AgentPresence.max_active,
        )
    ).all()
    if not candidates:
        return None
    oldest = datetime.min.replace(tzinfo=now.tzinfo)
    user, _presence = min(
        candidates,
        key=lambda row: (
            row[0].language != conversation.language,
            row[1].last_assigned_at or oldest,
            row[0].id,
        ),
    )
    return user


def assign_waiting(session: Session, *, now: datetime, notifier: ChatNotifier) -> int:
    """Round-robin every waiting, unassigned conversation, oldest first."""
    assigned = 0
    for conversation in session.scalars(
        select(Conversation)
        .where(
            Conversation.status == ConversationStatus.WAITING,
            Conversation.assigned_user_id.is_(None),
        )
        .order_by(Conversation.opened_at, Conversation.id)
    ):
        assigned += (
            assign_round_robin(session, conversation, now=now, notifier=notifier)
            is not None
        )
    return assigned


def _assign(
    session: Session,
    conversation: Conversation,
    agent: User,
    kind: AssignmentKind,
    by: User | None,
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    event = "joined" if kind is not AssignmentKind.REASSIGN else "reassigned"
    append(
        session,
        conversation,
        ChatSender.SYSTEM,
        f"{agent.name} {event}",
        now=now,
        notifier=notifier,
        author=agent,
        event=event,
        payload={"agent": agent.name},
    )
    conversation.assigned_user_id = agent.id
    conversation.status = ConversationStatus.ACTIVE
    session.add(
        ConversationAssignment(
            conversation_id=conversation.id,
            user_id=agent.id,
            assigned_by_user_id=by.id if by else None,
            kind=kind,
            assigned_at=now,
        )
    )
    presence_of(session, agent, now=now).last_assigned_at = now
    session.flush()


def agents_and_placements(session: Session) -> tuple[list[User], set[tuple[int, int]]]:
    """Every active agent, and which (agent, creditor) pairs are placed."""
    agents = list(
        session.scalars(
            select(User)
            .where(User.role == Role.AGENT, User.is_active.is_(True))
            .order_by(User.name)
        )
    )
    placed = {
        (user_id, creditor_id)
        for user_id, creditor_id in session.execute(
            select(ChatAgent.user_id, ChatAgent.creditor_id)
        )
    }
    return agents, placed


def set_placements(
    session: Session, wanted: set[tuple[int, int]], creditor_ids: set[int]
) -> tuple[int, int]:
    """Make the placements within `creditor_ids` exactly `wanted`; returns (added, removed)."""
    agents = {u.id for u in agents_and_placements(session)[0]}
    wanted = {(u, c) for u, c in wanted if u in agents and c in creditor_ids}
    current = {
        (row.user_id, row.creditor_id): row
        for row in session.scalars(
            select(ChatAgent).where(ChatAgent.creditor_id.in_(creditor_ids))
        )
    }
    for pair in set(current) - wanted:
        session.delete(current[pair])
    for user_id, creditor_id in wanted - set(current):
        session.add(ChatAgent(user_id=user_id, creditor_id=creditor_id))
    session.flush()
    return len(wanted - set(current)), len(set(current) - wanted)
