"""The debtor's chat over HTTP: the page, posting with and without JavaScript, the event
stream (order, resume, isolation), SMS into the thread, CSAT, and escaping."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.chat.account_actions import Staff, close_with_outcome
from app.chat.actions import ChatAdapters, agent_replies
from app.chat.assignment import place_agent, take
from app.chat.conversations import find_open_conversation
from app.chat.notifier import LocalNotifier
from app.clock import utcnow
from app.models import (
    Account,
    Conversation,
    Creditor,
    Debtor,
    Message,
    RiskSignal,
    User,
)
from app.models.enums import ConversationOutcome, ConversationStatus, Role, SignalSource
from app.services.portal_links import issue_link
from app.web.live.wiring import NOTIFIER_KEY
from tests.factories import make_account, make_creditor, make_debtor, make_user

BIRTH = date(1980, 1, 1)
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def wall_now() -> datetime:
    return utcnow()


@pytest.fixture
def notifier() -> LocalNotifier:
    return LocalNotifier(poll_seconds=0.01)


@pytest.fixture
def app(make_app, notifier: LocalNotifier) -> Flask:
    # Streams end after one read, so a test reads everything there is and returns.
    app = make_app(CHAT_NOTIFIER="polling", CHAT_STREAM_SECONDS=0)
    app.extensions[NOTIFIER_KEY] = notifier
    return app


@pytest.fixture
def adapters(notifier: LocalNotifier) -> ChatAdapters:
    return ChatAdapters(notifier, link_for=lambda token: f"http://x/p/{token}?to=chat")


@pytest.fixture
def debtor(session: Session, wall_now: datetime) -> Debtor:
    creditor = make_creditor(session, wall_now, name="Nordlys Energi A/S")
    return make_debtor(
        session, creditor, wall_now, birth_date=BIRTH, name="Mette Hansen"
    )


@pytest.fixture
def account(session: Session, debtor: Debtor, wall_now: datetime) -> Account:
    return make_account(session, debtor, wall_now, amount_minor=120_000)


@pytest.fixture
def agent(session: Session, debtor: Debtor, wall_now: datetime) -> User:
    agent = make_user(session, wall_now, Role.AGENT, name="Anja Holm")
    place_agent(session, agent, debtor.creditor_id)
    return agent


def csrf(page: TestResponse) -> str:
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def verify(
    client: FlaskClient, session: Session, debtor: Debtor, query: str = ""
) -> TestResponse:
    token = issue_link(session, debtor, now=utcnow())
    session.commit()
    assert client.get(f"/p/{token}{query}").status_code == 303
    page = client.get("/p/verify")
    return client.post(
        "/p/verify", data={"answer": "01-01-1980", "csrf_token": csrf(page)}
    )


def say(
    client: FlaskClient, text: str, *, fetch: bool = False, **extra: str
) -> TestResponse:
    page = client.get("/p/help")
    headers = {"X-Requested-With": "fetch"} if fetch else {}
    return client.post(
        "/p/help/messages",
        data={"body": text, "csrf_token": csrf(page), **extra},
        headers=headers,
    )


def events(client: FlaskClient, conversation_id: int, **headers: str) -> list[dict]:
    response = client.get(f"/p/help/{conversation_id}/events", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    body = response.get_data(as_text=True)
    found = []
    for block in body.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line
        )
        if fields.get("event") == "line":
            data = json.loads(fields["data"])
            assert int(fields["id"]) == data["seq"]
            found.append(data)
    return found


def test_every_verified_page_offers_a_person(
    client: FlaskClient, session: Session, debtor: Debtor, account: Account
) -> None:
    verify(client, session, debtor)
    page = client.get(f"/p/accounts/{account.id}/promise").get_data(as_text=True)
    assert 'href="/p/help"' in page


def test_the_chat_page_shows_hours_and_the_honest_wait(
    client: FlaskClient, session: Session, debtor: Debtor, account: Account
) -> None:
    verify(client, session, debtor)
    page = client.get("/p/help")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "08:00–16:00" in text
    assert "mandag–fredag" in text.lower()  # the debtor's language
    assert "minutter" not in text  # nobody online, or closed: no promise of minutes


def test_the_chat_needs_verification(client: FlaskClient) -> None:
    assert client.get("/p/help").status_code == 401


def test_a_plain_form_post_opens_the_conversation_and_comes_back(
    client: FlaskClient, session: Session, debtor: Debtor, account: Account
) -> None:
    verify(client, session, debtor)
    response = say(client, "Kan I hjælpe mig?", reply_by_sms="y")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/p/help#compose")
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    assert conversation.reply_by_sms
    page = client.get("/p/help").get_data(as_text=True)
    assert "Kan I hjælpe mig?" in page
    assert f'data-chat-stream="/p/help/{conversation.id}/events"' in page


def test_html_from_the_debtor_is_shown_as_text(
    client: FlaskClient, session: Session, debtor: Debtor, account: Account
) -> None:
    verify(client, session, debtor)
    say(client, '<img src=x onerror="alert(1)">')
    page = client.get("/p/help").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    html = events(client, conversation.id, **{"Last-Event-ID": "0"})[-1]["html"]
    assert "<img" not in html
    assert "&lt;img" in html


def test_a_background_post_answers_json_and_refuses_an_empty_message(
    client: FlaskClient, session: Session, debtor: Debtor, account: Account
) -> None:
    verify(client, session, debtor)
    first = say(client, "Hej", fetch=True)
    assert first.status_code == 201
    assert first.get_json() == {"seq": 2, "reload": True}
    second = say(client, "Er der nogen?", fetch=True)
    assert second.get_json() == {"seq": 3, "reload": False}
    empty = say(client, "   ", fetch=True)
    assert empty.status_code == 400
    assert empty.get_json()["message"]
    too_long = say(client, "x" * 2001)
    assert too_long.status_code == 400


def test_a_debtor_chat_message_is_checked_for_risk(
    client: FlaskClient, session: Session, debtor: Debtor, account: Account
) -> None:
    verify(client, session, debtor)
    say(client, "Jeg har talt med min advokat")
    signals = session.scalars(
        select(RiskSignal).where(RiskSignal.debtor_id == debtor.id)
    )
    assert [(s.category, s.source) for s in signals] == [
        ("legal_threat", SignalSource.CHAT)
    ]


def test_the_stream_sends_lines_in_order_once_and_resumes_after_the_last(
    client: FlaskClient,
    session: Session,
    debtor: Debtor,
    account: Account,
    agent: User,
    adapters: ChatAdapters,
) -> None:
    verify(client, session, debtor)
    say(client, "Hej")
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    take(session, conversation, agent, now=utcnow(), notifier=adapters.notifier)
    agent_replies(
        session, conversation, agent, "Hej Mette", now=utcnow(), adapters=adapters
    )
    session.commit()
    everything = events(client, conversation.id, **{"Last-Event-ID": "0"})
    assert [e["seq"] for e in everything] == [1, 2, 3, 4]
    assert "Anja Holm er kommet med i samtalen." in everything[2]["html"]
    assert "Hej Mette" in everything[3]["html"]
    # The page itself starts after the last line it shows; a reconnect after line 2.
    assert events(client, conversation.id) == []
    resumed = events(client, conversation.id, **{"Last-Event-ID": "2"})
    assert [e["seq"] for e in resumed] == [3, 4]
    session.refresh(conversation)
    assert conversation.debtor_read_seq == 4
    assert conversation.debtor_seen_at is not None


def test_another_debtors_session_gets_404_and_no_events(
    app: Flask,
    client: FlaskClient,
    session: Session,
    debtor: Debtor,
    account: Account,
    wall_now: datetime,
) -> None:
    verify(client, session, debtor)
    say(client, "Min hemmelighed")
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    creditor = session.get(Creditor, debtor.creditor_id)
    assert creditor is not None
    neighbour = make_debtor(session, creditor, wall_now, birth_date=BIRTH)
    make_account(session, neighbour, wall_now)
    other = app.test_client()
    verify(other, session, neighbour)
    response = other.get(f"/p/help/{conversation.id}/events")
    assert response.status_code == 404
    assert "Min hemmelighed" not in response.get_data(as_text=True)
    rating = other.post(
        f"/p/help/{conversation.id}/rating",
        data={"score": "1", "csrf_token": csrf(other.get("/p/help"))},
    )
    assert rating.status_code == 404
    assert "Min hemmelighed" not in other.get("/p/help").get_data(as_text=True)


def test_after_closing_the_debtor_answers_csat_once(
    client: FlaskClient,
    session: Session,
    debtor: Debtor,
    account: Account,
    agent: User,
    adapters: ChatAdapters,
) -> None:
    verify(client, session, debtor)
    say(client, "Hej")
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    take(session, conversation, agent, now=utcnow(), notifier=adapters.notifier)
    close_with_outcome(
        session,
        Staff(agent),
        conversation,
        ConversationOutcome.RESOLVED,
        now=utcnow(),
        notifier=adapters.notifier,
    )
    session.commit()
    page = client.get("/p/help")
    assert "Hvor godt hjalp vi dig?" in page.get_data(as_text=True)
    answer = client.post(
        f"/p/help/{conversation.id}/rating",
        data={"score": "5", "comment": "Tak!", "csrf_token": csrf(page)},
    )
    assert answer.status_code == 303
    session.refresh(conversation)
    assert (conversation.csat_score, conversation.csat_comment) == (5, "Tak!")
    assert "Hvor godt hjalp vi dig?" not in client.get("/p/help").get_data(as_text=True)
    assert conversation.status is ConversationStatus.CLOSED


def test_the_sms_link_about_an_answer_lands_on_the_chat(
    client: FlaskClient, session: Session, debtor: Debtor, account: Account
) -> None:
    response = verify(client, session, debtor, "?to=chat")
    assert response.headers["Location"].endswith("/p/help")


def test_an_agents_plan_offer_opens_the_plan_page_with_its_terms_chosen(
    client: FlaskClient, session: Session, debtor: Debtor, account: Account
) -> None:
    verify(client, session, debtor)
    page = client.get(f"/p/accounts/{account.id}/plan?choice=monthly:3")
    assert 'value="monthly:3" checked' in page.get_data(as_text=True)


def test_an_agent_reply_texts_a_debtor_who_left(
    client: FlaskClient,
    session: Session,
    debtor: Debtor,
    account: Account,
    agent: User,
    adapters: ChatAdapters,
) -> None:
    verify(client, session, debtor)
    say(client, "Ring til mig", reply_by_sms="y")
    conversation = session.scalar(
        select(Conversation).where(Conversation.debtor_id == debtor.id)
    )
    assert conversation is not None
    conversation.debtor_seen_at = None  # the page was closed long ago
    take(session, conversation, agent, now=utcnow(), notifier=adapters.notifier)
    agent_replies(
        session,
        conversation,
        agent,
        "Vi ringer kl. 14",
        now=utcnow(),
        adapters=adapters,
    )
    text = session.scalar(select(Message).where(Message.template_key == "chat_reply"))
    assert text is not None
    assert "?to=chat" in (text.body or "")
    assert "Vi ringer" not in (
        text.body or ""
    )  # the answer itself stays behind the link
