"""Webhook events in shapes other than ours: fields we do not expect, optional ones missing,
API versions newer than ours, types we do not handle.

The objects are the document's fixtures (stripe_spec3_2023-08-16.yaml), pointed at a real
account and varied by hypothesis within their schema (tests/payments/test_stripe_variants.py):
each event is applied or ignored, stored once, and posts only positive amounts.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Account, CheckoutAttempt, LedgerEntry, PaymentEvent
from app.models.enums import CheckoutPurpose
from payments.stripe_gateway import STRIPE_API_VERSION
from tests.factories import make_account, make_creditor, make_debtor
from tests.payments.stripe_contract import stripe_document
from tests.payments.test_events import (
    deliver,
    event_of,
    paid_event,
    rolled_back,
)
from tests.payments.test_stripe_variants import JSON_VALUES, variant_of

# What each handled event type carries, as the document's fixture of that object.
HANDLED = {
    "checkout.session.completed": "checkout.session",
    "checkout.session.async_payment_succeeded": "checkout.session",
    "checkout.session.expired": "checkout.session",
    "payment_intent.succeeded": "payment_intent",
    "payment_intent.payment_failed": "payment_intent",
    "setup_intent.succeeded": "setup_intent",
    "charge.refunded": "charge",
    "charge.dispute.created": "dispute",
    "charge.dispute.closed": "dispute",
}
VERSIONS = ["2023-08-16", STRIPE_API_VERSION, "2099-01-01.future", None]


@st.composite
def events_for(draw: st.DrawFn, account_id: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(HANDLED)))
    document = stripe_document()
    name = HANDLED[kind]
    obj = document.fixture(name)
    # Pointed at our account, as our own checkouts and charges are.
    obj.update(currency="dkk", metadata={"account_id": str(account_id)})
    if name in ("payment_intent", "charge", "dispute"):
        obj["payment_intent"] = "pi_variant"
    schema = document.spec["components"]["schemas"][name]
    event = event_of(kind, draw(variant_of(document, schema, obj)))
    event["api_version"] = draw(st.sampled_from(VERSIONS))
    extra = st.text(min_size=1, max_size=10).filter(lambda k: k not in event)
    event.update(draw(st.dictionaries(extra, JSON_VALUES, max_size=2)))
    return event


def stored(session: Session, event_id: str) -> int:
    query = select(func.count()).where(PaymentEvent.provider_event_id == event_id)
    return session.scalar(query) or 0


@pytest.fixture
def account_id(session: Session, now: datetime) -> int:
    debtor = make_debtor(session, make_creditor(session, now), now)
    return make_account(session, debtor, now, amount_minor=125_000).id


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_an_event_in_any_documented_shape_is_applied_or_ignored_and_stored_once(
    session: Session, now: datetime, account_id: int, data: st.DataObject
) -> None:
    event = data.draw(events_for(account_id))
    with rolled_back(session):
        outcome = deliver(session, copy.deepcopy(event), now)
        again = deliver(session, copy.deepcopy(event), now)
        session.flush()

        assert isinstance(outcome, str)
        assert again == "duplicate"
        assert stored(session, event["id"]) == 1
        amounts = session.scalars(
            select(LedgerEntry.amount_minor).where(LedgerEntry.account_id == account_id)
        ).all()
        assert all(amount > 0 for amount in amounts)


def test_an_unhandled_type_longer_than_any_we_know_is_stored_and_ignored(
    session: Session, now: datetime
) -> None:
    kind = "v2.core.account_person.some_very_long_event_name_from_the_future.updated"
    event = event_of(kind, {"id": "thing_1", "object": "thing"})
    event["api_version"] = "2099-01-01.future"

    assert deliver(session, event, now) == "ignored"
    assert deliver(session, event, now) == "duplicate"
    session.flush()
    assert stored(session, event["id"]) == 1


@pytest.mark.parametrize("key", ["account_id", "attempt_id", "instalment_id"])
def test_an_id_in_metadata_too_large_for_ours_matches_nothing(
    session: Session, now: datetime, account_id: int, key: str
) -> None:
    account = session.get_one(Account, account_id)
    event = paid_event(account, 1_000, intent="pi_huge")
    event["data"]["object"]["metadata"][key] = "9" * 30

    outcome = deliver(session, event, now)
    session.flush()

    if key == "account_id":
        assert outcome == "payment not matched to an account"
    else:
        assert outcome.startswith("payment of 1000 posted")


@pytest.mark.parametrize("amount", [2**63, 2**70, -5, 0, None, "1000", 10.5, True])
def test_an_amount_outside_what_can_be_a_payment_posts_nothing(
    session: Session, now: datetime, account_id: int, amount: Any
) -> None:
    event = paid_event(session.get_one(Account, account_id), 1_000, intent="pi_odd")
    event["data"]["object"]["amount_received"] = amount

    assert deliver(session, event, now) == "payment not matched to an account"
    session.flush()
    assert stored(session, event["id"]) == 1


def test_a_checkout_with_its_payment_intent_expanded_posts_under_its_id(
    session: Session, now: datetime, account_id: int
) -> None:
    attempt = CheckoutAttempt(
        account_id=account_id,
        purpose=CheckoutPurpose.PAY_BALANCE,
        amount_minor=2_500,
        currency="DKK",
        provider="stripe",
        provider_session_id="cs_test_expanded",
        created_at=now,
    )
    session.add(attempt)
    session.flush()
    session_object = {
        "id": "cs_test_expanded",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "amount_total": 2_500,
        "currency": "dkk",
        "payment_intent": {"id": "pi_expanded", "object": "payment_intent"},
        "metadata": {"account_id": str(account_id), "attempt_id": str(attempt.id)},
    }
    event = event_of("checkout.session.completed", session_object)

    deliver(session, event, now)
    session.flush()

    external = session.scalars(select(LedgerEntry.external_id)).all()
    assert "stripe:pi:pi_expanded" in external


def test_a_dispute_without_reason_or_currency_says_so_plainly(
    session: Session, now: datetime, account_id: int
) -> None:
    account = session.get_one(Account, account_id)
    deliver(session, paid_event(account, 1_000, intent="pi_d"), now)
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "payment_intent": "pi_d",
        "reason": None,
        "currency": None,
        "status": None,
        "amount": 1_000,
    }

    created = deliver(session, event_of("charge.dispute.created", dispute), now)
    closed = deliver(session, event_of("charge.dispute.closed", dispute), now)

    assert created.startswith("card dispute on account")
    assert closed.endswith("closed (); nothing posted")
