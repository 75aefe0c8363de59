"""Behavioural signals: what the debtor's and our own actions say, beyond their words.

A periodic job looks at recent events and raises a RiskSignal the first time a pattern appears
for a debtor (or account); one that is still under review, or was raised recently, is not
raised again.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Account,
    ContactDecision,
    InboundMessage,
    Instalment,
    LedgerEntry,
    Message,
    PaymentPlan,
    PortalLink,
    RiskSignal,
)
from app.models.enums import (
    LedgerKind,
    MessageStatus,
    RiskAction,
    Severity,
    SignalSource,
)

LOOKBACK = timedelta(days=30)
# The reasons as the contact policy stores them (reminders.policy.Reason values).
QUIET_HOURS = "quiet_hours"
FREQUENCY_CAP = "frequency_cap"
_SENT = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNKNOWN)
_FAILED_CHARGE = ("failed", "missed", "requires_action")


@dataclass(frozen=True)
class Pattern:
    debtor_id: int
    account_id: int | None
    category: str
    severity: Severity
    evidence: str


def detect_behaviour(session: Session, *, now: datetime) -> list[RiskSignal]:
    """Raise a signal for each new pattern seen in the last 30 days."""
    since = now - LOOKBACK
    patterns = [
        *_stop_after_start(session, since),
        *_no_reaction(session, since),
        *_deferred_by_quiet_hours(session, since),
        *_frequency_cap(session, since),
        *_failing_instalments(session),
    ]
    signals = [
        _signal(pattern, now)
        for pattern in patterns
        if not _already_raised(session, pattern, since)
    ]
    session.add_all(signals)
    session.flush()
    return signals


def _stop_after_start(session: Session, since: datetime) -> Iterable[Pattern]:
    keywords: dict[int, list[str]] = defaultdict(list)
    for debtor_id, keyword in session.execute(
        select(InboundMessage.debtor_id, InboundMessage.keyword)
        .where(
            InboundMessage.received_at >= since,
            InboundMessage.keyword.in_(("stop", "start")),
        )
        .order_by(InboundMessage.received_at)
    ):
        if debtor_id is not None and keyword:
            keywords[debtor_id].append(keyword)
    for debtor_id, sequence in keywords.items():
        if "stop,start,stop" in ",".join(sequence):
            yield Pattern(
                debtor_id,
                None,
                "stop_after_start",
                Severity.MEDIUM,
                "Replied STOP again after START: our texts may be unwelcome",
            )


def _no_reaction(session: Session, since: datetime) -> Iterable[Pattern]:
    """Three reminders in a row on an account with no reply, portal visit or payment."""
    reminders: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for debtor_id, account_id, sent_at in session.execute(
        select(Message.debtor_id, Message.account_id, Message.sent_at).where(
            Message.step_id.is_not(None),
            Message.status.in_(_SENT),
            Message.sent_at >= since,
        )
    ):
        if account_id is not None and sent_at is not None:
            reminders[(debtor_id, account_id)].append(sent_at)
    for (debtor_id, account_id), times in reminders.items():
        if len(times) < 3:
            continue
        first = sorted(times)[-3]
        if not _reacted_since(session, debtor_id, account_id, first):
            yield Pattern(
                debtor_id,
                account_id,
                "no_reaction",
                Severity.LOW,
                "Three reminders in a row without a reply, a visit or a payment",
            )


def _reacted_since(
    session: Session, debtor_id: int, account_id: int, since: datetime
) -> bool:
    checks = (
        select(InboundMessage.id).where(
            InboundMessage.debtor_id == debtor_id, InboundMessage.received_at >= since
        ),
        select(PortalLink.id).where(
            PortalLink.debtor_id == debtor_id, PortalLink.verified_at >= since
        ),
        select(LedgerEntry.id).where(
            LedgerEntry.account_id == account_id,
            LedgerEntry.kind == LedgerKind.PAYMENT,
            LedgerEntry.occurred_at >= since,
        ),
    )
    return any(session.scalar(check.limit(1)) is not None for check in checks)


def _deferred_by_quiet_hours(session: Session, since: datetime) -> Iterable[Pattern]:
    counts = Counter(
        (debtor_id, account_id, message_id)
        for debtor_id, account_id, message_id in session.execute(
            select(
                ContactDecision.debtor_id,
                ContactDecision.account_id,
                ContactDecision.message_id,
            ).where(
                ContactDecision.reason == QUIET_HOURS,
                ContactDecision.checked_at >= since,
                ContactDecision.message_id.is_not(None),
            )
        )
    )
    for (debtor_id, account_id, _message_id), count in counts.items():
        if count >= 3:
            yield Pattern(
                debtor_id,
                account_id,
                "deferred_repeatedly",
                Severity.LOW,
                f"A text was held back {count} times by quiet hours: check the debtor's time zone",
            )


def _frequency_cap(session: Session, since: datetime) -> Iterable[Pattern]:
    seen = {
        (debtor_id, account_id)
        for debtor_id, account_id in session.execute(
            select(ContactDecision.debtor_id, ContactDecision.account_id).where(
                ContactDecision.reason == FREQUENCY_CAP,
                ContactDecision.checked_at >= since,
            )
        )
    }
    for debtor_id, account_id in seen:
        yield Pattern(
            debtor_id,
            account_id,
            "frequency_cap_hit",
            Severity.LOW,
            "A text would have broken the frequency cap and was held back",
        )


def _failing_instalments(session: Session) -> Iterable[Pattern]:
    per_account = Counter(
        (debtor_id, account_id)
        for debtor_id, account_id in session.execute(
            select(Account.debtor_id, Account.id)
            .join(PaymentPlan, PaymentPlan.account_id == Account.id)
            .join(Instalment, Instalment.plan_id == PaymentPlan.id)
            .where(Instalment.status.in_(_FAILED_CHARGE))
        )
    )
    for (debtor_id, account_id), count in per_account.items():
        if count >= 2:
            yield Pattern(
                debtor_id,
                account_id,
                "instalments_failing",
                Severity.MEDIUM,
                f"{count} instalments of the plan have failed: the plan may not fit",
            )


def _already_raised(session: Session, pattern: Pattern, since: datetime) -> bool:
    statement = select(RiskSignal.id).where(
        RiskSignal.debtor_id == pattern.debtor_id,
        RiskSignal.category == pattern.category,
        RiskSignal.created_at >= since,
    )
    if pattern.account_id is not None:
        statement = statement.where(RiskSignal.account_id == pattern.account_id)
    return session.scalar(statement.limit(1)) is not None


def _signal(pattern: Pattern, now: datetime) -> RiskSignal:
    return RiskSignal(
        debtor_id=pattern.debtor_id,
        account_id=pattern.account_id,
        category=pattern.category,
        severity=pattern.severity,
        source=SignalSource.EVENT,
        evidence=pattern.evidence,
        confidence=1.0,
        action_taken=RiskAction.LOGGED_FOR_REVIEW,
        created_at=now,
    )
