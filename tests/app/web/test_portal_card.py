"""The plan's saved card in the portal: shown where the plan is, changed on its own page,
and a polite warning when it expires before the plan's last instalment."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Account, Debtor, PaymentPlan
from app.models.enums import Language, PlanStatus
from app.services.portal_links import issue_link
from tests.app.web.test_portal import (
    BIRTH,
    csrf,
    follow_sandbox,
    open_and_verify,
)
from tests.factories import make_account, make_creditor, make_debtor

GOOD_CARD = "4242424242424242"
LATER_FAILING_CARD = "4000000000000341"


@pytest.fixture
def wall_now() -> datetime:
    # The portal reads the real clock: links are issued against it.
    return utcnow()


@pytest.fixture
def debtor(session: Session, wall_now: datetime) -> Debtor:
    creditor = make_creditor(session, wall_now, name="Nordlys Energi A/S")
    return make_debtor(
        session, creditor, wall_now, birth_date=BIRTH, language=Language.EN
    )


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


def start_plan(
    client: FlaskClient, session: Session, account: Account, card: str
) -> PaymentPlan:
    page = client.get(f"/p/accounts/{account.id}/plan")
    response = client.post(
        f"/p/accounts/{account.id}/plan",
        data={"csrf_token": csrf(page), "choice": "monthly:3"},
    )
    assert follow_sandbox(client, response.location, card).status_code == 303
    session.expire_all()
    plan = session.scalar(
        select(PaymentPlan).where(PaymentPlan.account_id == account.id)
    )
    assert plan is not None
    assert plan.status is PlanStatus.ACTIVE
    return plan


def text_of(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_overview_and_the_card_page_show_the_saved_card(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    plan = start_plan(client, session, account, GOOD_CARD)
    overview = text_of(client, "/p/")
    assert "paid with: Visa ending 4242, expires 12/2030" in overview
    assert f"/p/plans/{plan.id}/card" in overview
    card_page = text_of(client, f"/p/plans/{plan.id}/card")
    assert "Visa ending 4242, expires 12/2030" in card_page
    assert "Use another card" in card_page
    assert "expires at the end of" not in card_page  # the plan ends long before 2030


def test_another_card_replaces_the_shown_one(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    plan = start_plan(client, session, account, GOOD_CARD)
    path = f"/p/plans/{plan.id}/card"
    page = client.get(path)
    response = client.post(path, data={"csrf_token": csrf(page)})
    assert response.status_code == 303
    assert (
        follow_sandbox(client, response.location, LATER_FAILING_CARD).status_code == 303
    )
    card_page = text_of(client, path)
    assert "Visa ending 0341, expires 12/2030" in card_page
    assert "ending 4242" not in card_page


def test_a_card_expiring_before_the_last_instalment_is_warned_about(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    plan = start_plan(client, session, account, GOOD_CARD)
    second_due = plan.instalments[1].due_on
    plan.payment_method_exp_month = second_due.month
    plan.payment_method_exp_year = second_due.year
    session.commit()
    expiry = f"{second_due.month:02d}/{second_due.year}"
    for path in ("/p/", f"/p/plans/{plan.id}/card"):
        page = text_of(client, path)
        assert f"This card expires at the end of {expiry}, before the plan" in page
        assert f"expires {expiry}" in page


def test_a_card_the_webhook_could_not_describe_is_described_on_its_page(
    client: FlaskClient, session: Session, token: str, account: Account
) -> None:
    open_and_verify(client, token)
    plan = start_plan(client, session, account, GOOD_CARD)
    plan.payment_method_brand = plan.payment_method_last4 = None
    plan.payment_method_exp_month = plan.payment_method_exp_year = None
    session.commit()
    assert "A saved card" in text_of(client, "/p/")
    assert "Visa ending 4242, expires 12/2030" in text_of(
        client, f"/p/plans/{plan.id}/card"
    )
    session.expire_all()
    assert session.get(PaymentPlan, plan.id).payment_method_last4 == "4242"


def test_a_plan_paid_by_link_offers_to_save_a_card(
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
    client.post(path, data={"csrf_token": csrf(checkout), "action": "wallet"})
    session.expire_all()
    plan = session.scalar(select(PaymentPlan))
    assert plan is not None
    assert plan.payment_method_ref is None
    assert "paid with" not in text_of(client, "/p/")
    card_page = text_of(client, f"/p/plans/{plan.id}/card")
    assert "No card is saved for this plan" in card_page
    assert "Save a card" in card_page


def test_the_card_page_of_another_debtors_or_an_ended_plan_is_not_found(
    client: FlaskClient,
    session: Session,
    token: str,
    account: Account,
    debtor: Debtor,
    wall_now: datetime,
) -> None:
    stranger = make_debtor(session, make_creditor(session, wall_now), wall_now)
    their_account = make_account(session, stranger, wall_now, amount_minor=50_000)
    issue_link(session, stranger, now=wall_now)
    session.commit()
    open_and_verify(client, token)
    plan = start_plan(client, session, account, GOOD_CARD)
    theirs = PaymentPlan(
        account_id=their_account.id,
        frequency=plan.frequency,
        total_minor=50_000,
        currency="DKK",
        status=PlanStatus.ACTIVE,
        created_at=wall_now,
    )
    session.add(theirs)
    session.commit()
    assert client.get(f"/p/plans/{theirs.id}/card").status_code == 404
    plan.status = PlanStatus.COMPLETED
    session.commit()
    assert client.get(f"/p/plans/{plan.id}/card").status_code == 404


def test_the_card_is_shown_in_the_debtors_language_with_the_same_details(
    client: FlaskClient, session: Session, token: str, account: Account, debtor: Debtor
) -> None:
    debtor.language = Language.DA
    session.commit()
    open_and_verify(client, token)
    plan = start_plan(client, session, account, GOOD_CARD)
    page = text_of(client, f"/p/plans/{plan.id}/card")
    assert "4242" in page
    assert "12/2030" in page
    assert 'lang="da"' in page
