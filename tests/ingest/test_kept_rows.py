"""The rows a dry run keeps beside the upload: read back exactly as the file reads, used by
the worker's import instead of reading the file again (which still weighs them against the
database as it is then), never under other terms or when cut short, and deleted with the
upload."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.ingest import batches
from app.ingest.batches import Cancelled, UploadStore
from app.ingest.kept_rows import keep_rows, kept_items, partial_paths
from app.ingest.rows import Field, ImportItem, InvoiceRow, Kind
from app.models import Account, Creditor, Debtor
from app.models.enums import ImportStatus
from tests.factories import make_account, make_debtor
from tests.ingest import read_bytes, read_stream
from tests.ingest.test_batches import (
    HEADER,
    SMALL,
    confirmed,
    count,
    files,
    queued,
    receive,
    reload,
    rows,
    work,
)
from tests.ingest.test_importer import CREDIT_NOTES, FIRST_UPLOAD
from tests.ingest.test_samples import EXPECTED, SAMPLES

TERMS = {"today": "2026-11-16", "country": "DK", "currency": "DKK"}
# Every kind of value a row can carry: flagged and rejected rows, all debtor details.
VARIED = (
    "Fakturanr;Kundenummer;Navn;Mobil;E-mail;Fødselsdato;Postnr;Land;Beløb;"
    "Fakturadato;Forfaldsdato;Beskrivelse\n"
    "V-1;K-1;JENS HANSEN A/S;20 12 34 56;jens@EXAMPLE.dk;01-02-1970;2100;Danmark;"
    "1.250,00;01-09-2026;01.10.2026;Fjernvarme\n"
    "V-2;;Kari Nordmann;+47 22 22 22 22;ikke en adresse;0101701234;9999;Norge;99,95;;;\n"
    "V-3;K-3;Bo Bæk;1234;;;;;12,3456;;01.11.2026;\n"
    "V-4;K-4;;;;;;;10,00;;;\n"
    "V-5;K-5;Ida;;;;;Atlantis;-50,00;;;Kreditnota\n"
)


def kept_and_read_back(items: list[ImportItem], path: Path) -> list[ImportItem]:
    passed = list(keep_rows(iter(items), path, TERMS))
    assert passed == items
    kept = kept_items(path, TERMS)
    assert kept is not None
    return list(kept)


@pytest.mark.parametrize("text", [VARIED, FIRST_UPLOAD, CREDIT_NOTES])
def test_kept_rows_read_back_as_the_file_reads(text: str, tmp_path: Path) -> None:
    items = read_bytes(text.encode())
    assert kept_and_read_back(items, tmp_path / "rows.jsonl") == items


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_kept_rows_of_every_sample_read_back_as_the_file_reads(
    sample: str, tmp_path: Path
) -> None:
    with (SAMPLES / sample).open("rb") as stream:
        items = read_stream(stream, filename=Path(sample).name)
    assert kept_and_read_back(items, tmp_path / "rows.jsonl") == items


def test_the_varied_file_holds_every_kind_of_value() -> None:
    items = read_bytes(VARIED.encode())
    invoices = [item for item in items if isinstance(item, InvoiceRow)]
    assert len(invoices) < len(items)  # rejected rows
    assert {item.kind for item in invoices} == set(Kind)
    assert all(
        any(getattr(item.debtor, name) for item in invoices)
        for name in ("email", "birth_date", "postcode", "customer_number", "phone")
    )
    assert any(item.warnings for item in invoices)
    assert any(item.issued_on and item.due_on for item in invoices)


def test_rows_kept_under_other_terms_are_not_used(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    kept_and_read_back(read_bytes(FIRST_UPLOAD.encode()), path)
    assert kept_items(path, TERMS | {"today": "2026-11-17"}) is None
    assert kept_items(tmp_path / "none.jsonl", TERMS) is None


def test_rows_cut_short_are_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    passing = keep_rows(iter(read_bytes(FIRST_UPLOAD.encode())), path, TERMS)
    next(passing)
    assert len(partial_paths(path)) == 1
    passing.close()
    assert list(tmp_path.iterdir()) == []


def test_two_dry_runs_of_one_upload_at_once_keep_whole_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    items = read_bytes(FIRST_UPLOAD.encode())
    first = keep_rows(iter(items), path, TERMS)
    second = keep_rows(iter(items), path, TERMS)
    next(first)
    next(second)
    assert len(partial_paths(path)) == 2  # each writes its own
    list(second)
    list(first)
    assert partial_paths(path) == []
    kept = kept_items(path, TERMS)
    assert kept is not None
    assert list(kept) == items


def test_the_worker_imports_the_rows_its_dry_run_kept_without_reading_the_file(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    assert store.kept_rows(batch).is_file()

    def unread(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the import read the file again")

    monkeypatch.setattr(batches, "read_invoices", unread)
    work(sessions, store, now)
    batch = reload(session, batch)
    assert batch.status is ImportStatus.IMPORTED
    summary = batches.summary_of(batch)
    assert summary is not None
    assert summary.result == summary.counts
    assert count(session, Account, creditor) == 60
    assert files(store) == sorted(
        store.report(batch, kind) for kind in batches.ReportKind
    )


def test_an_import_without_kept_rows_reads_the_file_again(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    """As a batch checked before rows were kept is imported."""
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    store.kept_rows(batch).unlink()
    work(sessions, store, now)
    batch = reload(session, batch)
    assert batch.status is ImportStatus.IMPORTED
    assert count(session, Account, creditor) == 60


def test_what_changed_in_the_database_since_the_dry_run_is_weighed_at_import(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    # Meanwhile an agent adds the customer K-5 and, by hand, the invoice F-7.
    agent_debtor = make_debtor(session, creditor, now, customer_number="K-5")
    make_account(session, agent_debtor, now, external_reference="F-7")
    session.commit()
    work(sessions, store, now)
    batch = reload(session, batch)
    assert batch.status is ImportStatus.IMPORTED
    summary = batches.summary_of(batch)
    assert summary is not None
    assert summary.result is not None
    assert (summary.counts.created, summary.counts.rejected) == (60, 0)
    assert (summary.result.created, summary.result.rejected) == (59, 1)
    assert summary.differs
    debtor_of_f5 = session.scalar(
        select(Account.debtor_id).where(
            Account.creditor_id == creditor.id, Account.external_reference == "F-5"
        )
    )
    assert debtor_of_f5 == agent_debtor.id
    debtors = select(func.count()).where(Debtor.creditor_id == creditor.id)
    # K-5 is the agent's; K-7 came only with the rejected F-7.
    assert session.scalar(debtors) == 1 + 58
    assert (summary.counts.new_debtors, summary.result.new_debtors) == (60, 58)


def test_kept_rows_go_when_an_import_fails(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    assert store.kept_rows(batch).is_file()

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(batches, "import_chunk", broken)
    assert work(sessions, store, now).failed == 1
    assert reload(session, batch).status is ImportStatus.FAILED
    assert files(store) == []


def test_kept_rows_go_when_an_import_is_cancelled(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = confirmed(session, sessions, store, creditor, now, HEADER + rows(60))
    assert store.kept_rows(batch).is_file()
    work(sessions, store, now, chunks=2)
    batch = reload(session, batch)
    assert batches.cancel_batch(session, batch, None, now=now) is Cancelled.NOW
    session.commit()
    batches.release_files(store, batch)
    assert files(store) == []


def test_kept_rows_go_when_a_dry_run_expires(
    session: Session,
    sessions: sessionmaker[Session],
    store: UploadStore,
    creditor: Creditor,
    now: datetime,
) -> None:
    batch = queued(session, store, creditor, now, HEADER + rows(60))
    work(sessions, store, now)
    assert store.kept_rows(reload(session, batch)).is_file()
    later = now + SMALL.keep_for + timedelta(seconds=1)
    assert work(sessions, store, later).expired == 1
    assert files(store) == []


def test_a_new_mapping_drops_the_rows_kept_under_the_old_one(
    session: Session, store: UploadStore, creditor: Creditor, now: datetime
) -> None:
    batch = receive(
        session, store, creditor, now, "Nr;Hvem;Kunde;Hvad\nF-1;Jens;K-1;100,00\n"
    )
    columns = {Field.REFERENCE: "Nr", Field.NAME: "Hvem", Field.AMOUNT: "Hvad"}
    batches.choose_mapping(session, store, batch, columns, max_bytes=SMALL.max_bytes)
    assert batches.check_or_queue(
        session, store, batch, creditor, limits=SMALL, now=now
    )
    assert store.kept_rows(batch).is_file()
    columns[Field.CUSTOMER_NUMBER] = "Kunde"
    batches.choose_mapping(session, store, batch, columns, max_bytes=SMALL.max_bytes)
    assert batch.status is ImportStatus.UPLOADED
    assert not store.kept_rows(batch).exists()
    assert store.file(batch).is_file()
