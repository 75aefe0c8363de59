"""Periodic jobs as a table in code; run only by `flask worker`, never inside gunicorn."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy.orm import Session

from app.chat.actions import notify_unseen_replies
from app.chat.assignment import assign_waiting
from app.chat.conversations import open_or_get
from app.clock import utcnow
from app.ingest.batches import work_batches
from app.models import Account, Debtor
from app.providers import payment_gateway, portal_link_for, reminder_adapters
from app.risk.behaviour import detect_behaviour
from app.web.db import get_sessionmaker
from app.web.live.wiring import chat_adapters
from app.web.uploads.wiring import ingest_limits, upload_store
from app.web.webhooks.stripe import deliver_events
from payments.arrangements import review_promises
from payments.instalments import charge_due_instalments
from payments.sandbox import SandboxGateway
from reminders.jobs import run_tick
from reminders.planner import HandOver
from reminders.reconcile import reconcile_unknown

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable[[Flask], object]
    every_seconds: Callable[[Flask], int]
    # Frequent jobs report at DEBUG, so an idle worker does not fill the terminal.
    log_level: int = logging.INFO


def reminders_tick(app: Flask) -> object:
    adapters = reminder_adapters(app)
    return run_tick(
        get_sessionmaker(app),
        adapters.sender,
        now=utcnow(),
        rules_for=adapters.rules_for,
        link_for=adapters.link_for,
        email_sender=adapters.email_sender,
        hand_over=hand_over_to_agents(app),
    )


def reminders_reconcile(app: Flask) -> object:
    """Ask the provider about texts whose fate is unknown and that no callback settled."""
    return reconcile_unknown(
        get_sessionmaker(app),
        reminder_adapters(app).sender,
        now=utcnow(),
        grace=timedelta(hours=int(app.config["SMS_RECONCILE_GRACE_HOURS"])),
    )


def hand_over_to_agents(app: Flask) -> HandOver:
    """A sequence's hand-to-agent step opens a waiting conversation in the agents' queue."""
    notifier = chat_adapters(app).notifier

    def hand_over(
        session: Session, _account: Account, debtor: Debtor, now: datetime
    ) -> None:
        open_or_get(session, debtor, now=now, notifier=notifier, via="sequence")

    return hand_over


def payments_tick(app: Flask) -> object:
    """Charge due instalments and follow up promises; texts go out with the next reminder tick."""
    gateway, link_for, now = payment_gateway(app), portal_link_for(app), utcnow()
    with get_sessionmaker(app).begin() as session:
        charged = charge_due_instalments(session, gateway, now=now, link_for=link_for)
        promises = review_promises(session, now=now, link_for=link_for)
    if isinstance(gateway, SandboxGateway):
        # Stripe would now send its webhooks; the sandbox hands over its events after our
        # commit, exactly as a webhook arriving a moment later would.
        events, gateway.pending_events = gateway.pending_events, []
        deliver_events(events)
    return {"instalments": charged, "promises_changed": promises}


def risk_tick(app: Flask) -> object:
    """Look for behavioural patterns (STOP after START, no reaction, failing plans...)."""
    with get_sessionmaker(app).begin() as session:
        return len(detect_behaviour(session, now=utcnow()))


def ingest_tick(app: Flask) -> object:
    """Check queued uploads and import confirmed ones, chunk by chunk.

    A run stops taking chunks before the next one is due (the next carries on), so runs
    do not pile up behind a long import.
    """
    return work_batches(
        get_sessionmaker(app),
        upload_store(app),
        limits=ingest_limits(app),
        clock=utcnow,
        budget_seconds=max(1.0, 0.8 * _ingest_seconds(app)),
    )


def chat_tick(app: Flask) -> object:
    """Hand waiting chats to agents who came online; text debtors who left before a reply."""
    adapters, now = chat_adapters(app), utcnow()
    with get_sessionmaker(app).begin() as session:
        assigned = assign_waiting(session, now=now, notifier=adapters.notifier)
        texted = notify_unseen_replies(session, now=now, adapters=adapters)
    return {"assigned": assigned, "texted": texted}


def _tick_seconds(app: Flask) -> int:
    return int(app.config["WORKER_TICK_SECONDS"])


def _ingest_seconds(app: Flask) -> int:
    return int(app.config["INGEST_TICK_SECONDS"])


JOBS = [
    Job("reminders.tick", reminders_tick, _tick_seconds),
    # Unknown texts are rare and the provider's lists lag: every ten ticks is enough.
    Job(
        "reminders.reconcile",
        reminders_reconcile,
        lambda app: 10 * _tick_seconds(app),
        logging.DEBUG,
    ),
    Job("payments.tick", payments_tick, _tick_seconds),
    # Patterns build up over days; every ten ticks is soon enough.
    Job("risk.tick", risk_tick, lambda app: 10 * _tick_seconds(app)),
    # Often, so a confirmed upload starts within seconds; a run that finds nothing is cheap.
    Job("ingest.tick", ingest_tick, _ingest_seconds, logging.DEBUG),
    # A reply the debtor's page never showed is texted about after a minute or so.
    Job("chat.tick", chat_tick, lambda _app: 30, logging.DEBUG),
]


def build_scheduler(app: Flask) -> BlockingScheduler:
    """An in-memory job store per worker: jobs claim their rows, so workers may be many."""
    scheduler = BlockingScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    )
    for job in JOBS:
        scheduler.add_job(
            _logged(app, job),
            IntervalTrigger(seconds=job.every_seconds(app)),
            id=job.id,
            next_run_time=utcnow(),
        )
    return scheduler


def _logged(app: Flask, job: Job) -> Callable[[], None]:
    def run() -> None:
        with app.app_context():
            try:
                logger.log(job.log_level, "%s: %s", job.id, job.run(app))
            except Exception:
                # One failed run must not stop the worker; the next tick starts from the DB.
                logger.exception("%s failed", job.id)

    return run
