"""Reconciliation of texts whose sending is in doubt, with a fake provider and a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Account, ContactDecision, Creditor, Debtor, Message
from app.models.enums import DecisionOutcome, MessageStatus
from reminders.dispatch import dispatch_due, mark_stale_sending_unknown
from reminders.planner import PlanResult, plan_due_steps
from reminders.profiles import effective_rules, profile_for
from reminders.reconcile import (
    DEFAULT_GRACE,
    NOT_AT_PROVIDER,
    SETTLE_AFTER,
    ReconcileResult,
    reconcile_unknown,
)
from reminders.sequences import ensure_default_sequence
from reminders.sms import ConsoleSmsSender, OutgoingSms, SmsLookupError, SmsSendError
from reminders.status import apply_status
from tests.factories import make_account, make_creditor, make_debtor
from tests.fakes import FakeSmsSender

# Tuesday 17 November 2026, 10:00 in Copenhagen: inside every contact window.
MORNING = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
LATER = MORNING + SETTLE_AFTER + timedelta(minutes=5)
TIMEOUT = SmsSendError("read timeout", accepted_maybe=True)


def rules_for(_account: Account | None, debtor: Debtor):
    return effective_rules(profile_for(debtor.country))


@pytest.fixture
def creditor(session: Session) -> Creditor:
    creditor = make_creditor(session, MORNING - timedelta(days=60))
    ensure_default_sequence(session, creditor, now=MORNING)
    return creditor


def _dispatch(
    sessions: sessionmaker[Session], sender: FakeSmsSender, now: datetime = MORNING
):
    return dispatch_due(
        sessions, sender, now=now, rules_for=rules_for, link_for=lambda t: f"/p/{t}"
    )


def _unknown_text(
    session: Session, sessions: sessionmaker[Session], creditor: Creditor
) -> Message:
    """A reminder whose send timed out after the request went out."""
    debtor = make_debtor(session, creditor, MORNING - timedelta(days=60))
    account = make_account(
        session,
        debtor,
        MORNING - timedelta(days=60),
        due_on=MORNING.date() - timedelta(days=5),
    )
    plan_due_steps(session, now=MORNING, rules_for=rules_for)
    session.commit()
    assert _dispatch(sessions, FakeSmsSender(failures=[TIMEOUT])).unknown == 1
    session.expire_all()
    message = session.scalars(
        select(Message).where(Message.account_id == account.id)
    ).one()
    assert message.body
    assert message.provider_message_id is None
    return message


def _reconcile(
    sessions: sessionmaker[Session], sender: FakeSmsSender, now: datetime = LATER
) -> ReconcileResult:
    return reconcile_unknown(sessions, sender, now=now)


def _decisions(session: Session, message: Message) -> list[ContactDecision]:
    return list(
        session.scalars(
            select(ContactDecision).where(ContactDecision.message_id == message.id)
        )
    )


def test_a_text_the_provider_holds_is_recorded_as_sent(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    provider = FakeSmsSender()
    held = provider.hold(
        message.to_address,
        message.body or "",
        MORNING + timedelta(seconds=3),
        status="delivered",
        segments=2,
        price_minor=42,
        price_currency="EUR",
        sent_at=MORNING + timedelta(seconds=5),
    )
    assert _reconcile(session_factory, provider) == ReconcileResult(found=1)
    session.expire_all()
    assert message.status is MessageStatus.DELIVERED
    assert message.provider_message_id == held.provider_id
    assert (message.segments, message.price_minor, message.price_currency) == (
        2,
        42,
        "EUR",
    )
    assert message.sent_at == MORNING + timedelta(seconds=5)
    assert provider.sent == []  # found, never sent again
    assert _decisions(session, message) == []


def test_a_found_text_is_then_settled_by_its_callbacks(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    provider = FakeSmsSender()
    held = provider.hold(message.to_address, message.body or "", MORNING, status="sent")
    _reconcile(session_factory, provider)
    session.expire_all()
    assert message.status is MessageStatus.SENT
    assert message.sent_at == MORNING  # the attempt: the provider gave no time
    apply_status(session, held.provider_id, "delivered", error_code=None, now=LATER)
    assert message.status is MessageStatus.DELIVERED


def test_a_text_not_listed_yet_stays_unknown_and_is_asked_about_again(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    provider = FakeSmsSender()
    assert _reconcile(session_factory, provider) == ReconcileResult(waiting=1)
    later = MORNING + DEFAULT_GRACE - timedelta(minutes=1)
    assert _reconcile(session_factory, provider, later) == ReconcileResult(waiting=1)
    session.expire_all()
    assert message.status is MessageStatus.UNKNOWN
    assert [sms.body for sms in provider.lookups] == [message.body, message.body]
    assert provider.sent == []
    assert _decisions(session, message) == []


def test_a_text_still_not_listed_after_the_grace_period_was_never_sent(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    provider = FakeSmsSender()
    after_grace = MORNING + DEFAULT_GRACE
    assert _reconcile(session_factory, provider, after_grace) == ReconcileResult(
        not_sent=1
    )
    session.expire_all()
    assert message.status is MessageStatus.FAILED
    assert message.error_code == NOT_AT_PROVIDER
    assert message.sent_at is None
    [decision] = _decisions(session, message)
    assert (decision.outcome, decision.reason) == (
        DecisionOutcome.SUPPRESSED,
        NOT_AT_PROVIDER,
    )
    assert decision.detail == (
        "Never sent: the provider held no such text 24 hours after the attempt at "
        "2026-11-17 09:00 UTC. It will not be sent again."
    )
    # Never sent blind: not by the dispatcher, not by another reconciliation.
    assert _dispatch(session_factory, provider, after_grace).claimed == 0
    assert _reconcile(session_factory, provider, after_grace) == ReconcileResult()
    assert provider.sent == []


def test_after_a_text_that_was_never_sent_the_planner_decides_the_next_one(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    _reconcile(session_factory, FakeSmsSender(), MORNING + DEFAULT_GRACE)
    session.expire_all()
    # The failed step stays claimed; the next step is planned when it falls due.
    next_day = MORNING + timedelta(days=1)
    assert plan_due_steps(session, now=next_day, rules_for=rules_for) == PlanResult()
    next_step_day = MORNING + timedelta(days=6)  # +10 days from due, a Monday
    assert plan_due_steps(session, now=next_step_day, rules_for=rules_for).queued == 1
    keys = session.scalars(
        select(Message.template_key)
        .where(Message.account_id == message.account_id)
        .order_by(Message.id)
    ).all()
    assert keys == ["friendly", "reminder"]


def test_a_provider_error_leaves_the_text_unknown_until_a_later_run(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    provider = FakeSmsSender(lookup_failures=[SmsLookupError("503 from provider")])
    held = provider.hold(
        message.to_address, message.body or "", MORNING, status="delivered"
    )
    # Even past the grace period an unanswered lookup proves nothing.
    after_grace = MORNING + DEFAULT_GRACE
    assert _reconcile(session_factory, provider, after_grace) == ReconcileResult(
        lookup_errors=1
    )
    session.expire_all()
    assert message.status is MessageStatus.UNKNOWN
    assert _reconcile(session_factory, provider, after_grace) == ReconcileResult(
        found=1
    )
    session.expire_all()
    assert message.provider_message_id == held.provider_id


def test_a_text_with_a_provider_id_is_left_to_its_callbacks(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    message.provider_message_id = "SMknown0000000000000000000000000"
    session.commit()
    provider = FakeSmsSender()
    assert _reconcile(session_factory, provider, MORNING + DEFAULT_GRACE) == (
        ReconcileResult()
    )
    assert provider.lookups == []
    session.expire_all()
    assert message.status is MessageStatus.UNKNOWN


def test_a_fresh_unknown_text_is_not_asked_about_yet(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    _unknown_text(session, session_factory, creditor)
    provider = FakeSmsSender()
    assert _reconcile(session_factory, provider, MORNING + timedelta(minutes=1)) == (
        ReconcileResult()
    )
    assert provider.lookups == []


@pytest.mark.parametrize(
    ("body_suffix", "taken_at"),
    [
        (" (another text)", MORNING),
        ("", MORNING - timedelta(hours=2)),  # the same words, sent before our attempt
        ("", MORNING + timedelta(hours=3)),
    ],
)
def test_only_our_exact_text_around_our_attempt_counts(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,
    body_suffix: str,
    taken_at: datetime,
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    provider = FakeSmsSender()
    provider.hold(
        message.to_address, (message.body or "") + body_suffix, taken_at, status="sent"
    )
    assert _reconcile(session_factory, provider) == ReconcileResult(waiting=1)


def test_a_provider_text_already_recorded_is_not_taken_for_a_second_one(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    provider = FakeSmsSender()
    first = provider.hold(
        message.to_address, message.body or "", MORNING, status="sent"
    )
    second = provider.hold(
        message.to_address, message.body or "", MORNING, status="sent"
    )
    other = _unknown_text(session, session_factory, creditor)
    other.provider_message_id = first.provider_id
    other.status = MessageStatus.SENT
    session.commit()
    _reconcile(session_factory, provider)
    session.expire_all()
    assert message.provider_message_id == second.provider_id


def test_a_text_left_sending_by_a_dead_worker_is_looked_up_at_its_claim_time(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    message.status = MessageStatus.SENDING
    session.commit()
    # The workers were down for two days; the text went out when it was claimed.
    back = MORNING + timedelta(days=2)
    with session_factory.begin() as tx:
        assert mark_stale_sending_unknown(tx, now=back) == 1
    provider = FakeSmsSender()
    provider.hold(message.to_address, message.body or "", MORNING, status="delivered")
    assert _reconcile(session_factory, provider, back) == ReconcileResult(found=1)


def test_an_unknown_text_without_a_body_never_reached_the_provider(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    message = _unknown_text(session, session_factory, creditor)
    message.body = None
    session.commit()
    provider = FakeSmsSender()
    assert _reconcile(session_factory, provider) == ReconcileResult(not_sent=1)
    assert provider.lookups == []
    session.expire_all()
    assert message.status is MessageStatus.FAILED
    [decision] = _decisions(session, message)
    assert "before the text was written" in decision.detail


def test_the_dev_sender_finds_what_it_sent_by_number_body_and_time() -> None:
    clock = iter([MORNING, MORNING + timedelta(minutes=1)])
    console = ConsoleSmsSender(clock=lambda: next(clock))
    first = console.send(OutgoingSms(to="+4520000001", body="Hej Mette"))
    console.send(OutgoingSms(to="+4520000002", body="Hej Mette"))
    window = {"created_from": MORNING, "created_until": MORNING + timedelta(hours=1)}
    assert console.find_sent(OutgoingSms("+4520000001", "Hej Mette"), **window) == [
        first
    ]
    assert console.find_sent(OutgoingSms("+4520000001", "Hej Jens"), **window) == []
    earlier = {
        "created_from": MORNING - timedelta(hours=2),
        "created_until": MORNING - timedelta(hours=1),
    }
    assert console.find_sent(OutgoingSms("+4520000001", "Hej Mette"), **earlier) == []
