"""Uploads end cleanly: cancelled while checked or imported (also racing a worker's chunk),
their files deleted once closed, and abandoned dry runs expired by the worker's tick."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_sessionmaker
from app.errors import Conflict
from app.ingest import batches
from app.ingest.batches import Cancelled, Confirmed, UploadStore
from app.models import Account, AuditEvent, Creditor, ImportBatch, LedgerEntry
from app.models.enums import ImportStatus
from tests.factories import make_creditor
from tests.ingest.test_batches import (
    HEADER,
    SMALL,
    checked,
    confirmed,
    count,
    files,
    queued,
    receive,
    reload,
    rows,
    work,
)

DAYS = SMALL.keep_for.days


def actions(session: Session, batch: ImportBatch) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_id == batch.id)
            .order_by(AuditEvent.id)
        )
    )


# --- Files ------------------------------------------------------------------------------


def test_an_imported_upload_keeps_its_reports_but_not_its_file(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime
) -> None:
    batch = checked(session, store, creditor, now, HEADER + rows(3) + "X;K;N;;abc;\n")
    outcome = batches.confirm_batch(
        session, store, batch, creditor, None, limits=SMALL, now=now
    )
    assert outcome is Confirmed.IMPORTED
    session.commit()
    batches.release_files(store, batch)
    assert not store.file(batch).exists()
    assert store.report(batch, batches.ReportKind.REJECTED).is_file()


def test_the_worker_deletes_the_file_of_an_upload_it_imported(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    assert store.file(batch).is_file()
    work(sessions, store, now)
    batch = reload(session, batch)
    assert batch.status is ImportStatus.IMPORTED
    assert not store.file(batch).exists()


def test_a_failed_check_keeps_no_file(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = queued(session, store, creditor, now, HEADER + rows(60))

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(batches, "plan_import", broken)
    assert work(sessions, store, now).failed == 1
    assert reload(session, batch).status is ImportStatus.FAILED
    assert files(store) == []


# --- Expiry -----------------------------------------------------------------------------


def test_abandoned_dry_runs_expire_after_the_configured_time(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    planned = checked(session, store, creditor, now, HEADER + rows(3))
    unmapped = receive(
        session, store, creditor, now, "Nr;Hvem;Hvad\n1;Jens;100\n", name="odd.csv"
    )
    assert batches.needs_mapping(unmapped)
    session.commit()

    almost = now + SMALL.keep_for - timedelta(seconds=1)
    assert work(sessions, store, almost).expired == 0
    assert reload(session, planned).status is ImportStatus.PLANNED
    assert store.file(planned).is_file()

    later = now + SMALL.keep_for + timedelta(seconds=1)
    assert work(sessions, store, later).expired == 2
    for batch in (reload(session, planned), reload(session, unmapped)):
        assert batch.status is ImportStatus.CANCELLED
        assert batches.has_expired(batch)
        assert batches.progress_of(batch).phase == "expired"
        assert batch.finished_at == later
        assert batch.storage_path == ""
        assert "upload_expired" in actions(session, batch)
    assert files(store) == []
    assert count(session, Account, creditor) == 0
    # Swept once: nothing is left to find the next time.
    assert work(sessions, store, later + timedelta(days=1)).expired == 0


def test_a_closed_upload_keeps_its_reports_for_the_same_time(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = checked(session, store, creditor, now, HEADER + rows(2) + "X;K;N;;abc;\n")
    batches.confirm_batch(session, store, batch, creditor, None, limits=SMALL, now=now)
    session.commit()
    report = store.report(batch, batches.ReportKind.REJECTED)
    work(sessions, store, now + timedelta(days=DAYS - 1))
    assert report.is_file()
    assert reload(session, batch).status is ImportStatus.IMPORTED
    assert work(sessions, store, now + timedelta(days=DAYS + 1)).expired == 0
    batch = reload(session, batch)
    assert not report.exists()
    assert (batch.status, batch.storage_path) == (ImportStatus.IMPORTED, "")


def test_an_upload_waiting_for_the_worker_does_not_expire_but_is_checked(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = queued(session, store, creditor, now, HEADER + rows(60))
    done = work(sessions, store, now + timedelta(days=DAYS + 1))
    assert (done.expired, done.checked) == (0, 1)
    assert reload(session, batch).status is ImportStatus.PLANNED


# --- Cancelling -------------------------------------------------------------------------


def test_cancelling_before_the_check_writes_nothing_and_keeps_no_file(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = queued(session, store, creditor, now, HEADER + rows(60))
    assert batches.cancel_batch(session, batch, None, now=now) is Cancelled.NOW
    session.commit()
    batches.release_files(store, batch)
    assert work(sessions, store, now).checked == 0
    batch = reload(session, batch)
    assert (batch.status, batch.plan_json) == (ImportStatus.CANCELLED, None)
    assert files(store) == []
    with pytest.raises(Conflict):
        batches.cancel_batch(session, batch, None, now=now)


def test_cancelling_between_chunks_keeps_what_was_imported(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    work(sessions, store, now, chunks=2)
    batch = reload(session, batch)
    assert batches.cancel_batch(session, batch, None, now=now) is Cancelled.NOW
    session.commit()
    batches.release_files(store, batch)
    work(sessions, store, now)
    batch = reload(session, batch)
    assert (batch.status, batch.rows_done, batch.rows_total) == (
        ImportStatus.CANCELLED,
        14,
        60,
    )
    summary = batches.summary_of(batch)
    assert summary is not None
    assert summary.result is not None
    assert summary.result.created == 14
    assert count(session, Account, creditor) == 14
    assert not store.file(batch).exists()
    assert actions(session, batch)[-1] == "upload_cancelled"


# --- Racing a worker (real connections, SQLite and PostgreSQL) -------------------------


@pytest.fixture
def shared(
    engine: Engine, now: datetime
) -> Iterator[tuple[sessionmaker[Session], int]]:
    """Sessions on their own connections, as the web and the worker have; a creditor."""
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        creditor_id = make_creditor(session, now).id
        session.commit()
    yield sessions, creditor_id
    cleanup = (
        "DELETE FROM ledger_entries WHERE account_id IN "
        "(SELECT id FROM accounts WHERE creditor_id = :id)",
        "DELETE FROM accounts WHERE creditor_id = :id",
        "DELETE FROM debtors WHERE creditor_id = :id",
        "DELETE FROM audit_events WHERE creditor_id = :id",
        "DELETE FROM creditors WHERE id = :id",
    )
    with engine.begin() as connection:
        for statement in cleanup:
            connection.execute(text(statement), {"id": creditor_id})


def _cancel_from_the_web(
    sessions: sessionmaker[Session], store: UploadStore, batch_id: int, now: datetime
) -> tuple[threading.Thread, list[Cancelled]]:
    """A cancel arriving in its own connection, as the view does it; on SQLite it waits
    for the worker's commit."""
    outcome: list[Cancelled] = []

    def cancel() -> None:
        with sessions() as web:
            batch = web.get_one(ImportBatch, batch_id)
            outcome.append(batches.cancel_batch(web, batch, None, now=now))
            web.commit()
            batches.release_files(store, batch)

    thread = threading.Thread(target=cancel)
    thread.start()
    # PostgreSQL answers at once (a request); SQLite waits for the worker's commit.
    thread.join(timeout=0.5)
    return thread, outcome


def _counts(sessions: sessionmaker[Session], creditor_id: int) -> tuple[int, int]:
    with sessions() as session:
        accounts = session.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.creditor_id == creditor_id)
        )
        entries = session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .join(Account)
            .where(Account.creditor_id == creditor_id)
        )
        return int(accounts or 0), int(entries or 0)


def _confirmed(
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor_id: int,
    now: datetime,
    data: str,
) -> int:
    with sessions() as session:
        creditor = session.get_one(Creditor, creditor_id)
        batch = queued(session, store, creditor, now, data)
        batch_id = batch.id
    work(sessions, store, now)
    with sessions() as session:
        batch = session.get_one(ImportBatch, batch_id)
        creditor = session.get_one(Creditor, creditor_id)
        outcome = batches.confirm_batch(
            session, store, batch, creditor, None, limits=SMALL, now=now
        )
        assert outcome is Confirmed.QUEUED
        session.commit()
    return batch_id


def _after_chunk(
    monkeypatch: pytest.MonkeyPatch, number: int, action: Callable[[], None]
) -> None:
    """Run `action` inside the worker's transaction, right after chunk `number` wrote."""
    real = batches.import_chunk
    calls = iter(range(1, 10_000))

    def importing(*args: object, **kwargs: object) -> object:
        result = real(*args, **kwargs)
        if next(calls) == number:
            action()
        return result

    monkeypatch.setattr(batches, "import_chunk", importing)


def test_a_cancel_arriving_while_a_chunk_is_imported_stops_after_that_chunk(
    shared: tuple[sessionmaker[Session], int],
    tmp_path: Path,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions, creditor_id = shared
    store = UploadStore(tmp_path / "uploads")
    data = HEADER + rows(60)
    batch_id = _confirmed(sessions, store, creditor_id, now, data)
    threads: list[tuple[threading.Thread, list[Cancelled]]] = []
    _after_chunk(
        monkeypatch,
        2,
        lambda: threads.append(_cancel_from_the_web(sessions, store, batch_id, now)),
    )

    work(sessions, store, now, chunks=2)  # the second chunk commits while cancel waits
    thread, outcome = threads[0]
    thread.join(timeout=30)
    assert not thread.is_alive()
    dialect = sessions.kw["bind"].dialect.name
    # PostgreSQL: the worker held the row, so the web left a request; SQLite: the web
    # waited for the chunk's commit and closed the batch itself.
    assert outcome == [
        Cancelled.REQUESTED if dialect == "postgresql" else Cancelled.NOW
    ]
    done = work(sessions, store, now)
    assert done.chunks == 0

    with sessions() as session:
        batch = session.get_one(ImportBatch, batch_id)
        assert (batch.status, batch.rows_done) == (ImportStatus.CANCELLED, 14)
        summary = batches.summary_of(batch)
        assert summary is not None
        assert summary.result is not None
        assert summary.result.created == 14
        assert not store.file(batch).exists()
    # Every row of the two chunks is whole (account and its opening entry), none more.
    assert _counts(sessions, creditor_id) == (14, 14)

    # Uploading the file again imports the rest; nothing twice.
    monkeypatch.undo()
    again = _confirmed(sessions, store, creditor_id, now, data)
    work(sessions, store, now)
    with sessions() as session:
        batch = session.get_one(ImportBatch, again)
        summary = batches.summary_of(batch)
        assert batch.status is ImportStatus.IMPORTED
        assert summary is not None
        assert summary.result is not None
        assert (summary.result.created, summary.result.unchanged) == (46, 14)
    assert _counts(sessions, creditor_id) == (60, 60)


def test_a_cancel_arriving_during_the_check_stops_it_and_writes_nothing(
    shared: tuple[sessionmaker[Session], int],
    tmp_path: Path,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions, creditor_id = shared
    store = UploadStore(tmp_path / "uploads")
    monkeypatch.setattr(batches, "CHECKPOINT_ITEMS", 10)
    with sessions() as session:
        creditor = session.get_one(Creditor, creditor_id)
        batch_id = queued(session, store, creditor, now, HEADER + rows(60)).id
    threads: list[tuple[threading.Thread, list[Cancelled]]] = []
    real = batches.plan_import

    def planning(
        db: Session, creditor: Creditor, items: Iterator[object], **kw: object
    ) -> object:
        def watched() -> Iterator[object]:
            for number, item in enumerate(items):
                if number == 5:
                    threads.append(_cancel_from_the_web(sessions, store, batch_id, now))
                yield item

        return real(db, creditor, watched(), **kw)

    monkeypatch.setattr(batches, "plan_import", planning)
    done = work(sessions, store, now)
    thread, outcome = threads[0]
    thread.join(timeout=30)
    assert not thread.is_alive()
    dialect = sessions.kw["bind"].dialect.name
    if dialect == "postgresql":
        # The worker saw the request at its next checkpoint and kept no dry run.
        assert outcome == [Cancelled.REQUESTED]
        assert (done.checked, done.cancelled) == (0, 1)
    with sessions() as session:
        batch = session.get_one(ImportBatch, batch_id)
        assert batch.status is ImportStatus.CANCELLED
        if dialect == "postgresql":
            assert batch.plan_json is None
        assert actions(session, batch)[-1] == "upload_cancelled"
    assert _counts(sessions, creditor_id) == (0, 0)
    assert files(store) == []
