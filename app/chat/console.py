"""What the console shows: the queue, the debtor's whole story, the desk's figures, and the
honest wait the debtor is told."""

from __future__ import annotations

import enum
import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from app.chat.account_actions import notes_of
from app.chat.assignment import online_agents, served_creditor_ids
from app.chat.conversations import OPEN_STATUSES
from app.chat.hours import OpeningHours, hours_for
from app.models import (
    ChatAgent,
    ContactDecision,
    Conversation,
    Creditor,
    Debtor,
    DebtorNote,
    Message,
    RiskSignal,
    User,
)
from app.models.enums import ConversationStatus, Severity, SignalStatus
from app.risk.complaint_file import FileEntry, complaint_file
from payments.arrangements import plan_offers, promise_limit
from payments.overview import AccountView, accounts_for
from payments.plans import PlanOffer

# The day the supervisor's "today" figures cover, for an agency in the Nordics.
AGENCY_ZONE = "Europe/Copenhagen"
TYPICAL_FIRST_RESPONSE = timedelta(minutes=2)  # until a desk has its own history
RECENT = timedelta(days=7)
_RISKY = (SignalStatus.OPEN, SignalStatus.CONFIRMED)
_S = TypeVar("_S", bound=Select[Any])


class SlaLevel(enum.StrEnum):
    OK = "ok"
    AMBER = "amber"
    RED = "red"


def sla_level(waited_business_seconds: int, target_minutes: int) -> SlaLevel:
    """Amber past the target, red past twice the target."""
    if waited_business_seconds > 2 * 60 * target_minutes:
        return SlaLevel.RED
    if waited_business_seconds > 60 * target_minutes:
        return SlaLevel.AMBER
    return SlaLevel.OK


@dataclass(frozen=True)
class QueueRow:
    conversation: Conversation
    debtor: Debtor
    creditor: Creditor
    assigned_name: str | None
    waited_seconds: int  # wall clock, since the debtor started waiting for us
    level: SlaLevel
    high_risk: bool

    @property
    def is_waiting_for_agent(self) -> bool:
        return self.conversation.waiting_since is not None


def queue_for(session: Session, user: User, *, now: datetime) -> list[QueueRow]:
    """Open conversations this user may see; the longest waiting first."""
    creditor_ids = served_creditor_ids(session, user)
    if creditor_ids == []:
        return []
    statement = (
        select(Conversation, Debtor, Creditor, User.name)
        .join(Debtor, Debtor.id == Conversation.debtor_id)
        .join(Creditor, Creditor.id == Conversation.creditor_id)
        .outerjoin(User, User.id == Conversation.assigned_user_id)
        .where(Conversation.status.in_(OPEN_STATUSES))
        .order_by(
            Conversation.waiting_since.is_(None),
            Conversation.waiting_since,
            Conversation.opened_at,
        )
    )
    if creditor_ids is not None:
        statement = statement.where(Conversation.creditor_id.in_(creditor_ids))
    rows = session.execute(statement).all()
    risky = _high_risk_debtors(session, [debtor.id for _c, debtor, _cr, _n in rows])
    hours: dict[int, OpeningHours] = {}
    return [
        _row(session, conversation, debtor, creditor, name, risky, hours, now)
        for conversation, debtor, creditor, name in rows
    ]


def _row(
    session: Session,
    conversation: Conversation,
    debtor: Debtor,
    creditor: Creditor,
    assigned_name: str | None,
    risky: set[int],
    hours: dict[int, OpeningHours],
    now: datetime,
) -> QueueRow:
    if creditor.id not in hours:
        hours[creditor.id] = hours_for(session, creditor)
    desk = hours[creditor.id]
    since = conversation.waiting_since
    waited = int((now - since).total_seconds()) if since else 0
    level = (
        sla_level(desk.business_seconds(since, now), desk.target_wait_minutes)
        if since
        else SlaLevel.OK
    )
    return QueueRow(
        conversation, debtor, creditor, assigned_name, waited, level, debtor.id in risky
    )


def _high_risk_debtors(session: Session, debtor_ids: list[int]) -> set[int]:
    if not debtor_ids:
        return set()
    return set(
        session.scalars(
            select(RiskSignal.debtor_id).where(
                RiskSignal.debtor_id.in_(debtor_ids),
                RiskSignal.severity == Severity.HIGH,
                RiskSignal.status.in_(_RISKY),
            )
        )
    )


@dataclass
class ContextPanel:
    """Everything Venlig knows about the debtor, so they never repeat themselves."""

    debtor: Debtor
    creditor: Creditor
    local_time: datetime
    accounts: list[AccountView]
    timelines: dict[int, list[FileEntry]]
    offers: dict[int, list[PlanOffer]]
    promise_by: dict[int, date]
    texts: list[Message]
    decisions: list[ContactDecision]
    earlier: list[Conversation]
    signals: list[RiskSignal]
    notes: list[DebtorNote]
    handled_by: str | None = None
    agents: list[User] = field(default_factory=list)


def context_panel(
    session: Session, conversation: Conversation, *, now: datetime
) -> ContextPanel:
    debtor = session.get(Debtor, conversation.debtor_id)
    creditor = session.get(Creditor, conversation.creditor_id)
    assert debtor is not None
    assert creditor is not None
    views = accounts_for(session, debtor)
    today = now.date()
    handler = (
        session.get(User, conversation.assigned_user_id)
        if conversation.assigned_user_id
        else None
    )
    return ContextPanel(
        debtor=debtor,
        creditor=creditor,
        local_time=now.astimezone(ZoneInfo(debtor.timezone)),
        accounts=views,
        timelines={v.account.id: complaint_file(session, v.account) for v in views},
        offers={v.account.id: plan_offers(session, v.account, today) for v in views},
        promise_by={
            v.account.id: promise_limit(session, v.account, today) for v in views
        },
        texts=list(
            session.scalars(
                select(Message)
                .where(Message.debtor_id == debtor.id)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(50)
            )
        ),
        decisions=list(
            session.scalars(
                select(ContactDecision)
                .where(ContactDecision.debtor_id == debtor.id)
                .order_by(ContactDecision.checked_at.desc(), ContactDecision.id.desc())
                .limit(50)
            )
        ),
        earlier=list(
            session.scalars(
                select(Conversation)
                .where(
                    Conversation.debtor_id == debtor.id,
                    Conversation.id != conversation.id,
                )
                .order_by(Conversation.opened_at.desc())
            )
        ),
        signals=list(
            session.scalars(
                select(RiskSignal)
                .where(RiskSignal.debtor_id == debtor.id)
                .order_by(RiskSignal.created_at.desc(), RiskSignal.id.desc())
            )
        ),
        notes=notes_of(session, debtor.id),
        handled_by=handler.name if handler else None,
        agents=[
            a
            for a in _agents_of(session, creditor.id)
            if a.id != conversation.assigned_user_id
        ],
    )


def _agents_of(session: Session, creditor_id: int) -> list[User]:
    """Who may be handed this creditor's chats (for a supervisor's reassignment)."""
    return list(
        session.scalars(
            select(User)
            .join(ChatAgent, ChatAgent.user_id == User.id)
            .where(ChatAgent.creditor_id == creditor_id, User.is_active.is_(True))
            .order_by(User.name)
        )
    )


@dataclass(frozen=True)
class DeskStats:
    waiting: int
    active: int
    agents_online: list[User]
    median_first_response_seconds: int | None
    csat_average: float | None
    csat_count: int
    closed_today: int


def start_of_day(now: datetime, zone: str = AGENCY_ZONE) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def desk_stats(session: Session, user: User, *, now: datetime) -> DeskStats:
    """Live queue length, agents online, median first response and CSAT, today."""
    creditor_ids = served_creditor_ids(session, user)
    since = start_of_day(now)

    def scoped(statement: _S) -> _S:
        if creditor_ids is None:
            return statement
        return statement.where(Conversation.creditor_id.in_(creditor_ids))

    def count(*conditions: ColumnElement[bool]) -> int:
        return int(
            session.scalar(
                scoped(select(func.count()).select_from(Conversation)).where(
                    *conditions
                )
            )
            or 0
        )

    firsts = [
        seconds
        for seconds in session.scalars(
            scoped(select(Conversation.first_response_seconds)).where(
                Conversation.first_response_at >= since,
                Conversation.first_response_seconds.is_not(None),
            )
        )
        if seconds is not None
    ]
    scores = [
        score
        for score in session.scalars(
            scoped(select(Conversation.csat_score)).where(
                Conversation.csat_at >= since, Conversation.csat_score.is_not(None)
            )
        )
        if score is not None
    ]
    return DeskStats(
        waiting=count(
            Conversation.status == ConversationStatus.WAITING,
        ),
        active=count(Conversation.status == ConversationStatus.ACTIVE),
        agents_online=online_agents(session, creditor_ids, now=now),
        median_first_response_seconds=int(statistics.median(firsts))
        if firsts
        else None,
        csat_average=round(statistics.fmean(scores), 1) if scores else None,
        csat_count=len(scores),
        closed_today=count(
            Conversation.status == ConversationStatus.CLOSED,
            Conversation.closed_at >= since,
        ),
    )


@dataclass(frozen=True)
class WaitEstimate:
    """What the debtor is told before an agent joins."""

    open_now: bool
    next_opening: datetime | None
    agents_online: int
    ahead: int
    minutes: int | None  # None: nobody can answer now, so no promise is made
    hours: OpeningHours


def estimate_minutes(ahead: int, agents: int, recent: list[float]) -> int:
    """The typical first response, stretched by the queue ahead shared among the agents."""
    typical = (
        statistics.median(recent) if recent else TYPICAL_FIRST_RESPONSE.total_seconds()
    )
    return max(1, math.ceil(typical * (1 + ahead / max(agents, 1)) / 60))


def expected_wait(
    session: Session,
    creditor: Creditor,
    conversation: Conversation | None,
    *,
    now: datetime,
) -> WaitEstimate:
    hours = hours_for(session, creditor)
    open_now = hours.is_open(now)
    agents = len(online_agents(session, [creditor.id], now=now))
    ahead_filter = [
        Conversation.creditor_id == creditor.id,
        Conversation.status == ConversationStatus.WAITING,
    ]
    if conversation is not None:
        ahead_filter.append(Conversation.opened_at < conversation.opened_at)
    ahead = int(
        session.scalar(
            select(func.count()).select_from(Conversation).where(*ahead_filter)
        )
        or 0
    )
    recent = [
        (first - opened).total_seconds()
        for opened, first in session.execute(
            select(Conversation.opened_at, Conversation.first_response_at)
            .where(
                Conversation.creditor_id == creditor.id,
                Conversation.first_response_at.is_not(None),
                Conversation.opened_at >= now - RECENT,
            )
            .order_by(Conversation.opened_at.desc())
            .limit(20)
        )
        if first is not None
    ]
    return WaitEstimate(
        open_now=open_now,
        next_opening=hours.next_opening(now),
        agents_online=agents,
        ahead=ahead,
        minutes=estimate_minutes(ahead, agents, recent)
        if open_now and agents
        else None,
        hours=hours,
    )
