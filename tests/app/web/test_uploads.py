"""Uploads in the creditor portal, through the HTTP client: every sample file, refusals,
tenancy, column mapping remembered per layout, and a large file imported by the worker."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.clock import utcnow
from app.ingest.batches import mark_failed, work_batches
from app.ingest.reasons import Code, Reason
from app.models import (
    Account,
    AuditEvent,
    Creditor,
    ImportBatch,
    LedgerEntry,
    SavedMapping,
    User,
)
from app.models.enums import ImportStatus, Role
from app.scheduler import JOBS, ingest_tick
from app.web.db import get_sessionmaker
from app.web.uploads.wiring import ingest_limits, upload_store
from tests.app.web.helpers import csrf_token, sign_in
from tests.factories import make_creditor, make_user
from tests.ingest.test_samples import EXPECTED, SAMPLES


@dataclass
class Portal:
    app: Flask
    client: FlaskClient
    creditor: Creditor
    user: User
    folder: Path


@pytest.fixture
def portal(make_app, session: Session, now: datetime, tmp_path: Path) -> Portal:
    return signed_in_portal(
        make_app(UPLOAD_DIR=str(tmp_path / "uploads")), session, now
    )


@pytest.fixture
def background(make_app, session: Session, now: datetime, tmp_path: Path) -> Portal:
    """Files of more than 50 rows go to the worker, which imports 40 rows a chunk."""
    app = make_app(
        UPLOAD_DIR=str(tmp_path / "uploads"),
        UPLOAD_BACKGROUND_ROWS=50,
        INGEST_CHUNK_ROWS=40,
    )
    return signed_in_portal(app, session, now)


def signed_in_portal(app: Flask, session: Session, now: datetime) -> Portal:
    folder = Path(app.config["UPLOAD_DIR"])
    creditor = make_creditor(session, now)  # Danish, in DKK
    user = make_user(session, now, Role.CREDITOR, creditor)
    session.commit()
    client = app.test_client()
    sign_in(client, user.email)
    client.get("/lang/en")
    return Portal(app, client, creditor, user, folder)


def upload(
    client: FlaskClient, name: str, data: bytes, **fields: object
) -> TestResponse:
    token = csrf_token(client, "/uploads/new")
    return client.post(
        "/uploads/new",
        data={"csrf_token": token, "file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def batch_id(response: TestResponse) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(r"/uploads/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def post(client: FlaskClient, url: str, page: str, **data: str) -> TestResponse:
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def confirm(client: FlaskClient, number: int) -> TestResponse:
    return post(client, f"/uploads/{number}/confirm", f"/uploads/{number}")


def counts(page: str) -> dict[str, int]:
    """The numbers of the counts list: 'new accounts' -> 3, ..."""
    found = re.findall(r"<li[^>]*><strong>(\d+)</strong> ([^<(]+)", page)
    return {label.strip(): int(number) for number, label in found}


def accounts(session: Session, creditor: Creditor) -> list[Account]:
    return list(
        session.scalars(select(Account).where(Account.creditor_id == creditor.id))
    )


def entry_count(session: Session, creditor: Creditor) -> int:
    query = (
        select(func.count())
        .select_from(LedgerEntry)
        .join(Account)
        .where(Account.creditor_id == creditor.id)
    )
    return int(session.scalar(query) or 0)


def batches_of(session: Session, creditor: Creditor) -> list[ImportBatch]:
    return list(
        session.scalars(
            select(ImportBatch)
            .where(ImportBatch.creditor_id == creditor.id)
            .order_by(ImportBatch.id)
        )
    )


def stored_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_uploads_checks_and_imports(
    portal: Portal, session: Session, name: str
) -> None:
    expected = EXPECTED[name]
    path = SAMPLES / name
    number = batch_id(upload(portal.client, path.name, path.read_bytes()))
    page = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "Check before you import" in page
    # A fresh creditor: every invoice is new; a credit note has no invoice to reduce.
    rejected = expected.errors + expected.credit_notes
    shown = counts(page)
    assert shown["new accounts" if expected.invoices != 1 else "new account"] == (
        expected.invoices
    )
    assert shown["rows rejected" if rejected != 1 else "row rejected"] == rejected
    assert accounts(session, portal.creditor) == []  # nothing before the confirmation

    result = portal.client.get(confirm(portal.client, number).headers["Location"])
    assert "Import finished" in result.get_data(as_text=True)
    imported = accounts(session, portal.creditor)
    assert len(imported) == expected.invoices
    totals: dict[str, int] = {}
    for account in imported:
        totals[account.currency] = (
            totals.get(account.currency, 0) + account.original_amount_minor
        )
    if not expected.credit_notes:
        assert totals == expected.totals
    for account in imported[:3]:
        assert f"/accounts/{account.id}" in result.get_data(as_text=True)


def test_uploading_the_same_file_again_changes_nothing(
    portal: Portal, session: Session
) -> None:
    data = (SAMPLES / "csv/invoiceninja_zoho_invoices.csv").read_bytes()
    first = batch_id(upload(portal.client, "zoho.csv", data))
    confirm(portal.client, first)
    before = (
        len(accounts(session, portal.creditor)),
        entry_count(session, portal.creditor),
    )

    second = batch_id(upload(portal.client, "zoho.csv", data))
    shown = counts(portal.client.get(f"/uploads/{second}").get_data(as_text=True))
    assert shown["new accounts"] == 0
    assert shown["unchanged"] == 3
    confirm(portal.client, second)
    after = (
        len(accounts(session, portal.creditor)),
        entry_count(session, portal.creditor),
    )
    assert after == before == (3, 3)
    assert [b.status for b in batches_of(session, portal.creditor)] == [
        ImportStatus.IMPORTED,
        ImportStatus.IMPORTED,
    ]


def test_confirming_twice_imports_once(portal: Portal, session: Session) -> None:
    data = (SAMPLES / "csv/invoiceninja_i2g_invoices.csv").read_bytes()
    number = batch_id(upload(portal.client, "i2g.csv", data))
    token = csrf_token(portal.client, f"/uploads/{number}")
    for _ in range(2):
        portal.client.post(f"/uploads/{number}/confirm", data={"csrf_token": token})
    assert len(accounts(session, portal.creditor)) == 4
    assert entry_count(session, portal.creditor) == 4


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "The file is empty"),
        ("invoices.pdf", b"%PDF-1.4 invoice", "We accept CSV or tab-separated text"),
        (
            "notes.txt",
            b"Ring til Hansen\n",
            "(.csv, .tsv, .txt), Excel (.xlsx) and UBL",
        ),
        ("old.csv", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "We cannot read this file"),
        (
            "big.csv",
            b"Fakturanr;Navn;Bel\xc3\xb8b\n" + b"F-1;A;1\n" * 300,
            "larger than",
        ),
    ],
)
def test_a_refused_file_is_explained_and_nothing_is_kept(
    make_app,
    session: Session,
    now: datetime,
    tmp_path: Path,
    name: str,
    data: bytes,
    message: str,
) -> None:
    folder = tmp_path / "uploads"
    app = make_app(UPLOAD_DIR=str(folder), UPLOAD_MAX_BYTES=1000)
    creditor = make_creditor(session, now)
    user = make_user(session, now, Role.CREDITOR, creditor)
    session.commit()
    client = app.test_client()
    sign_in(client, user.email)
    client.get("/lang/en")
    response = upload(client, name, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert batches_of(session, creditor) == []
    assert stored_files(folder) == []


@pytest.mark.parametrize("name", ["invoices.tsv", "invoices.txt"])
def test_a_tab_separated_file_is_taken_whatever_its_suffix(
    portal: Portal, name: str
) -> None:
    assert ".tsv" in portal.client.get("/uploads/new").get_data(as_text=True)
    data = b"Fakturanr\tNavn\tMobil\tBel\xc3\xb8b\tForfaldsdato\n"
    data += b"F-1\tAnne Hansen\t+45 20123456\t100,00\t01.10.2026\n"
    number = batch_id(upload(portal.client, name, data))
    page = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert counts(page)["new account"] == 1


def test_upload_times_are_shown_in_the_creditors_zone(
    portal: Portal, session: Session
) -> None:
    data = (SAMPLES / "csv/invoiceninja_zoho_invoices.csv").read_bytes()
    number = batch_id(upload(portal.client, "zoho.csv", data))
    confirm(portal.client, number)
    [batch] = batches_of(session, portal.creditor)
    assert batch.finished_at is not None

    def shown(at: datetime, zone: str) -> str:
        local = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        return format_datetime(local, "medium", locale="en")

    listed = portal.client.get("/uploads/").get_data(as_text=True)
    assert shown(batch.created_at, "Europe/Copenhagen") in listed
    assert shown(batch.created_at, "UTC") not in listed
    result = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert shown(batch.finished_at, "Europe/Copenhagen") in result
    assert shown(batch.finished_at, "UTC") not in result


def test_a_request_far_over_the_limit_is_refused_before_it_is_read(
    make_app, session: Session, now: datetime, tmp_path: Path
) -> None:
    folder = tmp_path / "uploads"
    app = make_app(UPLOAD_DIR=str(folder), UPLOAD_MAX_BYTES=1000)
    creditor = make_creditor(session, now)
    user = make_user(session, now, Role.CREDITOR, creditor)
    session.commit()
    client = app.test_client()
    sign_in(client, user.email)
    client.get("/lang/en")
    response = upload(client, "huge.csv", b"x" * 200_000)
    assert response.status_code == 413
    assert "larger than 1 kB" in response.get_data(as_text=True)
    assert batches_of(session, creditor) == []
    assert stored_files(folder) == []


def test_no_file_chosen_is_explained(portal: Portal) -> None:
    token = csrf_token(portal.client, "/uploads/new")
    response = portal.client.post("/uploads/new", data={"csrf_token": token})
    assert response.status_code == 400
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_another_creditors_upload_is_not_found(
    portal: Portal, session: Session, now: datetime
) -> None:
    data = (SAMPLES / "csv/invoiceninja_zoho_invoices.csv").read_bytes()
    number = batch_id(upload(portal.client, "zoho.csv", data))
    other = make_user(session, now, Role.CREDITOR, make_creditor(session, now))
    session.commit()
    stranger = portal.app.test_client()
    sign_in(stranger, other.email)
    for url in (
        f"/uploads/{number}",
        f"/uploads/{number}/status",
        f"/uploads/{number}/columns",
        f"/uploads/{number}/rejected.csv",
    ):
        assert stranger.get(url).status_code == 404, url
    token = csrf_token(stranger, "/uploads/new")
    for action in ("confirm", "cancel"):
        response = stranger.post(
            f"/uploads/{number}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 404
    assert "zoho.csv" not in stranger.get("/uploads/").get_data(as_text=True)
    assert accounts(session, portal.creditor) == []


def test_agents_have_no_uploads(
    portal: Portal, session: Session, now: datetime
) -> None:
    agent = make_user(session, now, Role.AGENT)
    session.commit()
    client = portal.app.test_client()
    sign_in(client, agent.email)
    assert client.get("/uploads/").status_code == 403
    assert "/uploads/" not in client.get("/debtors").get_data(as_text=True)


def test_an_admin_uploads_for_the_creditor_chosen_on_the_page(
    portal: Portal, session: Session, now: datetime
) -> None:
    admin = make_user(session, now, Role.ADMIN)
    session.commit()
    client = portal.app.test_client()
    sign_in(client, admin.email)
    data = (SAMPLES / "csv/invoiceninja_invoicely_invoices.csv").read_bytes()
    number = batch_id(
        upload(client, "invoicely.csv", data, creditor=str(portal.creditor.id))
    )
    confirm(client, number)
    assert [a.external_reference for a in accounts(session, portal.creditor)] == [
        "INV-1"
    ]
    # The creditor's own user sees the upload the admin made for them.
    assert "invoicely.csv" in portal.client.get("/uploads/").get_data(as_text=True)


def test_cancelling_imports_nothing_and_deletes_the_file(
    portal: Portal, session: Session
) -> None:
    data = (SAMPLES / "csv/invoiceninja_zoho_invoices.csv").read_bytes()
    number = batch_id(upload(portal.client, "zoho.csv", data))
    assert stored_files(portal.folder)
    post(portal.client, f"/uploads/{number}/cancel", f"/uploads/{number}")
    assert batches_of(session, portal.creditor)[0].status is ImportStatus.CANCELLED
    assert stored_files(portal.folder) == []
    assert accounts(session, portal.creditor) == []
    assert confirm(portal.client, number).status_code == 302  # explained, not imported
    assert accounts(session, portal.creditor) == []


def test_an_imported_file_is_deleted_and_its_report_kept(portal: Portal) -> None:
    data = (SAMPLES / "csv/invoiceninja_zoho_invoices.csv").read_bytes()
    number = batch_id(upload(portal.client, "zoho.csv", data))
    kept = stored_files(portal.folder)
    confirm(portal.client, number)
    left = stored_files(portal.folder)
    assert [p for p in kept if p.suffix == ".csv"]
    assert [p for p in left if p.suffix == ".csv"] == []
    assert all(p.suffix == ".jsonl" for p in left)


UNKNOWN_LAYOUT = "Bilag;Skyldner;Kr.;Mob.\n{rows}"


def unknown_layout_file(*rows: str, headers: str = "Bilag;Skyldner;Kr.;Mob.") -> bytes:
    return (headers + "\n" + "\n".join(rows) + "\n").encode()


def test_an_unknown_layout_is_mapped_and_the_mapping_is_remembered(
    portal: Portal, session: Session
) -> None:
    first = unknown_layout_file("B-1;Jens Hansen;1.250,00;20 12 34 56")
    number = batch_id(upload(portal.client, "bilag.csv", first))
    response = portal.client.get(f"/uploads/{number}")
    assert response.headers["Location"].endswith(f"/uploads/{number}/columns")
    page = portal.client.get(f"/uploads/{number}/columns").get_data(as_text=True)
    assert "We did not recognise all the columns" in page
    assert '<option value="Skyldner">Skyldner</option>' in page

    # Leaving out the name is refused, field by field.
    refused = post(
        portal.client,
        f"/uploads/{number}/columns",
        f"/uploads/{number}/columns",
        external_reference="Bilag",
        amount="Kr.",
    )
    assert refused.status_code == 400
    assert "Choose the column that holds this." in refused.get_data(as_text=True)
    # One column for two fields is refused too.
    twice = post(
        portal.client,
        f"/uploads/{number}/columns",
        f"/uploads/{number}/columns",
        external_reference="Bilag",
        name="Bilag",
        amount="Kr.",
    )
    assert twice.status_code == 400
    assert "chosen for more than one field" in twice.get_data(as_text=True)

    chosen = post(
        portal.client,
        f"/uploads/{number}/columns",
        f"/uploads/{number}/columns",
        external_reference="Bilag",
        name="Skyldner",
        amount="Kr.",
        mobile="Mob.",
    )
    assert batch_id(chosen) == number
    plan = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert counts(plan)["new account"] == 1
    assert session.scalar(select(func.count()).select_from(SavedMapping)) == 0
    confirm(portal.client, number)
    saved = session.scalars(
        select(SavedMapping).where(SavedMapping.creditor_id == portal.creditor.id)
    ).one()
    assert '"name": "Skyldner"' in saved.mapping_json

    # The same columns in another order and case: straight to the dry run.
    second = unknown_layout_file(
        "Jens Hansen;B-2;300,50;20 12 34 56", headers="SKYLDNER;bilag;Kr.;Mob."
    )
    again = batch_id(upload(portal.client, "bilag-2.csv", second))
    plan = portal.client.get(f"/uploads/{again}")
    assert plan.status_code == 200
    assert counts(plan.get_data(as_text=True))["new account"] == 1
    confirm(portal.client, again)
    references = sorted(
        a.external_reference for a in accounts(session, portal.creditor)
    )
    assert references == ["B-1", "B-2"]
    assert len({a.debtor_id for a in accounts(session, portal.creditor)}) == 1


def test_another_creditor_does_not_get_the_mapping(
    portal: Portal, session: Session, now: datetime
) -> None:
    session.add(
        SavedMapping(
            creditor_id=make_creditor(session, now).id,
            fingerprint="v1:whatever",
            mapping_json="{}",
            updated_at=now,
        )
    )
    session.commit()
    number = batch_id(
        upload(portal.client, "bilag.csv", unknown_layout_file("B-1;A;1;"))
    )
    assert portal.client.get(f"/uploads/{number}").status_code == 302


def test_the_report_lists_every_rejected_row_and_escapes_formulas(
    portal: Portal,
) -> None:
    rows = [f"F-{n};Navn {n};abc;01.10.2026" for n in range(30)]
    rows.append('F-99;=HYPERLINK("http://evil.test","click");=1+2;01.10.2026')
    data = ("Fakturanr;Navn;Beløb;Forfaldsdato\n" + "\n".join(rows) + "\n").encode()
    number = batch_id(upload(portal.client, "bad.csv", data))
    page = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert counts(page)["rows rejected"] == 31
    assert "Showing the first 20 of 31." in page
    assert "Download full report (CSV)" in page
    assert "Row 2" in page

    with portal.client.get(f"/uploads/{number}/rejected.csv") as report:
        assert report.status_code == 200
        assert report.mimetype == "text/csv"
        assert "attachment" in report.headers["Content-Disposition"]
        text = report.get_data().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["Where", "Invoice number", "Value", "Reason"]
    assert len(table) == 32
    for cells in table[1:]:
        for cell in cells:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    assert "'=1+2" in table[-1]


def test_the_upload_pages_speak_danish(portal: Portal) -> None:
    portal.client.get("/lang/da")
    page = portal.client.get("/uploads/new").get_data(as_text=True)
    assert "Upload en fil" in page
    response = upload(portal.client, "tom.csv", b"")
    assert "Filen er tom" in response.get_data(as_text=True)


def test_why_a_whole_file_is_refused_is_said_in_the_readers_language(
    portal: Portal,
) -> None:
    portal.client.get("/lang/nb")
    old_excel = b"\xd0\xcf\x11\xe0" + b"\x00" * 100
    page = upload(portal.client, "gammel.csv", old_excel).get_data(as_text=True)
    assert "gammel.csv er en gammel .xls-arbeidsbok" in page
    portal.client.get("/lang/da")
    page = upload(portal.client, "gammel.csv", old_excel).get_data(as_text=True)
    assert "gammel.csv er en gammel .xls-projektmappe" in page


def test_a_failed_import_says_why_in_the_readers_language(
    portal: Portal, session: Session
) -> None:
    number = batch_id(upload(portal.client, "f.csv", large_file(60)))
    batch = session.get_one(ImportBatch, number)
    mark_failed(batch, Reason.of(Code.FILE_GONE), now=utcnow())
    session.commit()
    portal.client.get("/lang/da")
    page = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "den uploadede fil gemmes ikke længere; upload den igen" in page
    portal.client.get("/lang/en")
    page = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "the uploaded file is no longer kept; upload it again" in page


def test_row_reasons_follow_the_reader_not_the_language_of_the_check(
    portal: Portal,
) -> None:
    data = (
        "Fakturanr;Navn;Beløb;Restbeløb;Valuta;Telefon;Land\n"
        "F-1;Jens Hansen;1000;1500;EUR;;\n"
        "F-2;Ib Holm;100;;DKK;1234;Tyskland\n"
    ).encode()
    number = batch_id(upload(portal.client, "mixed.csv", data))  # checked in English
    page = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "the balance due €1,500.00 is more than the invoice amount €1,000.00" in page
    assert "phone number 1234 is not a valid mobile number in Germany" in page

    portal.client.get("/lang/da")
    page = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "1.500,00\xa0€" in page
    assert "1.000,00\xa0€" in page
    assert "Tyskland" in page
    assert "Germany" not in page
    with portal.client.get(f"/uploads/{number}/rejected.csv") as report:
        table = list(csv.reader(io.StringIO(report.get_data().decode("utf-8-sig"))))
    assert table[0][0] != "Where"  # the header is Danish too
    assert "1.500,00\xa0€" in table[1][3]
    with portal.client.get(f"/uploads/{number}/flagged.csv") as report:
        flagged = report.get_data().decode("utf-8-sig")
    assert "Tyskland" in flagged


def large_file(rows: int) -> bytes:
    lines = ["Fakturanr;Kundenummer;Navn;Mobil;Beløb;Forfaldsdato"]
    lines += [
        f"S-{n};K-{n};Kunde {n};+45 {20_000_000 + n};{100 + n},50;01.10.2026"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def work_one_chunk(app: Flask, now: datetime) -> None:
    """One chunk, then the worker's clock says its time is up."""
    clock = iter(range(100))
    with app.app_context():
        work_batches(
            get_sessionmaker(app),
            upload_store(app),
            limits=ingest_limits(app),
            clock=lambda: now,
            budget_seconds=1.5,
            monotonic=lambda: float(next(clock)),
        )


def test_a_large_file_is_checked_and_imported_by_the_worker(
    background: Portal, session: Session, now: datetime
) -> None:
    app, client, creditor = background.app, background.client, background.creditor
    number = batch_id(upload(client, "large.csv", large_file(120)))

    checking = client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "Checking large.csv" in checking
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in checking
    assert client.get(f"/uploads/{number}/status").json["phase"] == "checking"

    with app.app_context():
        ingest_tick(app)  # the dry run
    plan = client.get(f"/uploads/{number}").get_data(as_text=True)
    assert counts(plan)["new accounts"] == 120
    confirm(client, number)
    assert accounts(session, creditor) == []  # queued, not imported in the request

    progress = client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "Importing large.csv" in progress
    assert '<progress id="upload-progress"' in progress
    assert 'max="120" value="0"' in progress

    # One chunk, then the worker runs out of time: progress shows, and the list too.
    work_one_chunk(app, now)
    status = client.get(f"/uploads/{number}/status").json
    assert (status["phase"], status["done"], status["total"]) == ("importing", 40, 120)
    assert "40 of 120 rows imported (33%)" in status["text"]
    assert 'value="40"' in client.get("/uploads/").get_data(as_text=True)
    assert len(accounts(session, creditor)) == 40

    with app.app_context():
        ingest_tick(app)
    result = client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "Import finished" in result
    assert counts(result)["new accounts"] == 120
    assert len(accounts(session, creditor)) == 120
    assert entry_count(session, creditor) == 120
    batch = batches_of(session, creditor)[0]
    session.refresh(batch)
    assert (batch.rows_done, batch.rows_total) == (120, 120)


def test_the_import_can_be_stopped_from_the_progress_page(
    background: Portal, session: Session, now: datetime
) -> None:
    app, client, creditor = background.app, background.client, background.creditor
    number = batch_id(upload(client, "large.csv", large_file(120)))
    checking = client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "Cancel the check" in checking
    with app.app_context():
        ingest_tick(app)
    confirm(client, number)
    work_one_chunk(app, now)  # 40 rows
    page = f"/uploads/{number}"
    progress = client.get(page).get_data(as_text=True)
    assert f'action="/uploads/{number}/cancel"' in progress
    assert "Stop the import" in progress
    assert client.post(f"/uploads/{number}/cancel").status_code == 400  # no CSRF token

    stopped = post(client, f"/uploads/{number}/cancel", page)
    assert stopped.headers["Location"].endswith(page)
    closed = client.get(page).get_data(as_text=True)
    assert "The import was stopped" in closed
    assert "after 40 of 120 rows" in closed
    assert counts(closed)["new accounts"] == 40
    with app.app_context():
        ingest_tick(app)
    assert len(accounts(session, creditor)) == 40
    assert entry_count(session, creditor) == 40
    assert stored_files(background.folder) == []
    audited = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == number)
    ).all()
    assert "upload_cancelled" in audited


def test_an_expired_upload_says_so(portal: Portal, session: Session) -> None:
    data = (SAMPLES / "csv/invoiceninja_zoho_invoices.csv").read_bytes()
    number = batch_id(upload(portal.client, "zoho.csv", data))
    batch = batches_of(session, portal.creditor)[0]
    later = batch.created_at + timedelta(days=8)
    with portal.app.app_context():
        work_batches(
            get_sessionmaker(portal.app),
            upload_store(portal.app),
            limits=ingest_limits(portal.app),
            clock=lambda: later,
        )
    page = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    assert "The upload expired" in page
    assert "waited more than 7 days for your confirmation" in page
    assert "Expired" in portal.client.get("/uploads/").get_data(as_text=True)
    assert stored_files(portal.folder) == []
    assert confirm(portal.client, number).status_code == 302
    assert accounts(session, portal.creditor) == []


def test_the_worker_has_an_ingest_job() -> None:
    assert "ingest.tick" in {job.id for job in JOBS}


def test_open_invoices_left_out_of_a_later_file_are_listed_on_the_dry_run(
    portal: Portal, session: Session
) -> None:
    header = "Fakturanr;Kundenummer;Navn;Mobil;Beløb;Forfaldsdato\n"
    lines = [
        f"F-{n};K-{n};Kunde {n};+45 2012{n:04d};100,00;01.10.2026\n" for n in range(3)
    ]
    confirm(
        portal.client,
        batch_id(upload(portal.client, "all.csv", (header + "".join(lines)).encode())),
    )
    later = batch_id(upload(portal.client, "some.csv", (header + lines[1]).encode()))
    page = portal.client.get(f"/uploads/{later}").get_data(as_text=True)
    assert 'id="missing"' in page
    assert "F-0" in page
    assert "F-2" in page
    assert len(accounts(session, portal.creditor)) == 3


def test_the_check_says_when_slash_dates_were_read_day_first(portal: Portal) -> None:
    data = (
        "Fakturanr;Navn;Beløb;Forfaldsdato;Mobil\n"
        "F-1;Anne Hansen;100,00;03/04/2026;+4520123456\n"
        "F-2;Bo Jensen;200,00;05/06/2026;+4520123457\n"
    ).encode()
    number = batch_id(upload(portal.client, "slashes.csv", data))
    page = portal.client.get(f"/uploads/{number}").get_data(as_text=True)
    notice = re.search(r'<p class="flash flash-info" role="status">([^<]+)</p>', page)
    assert notice is not None
    assert "day first (dd/mm/yyyy)" in notice.group(1)
    assert counts(page).get("new accounts") == 2
