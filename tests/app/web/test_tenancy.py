"""Tenant isolation: a creditor's users see only that creditor's debtors and accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.assignment import place_agent
from app.models import Account, AuditEvent, Debtor, User
from app.models.enums import Role
from tests.app.web.helpers import sign_in
from tests.factories import make_account, make_creditor, make_debtor, make_user


@dataclass
class Tenants:
    user_a: User
    debtors_a: list[Debtor]
    accounts_a: list[Account]
    debtors_b: list[Debtor]
    accounts_b: list[Account]
    agent: User  # answers creditor b's chats
    supervisor: User


@pytest.fixture
def tenants(session: Session, now: datetime) -> Tenants:
    creditor_a, creditor_b = make_creditor(session, now), make_creditor(session, now)
    debtors_a = [make_debtor(session, creditor_a, now) for _ in range(2)]
    debtors_b = [make_debtor(session, creditor_b, now) for _ in range(3)]
    accounts_a = [make_account(session, d, now) for d in debtors_a]
    accounts_b = [make_account(session, d, now) for d in debtors_b for _ in range(2)]
    user_a = make_user(session, now, Role.CREDITOR, creditor_a)
    agent = make_user(session, now, Role.AGENT)
    place_agent(session, agent, creditor_b.id)
    supervisor = make_user(session, now, Role.SUPERVISOR)
    session.commit()
    return Tenants(
        user_a, debtors_a, accounts_a, debtors_b, accounts_b, agent, supervisor
    )


def test_every_record_of_another_creditor_is_not_found(
    client: FlaskClient, tenants: Tenants
) -> None:
    sign_in(client, tenants.user_a.email)
    urls = [f"/debtors/{d.id}" for d in tenants.debtors_b]
    urls += [f"/accounts/{a.id}" for a in tenants.accounts_b]
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_a_missing_record_looks_the_same_as_a_foreign_one(
    client: FlaskClient, tenants: Tenants
) -> None:
    sign_in(client, tenants.user_a.email)
    foreign = client.get(f"/debtors/{tenants.debtors_b[0].id}")
    missing = client.get("/debtors/987654")
    assert foreign.status_code == missing.status_code == 404
    assert _without_request_id(foreign.get_data(as_text=True)) == _without_request_id(
        missing.get_data(as_text=True)
    )


def _without_request_id(page: str) -> str:
    """The page's main content; the language links and support reference name the request."""
    return page.split("<main", 1)[1].split("Reference for support")[0]


def test_own_records_open(client: FlaskClient, tenants: Tenants) -> None:
    sign_in(client, tenants.user_a.email)
    for debtor in tenants.debtors_a:
        assert client.get(f"/debtors/{debtor.id}").status_code == 200
    for account in tenants.accounts_a:
        assert client.get(f"/accounts/{account.id}").status_code == 200


def test_the_list_and_search_show_only_own_debtors(
    client: FlaskClient, tenants: Tenants
) -> None:
    sign_in(client, tenants.user_a.email)
    page = client.get("/debtors").get_data(as_text=True)
    assert all(d.name in page for d in tenants.debtors_a)
    assert not any(d.name in page for d in tenants.debtors_b)
    searched = client.get(f"/debtors?q={tenants.accounts_b[0].external_reference}")
    assert tenants.debtors_b[0].name not in searched.get_data(as_text=True)


def test_agency_supervisors_see_every_creditor(
    client: FlaskClient, tenants: Tenants
) -> None:
    sign_in(client, tenants.supervisor.email)
    assert client.get(f"/debtors/{tenants.debtors_b[0].id}").status_code == 200
    assert client.get(f"/accounts/{tenants.accounts_a[0].id}").status_code == 200


def test_an_agent_sees_only_the_creditors_whose_chats_they_answer(
    client: FlaskClient, tenants: Tenants
) -> None:
    sign_in(client, tenants.agent.email)
    assert client.get(f"/debtors/{tenants.debtors_b[0].id}").status_code == 200
    assert client.get(f"/accounts/{tenants.accounts_b[0].id}").status_code == 200
    assert client.get(f"/debtors/{tenants.debtors_a[0].id}").status_code == 404
    assert client.get(f"/accounts/{tenants.accounts_a[0].id}").status_code == 404
    listed = client.get("/debtors").get_data(as_text=True)
    assert tenants.debtors_b[0].name in listed
    assert tenants.debtors_a[0].name not in listed


def test_opening_a_debtor_is_audited(
    client: FlaskClient, session: Session, tenants: Tenants
) -> None:
    sign_in(client, tenants.agent.email)
    debtor = tenants.debtors_b[1]
    response = client.get(f"/debtors/{debtor.id}")
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "debtor", AuditEvent.object_id == debtor.id
        )
    ).all()
    assert len(events) == 1
    assert events[0].actor_user_id == tenants.agent.id
    assert events[0].action == "viewed"
    assert events[0].creditor_id == debtor.creditor_id
    assert events[0].request_id == response.headers["X-Request-ID"]


def test_a_refused_record_is_not_audited_as_seen(
    client: FlaskClient, session: Session, tenants: Tenants
) -> None:
    sign_in(client, tenants.user_a.email)
    client.get(f"/debtors/{tenants.debtors_b[0].id}")
    assert session.scalars(select(AuditEvent)).all() == []


@pytest.mark.parametrize("path", ["/debtors", "/debtors/1", "/accounts/1"])
def test_anonymous_requests_for_staff_pages_redirect_to_sign_in(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
