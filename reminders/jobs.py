"""The reminder tick: plan due steps, settle stale sends, dispatch what is due."""

from __future__ import annotations

import logging
import time
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
from reminders.planner import HandOver, PlanResult, RulesFor, plan_due_steps
from reminders.sms import SmsSender

logger = logging.getLogger(__name__)
PLANNER_LOCK = 7_301_001  # any constant shared by all workers


@dataclass(frozen=True)
class TickResult:
    planned: PlanResult | None
    dispatched: DispatchResult
    marked_unknown: int


DISPATCH_BATCH = 25
# A worker hands a claim's texts to the provider this many at a time: a send is mostly
# waiting on the network, so a few threads multiply a worker's rate.
DISPATCH_THREADS = 4
# Within one tick (a minute by default), leaving time for the planner and the next tick.
DISPATCH_BUDGET_SECONDS = 40.0


def run_tick(
    sessions: sessionmaker[Session],
    sender: SmsSender,
    *,
    now: datetime,
    rules_for: RulesFor,
    link_for: LinkFor,
    dispatch_batch: int = DISPATCH_BATCH,
    dispatch_budget: float = DISPATCH_BUDGET_SECONDS,
    dispatch_threads: int = DISPATCH_THREADS,
    email_sender: EmailSender | None = None,
    hand_over: HandOver | None = None,
) -> TickResult:
    """One pass of the engine; safe to run from any number of workers at once."""
    with sessions.begin() as session:
        marked_unknown = mark_stale_sending_unknown(session, now=now)
    with sessions.begin() as session:
        planned = (
            plan_due_steps(session, now=now, rules_for=rules_for, hand_over=hand_over)
            if _planner_lock(session)
            else None
        )
    dispatched = DispatchResult()
    started = time.monotonic()
    # Small claims, repeated: several workers share the queue, and no claimed message waits
    # long enough behind slow sends to be mistaken for one a dead worker left (STALE_SENDING).
    while time.monotonic() - started < dispatch_budget:
        batch = dispatch_due(
            sessions,
            sender,
            now=now,
            rules_for=rules_for,
            link_for=link_for,
            limit=dispatch_batch,
            email_sender=email_sender,
            send_threads=dispatch_threads,
        )
        dispatched.add(batch)
        if batch.claimed < dispatch_batch:
            break
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
