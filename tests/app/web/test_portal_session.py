"""The verified portal session: idle time ends it, and the overview is never stale."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Account, Debtor
from app.models.enums import LedgerKind
from app.services.ledger import post_entry
from app.services.portal_links import issue_link
from app.web.portal import session as portal_session
from tests.app.web.test_portal import BIRTH, csrf, open_and_verify
from tests.factories import make_account, make_creditor, make_debtor


@pytest.fixture
def wall_now() -> datetime:
    return utcnow()


@pytest.fixture
def debtor(session: Session, wall_now: datetime) -> Debtor:
    creditor = make_creditor(session, wall_now, name="Nordlys Energi A/S")
    return make_debtor(session, creditor, wall_now, birth_date=BIRTH)


@pytest.fixture
def account(session: Session, debtor: Debtor, wall_now: datetime) -> Account:
    return make_account(session, debtor, wall_now, amount_minor=120_000)


@pytest.fixture
def token(
    session: Session, debtor: Debtor, account: Account, wall_now: datetime
) -> str:
    token = issue_link(session, debtor, now=wall_now)
    session.commit()
    return token


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr(portal_session.time, "time", clock)
    return clock


def seen_at(app: Flask, client: FlaskClient) -> int:
    """When the signed session cookie says the debtor was last seen."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    serializer = app.session_interface.get_signing_serializer(app)
    return int(serializer.loads(cookie.value)[portal_session.SEEN])


def test_a_session_idle_beyond_the_limit_goes_back_to_verification(
    client: FlaskClient, token: str, clock: Clock
) -> None:
    open_and_verify(client, token)
    assert client.get("/p/").status_code == 200
    clock.now += 30 * 60 + 1
    response = client.get("/p/")
    assert response.status_code == 302
    assert response.location.endswith("/p/verify")


def test_an_active_debtor_keeps_the_session_renewed_only_now_and_then(
    app: Flask, client: FlaskClient, token: str, clock: Clock
) -> None:
    open_and_verify(client, token)
    verified_at = seen_at(app, client)
    # Within the renewal interval the idle clock is left alone.
    clock.now += portal_session.SEEN_RENEWAL_SECONDS - 1
    assert client.get("/p/").status_code == 200
    assert seen_at(app, client) == verified_at
    # Active use renews it: 40 minutes of visits never run into the 30-minute idle limit.
    for _ in range(4):
        clock.now += 10 * 60
        assert client.get("/p/").status_code == 200
        assert seen_at(app, client) == int(clock.now)


def test_the_overview_shows_a_new_payment_at_once(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    assert "1.000,00" not in client.get("/p/").get_data(as_text=True)
    post_entry(session, account, LedgerKind.PAYMENT, 20_000, now=utcnow())
    session.commit()
    assert "1.000,00" in client.get("/p/").get_data(as_text=True)


def test_a_page_within_the_renewal_interval_sets_no_cookie(
    client: FlaskClient, token: str, clock: Clock
) -> None:
    open_and_verify(client, token)
    clock.now += 1
    response = client.get("/p/")
    assert response.status_code == 200
    # Neither a re-signed session nor the staff sign-in's remember cookie being cleared.
    assert response.headers.getlist("Set-Cookie") == []


def test_signing_out_lands_on_a_page_that_back_and_reload_keep(
    client: FlaskClient, token: str
) -> None:
    open_and_verify(client, token)
    page = client.get("/p/")
    response = client.post("/p/sign-out", data={"csrf_token": csrf(page)})
    assert response.status_code == 303
    assert response.location.endswith("/p/signed-out")
    assert client.get("/p/signed-out").status_code == 200
    # The case page now says they left, not that a link expired.
    again = client.get("/p/")
    assert again.status_code == 302
    assert again.location.endswith("/p/signed-out")
    # Opening the link again starts afresh.
    open_and_verify(client, token)
    assert client.get("/p/").status_code == 200
