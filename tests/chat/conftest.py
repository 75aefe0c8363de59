"""Chat fixtures: a creditor with a debtor and account, two agents, a fast local notifier."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from app.chat.actions import ChatAdapters
from app.chat.assignment import heartbeat, place_agent, set_available
from app.chat.notifier import LocalNotifier
from app.models import Account, Creditor, Debtor, User
from app.models.enums import Language, Role
from tests.factories import make_account, make_creditor, make_debtor, make_user

LINK_BASE = "https://venlig.test/p/"


@pytest.fixture
def notifier() -> LocalNotifier:
    return LocalNotifier(poll_seconds=0.02)


@pytest.fixture
def adapters(notifier: LocalNotifier) -> ChatAdapters:
    return ChatAdapters(
        notifier=notifier, link_for=lambda token: f"{LINK_BASE}{token}?to=chat"
    )


@pytest.fixture
def creditor(session: Session, now: datetime) -> Creditor:
    return make_creditor(session, now, name="Nordlys Energi A/S")


@pytest.fixture
def debtor(session: Session, creditor: Creditor, now: datetime) -> Debtor:
    return make_debtor(session, creditor, now, name="Mette Hansen")


@pytest.fixture
def account(session: Session, debtor: Debtor, now: datetime) -> Account:
    return make_account(session, debtor, now, amount_minor=120_000)


def make_agent(
    session: Session,
    creditor: Creditor,
    now: datetime,
    *,
    language: Language = Language.DA,
    online: bool = True,
    available: bool = True,
    **fields: object,
) -> User:
    agent = make_user(session, now, Role.AGENT, language=language, **fields)
    place_agent(session, agent, creditor.id)
    if online:
        heartbeat(session, agent, now=now)
        set_available(session, agent, available, now=now)
    return agent


@pytest.fixture
def agent(session: Session, creditor: Creditor, now: datetime) -> User:
    return make_agent(session, creditor, now, name="Anja Holm", available=False)


@pytest.fixture
def supervisor(session: Session, now: datetime) -> User:
    return make_user(session, now, Role.SUPERVISOR, name="Signe Sørensen")
