"""Constraints live in the database: each is checked on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from app.models import (
    Account,
    AuditEvent,
    Creditor,
    Instalment,
    LedgerEntry,
    Message,
    PaymentPlan,
    Sequence,
    Step,
    User,
)
from app.models.enums import Channel, Language, LedgerKind, PlanFrequency, Role
from app.services.audit import record_audit
from tests.factories import make_account, make_creditor, make_debtor, make_user


def _flush_in_savepoint(session: Session, obj: object) -> None:
    with session.begin_nested():
        session.add(obj)
        session.flush()


def _refused(session: Session, obj: object) -> None:
    with pytest.raises(IntegrityError):
        _flush_in_savepoint(session, obj)


def test_an_external_reference_is_unique_per_creditor(
    session: Session, now: datetime
) -> None:
    creditor = make_creditor(session, now)
    debtor = make_debtor(session, creditor, now)
    account = make_account(session, debtor, now)
    duplicate = Account(
        creditor_id=creditor.id,
        debtor_id=debtor.id,
        external_reference=account.external_reference,
        original_amount_minor=1,
        currency="DKK",
        due_on=date(2026, 1, 1),
        created_at=now,
        updated_at=now,
    )
    _refused(session, duplicate)


def test_the_same_reference_at_another_creditor_is_fine(
    session: Session, now: datetime
) -> None:
    first = make_account(
        session, make_debtor(session, make_creditor(session, now), now), now
    )
    other_debtor = make_debtor(session, make_creditor(session, now), now)
    make_account(
        session, other_debtor, now, external_reference=first.external_reference
    )


def test_a_negative_original_amount_is_refused(session: Session, now: datetime) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = Account(
        creditor_id=debtor.creditor_id,
        debtor_id=debtor.id,
        external_reference="NEG",
        original_amount_minor=-1,
        currency="DKK",
        due_on=date(2026, 1, 1),
        created_at=now,
        updated_at=now,
    )
    _refused(session, account)


@pytest.mark.parametrize("amount", [0, -500])
def test_a_ledger_entry_must_be_positive(
    session: Session, now: datetime, amount: int
) -> None:
    account = make_account(
        session, make_debtor(session, make_creditor(session, now), now), now
    )
    entry = LedgerEntry(
        account_id=account.id,
        kind=LedgerKind.PAYMENT,
        amount_minor=amount,
        currency="DKK",
        occurred_at=now,
        created_at=now,
    )
    _refused(session, entry)


def test_a_ledger_external_id_posts_once(session: Session, now: datetime) -> None:
    account = make_account(
        session, make_debtor(session, make_creditor(session, now), now), now
    )
    first = LedgerEntry(
        account_id=account.id,
        kind=LedgerKind.PAYMENT,
        amount_minor=100,
        currency="DKK",
        external_id="pi_1",
        occurred_at=now,
        created_at=now,
    )
    session.add(first)
    session.flush()
    _refused(
        session,
        LedgerEntry(
            account_id=account.id,
            kind=LedgerKind.PAYMENT,
            amount_minor=100,
            currency="DKK",
            external_id="pi_1",
            occurred_at=now,
            created_at=now,
        ),
    )


def test_one_message_per_account_and_step(session: Session, now: datetime) -> None:
    creditor = make_creditor(session, now)
    account = make_account(session, make_debtor(session, creditor, now), now)
    sequence = Sequence(creditor_id=creditor.id, name="Default", created_at=now)
    sequence.steps.append(Step(position=0, day_offset=3, template_key="friendly"))
    session.add(sequence)
    session.flush()

    def message() -> Message:
        return Message(
            debtor_id=account.debtor_id,
            account_id=account.id,
            step_id=sequence.steps[0].id,
            channel=Channel.SMS,
            template_key="friendly",
            language=Language.DA,
            to_address="+4520000000",
            not_before=now,
            created_at=now,
        )

    session.add(message())
    session.flush()
    _refused(session, message())


def test_an_unknown_enum_value_is_refused_by_the_database(
    session: Session, now: datetime
) -> None:
    creditor = make_creditor(session, now)
    with pytest.raises((IntegrityError, StatementError)), session.begin_nested():
        session.execute(
            Creditor.__table__.update()
            .where(Creditor.id == creditor.id)
            .values(default_language="sv")
        )


def test_a_creditor_user_needs_a_creditor_and_staff_must_not_have_one(
    session: Session, now: datetime
) -> None:
    creditor = make_creditor(session, now)
    base = {"name": "X", "password_hash": "h", "session_token": "t", "created_at": now}
    _refused(session, User(email="a@x.test", role=Role.CREDITOR, **base))
    _refused(
        session,
        User(email="b@x.test", role=Role.AGENT, creditor_id=creditor.id, **base),
    )


def test_deleting_a_creditor_with_debtors_is_refused(
    session: Session, now: datetime
) -> None:
    creditor = make_creditor(session, now)
    make_debtor(session, creditor, now)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(delete(Creditor).where(Creditor.id == creditor.id))


def test_deleting_a_sequence_deletes_its_steps(session: Session, now: datetime) -> None:
    creditor = make_creditor(session, now)
    sequence = Sequence(creditor_id=creditor.id, name="Default", created_at=now)
    sequence.steps.append(Step(position=0, day_offset=3, template_key="friendly"))
    session.add(sequence)
    session.flush()
    session.execute(delete(Sequence).where(Sequence.id == sequence.id))
    session.expunge_all()
    assert (
        session.scalars(select(Step).where(Step.sequence_id == sequence.id)).all() == []
    )


def test_deleting_a_plan_deletes_its_instalments(
    session: Session, now: datetime
) -> None:
    account = make_account(
        session, make_debtor(session, make_creditor(session, now), now), now
    )
    plan = PaymentPlan(
        account_id=account.id,
        frequency=PlanFrequency.MONTHLY,
        total_minor=300,
        currency="DKK",
        created_at=now,
    )
    plan.instalments = [
        Instalment(
            seq_no=i,
            due_on=date(2026, 12, 1) + timedelta(days=30 * i),
            amount_minor=100,
        )
        for i in range(3)
    ]
    session.add(plan)
    session.flush()
    session.execute(delete(PaymentPlan).where(PaymentPlan.id == plan.id))
    session.expunge_all()
    assert (
        session.scalars(select(Instalment).where(Instalment.plan_id == plan.id)).all()
        == []
    )


def test_deleting_a_user_keeps_their_audit_trail(
    session: Session, now: datetime
) -> None:
    user = make_user(session, now)
    event = record_audit(
        session,
        user,
        "viewed",
        object_type="debtor",
        object_id=1,
        creditor_id=None,
        now=now,
    )
    session.execute(delete(User).where(User.id == user.id))
    session.expire_all()
    kept = session.get(AuditEvent, event.id)
    assert kept is not None
    assert kept.actor_user_id is None
    assert kept.actor_label == user.email


def test_datetimes_come_back_aware_in_utc(session: Session, now: datetime) -> None:
    copenhagen_noon = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    creditor = make_creditor(session, copenhagen_noon)
    session.expire_all()
    loaded = session.get(Creditor, creditor.id)
    assert loaded is not None
    assert loaded.created_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_a_naive_datetime_is_refused(session: Session) -> None:
    with pytest.raises(StatementError, match="naive datetime"), session.begin_nested():
        make_creditor(session, datetime(2026, 1, 1, 12, 0))
