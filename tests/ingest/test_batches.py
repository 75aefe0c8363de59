"""Upload batches in the domain: storing, the dry run kept on the batch, confirmation that
re-checks, and the worker's chunked import that resumes without duplicates."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_sessionmaker
from app.errors import Conflict
from app.ingest import batches
from app.ingest.batches import (
    Confirmed,
    Counts,
    IngestLimits,
    PlanSummary,
    ProblemRow,
    Refusal,
    UploadRefused,
    UploadStore,
    work_batches,
)
from app.ingest.reasons import Code, Country, FieldName, Money, Reason
from app.ingest.rows import Field
from app.models import Account, Creditor, ImportBatch, LedgerEntry
from app.models.enums import ImportStatus
from tests.conftest import PG_URL
from tests.factories import make_creditor

HEADER = "Fakturanr;Kundenummer;Navn;Mobil;Beløb;Forfaldsdato\n"
SMALL = IngestLimits(max_bytes=100_000, background_rows=50, chunk_rows=7)


def rows(count: int, start: int = 0, amount: str = "100,00") -> str:
    return "".join(
        f"F-{n};K-{n};Kunde {n};+45 2012{n:04d};{amount};01.10.2026\n"
        for n in range(start, start + count)
    )


def receive(
    session: Session,
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
    data: str | bytes,
    name: str = "invoices.csv",
    limits: IngestLimits = SMALL,
) -> ImportBatch:
    content = data.encode() if isinstance(data, str) else data
    return batches.receive_upload(
        session,
        store,
        creditor,
        None,
        filename=name,
        stream=io.BytesIO(content),
        limits=limits,
        now=now,
    )


def checked(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime, data: str
) -> ImportBatch:
    batch = receive(session, store, creditor, now, data)
    assert batches.check_or_queue(
        session, store, batch, creditor, limits=SMALL, now=now
    )
    return batch


def count(session: Session, model: type, creditor: Creditor) -> int:
    query = select(func.count()).select_from(model)
    if model is LedgerEntry:
        query = query.join(Account)
    query = query.where(Account.creditor_id == creditor.id)
    return int(session.scalar(query) or 0)


def files(store: UploadStore) -> list[Path]:
    return sorted(p for p in store.root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.csv", b"", Refusal.EMPTY),
        ("a.txt", b"x", Refusal.WRONG_TYPE),
        (
            "notes.txt",
            b"Call Hansen about the invoice\nand the reminder\n",
            Refusal.WRONG_TYPE,
        ),
        ("a.pdf", b"%PDF-1.7", Refusal.WRONG_TYPE),
        ("a.csv", b"x" * 100_001, Refusal.TOO_LARGE),
        ("a.xml", b"<Invoice><broken", Refusal.UNREADABLE),
        ("a.xlsx", b"PK\x03\x04 not really a workbook", Refusal.UNREADABLE),
    ],
)
def test_a_refused_upload_keeps_nothing(
    session: Session,
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
    name: str,
    data: bytes,
    reason: Refusal,
) -> None:
    with pytest.raises(UploadRefused) as refused:
        receive(session, store, creditor, now, data, name)
    assert refused.value.reason is reason
    assert files(store) == []
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_the_file_is_kept_under_the_creditor_whatever_its_name(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime
) -> None:
    batch = receive(session, store, creditor, now, HEADER + rows(1), "../../etc/x;.CSV")
    assert batch.filename == "x_.CSV"
    assert batch.storage_path.startswith(f"{creditor.id}/")
    assert store.file(batch).read_bytes() == (HEADER + rows(1)).encode()
    assert store.file(batch).resolve().is_relative_to(store.root.resolve())
    assert batch.size_bytes == len((HEADER + rows(1)).encode())
    assert len(batch.sha256) == 64


@pytest.mark.parametrize("name", ["invoices.tsv", "INVOICES.TSV", "export.txt"])
def test_tab_separated_text_is_taken_as_csv_whatever_its_suffix(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime, name: str
) -> None:
    data = (HEADER + rows(2)).replace(";", "\t")
    batch = receive(session, store, creditor, now, data, name)
    assert batches.check_or_queue(
        session, store, batch, creditor, limits=SMALL, now=now
    )
    assert (batch.filename, batch.file_format) == (name, "csv")
    summary = batches.summary_of(batch)
    assert summary is not None
    assert summary.counts == Counts(created=2, new_debtors=2)


def test_the_dry_run_is_kept_and_writes_no_accounts(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime
) -> None:
    data = HEADER + rows(3) + "F-9;K-9;Ni;+45 20000009;abc;01.10.2026\n"
    batch = checked(session, store, creditor, now, data)
    summary = batches.summary_of(batch)
    assert summary is not None
    assert summary.counts == Counts(created=3, rejected=1, new_debtors=3)
    assert summary.rejected[0].rows == (5,)
    assert summary.references == ("F-0", "F-1", "F-2")
    assert (batch.status, batch.rows_total) == (ImportStatus.PLANNED, 4)
    assert count(session, Account, creditor) == 0
    report = batches.ReportKind.REJECTED
    assert "abc" in store.report(batch, report).read_text(encoding="utf-8")


def test_the_dry_run_says_which_order_it_assumed_for_slash_dates(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime
) -> None:
    data = "Fakturanr;Navn;Beløb;Fakturadato;Forfaldsdato\n"
    data += "F-1;Bo;100,00;01/10/2026;31/10/2026\n"
    batch = checked(session, store, creditor, now, data)
    summary = batches.summary_of(batch)
    assert summary is not None
    assert summary.counts == Counts(created=1, new_debtors=1)
    assert summary.notices == (
        Reason.of(
            Code.DATES_READ_DAY_FIRST,
            field=FieldName("issued_on"),
            country=Country(creditor.country),
        ),
    )


def test_the_summary_survives_json() -> None:
    summary = PlanSummary(
        counts=Counts(1, 2, 3, 4, 5, 6),
        rejected=(
            ProblemRow(
                (2, 3),
                "F-1",
                "=1",
                Reason.of(
                    Code.LINES_DISAGREE_WITH_TOTAL,
                    added=Money(1, "DKK"),
                    stated=Money(2, "DKK"),
                ),
            ),
        ),
        flagged=(ProblemRow((), None, "", Reason.of(Code.LANDLINE, phone="+4533")),),
        today=date(2026, 11, 16),
        planned_at=datetime(2026, 11, 16, 10, 30).astimezone(),
        references=("F-1",),
        result=Counts(created=1),
        notices=(
            Reason.of(
                Code.DATES_READ_MONTH_FIRST,
                field=FieldName("due_on"),
                country=Country("US"),
            ),
        ),
    )
    assert PlanSummary.from_json(summary.to_json()) == summary
    assert summary.differs
    assert not replace(summary, result=summary.counts).differs


def test_confirming_imports_what_the_dry_run_showed(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime
) -> None:
    batch = checked(session, store, creditor, now, HEADER + rows(3))
    outcome = batches.confirm_batch(
        session, store, batch, creditor, None, limits=SMALL, now=now
    )
    assert outcome is Confirmed.IMPORTED
    assert batch.status is ImportStatus.IMPORTED
    assert (batch.rows_done, batch.rows_total) == (3, 3)
    assert count(session, Account, creditor) == 3
    assert [
        a.external_reference for a in batches.accounts_of_batch(session, batch)
    ] == [
        "F-0",
        "F-1",
        "F-2",
    ]


def test_a_dry_run_that_no_longer_holds_is_shown_again_not_imported(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime
) -> None:
    stale = checked(session, store, creditor, now, HEADER + rows(3))
    other = checked(session, store, creditor, now, HEADER + rows(1))
    batches.confirm_batch(session, store, other, creditor, None, limits=SMALL, now=now)

    outcome = batches.confirm_batch(
        session, store, stale, creditor, None, limits=SMALL, now=now
    )
    assert outcome is Confirmed.CHECKED_AGAIN
    assert stale.status is ImportStatus.PLANNED
    summary = batches.summary_of(stale)
    assert summary is not None
    assert (summary.counts.created, summary.counts.unchanged) == (2, 1)
    assert count(session, Account, creditor) == 1
    # The new dry run is what a second confirmation imports.
    outcome = batches.confirm_batch(
        session, store, stale, creditor, None, limits=SMALL, now=now
    )
    assert outcome is Confirmed.IMPORTED
    assert count(session, Account, creditor) == 3


def test_a_batch_is_confirmed_once(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime
) -> None:
    batch = checked(session, store, creditor, now, HEADER + rows(1))
    batches.confirm_batch(session, store, batch, creditor, None, limits=SMALL, now=now)
    with pytest.raises(Conflict):
        batches.confirm_batch(
            session, store, batch, creditor, None, limits=SMALL, now=now
        )


def test_mapping_problems_are_named() -> None:
    headers = ("Ref", "Who", "Cash")
    problems = batches.mapping_problems(
        headers, {Field.REFERENCE: "Ref", Field.NAME: "Ref", Field.PHONE: "Nope"}
    )
    assert problems.missing == (Field.AMOUNT,)
    assert problems.repeated == ("Ref",)
    assert problems.unknown == ("Nope",)
    fine = batches.mapping_problems(
        headers,
        {Field.REFERENCE: "ref", Field.NAME: "Who", Field.LINE_AMOUNT: "Cash"},
    )
    assert not fine.any


# --- The worker -------------------------------------------------------------------------


def queued(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime, data: str
) -> ImportBatch:
    batch = receive(session, store, creditor, now, data)
    assert not batches.check_or_queue(
        session, store, batch, creditor, limits=SMALL, now=now
    )
    session.commit()
    return batch


def work(
    sessions: sessionmaker[Session], store: UploadStore, now: datetime, chunks: int = 0
) -> batches.WorkDone:
    """Run the worker; with `chunks`, stop after about that many chunks."""
    if not chunks:
        return work_batches(sessions, store, limits=SMALL, clock=lambda: now)
    ticks = iter(range(10_000))
    return work_batches(
        sessions,
        store,
        limits=SMALL,
        clock=lambda: now,
        budget_seconds=chunks + 0.5,
        monotonic=lambda: float(next(ticks)),
    )


def reload(session: Session, batch: ImportBatch) -> ImportBatch:
    session.expire_all()
    return session.get_one(ImportBatch, batch.id)


def confirmed(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
    data: str,
) -> ImportBatch:
    batch = queued(session, store, creditor, now, data)
    work(sessions, store, now)
    batch = reload(session, batch)
    assert batch.status is ImportStatus.PLANNED
    outcome = batches.confirm_batch(
        session, store, batch, creditor, None, limits=SMALL, now=now
    )
    assert outcome is Confirmed.QUEUED
    session.commit()
    return batch


def test_the_worker_checks_then_imports_in_chunks(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    assert count(session, Account, creditor) == 0
    work(sessions, store, now, chunks=2)
    batch = reload(session, batch)
    assert (batch.status, batch.rows_done, batch.rows_total) == (
        ImportStatus.IMPORTING,
        14,
        60,
    )
    assert count(session, Account, creditor) == 14

    done = work(sessions, store, now)
    batch = reload(session, batch)
    assert done.imported == 1
    assert (batch.status, batch.rows_done) == (ImportStatus.IMPORTED, 60)
    summary = batches.summary_of(batch)
    assert summary is not None
    assert summary.result == summary.counts
    assert count(session, Account, creditor) == 60
    assert count(session, LedgerEntry, creditor) == 60


def test_an_import_run_again_from_the_start_adds_nothing_twice(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    work(sessions, store, now, chunks=3)
    # As if the progress of the chunks done so far had been lost.
    batch = reload(session, batch)
    batch.rows_done = 0
    session.commit()
    work(sessions, store, now)
    batch = reload(session, batch)
    assert batch.status is ImportStatus.IMPORTED
    assert count(session, Account, creditor) == 60
    assert count(session, LedgerEntry, creditor) == 60
    summary = batches.summary_of(batch)
    assert summary is not None
    assert summary.result is not None
    assert (summary.result.created, summary.result.unchanged) == (60, 21)
    assert summary.differs


def test_a_chunk_that_fails_on_the_database_is_rolled_back_and_taken_again(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    real = batches.import_chunk
    calls = iter(range(100))

    def flaky(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)
        if next(calls) == 1:
            raise OperationalError("INSERT", {}, Exception("connection lost"))
        return result

    monkeypatch.setattr(batches, "import_chunk", flaky)
    work(sessions, store, now)
    batch = reload(session, batch)
    assert (batch.status, batch.rows_done) == (ImportStatus.IMPORTING, 7)
    assert count(session, Account, creditor) == 7
    work(sessions, store, now)
    batch = reload(session, batch)
    assert batch.status is ImportStatus.IMPORTED
    assert count(session, Account, creditor) == 60
    assert count(session, LedgerEntry, creditor) == 60


def test_an_import_that_cannot_go_on_fails_with_a_reason(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    work(sessions, store, now, chunks=1)
    store.file(batch).unlink()
    done = work(sessions, store, now)
    batch = reload(session, batch)
    assert done.failed == 1
    assert batch.status is ImportStatus.FAILED
    failure = batches.failure_of(batch)
    assert failure is not None
    assert failure.english() == "the uploaded file is no longer kept; upload it again"
    assert (batch.rows_done, batch.rows_total) == (7, 60)


def test_a_large_dry_run_on_sqlite_shows_how_far_it_got(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL holds the batch locked through its dry run instead")
    monkeypatch.setattr(batches, "CHECKPOINT_ITEMS", 10)
    seen: list[int] = []
    real = batches.plan_import

    def watching(db: Session, *args: object, **kwargs: object) -> object:
        def items() -> Iterator[object]:
            for item in args[1]:
                with sessions() as other:
                    batch = other.scalars(select(ImportBatch)).one()
                    seen.append(batch.rows_done)
                yield item

        return real(db, args[0], items(), **kwargs)

    monkeypatch.setattr(batches, "plan_import", watching)
    queued(session, store, creditor, now, HEADER + rows(55))
    work(sessions, store, now)
    assert {10, 20, 50} <= set(seen)


def test_a_large_batch_is_checked_again_when_another_upload_came_first(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    large = queued(session, store, creditor, now, HEADER + rows(60))
    work(sessions, store, now)
    small = checked(
        session, store, creditor, now + timedelta(minutes=1), HEADER + rows(1)
    )
    batches.confirm_batch(
        session,
        store,
        small,
        creditor,
        None,
        limits=SMALL,
        now=now + timedelta(minutes=1),
    )
    session.commit()
    large = reload(session, large)
    outcome = batches.confirm_batch(
        session, store, large, creditor, None, limits=SMALL, now=now
    )
    assert outcome is Confirmed.CHECKED_AGAIN
    assert batches.waiting_for_check(large)
    session.commit()
    work(sessions, store, now)
    summary = batches.summary_of(reload(session, large))
    assert summary is not None
    assert (summary.counts.created, summary.counts.unchanged) == (59, 1)


@pytest.mark.postgres
def test_a_batch_locked_by_another_worker_is_skipped(
    engine: Engine, tmp_path: Path, now: datetime
) -> None:
    if engine.dialect.name != "postgresql" or not PG_URL:
        pytest.skip("SKIP LOCKED is a PostgreSQL matter")
    store = UploadStore(tmp_path / "uploads")
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        creditor = make_creditor(session, now)
        batch = queued(session, store, creditor, now, HEADER + rows(60))
        ids = (creditor.id, batch.id)
    try:
        with engine.connect() as holder:
            holder.execute(
                text("SELECT id FROM import_batches WHERE id = :id FOR UPDATE"),
                {"id": ids[1]},
            )
            done = work(sessions, store, now)
            assert done.checked == 0
            holder.rollback()
        assert work(sessions, store, now).checked == 1
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM audit_events WHERE creditor_id = :id"), {"id": ids[0]}
            )
            connection.execute(
                text("DELETE FROM creditors WHERE id = :id"), {"id": ids[0]}
            )


def test_open_invoices_missing_from_a_later_file_are_reported_not_deleted(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime
) -> None:
    first = checked(session, store, creditor, now, HEADER + rows(3))
    batches.confirm_batch(session, store, first, creditor, None, limits=SMALL, now=now)
    later = checked(session, store, creditor, now, HEADER + rows(1, start=1))
    summary = batches.summary_of(later)
    assert summary is not None
    assert (summary.missing_count, summary.missing) == (2, ("F-0", "F-2"))
    assert PlanSummary.from_json(summary.to_json()) == summary
    assert count(session, Account, creditor) == 3
