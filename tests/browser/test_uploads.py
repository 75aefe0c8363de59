"""A creditor uploads invoices in a real browser: dry run, confirm, result; and a large file
whose check and import the worker does while the page follows along."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from app.clock import utcnow
from app.demo import DEMO_PASSWORD
from app.ingest.batches import work_batches
from app.scheduler import ingest_tick
from app.web.db import get_sessionmaker
from app.web.uploads.wiring import ingest_limits, upload_store
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import LiveServer, screenshot
from tests.ingest.test_samples import SAMPLES

CREDITOR = "nordlys-energi@venlig.test"


@pytest.fixture
def uploads(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    folder = tmp_path / "uploads"
    monkeypatch.setitem(live_server.app.config, "UPLOAD_DIR", str(folder))
    return folder


def sign_in_in_english(page: Page, base: str) -> None:
    # The demo creditor's own language is Danish; a language picked before sign-in wins.
    page.goto(f"{base}/lang/en?next=/login")
    page.get_by_label("E-mail").fill(CREDITOR)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Debtors")).to_be_visible()


def test_a_creditor_uploads_a_csv_checks_it_and_imports_it(
    phone: Page, live_server: LiveServer, uploads: Path
) -> None:
    sign_in_in_english(phone, live_server.url)
    phone.get_by_role("link", name="Uploads").click()
    expect(phone.get_by_role("heading", name="Uploads")).to_be_visible()
    phone.get_by_role("link", name="Upload a file").click()
    assert_accessible(phone)
    screenshot(phone, "upload-form-en-390")

    phone.get_by_label("Invoice file").set_input_files(
        str(SAMPLES / "csv/invoiceninja_zoho_invoices.csv")
    )
    phone.get_by_role("button", name="Upload and check").click()
    expect(phone.get_by_role("heading", name="Check before you import")).to_be_visible()
    expect(phone.locator(".counts")).to_contain_text("3 new accounts")
    assert_accessible(phone)
    screenshot(phone, "upload-dry-run-en-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.get_by_role("button", name="Confirm and import").click()
    expect(phone.get_by_role("heading", name="Import finished")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "upload-result-en-390")
    phone.get_by_role("link", name="Invoice INV-000001").click()
    expect(
        phone.get_by_role("heading", name=re.compile("Invoice INV-000001"))
    ).to_be_visible()

    phone.get_by_role("link", name="Uploads").click()
    expect(
        phone.get_by_role("row", name=re.compile("invoiceninja_zoho"))
    ).to_contain_text("Imported")


def in_the_background(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Flask:
    """Files of more than 50 rows go to the worker, 25 rows a chunk."""
    app = live_server.app
    monkeypatch.setitem(app.config, "UPLOAD_BACKGROUND_ROWS", 50)
    monkeypatch.setitem(app.config, "INGEST_CHUNK_ROWS", 25)
    return app


def danish_file(path: Path, prefix: str, rows: int, *, phone_block: int) -> Path:
    lines = ["Fakturanr;Kundenummer;Navn;Mobil;Beløb;Forfaldsdato"]
    lines += [
        f"{prefix}-{n};{prefix}K-{n};Kunde {n};+45 {phone_block}{n:04d};"
        f"{200 + n},00;01.10.2026"
        for n in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sign_in_and_upload(phone: Page, live_server: LiveServer, path: Path) -> None:
    sign_in_in_english(phone, live_server.url)
    phone.goto(f"{live_server.url}/uploads/new")
    phone.get_by_label("Invoice file").set_input_files(str(path))
    phone.get_by_role("button", name="Upload and check").click()


def test_a_large_file_is_followed_live_while_the_worker_does_it(
    phone: Page,
    live_server: LiveServer,
    uploads: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    app = in_the_background(live_server, monkeypatch)
    path = danish_file(tmp_path / "stor-fil.csv", "BIG", 120, phone_block=2013)
    sign_in_and_upload(phone, live_server, path)
    expect(phone.get_by_role("heading", name="Checking stor-fil.csv")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "upload-checking-en-390")

    with app.app_context():
        ingest_tick(app)
    # The page polls and reloads itself when the check is done.
    expect(phone.get_by_role("heading", name="Check before you import")).to_be_visible()
    expect(phone.locator(".counts")).to_contain_text("120 new accounts")
    phone.get_by_role("button", name="Confirm and import").click()
    expect(phone.get_by_role("heading", name="Importing stor-fil.csv")).to_be_visible()
    expect(phone.locator("#upload-progress")).to_have_attribute("max", "120")
    assert_accessible(phone)
    screenshot(phone, "upload-progress-en-390")

    with app.app_context():
        ingest_tick(app)
    expect(phone.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(phone.locator(".counts")).to_contain_text("120 new accounts")


def test_an_unknown_layout_gets_the_column_choices(
    phone: Page, live_server: LiveServer, uploads: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bilag.csv"
    path.write_text(
        "Bilag;Skyldner;Kr.;Mob.\nMAP-1;Jens Hansen;1.250,00;20 12 34 56\n",
        encoding="utf-8",
    )
    sign_in_and_upload(phone, live_server, path)
    expect(phone.get_by_role("heading", name="Choose the columns")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "upload-columns-en-390")
    phone.get_by_label("Invoice number", exact=True).select_option("Bilag")
    phone.get_by_label("Debtor's name").select_option("Skyldner")
    phone.get_by_label("Invoice amount", exact=True).select_option("Kr.")
    phone.get_by_label("Mobile number", exact=True).select_option("Mob.")
    phone.get_by_role("button", name="Check the file").click()
    expect(phone.get_by_role("heading", name="Check before you import")).to_be_visible()
    expect(phone.locator(".counts")).to_contain_text("1 new account")


def test_a_running_import_is_stopped_from_its_progress_page(
    phone: Page,
    live_server: LiveServer,
    uploads: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    app = in_the_background(live_server, monkeypatch)
    path = danish_file(tmp_path / "stop-fil.csv", "STOP", 100, phone_block=2014)
    sign_in_and_upload(phone, live_server, path)
    with app.app_context():
        ingest_tick(app)
    expect(phone.get_by_role("heading", name="Check before you import")).to_be_visible()
    phone.get_by_role("button", name="Confirm and import").click()
    ticks = iter(range(100))
    with app.app_context():  # one chunk of 25 rows, then the worker's time is up
        work_batches(
            get_sessionmaker(app),
            upload_store(app),
            limits=ingest_limits(app),
            clock=utcnow,
            budget_seconds=1.5,
            monotonic=lambda: float(next(ticks)),
        )
    phone.reload()
    expect(phone.get_by_role("heading", name="Importing stop-fil.csv")).to_be_visible()
    assert_accessible(phone)
    phone.get_by_role("button", name="Stop the import").click()
    expect(phone.get_by_role("heading", name="The import was stopped")).to_be_visible()
    expect(phone.get_by_text("after 25 of 100 rows")).to_be_visible()
    expect(phone.locator(".counts")).to_contain_text("25 new accounts")
    assert_accessible(phone)
    screenshot(phone, "upload-stopped-en-390")
