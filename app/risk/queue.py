"""The supervisor's risk queue: open signals newest-high-first, and their review.

Dismissed signals are kept (status DISMISSED), never deleted: they are the false positives
that measure the detector's precision in real use.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import Debtor, Message, RiskSignal, User
from app.models.enums import MessageStatus, Severity, SignalStatus
from app.services.audit import record_audit

PAGE_SIZE = 50
_SEVERITY_ORDER = case(
    (RiskSignal.severity == Severity.HIGH, 0),
    (RiskSignal.severity == Severity.MEDIUM, 1),
    else_=2,
)


class Review(enum.StrEnum):
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    RESOLVE = "resolve"


_REVIEWED_STATUS = {
    Review.CONFIRM: SignalStatus.CONFIRMED,
    Review.DISMISS: SignalStatus.DISMISSED,
    Review.RESOLVE: SignalStatus.RESOLVED,
}
# A confirmed signal still needs resolving; dismissed and resolved ones are closed.
_REVIEWABLE = {
    Review.CONFIRM: (SignalStatus.OPEN,),
    Review.DISMISS: (SignalStatus.OPEN, SignalStatus.CONFIRMED),
    Review.RESOLVE: (SignalStatus.OPEN, SignalStatus.CONFIRMED),
}


@dataclass(frozen=True)
class QueueFilter:
    creditor_ids: tuple[int, ...]  # the creditors this supervisor may see
    category: str | None = None
    creditor_id: int | None = None
    statuses: tuple[SignalStatus, ...] = (SignalStatus.OPEN, SignalStatus.CONFIRMED)


def risk_queue(
    session: Session, wanted: QueueFilter, *, page: int = 1
) -> list[tuple[RiskSignal, Debtor]]:
    """High before medium before low; newest first within each."""
    creditors = (
        (wanted.creditor_id,)
        if wanted.creditor_id in wanted.creditor_ids
        else wanted.creditor_ids
    )
    statement = (
        select(RiskSignal, Debtor)
        .join(Debtor, Debtor.id == RiskSignal.debtor_id)
        .where(
            Debtor.creditor_id.in_(creditors),
            RiskSignal.status.in_(wanted.statuses),
        )
        .order_by(_SEVERITY_ORDER, RiskSignal.created_at.desc(), RiskSignal.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    )
    if wanted.category:
        statement = statement.where(RiskSignal.category == wanted.category)
    return [(signal, debtor) for signal, debtor in session.execute(statement)]


def categories_in_use(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(RiskSignal.category).distinct().order_by(RiskSignal.category)
        )
    )


def review_signal(
    session: Session,
    signal_id: int,
    review: Review,
    reviewer: User,
    creditor_ids: tuple[int, ...],
    *,
    note: str,
    now: datetime,
) -> RiskSignal:
    """Record a supervisor's review; the contact policy sees the new status at once.

    :raises NotFound: no such signal among the reviewer's creditors.
    :raises Conflict: the signal is already closed for this kind of review.
    """
    found = session.execute(
        select(RiskSignal, Debtor.creditor_id)
        .join(Debtor, Debtor.id == RiskSignal.debtor_id)
        .where(RiskSignal.id == signal_id)
    ).first()
    if found is None or found[1] not in creditor_ids:
        raise NotFound("No such signal")
    signal, creditor_id = found
    if signal.status not in _REVIEWABLE[review]:
        raise Conflict("This signal has already been reviewed")
    signal.status = _REVIEWED_STATUS[review]
    signal.reviewed_by_id, signal.reviewed_at = reviewer.id, now
    record_audit(
        session,
        reviewer,
        f"risk.{review.value}",
        object_type="risk_signal",
        object_id=signal.id,
        creditor_id=creditor_id,
        now=now,
        detail=" ".join(note.split())[:500],
    )
    return signal


@dataclass(frozen=True)
class WeeklyRate:
    week_start: date
    category: str
    signals: int
    contacts: int

    @property
    def per_thousand(self) -> float:
        return 1000 * self.signals / self.contacts if self.contacts else 0.0


def weekly_rates(
    session: Session, creditor_ids: tuple[int, ...], *, today: date, weeks: int = 8
) -> list[WeeklyRate]:
    """Signals per 1,000 texts sent, per ISO week and category, oldest week first."""
    first_monday = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    since = datetime.combine(first_monday, time(), tzinfo=UTC)
    signals = Counter(
        (_monday(created_at.date()), category)
        for created_at, category in session.execute(
            select(RiskSignal.created_at, RiskSignal.category)
            .join(Debtor, Debtor.id == RiskSignal.debtor_id)
            .where(Debtor.creditor_id.in_(creditor_ids), RiskSignal.created_at >= since)
        )
    )
    contacts = Counter(
        _monday(sent_at.date())
        for sent_at in session.scalars(
            select(Message.sent_at)
            .join(Debtor, Debtor.id == Message.debtor_id)
            .where(
                Debtor.creditor_id.in_(creditor_ids),
                Message.sent_at >= since,
                Message.status.in_(
                    (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNKNOWN)
                ),
            )
        )
        if sent_at is not None
    )
    return [
        WeeklyRate(week, category, count, contacts[week])
        for (week, category), count in sorted(signals.items())
    ]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def open_high_count(session: Session, creditor_ids: tuple[int, ...]) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(RiskSignal)
            .join(Debtor, Debtor.id == RiskSignal.debtor_id)
            .where(
                Debtor.creditor_id.in_(creditor_ids),
                RiskSignal.status == SignalStatus.OPEN,
                RiskSignal.severity == Severity.HIGH,
            )
        )
        or 0
    )
