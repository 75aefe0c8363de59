"""Benchmark: the reminder engine on PostgreSQL (issue 3).

Seeds open accounts (one Danish debtor each, a +45 mobile, due 20 days ago, handed over
this morning, the creditor's default sequence) in a scratch database, then measures:

- the planner (`plan_due_steps`), accounts planned per second, next to one plain
  `INSERT INTO messages ... SELECT ... FROM accounts` creating the same rows;
- dispatch (`dispatch_due` in a loop) with a zero-latency fake sender, next to one plain
  `UPDATE messages SET status = 'sent' ...` of the same rows;
- dispatch with a fake sender taking 50 ms per call, by 1 and by 4 spawned worker
  processes (each looping `dispatch_due` until nothing is left, sending with the worker's
  thread pool, and for comparison without), at the tick's claim size and at a smaller one.

The machine may be shared, so next to the rates it reports figures load does not change:
SQL statements (and rows sent to the server) per planned account and per sent message,
and with --profile the functions that take the most time.

Aims (issue 3): the planner at least a third of the plain-SQL rate; with the 50 ms sender,
4 workers at least 3.5 times one. Figures, not pass/fail.

    python -m tests.bench.reminders_engine [--accounts 100000] [--database-url URL]

The database URL defaults to TEST_DATABASE_URL; without one the benchmark is skipped.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import secrets
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.db import make_engine, make_sessionmaker
from app.models import Creditor, Message
from app.models.enums import Language, MessageStatus, VerificationFactor
from app.providers import rules_for
from reminders.dispatch import DispatchResult, dispatch_due
from reminders.jobs import DISPATCH_BATCH, DISPATCH_THREADS
from reminders.planner import plan_due_steps
from reminders.sequences import ensure_default_sequence
from reminders.sms import OutgoingSms, SentSms
from tests.bench.common import (
    FIRST_NAMES,
    LAST_NAMES,
    OUT,
    machine_load,
    scratch_postgres,
    write_figures,
)

# A Tuesday, 10:30 in Copenhagen: inside the contact window, not a holiday.
NOW = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
DUE_DAYS_AGO = 20
TICK_CLAIM = DISPATCH_BATCH  # what a worker claims at a time (reminders.jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument(
        "--dispatch-rows",
        type=int,
        default=5_000,
        help="messages sent by the zero-latency dispatch run (and the plain UPDATE)",
    )
    parser.add_argument("--slow-messages", type=int, default=400)
    parser.add_argument("--slow-ms", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--send-threads",
        type=int,
        default=DISPATCH_THREADS,
        help="sending threads per worker (the worker's own setting by default)",
    )
    parser.add_argument(
        "--small-claim",
        type=int,
        default=25,
        help="a claim size below the tick's 200, to show what it does to concurrency",
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the planner and the dispatch run; top functions printed",
    )
    args = parser.parse_args()
    base_url = args.database_url or os.environ.get("TEST_DATABASE_URL", "")
    if not base_url:
        print(
            "reminders_engine: skipped, it needs PostgreSQL "
            "(set TEST_DATABASE_URL or pass --database-url)"
        )
        return
    if make_url(base_url).get_backend_name() != "postgresql":
        raise SystemExit("reminders_engine: the benchmark runs on PostgreSQL only")
    figures: dict[str, Any] = {"database": "postgresql", "load_before": machine_load()}
    with scratch_postgres(base_url) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        started = time.perf_counter()
        step_id = _seed(engine, sessions, args.accounts)
        figures["seed_seconds"] = round(time.perf_counter() - started, 1)
        figures["accounts"] = args.accounts
        figures["planner"] = _bench_planner(engine, sessions, step_id, args.profile)
        figures["dispatch"] = _bench_dispatch(
            engine, sessions, min(args.dispatch_rows, args.accounts), args.profile
        )
        figures["slow_sender"] = _bench_slow_sender(engine, url, args)
        engine.dispose()
    figures["load_after"] = machine_load()
    write_figures("reminders_engine_postgresql.json", figures)


# --- Database -----------------------------------------------------------------------------


class StatementCount:
    """SQL statements the engine executes (an executemany is one, its rows counted apart)."""

    def __init__(self, engine: Engine) -> None:
        self.statements = self.rows = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        parameters, executemany = args[3], args[5]
        self.statements += 1
        self.rows += len(parameters) if executemany else 1

    def take(self) -> tuple[int, int]:
        """The counts since the last take."""
        counted = (self.statements, self.rows)
        self.statements = self.rows = 0
        return counted


def _seed(engine: Engine, sessions: sessionmaker[Session], count: int) -> int:
    """Creditor and default sequence through the ORM; debtors, accounts, charges in bulk.

    Returns the id of the step the planner is expected to claim (the first: the accounts
    were handed over today, so the sequence starts three days before today).
    """
    with sessions.begin() as session:
        creditor = Creditor(
            slug="bench",
            name="Bench Energi A/S",
            country="DK",
            currency="DKK",
            default_language=Language.DA,
            sms_sender_name="BenchEnergi",
            verification_factor=VerificationFactor.BIRTH_DATE,
            support_phone="+4570101010",
            created_at=NOW - timedelta(days=365),
        )
        session.add(creditor)
        session.flush()
        sequence = ensure_default_sequence(session, creditor, now=NOW)
        first_step = min(sequence.steps, key=lambda s: s.position).id
        creditor_id = creditor.id
    params = {
        "creditor": creditor_id,
        "count": count,
        "first": list(FIRST_NAMES),
        "firsts": len(FIRST_NAMES),
        "last": list(LAST_NAMES),
        "lasts": len(LAST_NAMES),
        "now": NOW,
        "handed_over": NOW - timedelta(hours=1),
        "due_on": NOW.date() - timedelta(days=DUE_DAYS_AGO),
        "issued_on": NOW.date() - timedelta(days=DUE_DAYS_AGO + 14),
    }
    with engine.begin() as connection:
        # Mobiles +45 26/27/28xxxxxx: Danish mobile ranges, unique per debtor.
        connection.execute(
            text(
                """
                INSERT INTO debtors (creditor_id, customer_number, name, phone_e164,
                    language, timezone, country, birth_date, postcode, created_at)
                SELECT :creditor, 'K' || lpad(g::text, 7, '0'),
                    (CAST(:first AS text[]))[1 + g % :firsts] || ' '
                        || (CAST(:last AS text[]))[1 + (g / 7) % :lasts],
                    '+45' || (26000000 + (g * 7919) % 3000000)::text,
                    'da', 'Europe/Copenhagen', 'DK',
                    date '1950-01-01' + (g * 37) % 20000,
                    (1000 + (g * 13) % 8999)::text, :handed_over
                FROM generate_series(1, :count) AS g
                """
            ),
            params,
        )
        connection.execute(
            text(
                """
                INSERT INTO accounts (creditor_id, debtor_id, sequence_id,
                    external_reference, description, original_amount_minor, currency,
                    issued_on, due_on, status, created_at, updated_at)
                SELECT :creditor, d.id, NULL, 'F-' || d.customer_number,
                    'Elregning, oktober', 10000 + (d.id * 7919) % 990000, 'DKK',
                    :issued_on, :due_on, 'open', :handed_over, :handed_over
                FROM debtors d WHERE d.creditor_id = :creditor ORDER BY d.id
                """
            ),
            params,
        )
        connection.execute(
            text(
                """
                INSERT INTO ledger_entries (account_id, kind, amount_minor, currency,
                    external_id, note, occurred_at, created_at)
                SELECT a.id, 'charge', a.original_amount_minor, 'DKK',
                    concat_ws(':', 'import', a.creditor_id, a.external_reference,
                        'opening'),
                    'Imported from the creditor''s file', :handed_over, :handed_over
                FROM accounts a WHERE a.creditor_id = :creditor
                """
            ),
            params,
        )
    _analyze(engine)
    return first_step


def _analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _message_shape(engine: Engine) -> Counter[tuple[Any, ...]]:
    """The outbox as (step, status, channel, template, not_before) -> count."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT step_id, status, channel, template_key, not_before, count(*) "
                "FROM messages GROUP BY 1, 2, 3, 4, 5"
            )
        )
        return Counter({tuple(row[:5]): row[5] for row in rows})


# --- (a) The planner ----------------------------------------------------------------------


def _bench_planner(
    engine: Engine, sessions: sessionmaker[Session], step_id: int, profile: bool
) -> dict[str, Any]:
    accounts = _count(engine, "SELECT count(*) FROM accounts WHERE status = 'open'")
    started = time.perf_counter()
    with engine.begin() as connection:
        inserted = connection.execute(
            text(
                """
                INSERT INTO messages (debtor_id, account_id, step_id, channel,
                    template_key, language, to_address, status, not_before, attempts,
                    created_at)
                SELECT a.debtor_id, a.id, s.id, 'sms', s.template_key, d.language,
                    d.phone_e164, 'queued', :now, 0, :now
                FROM accounts a
                JOIN debtors d ON d.id = a.debtor_id
                JOIN steps s ON s.id = :step
                WHERE a.status IN ('open', 'promised', 'plan', 'paused', 'disputed')
                """
            ),
            {"now": NOW, "step": step_id},
        ).rowcount
    plain_seconds = time.perf_counter() - started
    expected = _message_shape(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM messages"))
    _analyze(engine)

    profiler = cProfile.Profile() if profile else None
    counter = StatementCount(engine)
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    with sessions.begin() as session:
        result = plan_due_steps(session, now=NOW, rules_for=rules_for)
    if profiler:
        profiler.disable()
    planner_seconds = time.perf_counter() - started
    statements, rows = counter.take()
    same = _message_shape(engine) == expected
    _analyze(engine)
    figures = {
        "accounts": accounts,
        "planner_seconds": round(planner_seconds, 2),
        "planner_accounts_per_s": round(accounts / planner_seconds, 1),
        "plain_sql_rows": inserted,
        "plain_sql_seconds": round(plain_seconds, 3),
        "plain_sql_accounts_per_s": round(accounts / plain_seconds, 1),
        "ratio": round(plain_seconds / planner_seconds, 4),
        "aim_ratio": round(1 / 3, 4),
        "queued": result.queued,
        "deferred": result.deferred,
        "suppressed": result.suppressed,
        "superseded": result.superseded,
        "same_rows_as_plain_sql": same,
        "statements": statements,
        "statements_per_account": round(statements / accounts, 4),
        "statement_rows_per_account": round(rows / accounts, 4),
    }
    if profiler:
        figures["profile"] = _hotspots(profiler, "reminders_planner")
    return figures


# --- (b) Dispatch, zero latency -----------------------------------------------------------


class FakeSender:
    """Takes every text after `delay` seconds, like a provider answering 'queued'."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls = 0

    def send(self, sms: OutgoingSms) -> SentSms:
        if self.delay:
            time.sleep(self.delay)
        self.calls += 1
        return SentSms(
            provider_id=f"SM{os.getpid()}x{self.calls}x{secrets.token_hex(4)}",
            status="queued",
            segments=1,
        )


def link_for(token: str) -> str:
    return f"https://venlig.example/p/{token}"


def _bench_dispatch(
    engine: Engine, sessions: sessionmaker[Session], count: int, profile: bool
) -> dict[str, Any]:
    """The first `count` due messages: a plain UPDATE, reset, then dispatch_due."""
    due = (
        "SELECT id FROM messages WHERE status = 'queued' AND not_before <= :now "
        "ORDER BY not_before, id LIMIT :count"
    )
    with engine.connect() as connection:
        ids = list(connection.scalars(text(due), {"now": NOW, "count": count}))
    params = {"now": NOW, "ids": ids}
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                UPDATE messages SET status = 'sent', attempts = attempts + 1,
                    body = 'Hej, ' || to_address, segments = 1,
                    provider_message_id = 'SMplain' || id, sent_at = :now,
                    status_updated_at = :now
                WHERE id = ANY(:ids)
                """
            ),
            params,
        )
    plain_seconds = time.perf_counter() - started
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                UPDATE messages SET status = 'queued', attempts = 0, body = NULL,
                    segments = NULL, provider_message_id = NULL, sent_at = NULL,
                    status_updated_at = NULL
                WHERE id = ANY(:ids)
                """
            ),
            params,
        )
    _analyze(engine)

    sender = FakeSender()
    total = DispatchResult()
    profiler = cProfile.Profile() if profile else None
    counter = StatementCount(engine)
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    while total.sent + total.deferred + total.suppressed + total.failed < count:
        left = count - (total.sent + total.deferred + total.suppressed + total.failed)
        result = dispatch_due(
            sessions,
            sender,
            now=NOW,
            rules_for=rules_for,
            link_for=link_for,
            limit=min(TICK_CLAIM, left),
        )
        if _handled(result) == 0:
            break
        for name in ("sent", "deferred", "suppressed", "failed", "retried", "unknown"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
    if profiler:
        profiler.disable()
    dispatch_seconds = time.perf_counter() - started
    statements, rows = counter.take()
    with engine.connect() as connection:
        sent_ids = set(
            connection.scalars(
                select(Message.id).where(Message.status == MessageStatus.SENT)
            )
        )
    figures = {
        "messages": count,
        "dispatch_seconds": round(dispatch_seconds, 2),
        "dispatch_per_s": round(total.sent / dispatch_seconds, 1),
        "plain_sql_seconds": round(plain_seconds, 3),
        "plain_sql_per_s": round(count / plain_seconds, 1),
        "ratio": round(plain_seconds / dispatch_seconds, 4),
        "sent": total.sent,
        "deferred": total.deferred,
        "suppressed": total.suppressed,
        "same_rows_as_plain_sql": sent_ids == set(ids),
        "statements_per_sent": round(statements / max(total.sent, 1), 2),
        "statement_rows_per_sent": round(rows / max(total.sent, 1), 2),
    }
    if profiler:
        figures["profile"] = _hotspots(profiler, "reminders_dispatch")
    return figures


def _handled(result: DispatchResult) -> int:
    return (
        result.sent
        + result.deferred
        + result.suppressed
        + result.failed
        + result.retried
        + result.unknown
    )


# --- (c) Dispatch with a slow sender, 1 and N worker processes ------------------------------


def _bench_slow_sender(engine: Engine, url: str, args: argparse.Namespace) -> Any:
    """Batches of queued messages, each made due alone (the rest parked in the future)."""
    delay = args.slow_ms / 1000
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE messages SET not_before = :later "
                "WHERE status = 'queued' AND not_before <= :now"
            ),
            {"now": NOW, "later": NOW + timedelta(days=30)},
        )
    _analyze(engine)
    figures: dict[str, Any] = {
        "sender_ms": args.slow_ms,
        "messages": args.slow_messages,
        "ideal_one_worker_per_s": round(1 / delay, 1),
    }
    for threads in dict.fromkeys((args.send_threads, 1)):
        for claim in dict.fromkeys((TICK_CLAIM, args.small_claim)):
            runs = {}
            for workers in dict.fromkeys((1, args.workers)):
                _release(engine, args.slow_messages)
                runs[workers] = _run_workers(url, workers, delay, claim, threads)
            one, many = runs[1], runs[args.workers]
            figures[f"threads_{threads}_claim_{claim}"] = {
                "one_worker_per_s": round(one["per_s"], 1),
                f"{args.workers}_workers_per_s": round(many["per_s"], 1),
                "speed_up": round(many["per_s"] / one["per_s"], 2),
                "aim_speed_up": 3.5,
                "sent_by_each_worker": many["sent_by_worker"],
            }
    return figures


def _release(engine: Engine, count: int) -> None:
    with engine.begin() as connection:
        released = connection.execute(
            text(
                """
                UPDATE messages SET not_before = :now WHERE id IN (
                    SELECT id FROM messages WHERE status = 'queued'
                    ORDER BY id LIMIT :count)
                """
            ),
            {"now": NOW, "count": count},
        ).rowcount
    if released < count:
        raise SystemExit(f"only {released} queued messages left; seed more accounts")


def _run_workers(
    url: str, workers: int, delay: float, claim: int, threads: int
) -> dict[str, Any]:
    """Spawned processes start together once connected; the time is until the last ends."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=_work, args=(url, delay, claim, threads, ready, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    ready.wait(timeout=300)
    started = time.monotonic()
    reports = [results.get(timeout=900) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        if process.exitcode != 0:
            raise RuntimeError(f"a dispatch worker exited with {process.exitcode}")
    elapsed = max(ended for ended, _ in reports) - started
    sent = sorted((count for _, count in reports), reverse=True)
    return {"per_s": sum(sent) / elapsed, "sent_by_worker": sent}


def _work(
    url: str, delay: float, claim: int, threads: int, ready: Any, results: Any
) -> None:  # pragma: no cover - runs in a spawned process
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    sender = FakeSender(delay)
    with engine.connect() as connection:  # connect before the clock starts
        connection.execute(text("SELECT 1"))
    ready.wait(timeout=300)
    sent = 0
    while True:
        result = dispatch_due(
            sessions,
            sender,
            now=NOW,
            rules_for=rules_for,
            link_for=link_for,
            limit=claim,
            send_threads=threads,
        )
        if _handled(result) == 0:
            break
        sent += result.sent
    results.put((time.monotonic(), sent))
    engine.dispose()


# --- Reporting ----------------------------------------------------------------------------


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text(sql)) or 0)


def _hotspots(profiler: cProfile.Profile, name: str, top: int = 15) -> list[str]:
    """The functions with the most time of their own; the full profile is saved."""
    OUT.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(OUT / f"{name}.prof")
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("tottime").print_stats(top)
    return [
        line.strip()
        for line in buffer.getvalue().splitlines()
        if line.strip() and line.strip()[0].isdigit()
    ][1 : top + 1]


if __name__ == "__main__":
    main()
