"""The reminder tick: plan due steps, settle stale sends, dispatch what is due."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from reminders.dispatch import (
    DispatchResult,
    LinkFor,
    dispatch_due,
    mark_stale_sending_unknown,
)
from reminders.email import EmailSender
from reminders.planner import PlanResult, RulesFor, plan_due_steps
from reminders.sms import SmsSender

logger = logging.getLogger(__name__)
PLANNER_LOCK = 7_301_001  # any constant shared by all workers


@dataclass(frozen=True)
class TickResult:
    planned: PlanResult | None
    dispatched: DispatchResult
    marked_unknown: int


def run_tick(
    sessions: sessionmaker[Session],
    sender: SmsSender,
    *,
    now: datetime,
    rules_for: RulesFor,
    link_for: LinkFor,
    dispatch_limit: int = 200,
    email_sender: EmailSender | None = None,
) -> TickResult:
    """One pass of the engine; safe to run from any number of workers at once."""
    with sessions.begin() as session:
        marked_unknown = mark_stale_sending_unknown(session, now=now)
    with sessions.begin() as session:
        planned = (
            plan_due_steps(session, now=now, rules_for=rules_for)
            if _planner_lock(session)
            else None
        )
    dispatched = dispatch_due(
        sessions,
        sender,
        now=now,
        rules_for=rules_for,
        link_for=link_for,
        limit=dispatch_limit,
        email_sender=email_sender,
    )
    logger.info(
        "tick: planned %s, dispatched %s, unknown %s",
        planned,
        dispatched,
        marked_unknown,
    )
    return TickResult(planned, dispatched, marked_unknown)


def _planner_lock(session: Session) -> bool:
    """One planner at a time on PostgreSQL (released at commit); SQLite serialises writers."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PLANNER_LOCK}
        )
    )
