"""The debtor portal over HTTP: link, verification, and every self-service action."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.clock import utcnow
from app.logs import RedactPortalTokens
from app.models import (
    Account,
    Creditor,
    Debtor,
    Message,
    PaymentPlan,
    PortalLink,
    PromiseToPay,
    RiskSignal,
)
from app.models.enums import (
    AccountStatus,
    InstalmentStatus,
    PlanStatus,
    VerificationFactor,
)
from app.services.ledger import balance_of
from app.services.portal_links import hash_token, issue_link
from tests.factories import make_account, make_creditor, make_debtor

BIRTH = date(1980, 1, 1)
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def wall_now() -> datetime:
    # The portal reads the real clock: links are issued against it.
    return utcnow()


@pytest.fixture
def debtor(session: Session, wall_now: datetime) -> Debtor:
    creditor = make_creditor(
        session, wall_now, support_phone="+4570101010", name="Nordlys Energi A/S"
    )
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


def csrf(page: TestResponse) -> str:
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def open_and_verify(
    client: FlaskClient, token: str, answer: str = "01-01-1980"
) -> None:
    assert client.get(f"/p/{token}").status_code == 303
    page = client.get("/p/verify")
    response = client.post(
        "/p/verify", data={"answer": answer, "csrf_token": csrf(page)}
    )
    assert response.status_code == 303, response.get_data(as_text=True)


def post_from(
    client: FlaskClient, page_path: str, action: str, **data: str
) -> TestResponse:
    page = client.get(page_path)
    return client.post(action, data={"csrf_token": csrf(page), **data})


def follow_sandbox(client: FlaskClient, checkout_url: str, card: str) -> TestResponse:
    path = urlsplit(checkout_url).path
    page = client.get(path)
    assert page.status_code == 200
    return client.post(
        path, data={"csrf_token": csrf(page), "card_number": card, "action": "pay"}
    )


# --- before verification: nothing about the debt -----------------------------------------


def test_the_verification_page_shows_nothing_about_the_debt(
    client: FlaskClient, token: str, account: Account
) -> None:
    client.get(f"/p/{token}")
    page = client.get("/p/verify").get_data(as_text=True)
    assert "1.200" not in page
    assert "1200" not in page
    assert account.external_reference not in page
    assert "Nordlys" not in page
    assert "fødselsdato" in page.lower()  # the debtor's language, before any choice


def test_an_unknown_or_expired_token_is_refused(
    client: FlaskClient, session: Session, token: str, wall_now: datetime
) -> None:
    assert client.get("/p/not-a-real-token-at-all-123456").status_code == 404
    link = session.scalar(
        select(PortalLink).where(PortalLink.token_hash == hash_token(token))
    )
    assert link is not None
    link.expires_at = wall_now - timedelta(seconds=1)
    session.commit()
    assert client.get(f"/p/{token}").status_code == 404


def test_the_overview_needs_verification(client: FlaskClient, token: str) -> None:
    assert client.get("/p/").status_code == 401
    client.get(f"/p/{token}")
    response = client.get("/p/")
    assert response.status_code == 302
    assert response.location.endswith("/p/verify")


def test_a_wrong_answer_is_refused_and_five_lock_the_link(
    client: FlaskClient, session: Session, token: str
) -> None:
    client.get(f"/p/{token}")
    for attempt in range(1, 6):
        page = client.get("/p/verify")
        response = client.post(
            "/p/verify", data={"answer": "02-02-1990", "csrf_token": csrf(page)}
        )
        assert response.status_code == (429 if attempt == 5 else 400)
        if attempt < 5:  # each wrong answer says how many tries are left, in Danish
            left = 5 - attempt
            said = f"{left} {'gang' if left == 1 else 'gange'} mere"
            assert said in response.get_data(as_text=True)
    page = client.get("/p/verify")
    assert 'name="answer"' not in page.get_data(as_text=True)
    assert "+4570101010" in page.get_data(as_text=True)
    # Even the right answer does not open a locked link.
    response = client.post(
        "/p/verify", data={"answer": "01-01-1980", "csrf_token": csrf(page)}
    )
    assert response.status_code == 429
    assert client.get("/p/").status_code == 302


def test_verification_accepts_the_usual_ways_of_writing_a_date(
    client: FlaskClient, token: str
) -> None:
    open_and_verify(client, token, answer="1980-01-01")
    assert client.get("/p/").status_code == 200


def test_the_invoice_number_verifies_when_the_creditor_chose_it(
    client: FlaskClient, session: Session, token: str, debtor: Debtor, account: Account
) -> None:
    owner = session.get(Creditor, debtor.creditor_id)
    assert owner is not None
    owner.verification_factor = VerificationFactor.REFERENCE
    session.commit()
    open_and_verify(client, token, answer=f" {account.external_reference.lower()} ")
    assert account.external_reference in client.get("/p/").get_data(as_text=True)


def test_a_tampered_session_cookie_is_refused(
    client: FlaskClient, token: str, app: Flask
) -> None:
    open_and_verify(client, token)
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", cookie.value[:-3] + "abc")
    assert client.get("/p/").status_code == 401


def test_another_debtors_account_is_not_found(
    client: FlaskClient,
    session: Session,
    token: str,
    wall_now: datetime,
    debtor: Debtor,
) -> None:
    other_creditor = make_creditor(session, wall_now)
    stranger = make_debtor(session, other_creditor, wall_now)
    foreign = make_account(session, stranger, wall_now)
    session.commit()
    open_and_verify(client, token)
    assert client.get(f"/p/accounts/{foreign.id}/plan").status_code == 404
    response = post_from(client, "/p/", f"/p/accounts/{foreign.id}/pay")
    assert response.status_code == 404


def test_not_me_stops_texts_to_the_number(
    client: FlaskClient, session: Session, token: str, debtor: Debtor
) -> None:
    client.get(f"/p/{token}")
    response = post_from(client, "/p/verify", "/p/not-me")
    assert response.status_code == 200
    session.expire_all()
    assert session.get(Debtor, debtor.id).phone_unusable_reason == "wrong_number"
    signal = session.scalar(select(RiskSignal).where(RiskSignal.debtor_id == debtor.id))
    assert signal is not None
    assert signal.category == "wrong_number"


# --- after verification ------------------------------------------------------------------


def test_the_overview_shows_the_balance_and_reference(
    client: FlaskClient, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    page = client.get("/p/").get_data(as_text=True)
    assert account.external_reference in page
    assert "1.200,00" in page  # Danish formatting, the debtor's language


def test_pay_in_full_with_a_declined_then_a_good_card(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    response = post_from(client, "/p/", f"/p/accounts/{account.id}/pay")
    assert response.status_code == 303
    checkout_url = response.location
    declined = follow_sandbox(client, checkout_url, "4000 0000 0000 0002")
    assert declined.status_code == 402
    session.expire_all()
    assert balance_of(session, account.id) == 120_000
    paid = follow_sandbox(client, checkout_url, "4242424242424242")
    assert paid.status_code == 303
    done = client.get(urlsplit(paid.location).path)
    assert done.status_code == 200
    session.expire_all()
    assert balance_of(session, account.id) == 0
    assert session.get(Account, account.id).status is AccountStatus.PAID
    receipt = session.scalar(select(Message).where(Message.template_key == "receipt"))
    assert receipt is not None
    assert "1.200,00" in (receipt.body or "")


def test_a_three_instalment_plan_pays_the_first_and_keeps_the_card(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    page = client.get(f"/p/accounts/{account.id}/plan")
    assert page.status_code == 200
    assert "monthly:3" in page.get_data(as_text=True)
    response = client.post(
        f"/p/accounts/{account.id}/plan",
        data={"csrf_token": csrf(page), "choice": "monthly:3"},
    )
    assert response.status_code == 303
    assert (
        follow_sandbox(client, response.location, "4242424242424242").status_code == 303
    )
    session.expire_all()
    plan = session.scalar(
        select(PaymentPlan).where(PaymentPlan.account_id == account.id)
    )
    assert plan is not None
    assert plan.status is PlanStatus.ACTIVE
    assert plan.payment_method_ref
    assert [i.status for i in plan.instalments] == [
        InstalmentStatus.PAID,
        InstalmentStatus.SCHEDULED,
        InstalmentStatus.SCHEDULED,
    ]
    assert sum(i.amount_minor for i in plan.instalments) == 120_000
    assert balance_of(session, account.id) == 80_000
    assert session.get(Account, account.id).status is AccountStatus.PLAN


def test_an_unoffered_plan_is_refused(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    page = client.get(f"/p/accounts/{account.id}/plan")
    response = client.post(
        f"/p/accounts/{account.id}/plan",
        data={"csrf_token": csrf(page), "choice": "weekly:40"},
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.scalar(select(PaymentPlan)) is None


def test_a_promise_within_the_limit_pauses_and_one_beyond_is_refused(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    path = f"/p/accounts/{account.id}/promise"
    too_late = (utcnow().date() + timedelta(days=30)).isoformat()
    refused = post_from(client, path, path, promised_on=too_late)
    assert refused.status_code == 400
    # The refusal names the last allowed day (14 days by default), in the debtor's Danish.
    last = utcnow().date() + timedelta(days=14)
    assert "Vælg en dato fra" in refused.get_data(as_text=True)
    assert (
        f"{last.day}. " in refused.get_data(as_text=True).split("Vælg en dato fra")[1]
    )
    good = (utcnow().date() + timedelta(days=7)).isoformat()
    assert post_from(client, path, path, promised_on=good).status_code == 200
    session.expire_all()
    promise = session.scalar(select(PromiseToPay))
    assert promise is not None
    assert promise.promised_on.isoformat() == good
    assert session.get(Account, account.id).status is AccountStatus.PROMISED


def test_a_dispute_pauses_the_account_and_raises_a_signal(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    path = f"/p/accounts/{account.id}/dispute"
    response = post_from(
        client,
        path,
        path,
        reason="already_paid",
        details="I paid on 3 October by transfer",
    )
    assert response.status_code == 200
    session.expire_all()
    assert session.get(Account, account.id).status is AccountStatus.DISPUTED
    categories = set(session.scalars(select(RiskSignal.category)))
    assert "already_paid" in categories


def test_a_dispute_without_a_reason_changes_nothing(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    path = f"/p/accounts/{account.id}/dispute"
    assert post_from(client, path, path, details="hmm").status_code == 400
    session.expire_all()
    assert session.get(Account, account.id).status is AccountStatus.OPEN
    assert session.scalar(select(RiskSignal)) is None


def test_breathing_space_pauses_every_open_account(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    path = "/p/breathing-space"
    assert post_from(client, path, path, reason="job_loss").status_code == 200
    session.expire_all()
    paused = session.get(Account, account.id)
    assert paused is not None
    assert paused.pause_reason == "breathing_space"
    assert paused.paused_until is not None
    assert paused.paused_until > utcnow() + timedelta(days=29)
    assert session.scalar(select(RiskSignal.category)) == "hardship"
    # The case page says so, and no longer offers what was just done.
    page = client.get("/p/").get_data(as_text=True)  # in the debtor's Danish
    assert "Vi sender ingen påmindelser om denne faktura før" in page
    assert "Du kan stadig betale, når det passer dig." in page
    assert 'href="/p/breathing-space"' not in page


def test_the_token_never_reaches_the_log(
    token: str,
) -> None:
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '"GET /p/%s HTTP/1.1" 303 -',
        (token,),
        None,
    )
    RedactPortalTokens().filter(record)
    assert token not in record.getMessage()
    assert "/p/[token]" in record.getMessage()


def test_a_plan_started_with_mobilepay_is_paid_by_link_from_then_on(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    page = client.get(f"/p/accounts/{account.id}/plan")
    response = client.post(
        f"/p/accounts/{account.id}/plan",
        data={"csrf_token": csrf(page), "choice": "monthly:3"},
    )
    path = urlsplit(response.location).path
    checkout = client.get(path)
    assert "MobilePay" in checkout.get_data(as_text=True)
    paid = client.post(path, data={"csrf_token": csrf(checkout), "action": "wallet"})
    assert paid.status_code == 303
    session.expire_all()
    plan = session.scalar(
        select(PaymentPlan).where(PaymentPlan.account_id == account.id)
    )
    assert plan is not None
    assert plan.status is PlanStatus.ACTIVE
    assert plan.payment_method_ref is None
    assert plan.instalments[0].status is InstalmentStatus.PAID
    assert balance_of(session, account.id) == 80_000
