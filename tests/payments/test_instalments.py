"""Charging instalments off-session: success, authentication, declines, retries, missed, broken.

The gateway is a scripted fake: each charge gets the next scripted answer (or error), and every
request is kept so the tests can read the idempotency keys and what was charged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, Debtor, Instalment, Message, PaymentPlan, PlanRules
from app.models.enums import (
    AccountStatus,
    InstalmentStatus,
    LedgerKind,
    PlanFrequency,
    PlanStatus,
)
from app.risk.requests import DisputeReason, open_dispute
from app.services.ledger import balance_of, post_entry
from payments.arrangements import propose_plan
from payments.events import apply_event, verify_event
from payments.gateway import (
    ChargeOutcome,
    ChargeStatus,
    CheckoutRequest,
    CheckoutSession,
    OffSessionCharge,
    PaymentGatewayError,
    SavedMethod,
)
from payments.instalments import (
    MAX_ATTEMPTS,
    ChargeRun,
    charge_due_instalments,
    mark_overdue_missed,
)
from payments.overview import accounts_for
from payments.settlement import (
    activate_plan,
    mark_instalment_paid,
    save_plan_method,
    settle_account,
)
from reminders.state import ContactFacts
from tests.factories import make_account, make_creditor, make_debtor

SECRET = "whsec_test_instalments"
SUCCEEDED = ChargeOutcome(ChargeStatus.SUCCEEDED, "pi_ok")
NEEDS_ACTION = ChargeOutcome(
    ChargeStatus.REQUIRES_ACTION, "pi_3ds", "authentication_required"
)
DECLINED = ChargeOutcome(ChargeStatus.FAILED, "pi_no", "card_declined", "Declined")
UNREACHABLE = PaymentGatewayError("Stripe did not answer")
VISA = SavedMethod(brand="visa", last4="4242", exp_month=12, exp_year=2030)


@dataclass
class FakeGateway:
    """A PaymentGateway that answers charges from a script, then with `otherwise`."""

    script: list[ChargeOutcome | PaymentGatewayError] = field(default_factory=list)
    otherwise: ChargeOutcome | PaymentGatewayError = SUCCEEDED
    charges: list[OffSessionCharge] = field(default_factory=list)
    status_answer: ChargeOutcome = field(
        default_factory=lambda: ChargeOutcome(ChargeStatus.PROCESSING, "pi_ok")
    )
    looked_up: list[str] = field(default_factory=list)

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        raise AssertionError("the charging job never opens a checkout")

    def charge_off_session(self, charge: OffSessionCharge) -> ChargeOutcome:
        self.charges.append(charge)
        answer = self.script.pop(0) if self.script else self.otherwise
        if isinstance(answer, PaymentGatewayError):
            raise answer
        # Like Stripe, one PaymentIntent per idempotency key.
        return ChargeOutcome(
            answer.status,
            f"{answer.payment_intent_id}_{charge.idempotency_key}",
            answer.failure_code,
            answer.failure_message,
        )

    def charge_status(self, payment_intent_id: str) -> ChargeOutcome:
        self.looked_up.append(payment_intent_id)
        return self.status_answer

    def describe_payment_method(self, payment_method_ref: str) -> SavedMethod:
        return VISA

    @property
    def keys(self) -> list[str]:
        return [c.idempotency_key for c in self.charges]


def link_for(token: str) -> str:
    return f"https://venlig.example/p/{token}"


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 30), tzinfo=UTC)


def charge(session: Session, gateway: FakeGateway, day: date) -> ChargeRun:
    return charge_due_instalments(session, gateway, now=at(day), link_for=link_for)


def confirm(
    session: Session, charged: OffSessionCharge, intent_id: str, day: date
) -> str:
    """Stripe's payment_intent.succeeded for an off-session charge, signed and applied."""
    event = {
        "id": f"evt_{intent_id}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "status": "succeeded",
                "amount": charged.amount_minor,
                "amount_received": charged.amount_minor,
                "currency": charged.currency.lower(),
                "customer": charged.customer_ref,
                "payment_method": charged.payment_method_ref,
                "metadata": charged.metadata,
            }
        },
    }
    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
    return apply_event(
        session,
        verify_event(payload.encode(), signature, SECRET),
        now=at(day),
        link_for=link_for,
        gateway=FakeGateway(),
    )


def texts(session: Session, debtor: Debtor, template_key: str) -> list[Message]:
    return list(
        session.scalars(
            select(Message).where(
                Message.debtor_id == debtor.id, Message.template_key == template_key
            )
        )
    )


@pytest.fixture
def debtor(session: Session, now: datetime) -> Debtor:
    creditor = make_creditor(session, now, name="Nordlys Energi A/S")
    return make_debtor(session, creditor, now, name="Mette Hansen")


@pytest.fixture
def account(session: Session, debtor: Debtor, now: datetime) -> Account:
    return make_account(session, debtor, now, amount_minor=120_000)


def card_plan(
    session: Session, account: Account, now: datetime, count: int = 3
) -> PaymentPlan:
    """A monthly plan started by saving a card: its first instalment is due today."""
    plan = propose_plan(
        session, account, PlanFrequency.MONTHLY, count, today=now.date(), now=now
    )
    save_plan_method(session, plan, "pm_card_visa", "cus_mette", VISA)
    assert plan.status is PlanStatus.ACTIVE
    return plan


@pytest.fixture
def plan(session: Session, account: Account, now: datetime) -> PaymentPlan:
    return card_plan(session, account, now)


def with_grace(session: Session, account: Account) -> None:
    session.add(
        PlanRules(creditor_id=account.creditor_id, grace_moves_missed_instalment=True)
    )
    session.flush()


def decline_until_missed(
    session: Session, gateway: FakeGateway, instalment: Instalment
) -> date:
    """Decline the first charge and both retries; returns the day it was missed."""
    day = instalment.due_on
    for _attempt in range(MAX_ATTEMPTS):
        charge(session, gateway, day)
        day += timedelta(days=3)
    return day - timedelta(days=3)


# --- what is charged ------------------------------------------------------------------------


def test_the_charge_uses_the_plans_card_and_names_the_instalment(
    session: Session, account: Account, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway()
    assert charge(session, gateway, now.date()).succeeded == 1
    [sent] = gateway.charges
    first = plan.instalments[0]
    assert sent.amount_minor == first.amount_minor == 40_000
    assert (sent.currency, sent.customer_ref, sent.payment_method_ref) == (
        "DKK",
        "cus_mette",
        "pm_card_visa",
    )
    assert (
        sent.idempotency_key
        == f"venlig-instalment-{first.id}-attempt-1-{first.amount_minor}"
    )
    assert sent.metadata == {
        "account_id": str(account.id),
        "plan_id": str(plan.id),
        "instalment_id": str(first.id),
    }
    assert account.external_reference in sent.description


def test_only_instalments_due_today_are_charged(
    session: Session, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway()
    charge(session, gateway, now.date() - timedelta(days=1))
    assert gateway.charges == []
    charge(session, gateway, now.date())
    assert len(gateway.charges) == 1
    second = plan.instalments[1]
    charge(session, gateway, second.due_on - timedelta(days=1))
    assert len(gateway.charges) == 1
    charge(session, gateway, second.due_on)
    assert len(gateway.charges) == 2


def test_a_plan_without_a_card_is_not_charged(
    session: Session, account: Account, now: datetime
) -> None:
    propose_plan(session, account, PlanFrequency.MONTHLY, 3, today=now.date(), now=now)
    gateway = FakeGateway()
    charge(session, gateway, now.date() + timedelta(days=40))
    assert gateway.charges == []


# --- success -------------------------------------------------------------------------------


def test_a_successful_charge_is_processing_until_its_event_says_paid(
    session: Session,
    account: Account,
    debtor: Debtor,
    plan: PaymentPlan,
    now: datetime,
) -> None:
    gateway = FakeGateway()
    charge(session, gateway, now.date())
    first = plan.instalments[0]
    assert first.status is InstalmentStatus.PROCESSING
    assert first.attempts == 1
    assert first.payment_intent_id == f"pi_ok_{gateway.keys[0]}"
    assert balance_of(session, account.id) == 120_000  # money moves only with the event
    charge(session, gateway, now.date() + timedelta(days=1))
    assert len(gateway.charges) == 1  # processing is never charged again

    outcome = confirm(session, gateway.charges[0], first.payment_intent_id, now.date())
    assert outcome == f"payment of 40000 posted to account {account.id}"
    assert first.status is InstalmentStatus.PAID
    assert first.paid_at == now
    assert balance_of(session, account.id) == 80_000
    assert account.status is AccountStatus.PLAN
    assert len(texts(session, debtor, "receipt")) == 1


def test_the_last_instalment_paid_completes_the_plan(
    session: Session, account: Account, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway()
    for instalment in plan.instalments:
        charge(session, gateway, instalment.due_on)
        confirm(
            session, gateway.charges[-1], str(instalment.payment_intent_id), now.date()
        )
    assert [i.status for i in plan.instalments] == [InstalmentStatus.PAID] * 3
    assert plan.status is PlanStatus.COMPLETED
    assert account.status is AccountStatus.PAID
    assert balance_of(session, account.id) == 0


def test_a_plan_spent_while_money_is_owed_ends_and_the_sequence_resumes(
    session: Session, account: Account, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway()
    first, *rest = plan.instalments
    charge(session, gateway, first.due_on)
    confirm(session, gateway.charges[-1], str(first.payment_intent_id), now.date())
    # The first instalment is refunded: the rest of the plan no longer covers the balance.
    post_entry(session, account, LedgerKind.REFUND, first.amount_minor, now=now)
    settle_account(session, account, now)
    assert (plan.status, account.status) == (PlanStatus.ACTIVE, AccountStatus.PLAN)
    for instalment in rest:
        charge(session, gateway, instalment.due_on)
        confirm(
            session,
            gateway.charges[-1],
            str(instalment.payment_intent_id),
            instalment.due_on,
        )
    assert balance_of(session, account.id) == first.amount_minor
    assert plan.status is PlanStatus.COMPLETED
    assert account.status is AccountStatus.OPEN
    state = ContactFacts(session, [account], at(rest[-1].due_on)).state_for(account)
    assert not state.plan_in_good_standing


def test_a_last_instalment_missed_once_ends_the_plan_instead_of_silencing_it(
    session: Session, account: Account, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway()
    *paid, last = plan.instalments
    for instalment in paid:
        charge(session, gateway, instalment.due_on)
        confirm(
            session,
            gateway.charges[-1],
            str(instalment.payment_intent_id),
            instalment.due_on,
        )
    gateway.otherwise = DECLINED
    missed_on = decline_until_missed(session, gateway, last)
    assert last.status is InstalmentStatus.MISSED
    assert (plan.status, plan.ended_at) == (PlanStatus.BROKEN, at(missed_on))
    assert account.status is AccountStatus.OPEN


def test_a_plan_of_an_account_paid_in_full_is_not_charged(
    session: Session, account: Account, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway()
    charge(session, gateway, now.date())
    first = plan.instalments[0]
    confirm(session, gateway.charges[0], str(first.payment_intent_id), now.date())
    assert balance_of(session, account.id) == 80_000
    rest = OffSessionCharge(
        amount_minor=80_000,
        currency="DKK",
        customer_ref="cus_mette",
        payment_method_ref="pm_card_visa",
        description="the rest, paid at checkout",
        idempotency_key="checkout",
        metadata={"account_id": str(account.id)},
    )
    confirm(session, rest, "pi_rest", now.date())
    assert plan.status is PlanStatus.COMPLETED
    charge(session, gateway, plan.instalments[1].due_on)
    assert len(gateway.charges) == 1


# --- the bank asks the debtor to authenticate ------------------------------------------------


def test_a_charge_needing_authentication_is_never_retried_blind(
    session: Session, debtor: Debtor, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(otherwise=NEEDS_ACTION)
    run = charge(session, gateway, now.date())
    assert run.needs_action == 1
    first = plan.instalments[0]
    assert first.status is InstalmentStatus.REQUIRES_ACTION
    for day in range(1, 8):
        charge(session, gateway, now.date() + timedelta(days=day))
    assert len(gateway.charges) == 1
    [text] = texts(session, debtor, "instalment_confirm")
    assert "/p/" in (text.body or "")
    assert first.status is InstalmentStatus.REQUIRES_ACTION
    assert plan.status is PlanStatus.ACTIVE


def test_an_unconfirmed_instalment_is_missed_after_seven_days(
    session: Session, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(otherwise=NEEDS_ACTION)
    charge(session, gateway, now.date())
    first = plan.instalments[0]
    assert mark_overdue_missed(session, now=at(now.date() + timedelta(days=7))) == 0
    assert first.status is InstalmentStatus.REQUIRES_ACTION
    assert mark_overdue_missed(session, now=at(now.date() + timedelta(days=8))) == 1
    assert first.status is InstalmentStatus.MISSED
    assert plan.status is PlanStatus.ACTIVE  # the first miss is counted, not fatal


def test_a_wallet_instalment_not_paid_from_its_link_is_missed_after_seven_days(
    session: Session, account: Account, now: datetime
) -> None:
    plan = propose_plan(
        session, account, PlanFrequency.MONTHLY, 3, today=now.date(), now=now
    )
    # Started with a MobilePay payment: the first instalment is paid and no card is kept.
    first, second, third = plan.instalments
    mark_instalment_paid(session, first, "pi_mobilepay", now)
    assert (plan.status, plan.payment_method_ref) == (PlanStatus.ACTIVE, None)
    assert mark_overdue_missed(session, now=at(second.due_on + timedelta(days=7))) == 0
    assert mark_overdue_missed(session, now=at(second.due_on + timedelta(days=8))) == 1
    assert second.status is InstalmentStatus.MISSED
    assert plan.status is PlanStatus.ACTIVE
    assert mark_overdue_missed(session, now=at(third.due_on + timedelta(days=8))) == 1
    assert plan.status is PlanStatus.BROKEN


# --- declines: one text, two retries on later days, then missed ------------------------------


def test_a_declined_charge_is_retried_twice_three_days_apart_then_missed(
    session: Session, debtor: Debtor, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(otherwise=DECLINED)
    first = plan.instalments[0]
    today = now.date()

    assert charge(session, gateway, today).failed == 1
    assert (first.status, first.attempts) == (InstalmentStatus.FAILED, 1)
    assert first.next_attempt_on == today + timedelta(days=3)
    assert first.failure_code == "card_declined"
    for day in (1, 2):
        charge(session, gateway, today + timedelta(days=day))
    assert len(gateway.charges) == 1

    charge(session, gateway, today + timedelta(days=3))
    assert (first.status, first.attempts) == (InstalmentStatus.FAILED, 2)
    assert first.next_attempt_on == today + timedelta(days=6)

    charge(session, gateway, today + timedelta(days=6))
    assert (first.status, first.attempts) == (InstalmentStatus.MISSED, 3)
    assert first.next_attempt_on is None
    for day in range(7, 20):
        charge(session, gateway, today + timedelta(days=day))
    assert len(gateway.charges) == MAX_ATTEMPTS == 3

    # One polite text for the instalment, not one per attempt.
    assert len(texts(session, debtor, "instalment_failed")) == 1
    assert plan.status is PlanStatus.ACTIVE


def test_idempotency_keys_are_per_instalment_attempt(
    session: Session, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(otherwise=DECLINED)
    first, second = plan.instalments[0], plan.instalments[1]
    decline_until_missed(session, gateway, first)
    gateway.otherwise = SUCCEEDED
    charge(session, gateway, second.due_on)
    assert gateway.keys == [
        f"venlig-instalment-{first.id}-attempt-1-{first.amount_minor}",
        f"venlig-instalment-{first.id}-attempt-2-{first.amount_minor}",
        f"venlig-instalment-{first.id}-attempt-3-{first.amount_minor}",
        f"venlig-instalment-{second.id}-attempt-1-{second.amount_minor}",
    ]
    assert len(set(gateway.keys)) == 4


def test_a_retry_that_succeeds_pays_the_instalment(
    session: Session, debtor: Debtor, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(script=[DECLINED], otherwise=SUCCEEDED)
    first = plan.instalments[0]
    charge(session, gateway, now.date())
    charge(session, gateway, now.date() + timedelta(days=3))
    assert first.status is InstalmentStatus.PROCESSING
    confirm(session, gateway.charges[-1], str(first.payment_intent_id), now.date())
    assert first.status is InstalmentStatus.PAID
    assert first.next_attempt_on is None


def test_each_instalment_gets_its_own_failure_text(
    session: Session, debtor: Debtor, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(otherwise=DECLINED)
    decline_until_missed(session, gateway, plan.instalments[0])
    charge(session, gateway, plan.instalments[1].due_on)
    assert len(texts(session, debtor, "instalment_failed")) == 2


def test_no_failure_text_to_a_debtor_who_said_stop(
    session: Session, debtor: Debtor, plan: PaymentPlan, now: datetime
) -> None:
    debtor.sms_opted_out_at = now
    charge(session, FakeGateway(otherwise=DECLINED), now.date())
    assert plan.instalments[0].status is InstalmentStatus.FAILED
    assert texts(session, debtor, "instalment_failed") == []


# --- a second missed instalment breaks the plan ----------------------------------------------


def test_a_second_missed_instalment_breaks_the_plan_and_resumes_the_sequence(
    session: Session, account: Account, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(otherwise=DECLINED)
    first, second, third = plan.instalments
    decline_until_missed(session, gateway, first)
    assert (plan.status, account.status) == (PlanStatus.ACTIVE, AccountStatus.PLAN)
    broken_on = decline_until_missed(session, gateway, second)
    assert second.status is InstalmentStatus.MISSED
    assert plan.status is PlanStatus.BROKEN
    assert plan.ended_at == at(broken_on)
    assert account.status is AccountStatus.OPEN
    state = ContactFacts(session, [account], at(broken_on)).state_for(account)
    assert not state.plan_in_good_standing
    charges = len(gateway.charges)
    charge(session, gateway, third.due_on)
    assert len(gateway.charges) == charges  # a broken plan charges nothing more
    assert third.status is InstalmentStatus.SCHEDULED


def test_a_disputed_account_is_not_charged_while_the_dispute_runs(
    session: Session, account: Account, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(otherwise=DECLINED)
    decline_until_missed(session, gateway, plan.instalments[0])
    open_dispute(session, account, DisputeReason.WRONG_AMOUNT, "", now=now)
    charged_before = len(gateway.charges)
    charge(session, gateway, plan.instalments[1].due_on + timedelta(days=10))
    assert len(gateway.charges) == charged_before
    assert plan.status is PlanStatus.ACTIVE
    assert account.status is AccountStatus.DISPUTED


def test_an_instalment_of_a_plan_broken_earlier_in_the_same_run_is_not_charged(
    session: Session, plan: PaymentPlan, now: datetime
) -> None:
    # The worker was down: the second instalment's last retry and the third fall on one day.
    first, second, third = plan.instalments
    first.status, first.attempts = InstalmentStatus.MISSED, MAX_ATTEMPTS
    day = third.due_on
    second.status, second.attempts, second.next_attempt_on = (
        InstalmentStatus.FAILED,
        MAX_ATTEMPTS - 1,
        day,
    )
    gateway = FakeGateway(otherwise=DECLINED)
    charge(session, gateway, day)
    assert plan.status is PlanStatus.BROKEN
    assert [c.metadata["instalment_id"] for c in gateway.charges] == [str(second.id)]
    assert third.status is InstalmentStatus.SCHEDULED


# --- the creditor's grace rule: one missed instalment moves to the end -----------------------


def test_with_grace_the_first_missed_instalment_moves_after_the_last(
    session: Session, account: Account, now: datetime
) -> None:
    with_grace(session, account)
    plan = card_plan(session, account, now)
    first, _second, third = plan.instalments
    gateway = FakeGateway(otherwise=DECLINED)
    decline_until_missed(session, gateway, first)
    assert first.status is InstalmentStatus.MOVED
    assert plan.grace_used
    assert plan.status is PlanStatus.ACTIVE
    assert account.status is AccountStatus.PLAN
    fourth = plan.instalments[-1]
    assert (fourth.seq_no, fourth.amount_minor) == (4, first.amount_minor)
    assert fourth.status is InstalmentStatus.SCHEDULED
    assert third.due_on < fourth.due_on <= third.due_on + timedelta(days=34)
    owed = [i for i in plan.instalments if i.status is not InstalmentStatus.MOVED]
    assert sum(i.amount_minor for i in owed) == plan.total_minor == 120_000

    session.flush()
    gateway.otherwise = SUCCEEDED
    charge(session, gateway, fourth.due_on)
    assert fourth.id in {int(c.metadata["instalment_id"]) for c in gateway.charges}


def test_grace_is_used_once_then_misses_count(
    session: Session, account: Account, now: datetime
) -> None:
    with_grace(session, account)
    plan = card_plan(session, account, now)
    first, second, third = plan.instalments
    gateway = FakeGateway(otherwise=DECLINED)
    decline_until_missed(session, gateway, first)
    decline_until_missed(session, gateway, second)
    assert second.status is InstalmentStatus.MISSED
    assert plan.status is PlanStatus.ACTIVE
    decline_until_missed(session, gateway, third)
    assert plan.status is PlanStatus.BROKEN
    assert account.status is AccountStatus.OPEN


# --- the provider cannot be reached: nothing changes, the same key is sent again -------------


def test_a_gateway_error_changes_nothing_and_the_same_key_is_sent_next_time(
    session: Session, debtor: Debtor, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(script=[UNREACHABLE, UNREACHABLE], otherwise=SUCCEEDED)
    first = plan.instalments[0]
    assert charge(session, gateway, now.date()).errors == 1
    assert (first.status, first.attempts, first.payment_intent_id) == (
        InstalmentStatus.SCHEDULED,
        0,
        None,
    )
    assert first.last_attempt_at is None
    assert session.scalars(select(Message)).all() == []
    charge(session, gateway, now.date())
    charge(session, gateway, now.date())
    assert (
        gateway.keys
        == [f"venlig-instalment-{first.id}-attempt-1-{first.amount_minor}"] * 3
    )
    assert first.status is InstalmentStatus.PROCESSING
    assert first.attempts == 1


def test_a_gateway_error_on_a_retry_keeps_the_retrys_key(
    session: Session, plan: PaymentPlan, now: datetime
) -> None:
    gateway = FakeGateway(script=[DECLINED, UNREACHABLE], otherwise=SUCCEEDED)
    first = plan.instalments[0]
    charge(session, gateway, now.date())
    retry_day = now.date() + timedelta(days=3)
    charge(session, gateway, retry_day)
    assert (first.status, first.attempts) == (InstalmentStatus.FAILED, 1)
    assert first.next_attempt_on == retry_day
    charge(session, gateway, retry_day)
    assert (
        gateway.keys[1:]
        == [f"venlig-instalment-{first.id}-attempt-2-{first.amount_minor}"] * 2
    )
    assert first.status is InstalmentStatus.PROCESSING


def test_the_run_counts_what_happened(
    session: Session, debtor: Debtor, now: datetime
) -> None:
    plans = [
        card_plan(session, make_account(session, debtor, now, amount_minor=60_000), now)
        for _ in range(4)
    ]
    gateway = FakeGateway(script=[SUCCEEDED, NEEDS_ACTION, DECLINED, UNREACHABLE])
    run = charge(session, gateway, now.date())
    assert run == ChargeRun(succeeded=1, needs_action=1, failed=1, errors=1, missed=0)
    assert [p.instalments[0].status for p in plans] == [
        InstalmentStatus.PROCESSING,
        InstalmentStatus.REQUIRES_ACTION,
        InstalmentStatus.FAILED,
        InstalmentStatus.SCHEDULED,
    ]


def test_a_charge_never_takes_more_than_is_still_owed(
    session: Session, account: Account, plan: PaymentPlan, now: datetime
) -> None:
    first = plan.instalments[0]
    post_entry(session, account, LedgerKind.PAYMENT, 120_000 - 10_000, now=now)
    gateway = FakeGateway()
    charge(session, gateway, first.due_on)
    assert [c.amount_minor for c in gateway.charges] == [10_000]


def test_nothing_is_charged_once_the_balance_is_paid(
    session: Session, account: Account, plan: PaymentPlan, now: datetime
) -> None:
    post_entry(session, account, LedgerKind.PAYMENT, 120_000, now=now)
    gateway = FakeGateway()
    charge(session, gateway, plan.instalments[0].due_on)
    assert gateway.charges == []
    assert plan.status is PlanStatus.COMPLETED


def test_a_charge_whose_event_never_came_is_looked_up_and_posted_once(
    session: Session, account: Account, plan: PaymentPlan
) -> None:
    first = plan.instalments[0]
    gateway = FakeGateway()
    charge(session, gateway, first.due_on)
    assert first.status is InstalmentStatus.PROCESSING
    intent = first.payment_intent_id
    assert intent is not None
    gateway.status_answer = ChargeOutcome(
        ChargeStatus.SUCCEEDED, intent, amount_minor=first.amount_minor
    )
    charge(session, gateway, first.due_on)  # same day: too early to look it up
    assert gateway.looked_up == []
    charge(session, gateway, first.due_on + timedelta(days=1))
    assert gateway.looked_up == [intent]
    assert first.status is InstalmentStatus.PAID
    assert balance_of(session, account.id) == 120_000 - first.amount_minor
    # The real event, arriving late after all, changes nothing.
    late = {
        "id": "evt_late",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent,
                "object": "payment_intent",
                "amount_received": first.amount_minor,
                "currency": "dkk",
                "metadata": {
                    "account_id": str(account.id),
                    "instalment_id": str(first.id),
                },
            }
        },
    }
    apply_event(
        session,
        late,
        now=at(first.due_on + timedelta(days=1)),
        link_for=link_for,
        gateway=FakeGateway(),
    )
    assert balance_of(session, account.id) == 120_000 - first.amount_minor


def test_a_charge_found_failed_on_lookup_counts_as_a_decline(
    session: Session, plan: PaymentPlan
) -> None:
    first = plan.instalments[0]
    gateway = FakeGateway()
    charge(session, gateway, first.due_on)
    gateway.status_answer = ChargeOutcome(
        ChargeStatus.FAILED, first.payment_intent_id, "card_declined"
    )
    charge(session, gateway, first.due_on + timedelta(days=1))
    assert first.status is InstalmentStatus.FAILED
    assert first.next_attempt_on is not None


def test_a_wallet_plan_gets_one_pay_link_text_a_few_days_before_each_date(
    session: Session, account: Account, now: datetime
) -> None:
    plan = propose_plan(
        session, account, PlanFrequency.MONTHLY, 3, today=now.date(), now=now
    )
    activate_plan(session, plan)  # paid from a wallet: no card to charge
    first, second, _third = plan.instalments
    gateway = FakeGateway()
    charge(session, gateway, first.due_on - timedelta(days=3))
    charge(session, gateway, first.due_on - timedelta(days=2))
    assert gateway.charges == []
    texts = session.scalars(
        select(Message).where(Message.template_key == "instalment_due")
    ).all()
    assert len(texts) == 1
    assert "/p/" in (texts[0].body or "")
    assert first.reminded_at is not None
    assert second.reminded_at is None
    views = accounts_for(session, session.get(Debtor, account.debtor_id))
    assert [i.id for i in views[0].needs_action(first.due_on)] == [first.id]
