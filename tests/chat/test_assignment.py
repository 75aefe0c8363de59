"""Who answers: taking, round-robin to online agents, supervisor reassignment, who may reply."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.actions import ChatAdapters, agent_replies, debtor_writes
from app.chat.assignment import (
    assign_waiting,
    heartbeat,
    reassign,
    served_creditor_ids,
    take,
)
from app.chat.conversations import find_open_conversation, lines_after
from app.errors import Conflict, Forbidden
from app.models import ConversationAssignment, Creditor, Debtor, User
from app.models.enums import AssignmentKind, ConversationStatus, Language, Role
from tests.chat.conftest import make_agent
from tests.factories import make_creditor, make_debtor, make_user


def _ask(session: Session, debtor: Debtor, now: datetime, adapters: ChatAdapters):
    debtor_writes(session, debtor, "Hej, kan I hjælpe?", now=now, adapters=adapters)
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    return conversation


def test_an_agent_takes_a_waiting_conversation(
    session: Session,
    debtor: Debtor,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _ask(session, debtor, now, adapters)
    assert conversation.status is ConversationStatus.WAITING
    take(session, conversation, agent, now=now, notifier=adapters.notifier)
    assert conversation.status is ConversationStatus.ACTIVE
    assert conversation.assigned_user_id == agent.id
    assert lines_after(session, conversation.id, 0)[-1].payload == {
        "agent": "Anja Holm"
    }
    history = session.scalars(select(ConversationAssignment)).all()
    assert [(h.user_id, h.kind) for h in history] == [(agent.id, AssignmentKind.TAKE)]


def test_a_second_agent_cannot_take_it_and_cannot_reply(
    session: Session,
    creditor: Creditor,
    debtor: Debtor,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _ask(session, debtor, now, adapters)
    take(session, conversation, agent, now=now, notifier=adapters.notifier)
    other = make_agent(session, creditor, now, name="Other Agent")
    with pytest.raises(Conflict):
        take(session, conversation, other, now=now, notifier=adapters.notifier)
    with pytest.raises(Forbidden):
        agent_replies(session, conversation, other, "Hej", now=now, adapters=adapters)


def test_an_agent_of_another_creditor_cannot_take_it(
    session: Session,
    debtor: Debtor,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _ask(session, debtor, now, adapters)
    elsewhere = make_agent(session, make_creditor(session, now), now)
    with pytest.raises(Forbidden):
        take(session, conversation, elsewhere, now=now, notifier=adapters.notifier)


def test_round_robin_prefers_the_language_then_the_least_recently_assigned(
    session: Session,
    creditor: Creditor,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    english = make_agent(session, creditor, now, language=Language.EN, name="En")
    first = make_agent(session, creditor, now, name="Da 1")
    second = make_agent(session, creditor, now, name="Da 2")
    make_agent(session, creditor, now, name="Away", online=False)
    make_agent(session, creditor, now, name="Busy", available=False)
    debtors = [make_debtor(session, creditor, now) for _ in range(4)]
    assigned = []
    for n, debtor in enumerate(debtors):
        conversation = _ask(session, debtor, now + timedelta(seconds=n), adapters)
        assigned.append(conversation.assigned_user_id)
    # Both Danish speakers first, taking turns; then the English speaker; never the others.
    assert assigned[:2] in ([first.id, second.id], [second.id, first.id])
    assert assigned[2] in (first.id, second.id)
    assert set(assigned) <= {first.id, second.id, english.id}


def test_round_robin_respects_each_agents_limit(
    session: Session,
    creditor: Creditor,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    only = make_agent(session, creditor, now, name="Solo")
    conversations = [
        _ask(session, make_debtor(session, creditor, now), now, adapters)
        for _ in range(4)
    ]
    assert [c.assigned_user_id for c in conversations] == [only.id] * 3 + [None]


def test_waiting_conversations_go_to_an_agent_who_comes_online(
    session: Session,
    creditor: Creditor,
    debtor: Debtor,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _ask(session, debtor, now, adapters)
    assert conversation.assigned_user_id is None
    later = now + timedelta(minutes=5)
    agent = make_agent(session, creditor, later, name="Late")
    assert assign_waiting(session, now=later, notifier=adapters.notifier) == 1
    assert conversation.assigned_user_id == agent.id


def test_an_agent_not_seen_lately_is_offline(
    session: Session,
    creditor: Creditor,
    debtor: Debtor,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    agent = make_agent(session, creditor, now - timedelta(minutes=10), name="Gone")
    conversation = _ask(session, debtor, now, adapters)
    assert conversation.assigned_user_id is None
    heartbeat(session, agent, now=now)
    assign_waiting(session, now=now, notifier=adapters.notifier)
    assert conversation.assigned_user_id == agent.id


def test_a_supervisor_reassigns_and_an_agent_cannot(
    session: Session,
    creditor: Creditor,
    debtor: Debtor,
    agent: User,
    supervisor: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _ask(session, debtor, now, adapters)
    take(session, conversation, agent, now=now, notifier=adapters.notifier)
    colleague = make_agent(session, creditor, now, name="Colleague")
    with pytest.raises(Forbidden):
        reassign(
            session, conversation, agent, colleague, now=now, notifier=adapters.notifier
        )
    outsider = make_agent(session, make_creditor(session, now), now)
    with pytest.raises(Forbidden):
        reassign(
            session,
            conversation,
            supervisor,
            outsider,
            now=now,
            notifier=adapters.notifier,
        )
    reassign(
        session,
        conversation,
        supervisor,
        colleague,
        now=now,
        notifier=adapters.notifier,
    )
    assert conversation.assigned_user_id == colleague.id
    agent_replies(
        session, conversation, colleague, "Jeg tager over", now=now, adapters=adapters
    )
    with pytest.raises(Forbidden):
        agent_replies(session, conversation, agent, "Hej", now=now, adapters=adapters)


def test_who_sees_which_desks(
    session: Session, creditor: Creditor, agent: User, supervisor: User, now: datetime
) -> None:
    assert served_creditor_ids(session, supervisor) is None
    assert served_creditor_ids(session, agent) == [creditor.id]
    creditor_user = make_user(session, now, Role.CREDITOR, creditor=creditor)
    assert served_creditor_ids(session, creditor_user) == []
