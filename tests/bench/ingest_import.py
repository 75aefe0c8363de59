"""Benchmark: importing a creditor's CSV through the real upload path (issue 5).

A generated Danish export (semicolon, decimal comma, dd-mm-yyyy, UTF-8 with BOM, some
customers with several invoices, a few bad rows) goes the way a confirmed upload goes:
`receive_upload`, the worker's dry run (`work_batches` -> `check_batch` -> `plan_import`),
`confirm_batch`, and the worker's chunked import (`import_chunk`, one transaction per
chunk). Reported on SQLite and, with a PostgreSQL URL, on PostgreSQL: rows per second per
phase and peak memory, next to inserting the same already-clean rows (debtors, accounts,
opening charges) with one executemany per table, as the ratio; and the SQL statements
sent per row, which unlike the rates do not depend on how busy the machine is (counted
through SQLAlchemy's events, which the import's COPY on PostgreSQL bypasses: add three
per window of 500 rows, 0.006 a row). Then the peak memory of the dry run over a
1,000,000-row file on SQLite.

Each measurement runs in its own spawned process, so ru_maxrss is that run's peak.
tracemalloc slows Python down 3-5x, so it is only switched on for a separate, smaller dry
run (--traced-rows); the timed runs and the million-row dry run report ru_maxrss.

Aims (issue 5): at least half the plain insert rate; under 300 MB peak for a million rows.
Figures, not pass/fail.

    python -m tests.bench.ingest_import [--rows 100000] [--million-rows 1000000]
        [--traced-rows 20000] [--database-url URL]

The PostgreSQL URL defaults to TEST_DATABASE_URL; without one that part is skipped.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import secrets
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, insert, select

from app import migrate
from app.clock import utcnow
from app.db import make_engine, make_sessionmaker
from app.ingest.batches import (
    Confirmed,
    IngestLimits,
    UploadStore,
    check_or_queue,
    confirm_batch,
    receive_upload,
    summary_of,
    work_batches,
)
from app.ingest.importer import COUNTRY_LANGUAGES, OPENING
from app.ingest.readers import read_invoices
from app.ingest.rows import InvoiceRow
from app.models import Account, Creditor, Debtor, ImportBatch, LedgerEntry
from app.models.enums import (
    AccountStatus,
    ImportStatus,
    Language,
    LedgerKind,
    VerificationFactor,
)
from tests.bench.common import (
    FIRST_NAMES,
    LAST_NAMES,
    machine_load,
    scratch_postgres,
    write_figures,
)

HEADER = "Fakturanummer;Fakturadato;Forfaldsdato;Kundenummer;Navn;Mobil;Beløb"
# Big enough for the million-row file; the app's default limit is IngestLimits().max_bytes.
MAX_BYTES = 1 << 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--million-rows",
        type=int,
        default=1_000_000,
        help="rows of the file whose dry run is measured for peak RSS (0: skip)",
    )
    parser.add_argument(
        "--traced-rows",
        type=int,
        default=20_000,
        help="rows of a dry run measured with tracemalloc, which slows it 3-5x (0: skip)",
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    pg_url = args.database_url or os.environ.get("TEST_DATABASE_URL", "")
    figures: dict[str, Any] = {"rows": args.rows, "load_before": machine_load()}
    with tempfile.TemporaryDirectory(prefix="venlig-bench-") as tmp:
        folder = Path(tmp)
        today = utcnow().date()
        csv_path = folder / "fakturaer.csv"
        figures["file_mb"] = round(_write_csv(csv_path, args.rows, today) / 1e6, 1)
        backends = [] if args.skip_sqlite else ["sqlite"]
        if pg_url:
            backends.append("postgresql")
        else:
            print(
                "ingest_import: PostgreSQL part skipped "
                "(set TEST_DATABASE_URL or pass --database-url)"
            )
        for backend in backends if args.rows else []:
            with _database(backend, folder, pg_url) as url:
                imported = _in_child(_import_run, url, str(csv_path), str(folder))
            with _database(backend, folder, pg_url) as url:
                plain = _in_child(_plain_insert_run, url, str(csv_path), today)
            figures[backend] = _compare(args.rows, imported, plain)
            print(f"ingest_import: {backend} done", flush=True)
        if args.traced_rows:
            small = folder / "fakturaer-traced.csv"
            _write_csv(small, args.traced_rows, today)
            with _database("sqlite", folder, pg_url) as url:
                traced = _in_child(_dry_run_run, url, str(small), str(folder), True)
            figures["dry_run_tracemalloc_sqlite"] = {"rows": args.traced_rows, **traced}
        if args.million_rows:
            big = folder / "fakturaer-million.csv"
            size = _write_csv(big, args.million_rows, today)
            with _database("sqlite", folder, pg_url) as url:
                million = _in_child(_dry_run_run, url, str(big), str(folder), False)
            figures["million_dry_run_sqlite"] = {
                "rows": args.million_rows,
                "file_mb": round(size / 1e6, 1),
                "over_default_upload_limit": size > IngestLimits().max_bytes,
                **million,
                "aim_peak_mb": 300,
            }
    figures["load_after"] = machine_load()
    write_figures("ingest_import.json", figures)


# --- The file -----------------------------------------------------------------------------


def _write_csv(path: Path, rows: int, today: date) -> int:
    """A Danish bookkeeping export; returns its size in bytes.

    About one customer in five has more than one invoice; about 3% of rows have no mobile,
    0.5% an invalid number (flagged, the row still imports), 0.1% an unreadable amount
    (rejected). Names are sometimes written in capitals.
    """
    rng = random.Random(rows)
    customers = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write(HEADER + "\r\n")
        for row in range(1, rows + 1):
            if customers and rng.random() < 0.2:
                customer = rng.randrange(1, customers + 1)
            else:
                customers += 1
                customer = customers
            issued = today - timedelta(days=30 + rng.randrange(120))
            due = issued + timedelta(days=rng.choice((8, 14, 30)))
            amount = rng.randrange(5_000, 5_000_000)  # 50,00 to 49.999,99 kr.
            out.write(
                ";".join(
                    (
                        f"F{row:08d}",
                        issued.strftime("%d-%m-%Y"),
                        due.strftime("%d-%m-%Y"),
                        f"K{customer:07d}",
                        _name(customer),
                        _mobile(customer, rng),
                        _amount(amount, rng),
                    )
                )
                + "\r\n"
            )
    return path.stat().st_size


def _name(customer: int) -> str:
    first = FIRST_NAMES[customer % len(FIRST_NAMES)]
    last = LAST_NAMES[(customer // 7) % len(LAST_NAMES)]
    name = f"{first} {last}"
    return name.upper() if customer % 50 == 0 else name


def _mobile(customer: int, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return ""
    if roll < 0.035:
        return "1234"
    # 26, 27 and 28 are Danish mobile ranges that phonenumbers takes in full.
    digits = str(26_000_000 + (customer * 7919) % 3_000_000)
    style = customer % 4
    if style == 0:
        return f"+45 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
    if style == 1:
        return digits
    if style == 2:
        return f"{digits[:4]} {digits[4:]}"
    return f"0045{digits}"


def _amount(minor: int, rng: random.Random) -> str:
    if rng.random() < 0.001:
        return "12,34,56"
    whole = f"{minor // 100:,}".replace(",", ".")
    return f"{whole},{minor % 100:02d}"


# --- Databases and child processes --------------------------------------------------------


@contextmanager
def _database(backend: str, folder: Path, pg_url: str) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or a scratch PostgreSQL database."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / f'venlig_bench_{secrets.token_hex(6)}.sqlite3'}"
        _migrate(url)
        yield url
        return
    with scratch_postgres(pg_url) as url:
        _migrate(url)
        yield url


def _migrate(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        session.add(
            Creditor(
                slug="bench",
                name="Bench Energi A/S",
                country="DK",
                currency="DKK",
                default_language=Language.DA,
                verification_factor=VerificationFactor.BIRTH_DATE,
                created_at=utcnow(),
            )
        )
    engine.dispose()


def _in_child(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run `function` in a fresh spawned process: its ru_maxrss is this run's alone."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- The real upload path -----------------------------------------------------------------


def _import_run(url: str, csv_path: str, folder: str) -> dict[str, Any]:
    """Upload, dry run, confirm, import: as the portal and the worker do it.

    `import` is the time from the creditor's confirmation until the last chunk is in.
    """
    engine = make_engine(url)
    statements = _StatementCounter(engine)
    sessions = make_sessionmaker(engine)
    store = UploadStore(Path(folder) / f"uploads-{secrets.token_hex(4)}")
    limits = IngestLimits(max_bytes=MAX_BYTES)
    rss_start = _rss_mb()
    timings: dict[str, float] = {}
    sent: dict[str, int] = {}

    started = time.perf_counter()
    with sessions.begin() as session, open(csv_path, "rb") as stream:
        creditor = session.scalars(select(Creditor)).one()
        batch = receive_upload(
            session,
            store,
            creditor,
            None,
            filename="fakturaer.csv",
            stream=stream,
            limits=limits,
            now=utcnow(),
        )
        batch_id = batch.id
    timings["upload"] = time.perf_counter() - started

    # The dry run: in the request for a small file, else by the worker.
    statements.count = 0
    started = time.perf_counter()
    with sessions.begin() as session:
        batch = session.get_one(ImportBatch, batch_id)
        creditor = session.get_one(Creditor, batch.creditor_id)
        in_request = check_or_queue(
            session, store, batch, creditor, limits=limits, now=utcnow()
        )
    if not in_request:
        work_batches(
            sessions, store, limits=limits, clock=utcnow, budget_seconds=86_400
        )
    timings["dry_run"] = time.perf_counter() - started
    sent["dry_run"] = statements.count

    # The creditor confirms: a small file is imported at once, a large one by the worker.
    statements.count = 0
    started = time.perf_counter()
    with sessions.begin() as session:
        batch = session.get_one(ImportBatch, batch_id)
        creditor = session.get_one(Creditor, batch.creditor_id)
        confirmed = confirm_batch(
            session, store, batch, creditor, None, limits=limits, now=utcnow()
        )
    chunks = 0
    if confirmed is Confirmed.QUEUED:
        chunks = work_batches(
            sessions, store, limits=limits, clock=utcnow, budget_seconds=86_400
        ).chunks
    timings["import"] = time.perf_counter() - started
    sent["import"] = statements.count

    with sessions() as session:
        batch = session.get_one(ImportBatch, batch_id)
        summary = summary_of(batch)
        counts = {
            "status": batch.status.value,
            "path": "worker, in chunks" if chunks else "in the request",
            "chunks": chunks,
            "chunk_rows": limits.chunk_rows,
            "planned": _counts(summary.counts) if summary else None,
            "result": _counts(summary.result) if summary and summary.result else None,
            "accounts": session.scalar(select(func.count()).select_from(Account)),
            "debtors": session.scalar(select(func.count()).select_from(Debtor)),
            "ledger_entries": session.scalar(
                select(func.count()).select_from(LedgerEntry)
            ),
        }
    engine.dispose()
    assert batch.status is ImportStatus.IMPORTED, batch.error
    items = counts["planned"]["created"] if counts["planned"] else 0
    return {
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        # Load-independent: SQL statements sent to the database per row of the file.
        "statements": sent,
        "statements_per_row": {
            phase: round(count / max(items, 1), 4) for phase, count in sent.items()
        },
        "rss_start_mb": rss_start,
        "ru_maxrss_mb": _rss_mb(),
        **counts,
    }


def _counts(counts: Any) -> dict[str, int]:
    return {
        name: getattr(counts, name)
        for name in ("created", "updated", "unchanged", "rejected", "flagged")
    } | {"new_debtors": counts.new_debtors}


# --- The plain insert ---------------------------------------------------------------------


def _plain_insert_run(url: str, csv_path: str, today: date) -> dict[str, Any]:
    """The same debtors, accounts and opening charges, already clean, one executemany each.

    The rows are read and checked first, untimed, by the importer's own reader; debtors
    are matched by customer number as the import matches them.
    """
    engine = make_engine(url)
    now = utcnow()
    with engine.connect() as connection:
        creditor_id = connection.scalar(select(Creditor.id))
    with open(csv_path, "rb") as stream:
        items = [
            item
            for item in read_invoices(
                stream,
                filename="fakturaer.csv",
                default_country="DK",
                default_currency="DKK",
                today=today,
                max_bytes=MAX_BYTES,
            )
            if isinstance(item, InvoiceRow)
        ]
    debtors: dict[str, dict[str, Any]] = {}
    accounts: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for number, row in enumerate(items, 1):
        details = row.debtor
        key = details.customer_number or f"row-{number}"
        debtor = debtors.get(key)
        if debtor is None:
            debtor = debtors[key] = {
                "id": len(debtors) + 1,
                "creditor_id": creditor_id,
                "customer_number": details.customer_number,
                "name": details.name,
                "phone_e164": details.phone,
                "email": details.email,
                "language": COUNTRY_LANGUAGES.get(details.country, Language.EN),
                "timezone": details.timezone or "Europe/Copenhagen",
                "country": details.country,
                "birth_date": details.birth_date,
                "postcode": details.postcode,
                "phone_unusable_reason": None,
                "created_at": now,
            }
        accounts.append(
            {
                "id": number,
                "creditor_id": creditor_id,
                "debtor_id": debtor["id"],
                "sequence_id": None,
                "external_reference": row.external_reference,
                "description": row.description,
                "original_amount_minor": row.amount_minor,
                "currency": row.currency,
                "issued_on": row.issued_on,
                "due_on": row.due_on or row.issued_on or now.date(),
                "status": AccountStatus.OPEN,
                "created_at": now,
                "updated_at": now,
            }
        )
        entries.append(
            {
                "account_id": number,
                "kind": LedgerKind.CHARGE,
                "amount_minor": row.balance_minor,
                "currency": row.currency,
                "external_id": (
                    f"import:{creditor_id}:{row.external_reference}:{OPENING}"
                ),
                "note": "Imported from the creditor's file",
                "occurred_at": now,
                "created_at": now,
            }
        )
    statements = _StatementCounter(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Debtor), list(debtors.values()))
        connection.execute(insert(Account), accounts)
        connection.execute(insert(LedgerEntry), entries)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": round(seconds, 2),
        "accounts": len(accounts),
        "debtors": len(debtors),
        "statements": statements.count,
        "statements_per_row": round(statements.count / max(len(accounts), 1), 4),
    }


class _StatementCounter:
    """Counts the statements an engine sends (an executemany batch counts once)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._sent)

    def _sent(self, *_args: object) -> None:
        self.count += 1


# --- The million-row dry run --------------------------------------------------------------


def _dry_run_run(url: str, csv_path: str, folder: str, traced: bool) -> dict[str, Any]:
    """Upload and the worker's dry run (`plan_import` streaming through the file)."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    store = UploadStore(Path(folder) / f"uploads-{secrets.token_hex(4)}")
    limits = IngestLimits(max_bytes=MAX_BYTES)
    rss_start = _rss_mb()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    with sessions.begin() as session, open(csv_path, "rb") as stream:
        creditor = session.scalars(select(Creditor)).one()
        batch = receive_upload(
            session,
            store,
            creditor,
            None,
            filename="fakturaer.csv",
            stream=stream,
            limits=limits,
            now=utcnow(),
        )
        checked = check_or_queue(
            session, store, batch, creditor, limits=limits, now=utcnow()
        )
        batch_id = batch.id
    if not checked:
        work_batches(
            sessions, store, limits=limits, clock=utcnow, budget_seconds=86_400
        )
    seconds = time.perf_counter() - started
    figures: dict[str, Any] = {}
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures["seconds_with_tracemalloc"] = round(seconds, 1)
        figures["tracemalloc_peak_mb"] = round(peak / 2**20, 1)
    else:
        figures["seconds"] = round(seconds, 1)
    with sessions() as session:
        batch = session.get_one(ImportBatch, batch_id)
        summary = summary_of(batch)
        rows = summary.counts.items if summary else 0
        figures |= {
            "status": batch.status.value,
            "planned": _counts(summary.counts) if summary else None,
        }
    engine.dispose()
    if traced:
        figures["tracemalloc_kb_per_row"] = round(
            figures["tracemalloc_peak_mb"] * 1024 / max(rows, 1), 2
        )
    else:
        figures["dry_run_rows_per_s"] = round(rows / seconds, 1)
    return figures | {"rss_start_mb": rss_start, "ru_maxrss_mb": _rss_mb()}


# --- Reporting ----------------------------------------------------------------------------


def _compare(
    rows: int, imported: dict[str, Any], plain: dict[str, Any]
) -> dict[str, Any]:
    seconds = imported["seconds"]
    end_to_end = sum(seconds.values())
    plain_rate = rows / plain["seconds"]
    return {
        "import": imported,
        "plain_insert": plain,
        "dry_run_rows_per_s": round(rows / seconds["dry_run"], 1),
        "import_rows_per_s": round(rows / seconds["import"], 1),
        "end_to_end_rows_per_s": round(rows / end_to_end, 1),
        "plain_insert_rows_per_s": round(plain_rate, 1),
        "ratio_import": round(rows / seconds["import"] / plain_rate, 4),
        "ratio_end_to_end": round(rows / end_to_end / plain_rate, 4),
        "aim_ratio": 0.5,
    }


if __name__ == "__main__":
    main()
