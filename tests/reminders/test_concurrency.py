"""Several worker processes against one PostgreSQL: every text goes out once, even on a crash.

These run in real separate processes (spawned), as `flask worker` processes would.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select

from app import migrate
from app.db import make_engine, make_sessionmaker
from app.models import ContactDecision, Message
from app.models.enums import Channel, Language, MessageStatus
from reminders.dispatch import STALE_SENDING, dispatch_due, mark_stale_sending_unknown
from reminders.profiles import effective_rules, profile_for
from reminders.reconcile import DEFAULT_GRACE, ReconcileResult, reconcile_unknown
from reminders.sms import OutgoingSms, SentSms
from tests.conftest import scratch_database
from tests.factories import make_creditor, make_debtor
from tests.fakes import FakeSmsSender

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)  # a Tuesday, 10:30 in Copenhagen
MESSAGES = 10_000
WORKERS = 4


def _rules(_account: object, debtor: object) -> object:
    return effective_rules(profile_for(debtor.country))


class FileSender:
    """Appends each text's body to a file: what the 'provider' received, across processes."""

    def __init__(self, path: Path, delay: float = 0.0) -> None:
        self.path, self.delay = path, delay

    def send(self, sms: OutgoingSms) -> SentSms:
        time.sleep(self.delay)
        with self.path.open("a") as out:
            out.write(sms.body + "\n")
        return SentSms(
            provider_id=f"SM{os.getpid()}{time.monotonic_ns()}", status="sent"
        )


def _work(url: str, out: str, delay: float) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    sender = FileSender(Path(out), delay)
    idle = 0
    while idle < 2:
        result = dispatch_due(
            sessions,
            sender,
            now=NOW,
            rules_for=_rules,
            link_for=str,
            limit=50,
            send_threads=4,
        )
        idle = idle + 1 if result.sent == 0 else 0
    engine.dispose()


@pytest.fixture
def database(tmp_path: Path) -> str:
    with scratch_database("postgresql", tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def _seed(url: str, count: int) -> None:
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as session:
        creditor = make_creditor(session, NOW)
        debtors = [make_debtor(session, creditor, NOW) for _ in range(50)]
        # Receipts answer the debtor's payment: no cap holds them back, so all are due now.
        session.execute(
            insert(Message),
            [
                {
                    "debtor_id": debtors[n % len(debtors)].id,
                    "channel": Channel.SMS,
                    "template_key": "receipt",
                    "language": Language.DA,
                    "to_address": debtors[n % len(debtors)].phone_e164,
                    "body": f"receipt {n}",
                    "status": MessageStatus.QUEUED,
                    "not_before": NOW,
                    "created_at": NOW,
                    "attempts": 0,
                }
                for n in range(count)
            ],
        )
    engine.dispose()


def _statuses(url: str) -> Counter[MessageStatus]:
    engine = create_engine(url)
    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            select(Message.status, func.count()).group_by(Message.status)
        )
        counted: Counter[MessageStatus] = Counter(dict(rows.all()))
    engine.dispose()
    return counted


def _spawn(url: str, out: Path, delay: float = 0.0) -> multiprocessing.Process:
    process = multiprocessing.get_context("spawn").Process(
        target=_work, args=(url, str(out), delay)
    )
    process.start()
    return process


def test_four_workers_send_ten_thousand_texts_each_exactly_once(
    database: str, tmp_path: Path
) -> None:
    _seed(database, MESSAGES)
    out = tmp_path / "sent.txt"
    workers = [_spawn(database, out) for _ in range(WORKERS)]
    for worker in workers:
        worker.join(timeout=600)
        assert worker.exitcode == 0
    sent = Counter(out.read_text().splitlines())
    assert len(sent) == MESSAGES
    assert max(sent.values()) == 1
    assert _statuses(database) == Counter({MessageStatus.SENT: MESSAGES})


def test_a_worker_killed_mid_send_never_causes_a_second_send(
    database: str, tmp_path: Path
) -> None:
    _seed(database, 300)
    out = tmp_path / "sent.txt"
    doomed = _spawn(database, out, delay=0.02)
    while not out.exists() or len(out.read_text().splitlines()) < 20:
        time.sleep(0.05)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join()
    survivor = _spawn(database, out)
    survivor.join(timeout=300)
    assert survivor.exitcode == 0
    engine = make_engine(database)
    with make_sessionmaker(engine).begin() as session:
        mark_stale_sending_unknown(
            session, now=NOW + STALE_SENDING + timedelta(seconds=1)
        )
    engine.dispose()
    sent = Counter(out.read_text().splitlines())
    assert max(sent.values()) == 1  # nothing went out twice
    statuses = _statuses(database)
    # Every text is accounted for: sent, or "unknown" if it was in flight when the worker died.
    assert statuses[MessageStatus.SENT] + statuses[MessageStatus.UNKNOWN] == 300
    assert (
        statuses[MessageStatus.UNKNOWN] <= 50
    )  # at most the killed worker's claimed batch
    assert statuses[MessageStatus.SENT] >= len(sent) - statuses[MessageStatus.UNKNOWN]


class SlowLookups(FakeSmsSender):
    """A provider whose lists take a moment, noting which worker asked about which text."""

    def __init__(self) -> None:
        super().__init__()
        self.askers: list[tuple[str, str]] = []

    def find_sent(self, sms: OutgoingSms, **window: datetime) -> list[SentSms]:
        time.sleep(0.02)
        self.askers.append((threading.current_thread().name, sms.body))
        return super().find_sent(sms, **window)


def _seed_unknown(url: str, count: int, provider: SlowLookups) -> None:
    """`count` unknown texts past the grace period; the provider holds every other one."""
    engine = make_engine(url)
    attempted_at = NOW - DEFAULT_GRACE
    with make_sessionmaker(engine).begin() as session:
        creditor = make_creditor(session, NOW)
        debtor = make_debtor(session, creditor, NOW)
        session.execute(
            insert(Message),
            [
                {
                    "debtor_id": debtor.id,
                    "channel": Channel.SMS,
                    "template_key": "receipt",
                    "language": Language.DA,
                    "to_address": debtor.phone_e164,
                    "body": f"receipt {n}",
                    "status": MessageStatus.UNKNOWN,
                    "not_before": attempted_at,
                    "status_updated_at": attempted_at,
                    "created_at": attempted_at,
                    "attempts": 1,
                }
                for n in range(count)
            ],
        )
        for n in range(0, count, 2):
            provider.hold(
                debtor.phone_e164 or "", f"receipt {n}", attempted_at, status="sent"
            )
    engine.dispose()


def test_two_workers_reconciling_at_once_settle_each_text_once(
    database: str,
) -> None:
    provider = SlowLookups()
    _seed_unknown(database, 60, provider)
    start = threading.Barrier(2)
    results: dict[str, ReconcileResult] = {}

    def work(name: str) -> None:
        engine = make_engine(database)  # a worker of its own: its own connections
        start.wait(timeout=30)
        results[name] = reconcile_unknown(make_sessionmaker(engine), provider, now=NOW)
        engine.dispose()

    workers = [threading.Thread(target=work, args=(n,), name=n) for n in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    asked = Counter(body for _, body in provider.askers)
    assert len(asked) == 60
    assert max(asked.values()) == 1  # no text looked up, let alone settled, twice
    assert {name for name, _ in provider.askers} == {"a", "b"}  # both took part
    assert results["a"].found + results["b"].found == 30
    assert results["a"].not_sent + results["b"].not_sent == 30
    assert _statuses(database) == Counter(
        {MessageStatus.SENT: 30, MessageStatus.FAILED: 30}
    )
    engine = create_engine(database)
    with engine.connect() as connection:
        decisions = connection.execute(
            select(ContactDecision.message_id, func.count()).group_by(
                ContactDecision.message_id
            )
        ).all()
    engine.dispose()
    assert len(decisions) == 30
    assert {count for _, count in decisions} == {1}
