"""POST /webhooks/stripe: a signed event is applied once; anything else is a 400 that changes
nothing."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.clock import utcnow
from app.models import (
    Account,
    CheckoutAttempt,
    LedgerEntry,
    Message,
    PaymentEvent,
    PaymentPlan,
    PortalLink,
    RiskSignal,
)
from app.models.enums import AccountStatus, CheckoutPurpose, PlanFrequency
from app.providers import GATEWAY_KEY
from app.services.ledger import balance_of
from payments.arrangements import propose_plan
from payments.gateway import SavedMethod
from tests.factories import make_account, make_creditor, make_debtor
from tests.payments.fakes import CardDirectory

SANDBOX_SECRET = "whsec_dev_sandbox"  # the testing default, as in development
STRIPE_SECRET = "whsec_test_stripe_endpoint"
TABLES = (PaymentEvent, LedgerEntry, Message, PortalLink, RiskSignal)


@pytest.fixture
def wall_now() -> datetime:
    return utcnow()


@pytest.fixture
def account(session: Session, wall_now: datetime) -> Account:
    creditor = make_creditor(session, wall_now, name="Nordlys Energi A/S")
    debtor = make_debtor(session, creditor, wall_now, name="Mette Hansen")
    account = make_account(session, debtor, wall_now, amount_minor=120_000)
    session.commit()
    return account


def paid_event(
    account: Account, amount: int = 120_000, **changes: Any
) -> dict[str, Any]:
    event = {
        "id": "evt_1QwebhookPaid",
        "object": "event",
        "type": "payment_intent.succeeded",
        "livemode": False,
        "data": {
            "object": {
                "id": "pi_3Qwebhook",
                "object": "payment_intent",
                "status": "succeeded",
                "amount": amount,
                "amount_received": amount,
                "currency": "dkk",
                "metadata": {"account_id": str(account.id)},
            }
        },
    }
    return event | changes


def post(
    client: FlaskClient,
    payload: str,
    *,
    secret: str = SANDBOX_SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
) -> TestResponse:
    header = (
        signature
        if signature is not None
        else stripe.WebhookSignature.generate_signature_header(
            payload, secret, timestamp
        )
    )
    return client.post(
        "/webhooks/stripe",
        data=payload.encode(),
        headers={"Stripe-Signature": header} if header else {},
        content_type="application/json",
    )


def rows(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        or 0
        for model in TABLES
    }


def test_a_signed_payment_is_posted_and_stops_the_sequence(
    client: FlaskClient, session: Session, account: Account
) -> None:
    response = post(client, json.dumps(paid_event(account)))
    assert response.status_code == 200
    assert response.json == {
        "outcome": f"payment of 120000 posted to account {account.id}"
    }
    session.expire_all()
    assert balance_of(session, account.id) == 0
    assert session.get(Account, account.id).status is AccountStatus.PAID
    receipt = session.scalar(select(Message).where(Message.template_key == "receipt"))
    assert receipt is not None


def test_the_same_event_twice_is_recognised_as_a_duplicate(
    client: FlaskClient, session: Session, account: Account
) -> None:
    payload = json.dumps(paid_event(account, 20_000))
    assert post(client, payload).status_code == 200
    before = rows(session)
    again = post(client, payload)
    assert again.status_code == 200
    assert again.json == {"outcome": "duplicate"}
    assert rows(session) == before
    assert balance_of(session, account.id) == 100_000


def test_another_event_about_the_same_payment_posts_nothing_more(
    client: FlaskClient, session: Session, account: Account
) -> None:
    post(client, json.dumps(paid_event(account, 20_000)))
    other = paid_event(account, 20_000, id="evt_1QwebhookPaidAgain")
    response = post(client, json.dumps(other))
    assert response.json == {"outcome": "payment already posted"}
    session.expire_all()
    assert balance_of(session, account.id) == 100_000


def _bad_requests() -> list[Any]:
    good = json.dumps({"id": "evt_x", "type": "payment_intent.succeeded"})
    return [
        pytest.param({"secret": "whsec_not_ours"}, id="wrong-secret"),
        pytest.param({"signature": ""}, id="no-signature"),
        pytest.param({"signature": "t=1,v1=00"}, id="made-up-signature"),
        pytest.param({"timestamp": int(time.time()) - 301}, id="older-than-300s"),
        pytest.param({"payload": "this is not json"}, id="not-json"),
        pytest.param({"payload": good}, id="no-data"),
        pytest.param(
            {"payload": json.dumps({"id": "evt_x", "type": "x", "data": None})},
            id="data-null",
        ),
        pytest.param({"tamper": True}, id="body-changed-after-signing"),
    ]


@pytest.mark.parametrize("bad", _bad_requests())
def test_a_bad_delivery_is_refused_with_400_and_changes_nothing(
    client: FlaskClient, session: Session, account: Account, bad: dict[str, Any]
) -> None:
    before = rows(session)
    payload = bad.get("payload", json.dumps(paid_event(account)))
    if bad.get("tamper"):
        signature = stripe.WebhookSignature.generate_signature_header(
            payload, SANDBOX_SECRET
        )
        response = post(
            client, payload.replace("120000", "999999"), signature=signature
        )
    else:
        response = post(
            client,
            payload,
            secret=bad.get("secret", SANDBOX_SECRET),
            timestamp=bad.get("timestamp"),
            signature=bad.get("signature"),
        )
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["code"] == "invalid_event"
    assert rows(session) == before
    assert balance_of(session, account.id) == 120_000
    assert session.get(Account, account.id).status is AccountStatus.OPEN


def test_an_unknown_event_type_is_stored_and_ignored(
    client: FlaskClient, session: Session, account: Account
) -> None:
    event = {
        "id": "evt_1QcustomerCreated",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }
    response = post(client, json.dumps(event))
    assert (response.status_code, response.json) == (200, {"outcome": "ignored"})
    session.expire_all()
    stored = session.scalar(select(PaymentEvent))
    assert stored is not None
    assert (stored.provider_event_id, stored.outcome) == (
        "evt_1QcustomerCreated",
        "ignored",
    )
    assert balance_of(session, account.id) == 120_000


def test_a_payment_in_another_currency_is_refused_but_recorded(
    client: FlaskClient, session: Session, account: Account
) -> None:
    event = paid_event(account)
    event["data"]["object"]["currency"] = "eur"
    response = post(client, json.dumps(event))
    assert response.status_code == 200  # a correct delivery: Stripe must not retry it
    assert "refused" in response.json["outcome"]
    session.expire_all()
    assert balance_of(session, account.id) == 120_000
    assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_with_stripe_configured_only_stripes_secret_is_accepted(
    make_app,
    session: Session,
    account: Account,
) -> None:
    app: Flask = make_app(
        PAYMENTS_BACKEND="stripe",
        STRIPE_SECRET_KEY="sk_test_unused",
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
    )
    client = app.test_client()
    payload = json.dumps(paid_event(account))
    assert post(client, payload, secret=SANDBOX_SECRET).status_code == 400
    assert rows(session)["payment_events"] == 0
    assert post(client, payload, secret=STRIPE_SECRET).status_code == 200
    session.expire_all()
    assert balance_of(session, account.id) == 0


def test_the_webhook_needs_no_csrf_token_and_takes_only_post(
    make_app,
    account: Account,
) -> None:
    app: Flask = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert post(client, json.dumps(paid_event(account))).status_code == 200
    assert client.get("/webhooks/stripe").status_code == 405


def dispute_closed(account: Account, status: str) -> dict[str, Any]:
    return {
        "id": f"evt_1QwebhookDispute{status.title()}",
        "object": "event",
        "type": "charge.dispute.closed",
        "livemode": False,
        "data": {
            "object": {
                "id": "dp_1Qwebhook",
                "object": "dispute",
                "amount": 120_000,
                "currency": "dkk",
                "charge": "ch_3Qwebhook",
                "payment_intent": "pi_3Qwebhook",
                "status": status,
                "reason": "fraudulent",
                "metadata": {},
            }
        },
    }


def test_a_lost_card_dispute_reopens_the_paid_account(
    client: FlaskClient, session: Session, account: Account
) -> None:
    assert post(client, json.dumps(paid_event(account))).status_code == 200
    response = post(client, json.dumps(dispute_closed(account, "lost")))
    assert response.status_code == 200
    assert response.json == {
        "outcome": f"lost dispute of 120000 posted to account {account.id}"
    }
    session.expire_all()
    assert balance_of(session, account.id) == 120_000
    assert session.get(Account, account.id).status is AccountStatus.OPEN


def test_a_saved_card_is_described_through_the_configured_gateway(
    app: Flask, client: FlaskClient, session: Session, account: Account
) -> None:
    cards = CardDirectory({"pm_1Qwebhook": SavedMethod("mastercard", "4444", 3, 2028)})
    app.extensions[GATEWAY_KEY] = cards
    plan = propose_plan(
        session,
        account,
        PlanFrequency.MONTHLY,
        3,
        today=utcnow().date(),
        now=utcnow(),
    )
    attempt = CheckoutAttempt(
        account_id=account.id,
        plan_id=plan.id,
        purpose=CheckoutPurpose.SAVE_METHOD,
        currency="DKK",
        provider="stripe",
        created_at=utcnow(),
    )
    session.add(attempt)
    session.commit()
    event = {
        "id": "evt_1QwebhookSetup",
        "object": "event",
        "type": "setup_intent.succeeded",
        "livemode": False,
        "data": {
            "object": {
                "id": "seti_1Qwebhook",
                "object": "setup_intent",
                "status": "succeeded",
                "customer": "cus_Qwebhook",
                "payment_method": "pm_1Qwebhook",
                "metadata": {"attempt_id": str(attempt.id)},
            }
        },
    }
    assert post(client, json.dumps(event)).status_code == 200
    session.expire_all()
    stored = session.get(PaymentPlan, plan.id)
    assert stored is not None
    assert (stored.payment_method_brand, stored.payment_method_last4) == (
        "mastercard",
        "4444",
    )
    assert cards.asked == ["pm_1Qwebhook"]
