"""Health, request ids, error pages and the language switch."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app import create_app
from app.models.enums import Role
from tests.app.web.helpers import sign_in
from tests.factories import make_account, make_creditor, make_debtor, make_user


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_down() -> None:
    # Nothing listens on port 1, so the connection is refused at once.
    broken = create_app(
        {"ENV": "testing", "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"}
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_every_response_carries_a_request_id(client: FlaskClient) -> None:
    assert len(client.get("/healthz").headers["X-Request-ID"]) >= 8


def test_a_well_formed_incoming_request_id_is_kept(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "proxy-1234abcd"})
    assert response.headers["X-Request-ID"] == "proxy-1234abcd"


def test_a_malformed_incoming_request_id_is_replaced(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert response.headers["X-Request-ID"] != "<script>"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "We could not find that page"),
        ("da", "Vi kunne ikke finde siden"),
        ("nb", "Vi fant ikke siden"),
    ],
)
def test_the_404_page_speaks_the_chosen_language(
    client: FlaskClient, language: str, words: str
) -> None:
    client.get(f"/lang/{language}")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert words in response.get_data(as_text=True)
    assert f'<html lang="{language}">' in response.get_data(as_text=True)


def test_the_browser_language_is_used_before_a_choice(client: FlaskClient) -> None:
    response = client.get(
        "/no-such-page", headers={"Accept-Language": "nb-NO,nb;q=0.9"}
    )
    assert "Vi fant ikke siden" in response.get_data(as_text=True)


def test_a_400_page_is_translated(client: FlaskClient) -> None:
    client.get("/lang/da")
    response = client.post("/login", data={})
    assert response.status_code == 400
    assert "Den forespørgsel kunne ikke forstås" in response.get_data(as_text=True)


def test_a_405_page_is_translated(client: FlaskClient) -> None:
    client.get("/lang/nb")
    response = client.post("/healthz")
    assert response.status_code == 405
    assert "Det er ikke mulig her" in response.get_data(as_text=True)


def test_a_403_page_is_translated(make_app, session: Session, now: datetime) -> None:
    from app.models.enums import Role
    from app.web.auth.login import roles_required

    app = make_app()

    @app.get("/admin-only")
    @roles_required(Role.ADMIN)
    def admin_only() -> str:
        return "secret"

    agent = make_user(session, now)
    session.commit()
    client = app.test_client()
    sign_in(client, agent.email)
    client.get("/lang/da")
    response = client.get("/admin-only")
    assert response.status_code == 403
    assert "Du har ikke adgang til denne side" in response.get_data(as_text=True)


def test_a_405_names_the_allowed_methods(client: FlaskClient) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_a_500_is_friendly_and_rolls_back(make_app) -> None:
    app = make_app()

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom", headers={"Accept-Language": "da"})
    assert response.status_code == 500
    assert "Der gik noget galt hos os" in response.get_data(as_text=True)
    assert "kaboom" not in response.get_data(as_text=True)


def test_the_language_switch_refuses_unknown_languages(client: FlaskClient) -> None:
    assert client.get("/lang/sv").status_code == 404


def test_the_language_switch_returns_only_to_local_pages(client: FlaskClient) -> None:
    response = client.get("/lang/da?next=//evil.example/")
    assert response.headers["Location"] == "/"


def test_a_debtor_page_formats_money_for_the_language(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    creditor = make_creditor(session, now)
    account = make_account(
        session, make_debtor(session, creditor, now), now, amount_minor=125_000
    )
    supervisor = make_user(session, now, Role.SUPERVISOR)
    session.commit()
    sign_in(client, supervisor.email)
    client.get("/lang/da")
    assert "1.250,00" in client.get(f"/accounts/{account.id}").get_data(as_text=True)
    client.get("/lang/nb")
    assert "1\xa0250,00" in client.get(f"/accounts/{account.id}").get_data(as_text=True)
