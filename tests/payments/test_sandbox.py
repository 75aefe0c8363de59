"""The sandbox gateway: demo cards behave as Stripe's test cards do, and what they cause
arrives as signed, Stripe-shaped events through the same reconciliation as Stripe's."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Account, CheckoutAttempt, Debtor, LedgerEntry, Message
from app.models.enums import (
    AccountStatus,
    CheckoutStatus,
    InstalmentStatus,
    LedgerKind,
    PlanFrequency,
    PlanStatus,
)
from app.services.ledger import balance_of
from payments import checkout
from payments.arrangements import propose_plan
from payments.events import InvalidEvent, apply_event, verify_event
from payments.gateway import (
    ChargeStatus,
    CheckoutMode,
    CheckoutRequest,
    OffSessionCharge,
    PaymentGatewayError,
    SavedMethod,
)
from payments.instalments import charge_due_instalments
from payments.sandbox import (
    Card,
    SandboxCheckout,
    SandboxGateway,
    UnknownCard,
    UnknownCheckout,
)
from tests.factories import make_account, make_creditor, make_debtor

SECRET = "whsec_sandbox_test"
BASE = "https://venlig.example/sandbox/checkout/"
TARGET = checkout.CheckoutTarget(
    success_url="https://venlig.example/p/checkout/{attempt}/done",
    cancel_url="https://venlig.example/p/checkout/{attempt}/cancelled",
    locale="da",
)
Events = list[tuple[bytes, str]]


def make_gateway(secret_key: str = "sandbox-signing-key") -> SandboxGateway:  # noqa: S107
    return SandboxGateway(
        secret_key=secret_key,
        webhook_secret=SECRET,
        checkout_url=lambda token: f"{BASE}{token}",
    )


@pytest.fixture
def gateway() -> SandboxGateway:
    return make_gateway()


def request_for(
    mode: CheckoutMode = CheckoutMode.PAYMENT, **changes: Any
) -> CheckoutRequest:
    values: dict[str, Any] = {
        "mode": mode,
        "currency": "DKK",
        "description": "Nordlys Energi A/S · INV-1",
        "success_url": "https://venlig.example/done",
        "cancel_url": "https://venlig.example/cancelled",
        "idempotency_key": "venlig-checkout-1",
        "country": "DK",
        "locale": "da",
        "amount_minor": 125_000 if mode is CheckoutMode.PAYMENT else None,
        "metadata": {"attempt_id": "1", "account_id": "2"},
    }
    return CheckoutRequest(**(values | changes))


def opened(gateway: SandboxGateway, request: CheckoutRequest) -> SandboxCheckout:
    """What the sandbox's checkout page reads from the link the debtor follows."""
    url = gateway.create_checkout(request).url
    assert url.startswith(BASE)
    return gateway.read_checkout(url.removeprefix(BASE))


def parsed(events: Events, secret: str = SECRET) -> list[dict[str, Any]]:
    return [verify_event(payload, signature, secret) for payload, signature in events]


def objects(events: Events) -> dict[str, dict[str, Any]]:
    return {event["type"]: event["data"]["object"] for event in parsed(events)}


def link_for(token: str) -> str:
    return f"https://venlig.example/p/{token}"


def deliver(session: Session, events: Events, now: datetime) -> list[str]:
    return [
        apply_event(
            session,
            verify_event(payload, signature, SECRET),
            now=now,
            link_for=link_for,
            gateway=make_gateway(),
        )
        for payload, signature in events
    ]


def off_session(
    card: str, key: str = "venlig-instalment-1-attempt-1"
) -> OffSessionCharge:
    return OffSessionCharge(
        amount_minor=40_000,
        currency="DKK",
        customer_ref="cus_sandbox_1",
        payment_method_ref=f"pm_sandbox_{card}",
        description="INV-1 · 2/3",
        idempotency_key=key,
        metadata={"account_id": "2", "instalment_id": "7"},
    )


# --- the checkout link ---------------------------------------------------------------------


def test_the_checkout_link_carries_the_request(gateway: SandboxGateway) -> None:
    request = request_for(save_payment_method=True, customer_ref="cus_1")
    session = gateway.create_checkout(request)
    found = gateway.read_checkout(session.url.removeprefix(BASE))
    assert found.session_id == session.provider_id
    assert found.session_id.startswith("cs_sandbox_")
    assert found.request == request
    assert found.request.mode is CheckoutMode.PAYMENT


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), id="signature"
        ),
        pytest.param(lambda t: "x" + t, id="payload"),
        pytest.param(lambda _t: "not-a-token", id="garbage"),
        pytest.param(lambda _t: "", id="empty"),
    ],
)
def test_a_tampered_checkout_link_is_unknown(gateway: SandboxGateway, tamper) -> None:
    token = gateway.create_checkout(request_for()).url.removeprefix(BASE)
    with pytest.raises(UnknownCheckout):
        gateway.read_checkout(tamper(token))


def test_a_checkout_link_of_another_sandbox_is_unknown(gateway: SandboxGateway) -> None:
    token = make_gateway("another-key").create_checkout(request_for()).url
    with pytest.raises(UnknownCheckout):
        gateway.read_checkout(token.removeprefix(BASE))


def test_a_card_that_is_not_a_demo_card_is_refused(gateway: SandboxGateway) -> None:
    found = opened(gateway, request_for())
    with pytest.raises(UnknownCard):
        gateway.complete_checkout(found, "5555 5555 5555 4444")


# --- every demo card -------------------------------------------------------------------------


def test_the_good_card_pays_and_announces_it_twice_for_one_intent(
    gateway: SandboxGateway,
) -> None:
    found = opened(gateway, request_for())
    outcome = gateway.complete_checkout(found, "4242 4242 4242 4242")
    assert outcome.succeeded
    assert not outcome.needs_authentication
    assert outcome.decline_code is None
    sent = objects(outcome.events)
    assert set(sent) == {"payment_intent.succeeded", "checkout.session.completed"}
    intent = sent["payment_intent.succeeded"]
    session = sent["checkout.session.completed"]
    assert intent["amount_received"] == 125_000
    assert intent["currency"] == "dkk"
    assert intent["metadata"] == {"attempt_id": "1", "account_id": "2"}
    assert intent["payment_method"] == f"pm_sandbox_{Card.SUCCEEDS.value}"
    assert "setup_future_usage" not in intent
    assert session["id"] == found.session_id
    assert session["payment_intent"] == intent["id"]
    assert (session["payment_status"], session["amount_total"]) == ("paid", 125_000)
    assert session["metadata"] == intent["metadata"]


def test_every_event_is_signed_with_the_sandbox_secret_only(
    gateway: SandboxGateway,
) -> None:
    outcome = gateway.complete_checkout(opened(gateway, request_for()), Card.SUCCEEDS)
    assert len(parsed(outcome.events)) == 2
    for payload, signature in outcome.events:
        with pytest.raises(InvalidEvent):
            verify_event(payload, signature, "whsec_stripe_live_secret")
    ids = [event["id"] for event in parsed(outcome.events)]
    assert len(set(ids)) == 2
    assert all(i.startswith("evt_sandbox_") for i in ids)


@pytest.mark.parametrize(
    ("card", "code"),
    [
        (Card.DECLINED, "generic_decline"),
        (Card.INSUFFICIENT_FUNDS, "insufficient_funds"),
    ],
)
def test_a_declining_card_fails_with_its_code(
    gateway: SandboxGateway, card: Card, code: str
) -> None:
    outcome = gateway.complete_checkout(opened(gateway, request_for()), card.value)
    assert not outcome.succeeded
    assert outcome.decline_code == code
    [(kind, intent)] = objects(outcome.events).items()
    assert kind == "payment_intent.payment_failed"
    assert intent["amount_received"] == 0
    assert intent["last_payment_error"]["decline_code"] == code
    assert intent["metadata"] == {"attempt_id": "1", "account_id": "2"}


def test_the_authentication_card_asks_the_bank_first(gateway: SandboxGateway) -> None:
    found = opened(gateway, request_for())
    asked = gateway.complete_checkout(found, Card.AUTHENTICATE)
    assert (asked.succeeded, asked.needs_authentication, asked.events) == (
        False,
        True,
        [],
    )
    approved = gateway.complete_checkout(found, Card.AUTHENTICATE, authenticated=True)
    assert approved.succeeded
    assert "payment_intent.succeeded" in objects(approved.events)


def test_a_failed_authentication_is_a_decline(gateway: SandboxGateway) -> None:
    outcome = gateway.fail_authentication(opened(gateway, request_for()))
    assert not outcome.succeeded
    assert outcome.decline_code == "authentication_failed"
    assert set(objects(outcome.events)) == {"payment_intent.payment_failed"}


def test_the_fails_later_card_pays_now_and_is_kept(gateway: SandboxGateway) -> None:
    found = opened(gateway, request_for(save_payment_method=True))
    outcome = gateway.complete_checkout(found, Card.FAILS_LATER)
    assert outcome.succeeded
    intent = objects(outcome.events)["payment_intent.succeeded"]
    assert intent["setup_future_usage"] == "off_session"
    assert intent["payment_method"] == f"pm_sandbox_{Card.FAILS_LATER.value}"
    assert intent["customer"].startswith("cus_sandbox_")


def test_setup_mode_saves_the_card_without_paying(gateway: SandboxGateway) -> None:
    found = opened(gateway, request_for(CheckoutMode.SETUP, customer_ref="cus_known"))
    outcome = gateway.complete_checkout(found, Card.SUCCEEDS)
    sent = objects(outcome.events)
    assert set(sent) == {"checkout.session.completed", "setup_intent.succeeded"}
    setup = sent["setup_intent.succeeded"]
    assert (setup["payment_method"], setup["customer"]) == (
        f"pm_sandbox_{Card.SUCCEEDS.value}",
        "cus_known",
    )
    assert sent["checkout.session.completed"]["setup_intent"] == setup["id"]
    assert sent["checkout.session.completed"]["mode"] == "setup"


# --- off-session charges (instalments) -------------------------------------------------------


def test_an_off_session_charge_on_the_good_card_succeeds_with_an_event(
    gateway: SandboxGateway,
) -> None:
    outcome = gateway.charge_off_session(off_session(Card.SUCCEEDS))
    assert outcome.status is ChargeStatus.SUCCEEDED
    [event] = parsed(gateway.pending_events)
    assert event["type"] == "payment_intent.succeeded"
    intent = event["data"]["object"]
    assert intent["id"] == outcome.payment_intent_id
    assert intent["amount_received"] == 40_000
    assert intent["metadata"] == {"account_id": "2", "instalment_id": "7"}


@pytest.mark.parametrize(
    ("card", "status", "code"),
    [
        (Card.FAILS_LATER, ChargeStatus.FAILED, "card_declined"),
        (Card.AUTHENTICATE, ChargeStatus.REQUIRES_ACTION, "authentication_required"),
        ("4111111111111111", ChargeStatus.FAILED, "card_declined"),
    ],
)
def test_an_off_session_charge_that_cannot_succeed_sends_no_event(
    gateway: SandboxGateway, card: str, status: ChargeStatus, code: str
) -> None:
    outcome = gateway.charge_off_session(off_session(card))
    assert (outcome.status, outcome.failure_code) == (status, code)
    assert outcome.payment_intent_id
    assert gateway.pending_events == []


def test_one_idempotency_key_is_one_payment_intent(gateway: SandboxGateway) -> None:
    # Stripe answers a repeated key with the first answer; the sandbox must too, or a
    # charge retried after a lost answer would be a second payment.
    first = gateway.charge_off_session(off_session(Card.SUCCEEDS, "key-a"))
    again = gateway.charge_off_session(off_session(Card.SUCCEEDS, "key-a"))
    other = gateway.charge_off_session(off_session(Card.SUCCEEDS, "key-b"))
    assert first.payment_intent_id == again.payment_intent_id
    assert other.payment_intent_id != first.payment_intent_id


# --- through the ledger --------------------------------------------------------------------


@pytest.fixture
def debtor(session: Session, now: datetime) -> Debtor:
    creditor = make_creditor(session, now, name="Nordlys Energi A/S")
    return make_debtor(session, creditor, now, name="Mette Hansen")


@pytest.fixture
def account(session: Session, debtor: Debtor, now: datetime) -> Account:
    return make_account(session, debtor, now, amount_minor=120_000)


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def payments_of(session: Session, account: Account) -> list[int]:
    return list(
        session.scalars(
            select(LedgerEntry.amount_minor).where(
                LedgerEntry.account_id == account.id,
                LedgerEntry.kind == LedgerKind.PAYMENT,
            )
        )
    )


def test_paying_the_balance_with_a_declined_then_a_good_card(
    session: Session,
    gateway: SandboxGateway,
    account: Account,
    debtor: Debtor,
    now: datetime,
) -> None:
    url = checkout.pay_balance(session, gateway, "sandbox", account, TARGET, now=now)
    attempt = session.scalar(select(CheckoutAttempt))
    assert attempt is not None
    found = gateway.read_checkout(token_of(url))
    assert found.request.success_url.endswith(f"/{attempt.id}/done")
    assert found.session_id == attempt.provider_session_id

    declined = gateway.complete_checkout(found, Card.DECLINED)
    assert deliver(session, declined.events, now) == [
        "payment failed (generic_decline); the debtor may try again"
    ]
    assert attempt.failure_code == "generic_decline"
    assert balance_of(session, account.id) == 120_000

    paid = gateway.complete_checkout(found, Card.SUCCEEDS)
    deliver(session, paid.events, now)
    assert attempt.status is CheckoutStatus.COMPLETED
    assert balance_of(session, account.id) == 0
    assert account.status is AccountStatus.PAID
    assert payments_of(session, account) == [120_000]
    receipts = session.scalars(select(Message).where(Message.template_key == "receipt"))
    assert len(receipts.all()) == 1


def test_a_checkout_completed_twice_is_paid_once(
    session: Session, gateway: SandboxGateway, account: Account, now: datetime
) -> None:
    # The debtor pressed "Pay" twice, or went back and paid again: one Checkout Session is
    # one payment at Stripe, and must be in the sandbox too.
    url = checkout.pay_balance(session, gateway, "sandbox", account, TARGET, now=now)
    found = gateway.read_checkout(token_of(url))
    for _ in range(2):
        deliver(session, gateway.complete_checkout(found, Card.SUCCEEDS).events, now)
    assert payments_of(session, account) == [120_000]
    assert balance_of(session, account.id) == 0


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 30), tzinfo=UTC)


def start_plan(
    session: Session,
    gateway: SandboxGateway,
    account: Account,
    card: Card,
    now: datetime,
):
    plan = propose_plan(
        session, account, PlanFrequency.MONTHLY, 3, today=now.date(), now=now
    )
    url = checkout.pay_instalment(
        session, gateway, "sandbox", plan, plan.instalments[0], TARGET, now=now
    )
    found = gateway.read_checkout(token_of(url))
    assert found.request.save_payment_method
    assert found.request.metadata["instalment_id"] == str(plan.instalments[0].id)
    deliver(session, gateway.complete_checkout(found, card).events, now)
    return plan


def test_a_plan_started_with_the_good_card_charges_its_instalments(
    session: Session, gateway: SandboxGateway, account: Account, now: datetime
) -> None:
    plan = start_plan(session, gateway, account, Card.SUCCEEDS, now)
    assert plan.status is PlanStatus.ACTIVE
    assert plan.payment_method_ref == f"pm_sandbox_{Card.SUCCEEDS.value}"
    assert plan.instalments[0].status is InstalmentStatus.PAID
    assert account.status is AccountStatus.PLAN
    second = plan.instalments[1]
    run = charge_due_instalments(
        session, gateway, now=at(second.due_on), link_for=link_for
    )
    assert run.succeeded == 1
    assert second.status is InstalmentStatus.PROCESSING
    events, gateway.pending_events = gateway.pending_events, []
    deliver(session, events, at(second.due_on))
    assert second.status is InstalmentStatus.PAID
    assert balance_of(session, account.id) == 40_000


def test_a_plan_started_with_the_fails_later_card_fails_off_session(
    session: Session, gateway: SandboxGateway, account: Account, now: datetime
) -> None:
    plan = start_plan(session, gateway, account, Card.FAILS_LATER, now)
    assert plan.instalments[0].status is InstalmentStatus.PAID
    second = plan.instalments[1]
    run = charge_due_instalments(
        session, gateway, now=at(second.due_on), link_for=link_for
    )
    assert run.failed == 1
    assert (second.status, second.failure_code) == (
        InstalmentStatus.FAILED,
        "card_declined",
    )
    assert gateway.pending_events == []


def test_a_plan_on_the_authentication_card_asks_the_debtor_to_confirm(
    session: Session, gateway: SandboxGateway, account: Account, now: datetime
) -> None:
    plan = propose_plan(
        session, account, PlanFrequency.MONTHLY, 3, today=now.date(), now=now
    )
    url = checkout.pay_instalment(
        session, gateway, "sandbox", plan, plan.instalments[0], TARGET, now=now
    )
    found = gateway.read_checkout(token_of(url))
    outcome = gateway.complete_checkout(found, Card.AUTHENTICATE, authenticated=True)
    deliver(session, outcome.events, now)
    second = plan.instalments[1]
    charge_due_instalments(session, gateway, now=at(second.due_on), link_for=link_for)
    assert second.status is InstalmentStatus.REQUIRES_ACTION
    confirm = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.template_key == "instalment_confirm")
    )
    assert confirm == 1


def test_a_new_card_for_a_plan_is_saved_in_setup_mode(
    session: Session, gateway: SandboxGateway, account: Account, now: datetime
) -> None:
    plan = start_plan(session, gateway, account, Card.FAILS_LATER, now)
    url = checkout.save_method(session, gateway, "sandbox", plan, TARGET, now=now)
    found = gateway.read_checkout(token_of(url))
    assert found.request.mode is CheckoutMode.SETUP
    assert found.request.customer_ref == plan.customer_ref
    assert plan.payment_method_last4 == "0341"
    deliver(session, gateway.complete_checkout(found, Card.SUCCEEDS).events, now)
    assert plan.payment_method_ref == f"pm_sandbox_{Card.SUCCEEDS.value}"
    assert (plan.payment_method_brand, plan.payment_method_last4) == ("visa", "4242")
    assert (plan.payment_method_exp_month, plan.payment_method_exp_year) == (12, 2030)
    assert balance_of(session, account.id) == 80_000  # saving a card moves no money


@pytest.mark.parametrize("card", list(Card))
def test_every_demo_card_is_described_as_the_visa_it_is(
    gateway: SandboxGateway, card: Card
) -> None:
    assert gateway.describe_payment_method(f"pm_sandbox_{card.value}") == SavedMethod(
        brand="visa", last4=card.value[-4:], exp_month=12, exp_year=2030
    )


@pytest.mark.parametrize("ref", ["pm_sandbox_wallet", "pm_sandbox_4111", "pm_1Qdan"])
def test_a_method_the_sandbox_never_saved_cannot_be_described(
    gateway: SandboxGateway, ref: str
) -> None:
    with pytest.raises(PaymentGatewayError, match="no saved card"):
        gateway.describe_payment_method(ref)


def test_events_reach_the_ledger_only_with_the_sandbox_secret(
    session: Session, account: Account, now: datetime
) -> None:
    impostor = SandboxGateway(
        secret_key="k", webhook_secret="whsec_guess", checkout_url=lambda t: t
    )
    found = impostor.read_checkout(
        impostor.create_checkout(
            request_for(amount_minor=120_000, metadata={"account_id": str(account.id)})
        ).url
    )
    for payload, signature in impostor.complete_checkout(found, Card.SUCCEEDS).events:
        with pytest.raises(InvalidEvent):
            verify_event(payload, signature, SECRET)
        assert json.loads(payload)["type"]
    assert balance_of(session, account.id) == 120_000
