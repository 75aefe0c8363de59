"""A status callback can come before the dispatcher has recorded the text's id: it is kept and
applied once the id is recorded, so no delivery failure or opt-out is lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Account, Creditor, Debtor, EarlyStatus, Message
from app.models.enums import MessageStatus
from reminders.reconcile import reconcile_unknown
from reminders.sequences import ensure_default_sequence
from reminders.sms import OutgoingSms, SentSms
from reminders.status import KEEP_EARLY, apply_status
from tests.factories import make_creditor
from tests.fakes import FakeSmsSender
from tests.reminders.test_engine import (
    MORNING,
    dispatch,
    messages,
    overdue_account,
    plan,
)


@pytest.fixture
def creditor(session: Session) -> Creditor:
    creditor = make_creditor(session, MORNING - timedelta(days=60))
    ensure_default_sequence(session, creditor, now=MORNING)
    return creditor


@dataclass
class CallingBackSender(FakeSmsSender):
    """A provider that calls back about each text before its answer reaches us."""

    factory: sessionmaker[Session] | None = None
    status: str = "undelivered"
    error_code: str | None = "30003"

    def send(self, sms: OutgoingSms) -> SentSms:
        sent = super().send(sms)
        assert self.factory is not None
        with self.factory.begin() as callback:
            apply_status(
                callback,
                sent.provider_id,
                self.status,
                error_code=self.error_code,
                now=MORNING,
            )
        return sent


def _due_reminder(session: Session, creditor: Creditor) -> Account:
    """An overdue account whose first reminder is queued and committed, ready to dispatch."""
    account = overdue_account(session, creditor, days=5)
    plan(session)
    session.commit()
    return account


def test_a_failure_reported_before_the_id_was_recorded_is_applied(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = _due_reminder(session, creditor)

    result = dispatch(session_factory, CallingBackSender(factory=session_factory))

    assert result.sent == 1
    session.expire_all()
    [message] = messages(session, account)
    assert (message.status, message.error_code) == (MessageStatus.UNDELIVERED, "30003")
    assert session.scalars(select(EarlyStatus)).all() == []


def test_a_carrier_opt_out_reported_early_still_stops_texts(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = _due_reminder(session, creditor)
    sender = CallingBackSender(
        factory=session_factory, status="failed", error_code="21610"
    )

    dispatch(session_factory, sender)

    session.expire_all()
    assert session.get_one(Debtor, account.debtor_id).sms_opted_out_at == MORNING


def test_the_sweep_applies_what_passed_the_recording_and_forgets_strangers(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = _due_reminder(session, creditor)
    dispatch(session_factory, FakeSmsSender())
    session.expire_all()
    [message] = messages(session, account)
    assert message.status is MessageStatus.SENT
    # The callback was stored just after the dispatcher looked for it.
    session.add_all(
        [
            EarlyStatus(
                provider_message_id=message.provider_message_id,
                provider_status="delivered",
                received_at=MORNING,
            ),
            EarlyStatus(
                provider_message_id="SMsomebody-else-old",
                provider_status="delivered",
                received_at=MORNING - KEEP_EARLY - timedelta(minutes=1),
            ),
            EarlyStatus(
                provider_message_id="SMsomebody-else-new",
                provider_status="delivered",
                received_at=MORNING,
            ),
        ]
    )
    session.commit()

    reconcile_unknown(session_factory, FakeSmsSender(), now=MORNING)

    session.expire_all()
    assert session.get_one(Message, message.id).status is MessageStatus.DELIVERED
    left = session.scalars(select(EarlyStatus.provider_message_id)).all()
    assert left == ["SMsomebody-else-new"]


def test_a_late_early_sent_never_undoes_delivered(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = _due_reminder(session, creditor)
    sender = CallingBackSender(
        factory=session_factory, status="delivered", error_code=None
    )
    dispatch(session_factory, sender)
    session.expire_all()
    [message] = messages(session, account)
    assert message.status is MessageStatus.DELIVERED

    with session_factory.begin() as callback:
        apply_status(
            callback,
            message.provider_message_id or "",
            "sent",
            error_code=None,
            now=MORNING,
        )
    session.expire_all()
    assert session.get_one(Message, message.id).status is MessageStatus.DELIVERED
    assert session.scalars(select(EarlyStatus)).all() == []
