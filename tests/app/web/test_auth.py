"""Staff sign-in: passwords, CSRF, session fixation, sign-out, rate limits, redirects."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import User
from app.models.enums import Role
from tests.app.web.helpers import csrf_token, sign_in
from tests.factories import make_user


@pytest.fixture
def agent(session: Session, now: datetime) -> User:
    user = make_user(session, now, email="agent@example.test")
    session.commit()
    return user


def test_an_anonymous_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/debtors")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_right_password_signs_in(client: FlaskClient, agent: User) -> None:
    response = sign_in(client, agent.email)
    assert response.status_code == 302
    assert client.get("/debtors").status_code == 200


def test_an_agent_starts_at_the_chat_queue_and_a_supervisor_at_the_debtors(
    client: FlaskClient, session: Session, agent: User, now: datetime
) -> None:
    sign_in(client, agent.email)
    assert client.get("/").headers["Location"] == "/agent/"
    supervisor = make_user(session, now, Role.SUPERVISOR)
    session.commit()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/agent/")})
    sign_in(client, supervisor.email)
    assert client.get("/").headers["Location"] == "/debtors"


def test_the_e_mail_is_case_insensitive(client: FlaskClient, agent: User) -> None:
    assert sign_in(client, "AGENT@Example.TEST").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("agent@example.test", "wrong password!"),
        ("nobody@example.test", "correct horse battery"),
    ],
)
def test_a_wrong_password_or_unknown_user_is_refused_alike(
    client: FlaskClient, agent: User, email: str, password: str
) -> None:
    response = sign_in(client, email, password)
    assert response.status_code == 401
    assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/debtors").status_code == 302


def test_an_inactive_user_cannot_sign_in(
    client: FlaskClient, session: Session, agent: User
) -> None:
    agent.is_active = False
    session.commit()
    assert sign_in(client, agent.email).status_code == 401


def test_a_form_without_csrf_token_is_refused(client: FlaskClient, agent: User) -> None:
    response = client.post(
        "/login", data={"email": agent.email, "password": "correct horse battery"}
    )
    assert response.status_code == 400
    assert client.get("/debtors").status_code == 302


def test_signing_in_starts_a_new_session(client: FlaskClient, agent: User) -> None:
    """Session fixation: nothing from before sign-in survives, the CSRF token included."""
    token_before = csrf_token(client)
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
        cookie_before = dict(before)
    sign_in(client, agent.email)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("csrf_token") != cookie_before.get("csrf_token")
        assert "_user_id" in after
    assert token_before != csrf_token(client, "/debtors")


def test_signing_out_invalidates_a_copied_cookie(
    app: Flask, client: FlaskClient, agent: User
) -> None:
    sign_in(client, agent.email)
    with client.session_transaction() as signed_in:
        stolen = dict(signed_in)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/debtors")})
    thief = app.test_client()
    with thief.session_transaction() as planted:
        planted.update(stolen)
    assert thief.get("/debtors").status_code == 302


def test_a_staff_cookie_used_from_another_browser_is_refused(
    app: Flask, client: FlaskClient, agent: User
) -> None:
    sign_in(client, agent.email)
    with client.session_transaction() as signed_in:
        stolen = dict(signed_in)
    thief = app.test_client()
    with thief.session_transaction() as planted:
        planted.update(stolen)
    assert thief.get("/debtors").status_code == 200
    elsewhere = {"User-Agent": "Another browser/1.0"}
    assert thief.get("/debtors", headers=elsewhere).status_code == 302


def test_next_may_only_be_a_local_path(client: FlaskClient, agent: User) -> None:
    token = csrf_token(client)
    data = {
        "email": agent.email,
        "password": "correct horse battery",
        "csrf_token": token,
    }
    response = client.post("/login?next=https://evil.example/x", data=data)
    assert response.headers["Location"] == "/"


def test_next_returns_to_the_page_asked_for(client: FlaskClient, agent: User) -> None:
    token = csrf_token(client)
    data = {
        "email": agent.email,
        "password": "correct horse battery",
        "csrf_token": token,
    }
    response = client.post("/login?next=/debtors?q=x", data=data)
    assert response.headers["Location"] == "/debtors?q=x"


def test_sign_in_attempts_are_rate_limited(make_app, agent: User) -> None:
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    statuses = [
        sign_in(client, agent.email, "wrong password!").status_code for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
