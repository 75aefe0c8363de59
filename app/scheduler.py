"""Periodic jobs as a table in code; run only by `flask worker`, never inside gunicorn."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from app.clock import utcnow
from app.providers import reminder_adapters
from app.web.db import get_sessionmaker
from reminders.jobs import run_tick

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable[[Flask], object]
    every_seconds: Callable[[Flask], int]


def reminders_tick(app: Flask) -> object:
    adapters = reminder_adapters(app)
    return run_tick(
        get_sessionmaker(app),
        adapters.sender,
        now=utcnow(),
        rules_for=adapters.rules_for,
        link_for=adapters.link_for,
    )


JOBS = [
    Job(
        "reminders.tick",
        reminders_tick,
        lambda app: int(app.config["WORKER_TICK_SECONDS"]),
    ),
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
                logger.info("%s: %s", job.id, job.run(app))
            except Exception:
                # One failed run must not stop the worker; the next tick starts from the DB.
                logger.exception("%s failed", job.id)

    return run
