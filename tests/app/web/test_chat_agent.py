"""The agent console over HTTP: roles and tenancy, audit, take and reply, actions, canned
responses, the supervisor's desk, and SMS arriving in the conversation."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from app.chat.actions import ChatAdapters, debtor_writes
from app.chat.assignment import place_agent, served_creditor_ids
from app.chat.conversations import find_open_conversation, lines_after
from app.chat.notifier import LocalNotifier
from app.clock import utcnow
from app.models import (
    Account,
    AuditEvent,
    CannedResponse,
    Conversation,
    Creditor,
    Debtor,
    DebtorNote,
    User,
)
from app.models.enums import AccountStatus, ConversationStatus, Language, Role
from app.web.live.wiring import NOTIFIER_KEY
from tests.app.web.helpers import sign_in
from tests.factories import make_account, make_creditor, make_debtor, make_user

_CSRF = re.compile(r'name="([a-z]*-?csrf_token)"[^>]*value="([^"]+)"')


@pytest.fixture
def wall_now() -> datetime:
    return utcnow()


@pytest.fixture
def notifier() -> LocalNotifier:
    return LocalNotifier(poll_seconds=0.01)


@pytest.fixture
def app(make_app, notifier: LocalNotifier) -> Flask:
    app = make_app(
        CHAT_NOTIFIER="polling",
        CHAT_STREAM_SECONDS=0,
        PUBLIC_BASE_URL="https://venlig.example",
    )
    app.extensions[NOTIFIER_KEY] = notifier
    return app


@pytest.fixture
def adapters(notifier: LocalNotifier) -> ChatAdapters:
    return ChatAdapters(notifier, link_for=lambda token: f"http://x/p/{token}?to=chat")


@pytest.fixture
def creditor(session: Session, wall_now: datetime) -> Creditor:
    return make_creditor(session, wall_now, name="Nordlys Energi A/S")


@pytest.fixture
def debtor(session: Session, creditor: Creditor, wall_now: datetime) -> Debtor:
    return make_debtor(
        session, creditor, wall_now, name="Mette Hansen", phone_e164="+4520123456"
    )


@pytest.fixture
def account(session: Session, debtor: Debtor, wall_now: datetime) -> Account:
    return make_account(session, debtor, wall_now, amount_minor=120_000)


def _agent(
    session: Session, creditor: Creditor, now: datetime, **fields: object
) -> User:
    agent = make_user(session, now, Role.AGENT, language=Language.DA, **fields)
    place_agent(session, agent, creditor.id)
    return agent


@pytest.fixture
def agent(session: Session, creditor: Creditor, wall_now: datetime) -> User:
    return _agent(session, creditor, wall_now, name="Anja Holm", email="anja@x.test")


@pytest.fixture
def conversation(
    session: Session,
    debtor: Debtor,
    account: Account,
    wall_now: datetime,
    adapters: ChatAdapters,
) -> Conversation:
    debtor_writes(session, debtor, "Kan I hjælpe?", now=wall_now, adapters=adapters)
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    session.commit()
    return conversation


def signed_in(app: Flask, session: Session, user: User) -> FlaskClient:
    session.commit()
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    return client


def token_of(page: TestResponse, prefix: str = "") -> dict[str, str]:
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    for found, value in _CSRF.findall(page.get_data(as_text=True)):
        if found == name:
            return {name: value}
    raise AssertionError(f"no {name} on the page")


def post_action(
    client: FlaskClient,
    conversation: Conversation,
    action: str,
    prefix: str,
    **data: str,
) -> TestResponse:
    page = client.get(f"/agent/c/{conversation.id}")
    fields = {f"{prefix}-{key}": value for key, value in data.items()}
    return client.post(
        f"/agent/c/{conversation.id}/{action}",
        data={**token_of(page, prefix), **fields},
    )


def take(client: FlaskClient, conversation: Conversation) -> TestResponse:
    page = client.get("/agent/")
    return client.post(f"/agent/c/{conversation.id}/take", data=token_of(page))


def reply(
    client: FlaskClient, conversation: Conversation, text: str, *, fetch: bool = False
) -> TestResponse:
    page = client.get(f"/agent/c/{conversation.id}")
    return client.post(
        f"/agent/c/{conversation.id}/reply",
        data={**token_of(page, "reply"), "reply-body": text},
        headers={"X-Requested-With": "fetch"} if fetch else {},
    )


def test_the_console_is_for_agents_supervisors_and_admins(
    app: Flask, session: Session, creditor: Creditor, wall_now: datetime
) -> None:
    assert app.test_client().get("/agent/").status_code == 302
    creditor_user = make_user(session, wall_now, Role.CREDITOR, creditor=creditor)
    assert signed_in(app, session, creditor_user).get("/agent/").status_code == 403


def test_the_queue_shows_this_creditors_waiting_debtors(
    app: Flask, session: Session, agent: User, conversation: Conversation
) -> None:
    page = signed_in(app, session, agent).get("/agent/").get_data(as_text=True)
    assert "Mette Hansen" in page
    assert f"/agent/c/{conversation.id}/take" in page


def test_another_creditors_agent_gets_404_and_no_events(
    app: Flask,
    session: Session,
    conversation: Conversation,
    wall_now: datetime,
) -> None:
    outsider = _agent(session, make_creditor(session, wall_now), wall_now)
    client = signed_in(app, session, outsider)
    assert "Mette Hansen" not in client.get("/agent/").get_data(as_text=True)
    assert client.get(f"/agent/c/{conversation.id}").status_code == 404
    stream = client.get(
        f"/agent/c/{conversation.id}/events", headers={"Last-Event-ID": "0"}
    )
    assert stream.status_code == 404
    assert "Kan I hjælpe?" not in stream.get_data(as_text=True)
    page = client.get("/agent/")
    refused = client.post(f"/agent/c/{conversation.id}/take", data=token_of(page))
    assert refused.status_code == 404
    session.expire_all()
    assert session.get(Conversation, conversation.id).assigned_user_id is None


def test_every_opening_of_a_conversation_is_audited(
    app: Flask, session: Session, agent: User, conversation: Conversation
) -> None:
    client = signed_in(app, session, agent)
    assert client.get(f"/agent/c/{conversation.id}").status_code == 200
    client.get(f"/agent/c/{conversation.id}")
    views = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "chat.viewed",
            AuditEvent.object_id == conversation.id,
        )
    ).all()
    assert [(v.actor_user_id, v.object_type) for v in views] == [
        (agent.id, "conversation")
    ] * 2


def test_take_reply_and_the_stream_in_order(
    app: Flask, session: Session, agent: User, conversation: Conversation
) -> None:
    client = signed_in(app, session, agent)
    assert take(client, conversation).status_code == 303
    assert reply(client, conversation, "Hej Mette, ja da.").status_code == 303
    answer = reply(client, conversation, "Et øjeblik", fetch=True)
    assert answer.status_code == 201
    stream = client.get(
        f"/agent/c/{conversation.id}/events", headers={"Last-Event-ID": "0"}
    ).get_data(as_text=True)
    seqs = [int(n) for n in re.findall(r"^id: (\d+)$", stream, re.M)]
    assert seqs == [1, 2, 3, 4, 5]
    last = json.loads(re.findall(r"^data: (.+)$", stream, re.M)[-1])
    assert "Et øjeblik" in last["html"]


def test_html_in_messages_is_escaped_for_the_agent(
    app: Flask,
    session: Session,
    debtor: Debtor,
    agent: User,
    conversation: Conversation,
    wall_now: datetime,
    adapters: ChatAdapters,
) -> None:
    debtor_writes(
        session, debtor, "<script>alert('x')</script>", now=wall_now, adapters=adapters
    )
    client = signed_in(app, session, agent)
    page = client.get(f"/agent/c/{conversation.id}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_only_the_assigned_agent_replies(
    app: Flask,
    session: Session,
    creditor: Creditor,
    agent: User,
    conversation: Conversation,
    wall_now: datetime,
) -> None:
    take(signed_in(app, session, agent), conversation)
    colleague = _agent(session, creditor, wall_now, name="Colleague")
    client = signed_in(app, session, colleague)
    page = client.get(f"/agent/c/{conversation.id}").get_data(as_text=True)
    assert "Anja Holm tager sig af samtalen." in page
    assert "reply-body" not in page
    refused = reply_without_form(client, conversation, "Hej")
    assert refused.status_code == 400
    assert "Only the agent handling" in refused.get_json()["message"]


def reply_without_form(
    client: FlaskClient, conversation: Conversation, text: str
) -> TestResponse:
    page = client.get("/agent/")  # any page with the session's token
    token = token_of(page)["csrf_token"]
    return client.post(
        f"/agent/c/{conversation.id}/reply",
        data={"reply-csrf_token": token, "reply-body": text},
        headers={"X-Requested-With": "fetch"},
    )


def test_a_canned_response_is_filled_and_an_unfillable_one_blocks_sending(
    app: Flask,
    session: Session,
    agent: User,
    conversation: Conversation,
    wall_now: datetime,
) -> None:
    for title, body in (("Saldo", "Hej {first_name}, du skylder {balance}."),):
        session.add(
            CannedResponse(
                language=Language.DA,
                title=title,
                body=body,
                is_active=True,
                created_at=wall_now,
                updated_at=wall_now,
            )
        )
    session.flush()
    canned = session.scalar(select(CannedResponse))
    assert canned is not None
    client = signed_in(app, session, agent)
    take(client, conversation)
    page = client.get(f"/agent/c/{conversation.id}?canned={canned.id}")
    assert "Hej Mette, du skylder 1.200,00\xa0kr." in page.get_data(as_text=True)
    refused = reply(client, conversation, "Du skylder {balance}", fetch=True)
    assert refused.status_code == 400
    assert "{balance}" in refused.get_json()["message"]


def test_actions_change_the_account_and_reach_the_debtor_and_the_audit(
    app: Flask,
    session: Session,
    agent: User,
    account: Account,
    conversation: Conversation,
    wall_now: datetime,
) -> None:
    client = signed_in(app, session, agent)
    take(client, conversation)
    offer = post_action(
        client, conversation, "offer", "offer", offer=f"{account.id}|monthly:3"
    )
    assert offer.status_code == 303
    post_action(
        client, conversation, "pause", "pause", account_id=str(account.id), days="7"
    )
    session.expire_all()
    assert session.get(Account, account.id).pause_reason == "agent_pause"
    post_action(client, conversation, "resume", "resume", account_id=str(account.id))
    promised_on = (wall_now.date() + timedelta(days=3)).isoformat()
    post_action(
        client,
        conversation,
        "promise",
        "promise",
        account_id=str(account.id),
        promised_on=promised_on,
    )
    post_action(
        client, conversation, "note", "note", account_id="0", body="Ring efter 16"
    )
    post_action(client, conversation, "close", "close", outcome="promise")
    session.expire_all()
    assert session.get(Account, account.id).status is AccountStatus.PROMISED
    closed = session.get(Conversation, conversation.id)
    assert closed is not None
    assert closed.status is ConversationStatus.CLOSED
    assert [n.body for n in session.scalars(select(DebtorNote))] == ["Ring efter 16"]
    events = [line.event for line in lines_after(session, conversation.id, 0)]
    assert "plan_offer" in events
    assert events[-1] == "closed"
    audited = set(
        session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_user_id == agent.id)
        )
    )
    assert {
        "chat.viewed",
        "chat.taken",
        "chat.pause",
        "chat.resume",
        "chat.promise",
        "chat.note",
        "chat.closed",
    } <= audited


def test_a_failed_action_says_why_and_changes_nothing(
    app: Flask,
    session: Session,
    agent: User,
    account: Account,
    conversation: Conversation,
) -> None:
    client = signed_in(app, session, agent)
    take(client, conversation)
    response = post_action(
        client, conversation, "resume", "resume", account_id=str(account.id)
    )
    assert response.status_code == 303
    page = client.get(f"/agent/c/{conversation.id}").get_data(as_text=True)
    # The domain's reason, in the agent's language (Danish here), not in English.
    assert "Påmindelserne er ikke sat på pause på denne sag" in page
    assert "not paused" not in page


def test_the_supervisor_sees_the_desk_and_reassigns(
    app: Flask,
    session: Session,
    creditor: Creditor,
    agent: User,
    conversation: Conversation,
    wall_now: datetime,
) -> None:
    take(signed_in(app, session, agent), conversation)
    colleague = _agent(session, creditor, wall_now, name="Kollega Kim")
    supervisor = make_user(session, wall_now, Role.SUPERVISOR, name="Signe")
    assert signed_in(app, session, agent).get("/agent/desk").status_code == 403
    client = signed_in(app, session, supervisor)
    desk = client.get("/agent/desk").get_data(as_text=True)
    assert "being answered" in desk
    assert "Anja Holm" in desk
    response = post_action(
        client, conversation, "reassign", "reassign", user_id=str(colleague.id)
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Conversation, conversation.id).assigned_user_id == colleague.id


def test_the_desks_figures_are_written_the_way_the_pages_language_writes_numbers(
    app: Flask, session: Session, conversation: Conversation, wall_now: datetime
) -> None:
    conversation.first_response_at = wall_now
    conversation.first_response_seconds = 90
    conversation.csat_score, conversation.csat_at = 4, wall_now
    supervisor = make_user(session, wall_now, Role.SUPERVISOR)
    client = signed_in(app, session, supervisor)
    client.get("/lang/da")
    desk = client.get("/agent/desk").get_data(as_text=True)
    assert "<strong>1,5 min.</strong>" in desk
    assert "<strong>4,0</strong>" in desk
    client.get("/lang/en")
    desk = client.get("/agent/desk").get_data(as_text=True)
    assert "<strong>1.5 min</strong>" in desk


def test_a_supervisor_edits_canned_responses_and_unknown_placeholders_are_refused(
    app: Flask, session: Session, wall_now: datetime
) -> None:
    supervisor = make_user(session, wall_now, Role.SUPERVISOR)
    client = signed_in(app, session, supervisor)
    page = client.get("/agent/canned/new")
    base = {**token_of(page), "language": "da", "creditor_id": "0", "is_active": "y"}
    bad = client.post(
        "/agent/canned/new", data={**base, "title": "X", "body": "Hej {navn}"}
    )
    assert bad.status_code == 400
    good = client.post(
        "/agent/canned/new", data={**base, "title": "Hej", "body": "Hej {first_name}"}
    )
    assert good.status_code == 303
    assert [r.body for r in session.scalars(select(CannedResponse))] == [
        "Hej {first_name}"
    ]


def test_an_sms_from_the_debtor_lands_in_the_open_conversation(
    app: Flask, session: Session, debtor: Debtor, conversation: Conversation
) -> None:
    params = {
        "From": debtor.phone_e164 or "",
        "To": "+4570000000",
        "Body": "Jeg er her stadig",
        "MessageSid": "SMchat1",
    }
    url = "https://venlig.example/webhooks/twilio/inbound"
    signature = RequestValidator(app.config["DEV_TWILIO_AUTH_TOKEN"]).compute_signature(
        url, params
    )
    response = app.test_client().post(
        "/webhooks/twilio/inbound",
        data=params,
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 200
    lines = lines_after(session, conversation.id, 0)
    assert (lines[-1].body, lines[-1].via_sms) == ("Jeg er her stadig", True)


def test_a_supervisor_places_agents_with_creditors(
    app: Flask, session: Session, creditor: Creditor, agent: User, wall_now: datetime
) -> None:
    other = make_creditor(session, wall_now, name="Fjellvann AS", country="NO")
    supervisor = make_user(session, wall_now, Role.SUPERVISOR)
    client = signed_in(app, session, supervisor)
    page = client.get("/agent/team")
    assert page.status_code == 200
    assert f'value="{agent.id}:{creditor.id}" id' in page.get_data(as_text=True)
    response = client.post(
        "/agent/team", data={**token_of(page), "placed": [f"{agent.id}:{other.id}"]}
    )
    assert response.status_code == 303
    session.expire_all()
    assert served_creditor_ids(session, agent) == [other.id]


def test_agents_cannot_change_the_team(
    app: Flask, session: Session, agent: User
) -> None:
    client = signed_in(app, session, agent)
    assert client.get("/agent/team").status_code == 403
