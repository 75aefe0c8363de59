"""The worker's payments tick on the sandbox: charged, confirmed by event, posted once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Account, Conversation, Instalment, Message, PaymentPlan, Step
from app.models.enums import (
    ConversationStatus,
    InstalmentStatus,
    PlanFrequency,
    PlanStatus,
    StepAction,
)
from app.scheduler import payments_tick, reminders_tick
from app.services.ledger import balance_of
from payments.sandbox import Card
from reminders.sequences import ensure_default_sequence
from tests.factories import make_account, make_creditor, make_debtor


def _plan_due_today(session: Session, card: Card) -> tuple[Account, Instalment]:
    now = utcnow()
    creditor = make_creditor(session, now)
    debtor = make_debtor(session, creditor, now)
    account = make_account(session, debtor, now, amount_minor=90_000)
    plan = PaymentPlan(
        account_id=account.id,
        status=PlanStatus.ACTIVE,
        frequency=PlanFrequency.MONTHLY,
        total_minor=90_000,
        currency="DKK",
        payment_method_ref=f"pm_sandbox_{card.value}",
        customer_ref="cus_sandbox_test",
        created_at=now,
        instalments=[
            Instalment(seq_no=1, due_on=now.date(), amount_minor=30_000),
            Instalment(
                seq_no=2,
                due_on=now.date().replace(year=now.year + 1),
                amount_minor=60_000,
            ),
        ],
    )
    session.add(plan)
    session.commit()
    return account, plan.instalments[0]


@pytest.fixture
def worker_app(make_app) -> Flask:
    return make_app(PAYMENTS_BACKEND="sandbox")


def test_a_due_instalment_is_charged_and_posted_through_the_event_path(
    worker_app: Flask, session: Session
) -> None:
    account, instalment = _plan_due_today(session, Card.SUCCEEDS)
    with worker_app.app_context():
        payments_tick(worker_app)
        payments_tick(worker_app)  # a second tick charges nothing more
    session.expire_all()
    assert session.get(Instalment, instalment.id).status is InstalmentStatus.PAID
    assert balance_of(session, account.id) == 60_000
    receipts = session.scalars(select(Message).where(Message.template_key == "receipt"))
    assert len(receipts.all()) == 1


def test_a_declined_instalment_waits_for_a_retry_and_texts_once(
    worker_app: Flask, session: Session, now: datetime
) -> None:
    account, instalment = _plan_due_today(session, Card.FAILS_LATER)
    with worker_app.app_context():
        payments_tick(worker_app)
        payments_tick(worker_app)
    session.expire_all()
    failed = session.get(Instalment, instalment.id)
    assert failed is not None
    assert failed.status is InstalmentStatus.FAILED
    assert failed.attempts == 1
    assert failed.next_attempt_on is not None
    assert balance_of(session, account.id) == 90_000
    notices = session.scalars(
        select(Message.template_key).where(Message.template_key == "instalment_failed")
    ).all()
    assert notices == ["instalment_failed"]


def test_a_hand_over_step_puts_the_debtor_in_the_agents_queue(
    worker_app: Flask, session: Session
) -> None:
    now = utcnow()
    creditor = make_creditor(session, now)
    sequence = ensure_default_sequence(session, creditor, now=now)
    sequence.steps.append(
        Step(
            position=len(sequence.steps),
            day_offset=40,
            action=StepAction.HAND_TO_AGENT,
            template_key="hand_to_agent",
        )
    )
    debtor = make_debtor(session, creditor, now - timedelta(days=90))
    make_account(
        session,
        debtor,
        now - timedelta(days=90),
        due_on=now.date() - timedelta(days=45),
    )
    session.commit()
    with worker_app.app_context():
        reminders_tick(worker_app)
    session.expire_all()
    conversation = session.scalar(
        select(Conversation).where(Conversation.debtor_id == debtor.id)
    )
    assert conversation is not None
    assert conversation.status is ConversationStatus.WAITING
    assert conversation.opened_via == "sequence"
