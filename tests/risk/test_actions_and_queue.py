"""Acting on risk (SQLite and PostgreSQL) and the supervisor's queue and complaint file."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import Account, Message, RiskSignal
from app.models.enums import (
    Channel,
    Language,
    MessageStatus,
    Role,
    SignalSource,
    SignalStatus,
)
from app.risk.actions import record_risk
from app.risk.complaint_file import complaint_file, complaint_file_csv
from app.risk.queue import QueueFilter, Review, review_signal, risk_queue, weekly_rates
from reminders.dispatch import DispatchResult, deliver_one
from reminders.profiles import effective_rules, profile_for
from tests.factories import make_account, make_creditor, make_debtor, make_user
from tests.fakes import FakeSmsSender


def _queued_reminder(session: Session, account: Account, now: datetime) -> Message:
    message = Message(
        debtor_id=account.debtor_id,
        account_id=account.id,
        channel=Channel.SMS,
        template_key="friendly",
        language=Language.DA,
        to_address="+4520000001",
        status=MessageStatus.SENDING,
        not_before=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def test_cease_contact_stops_a_reminder_already_queued_and_confirms_once(
    session: Session, now: datetime
) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now)
    queued = _queued_reminder(session, account, now)
    record_risk(session, debtor, "Stop contacting me", source=SignalSource.SMS, now=now)
    record_risk(
        session, debtor, "I said STOP contacting me!", source=SignalSource.SMS, now=now
    )
    session.commit()
    sender = FakeSmsSender()
    deliver_one(
        session,
        sender,
        queued.id,
        now=now + timedelta(minutes=1),
        rules_for=lambda _a, d: effective_rules(profile_for(d.country)),
        link_for=lambda token: f"https://venlig.example/p/{token}",
        result=DispatchResult(),
    )
    assert sender.sent == []
    assert session.get(Message, queued.id).status is MessageStatus.SUPPRESSED
    confirmations = session.scalars(
        select(Message).where(Message.template_key == "cease_confirmation")
    ).all()
    assert len(confirmations) == 1
    assert "loven" in (confirmations[0].body or "")


def test_a_high_severity_signal_pauses_in_the_same_transaction(
    session: Session, now: datetime
) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now)
    queued = _queued_reminder(session, account, now)
    signals = record_risk(
        session,
        debtor,
        "Jeg har kontaktet min advokat",
        source=SignalSource.SMS,
        now=now,
    )
    assert [s.category for s in signals] == ["legal_threat"]
    sender = FakeSmsSender()
    # No commit in between: the dispatcher sees the signal in the same transaction.
    deliver_one(
        session,
        sender,
        queued.id,
        now=now,
        rules_for=lambda _a, d: effective_rules(profile_for(d.country)),
        link_for=lambda token: token,
        result=DispatchResult(),
    )
    assert sender.sent == []


@pytest.fixture
def queue_setup(session: Session, now: datetime):
    mine, theirs = make_creditor(session, now), make_creditor(session, now)
    debtor = make_debtor(session, mine, now)
    other = make_debtor(session, theirs, now)
    account = make_account(session, debtor, now)
    low = record_risk(session, debtor, "you idiots", source=SignalSource.SMS, now=now)
    high = record_risk(
        session,
        debtor,
        "I will complain to Forbrugerombudsmanden",
        source=SignalSource.SMS,
        now=now + timedelta(minutes=1),
        account_id=account.id,
    )
    foreign = record_risk(
        session, other, "talk to my lawyer", source=SignalSource.SMS, now=now
    )
    supervisor = make_user(session, now, Role.SUPERVISOR)
    return mine, account, low, high, foreign, supervisor


def test_the_queue_lists_high_first_and_only_the_supervisors_creditors(
    session: Session,
    queue_setup,
) -> None:
    mine, _account, low, high, foreign, _supervisor = queue_setup
    rows = risk_queue(session, QueueFilter(creditor_ids=(mine.id,)))
    categories = [signal.category for signal, _debtor in rows]
    assert categories[0] == high[0].category
    assert foreign[0].id not in {signal.id for signal, _debtor in rows}
    assert low[0].id in {signal.id for signal, _debtor in rows}


def test_review_keeps_dismissals_and_refuses_a_second_review(
    session: Session,
    now: datetime,
    queue_setup,
) -> None:
    mine, _account, low, _high, foreign, supervisor = queue_setup
    dismissed = review_signal(
        session,
        low[0].id,
        Review.DISMISS,
        supervisor,
        (mine.id,),
        note="just venting",
        now=now,
    )
    assert dismissed.status is SignalStatus.DISMISSED
    assert session.get(RiskSignal, low[0].id) is not None
    with pytest.raises(Conflict):
        review_signal(
            session, low[0].id, Review.RESOLVE, supervisor, (mine.id,), note="", now=now
        )
    with pytest.raises(NotFound):
        review_signal(
            session,
            foreign[0].id,
            Review.CONFIRM,
            supervisor,
            (mine.id,),
            note="",
            now=now,
        )
    assert (
        risk_queue(
            session, QueueFilter(creditor_ids=(mine.id,), category=low[0].category)
        )
        == []
    )


def test_the_complaint_file_holds_everything_in_order_and_exports_safely(
    session: Session,
    now: datetime,
    queue_setup,
) -> None:
    _mine, account, _low, _high, _foreign, _supervisor = queue_setup
    message = _queued_reminder(session, account, now - timedelta(days=1))
    message.status, message.sent_at = MessageStatus.DELIVERED, now - timedelta(days=1)
    message.body = "=HYPERLINK(evil)"
    entries = complaint_file(session, account)
    kinds = [entry.kind for entry in entries]
    assert "text_sent" in kinds
    assert "risk_signal" in kinds
    assert "ledger_charge" in kinds
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    rows = list(
        csv.reader(io.StringIO(complaint_file_csv(entries, "Europe/Copenhagen")))
    )
    assert rows[0] == [
        "local_time",
        "utc_time",
        "kind",
        "channel",
        "status",
        "summary",
        "detail",
    ]
    sent = next(row for row in rows if row[2] == "text_sent")
    assert sent[3:5] == ["sms", "delivered"]
    assert sent[6] == "'=HYPERLINK(evil)"
    assert all(not row[6].startswith("=") for row in rows[1:])


def test_weekly_rates_count_signals_per_thousand_texts(
    session: Session,
    now: datetime,
    queue_setup,
) -> None:
    mine, *_rest = queue_setup
    rates = weekly_rates(session, (mine.id,), today=now.date())
    assert {rate.category for rate in rates} >= {"regulator", "abusive_language"}
    assert all(rate.signals >= 1 for rate in rates)
