"""The supervisor works the risk queue in a real browser: confirm, resolve, dismiss."""

from __future__ import annotations

import io

import pypdf
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.models import Account, Debtor, RiskSignal
from app.models.enums import SignalStatus
from app.web.db import get_sessionmaker
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import LiveServer, screenshot
from tests.browser.test_staff import sign_in


def _reply_on_the_dev_phone(page: Page, base: str, debtor: Debtor, text: str) -> None:
    page.goto(f"{base}/lang/en?next=/dev/phone/{debtor.id}")
    page.get_by_label(f"Reply as {debtor.first_name}").fill(text)
    page.get_by_role("button", name="Send").click()


def _signal_status(live_server: LiveServer, evidence_word: str) -> SignalStatus:
    with get_sessionmaker(live_server.app)() as session:
        signal = session.scalars(
            select(RiskSignal).where(RiskSignal.evidence.contains(evidence_word))
        ).one()
        return signal.status


def _download_the_complaint_file_as_pdf(
    page: Page, live_server: LiveServer, debtor: Debtor, said: str
) -> int:
    with get_sessionmaker(live_server.app)() as session:
        account_id = session.scalars(
            select(Account.id).where(Account.debtor_id == debtor.id).limit(1)
        ).one()
    page.goto(f"{live_server.url}/risk/accounts/{account_id}/file")
    expect(page.get_by_role("heading", name="Complaint file")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text(said)
    expect(page.get_by_role("table")).to_contain_text("Text received")
    # On a phone the entries stack as cards instead of scrolling sideways.
    wrap = page.locator(".table-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert_accessible(page)
    screenshot(page, "complaint-file-en-390")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename.startswith("complaint-file-")
    assert download.suggested_filename.endswith(".pdf")
    body = download.path().read_bytes()
    assert body.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(body))
    text = "\n".join(sheet.extract_text() for sheet in reader.pages)
    assert said in text
    assert debtor.name in text
    assert "supervisor@venlig.test" in text
    return account_id


def test_a_supervisor_confirms_resolves_and_dismisses_signals(
    phone: Page, live_server: LiveServer
) -> None:
    with get_sessionmaker(live_server.app)() as session:
        first, second = session.scalars(
            select(Debtor)
            .where(Debtor.country == "DK")
            .order_by(Debtor.id)
            .offset(3)
            .limit(2)
        ).all()
    _reply_on_the_dev_phone(
        phone, live_server.url, first, "Jeg klager til Finanstilsynet"
    )
    _reply_on_the_dev_phone(
        phone, live_server.url, second, "I will get my lawyer on this"
    )

    sign_in(phone, live_server.url, "supervisor@venlig.test")
    phone.get_by_role("link", name="Risk queue").click()
    expect(phone.get_by_role("heading", name="Risk queue")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "risk-queue-en-390")

    complaint = phone.locator("li.risk-item", has_text="Finanstilsynet")
    complaint.get_by_label("Note (optional)").fill("Called the debtor back")
    complaint.get_by_role("button", name="Confirm").click()
    expect(phone.get_by_role("status")).to_contain_text("Review saved")
    assert _signal_status(live_server, "Finanstilsynet") is SignalStatus.CONFIRMED

    phone.locator("li.risk-item", has_text="Finanstilsynet").get_by_role(
        "button", name="Resolve"
    ).click()
    assert _signal_status(live_server, "Finanstilsynet") is SignalStatus.RESOLVED
    expect(phone.locator("li.risk-item", has_text="Finanstilsynet")).to_have_count(0)

    phone.locator("li.risk-item", has_text="lawyer").get_by_role(
        "button", name="Dismiss as false alarm"
    ).click()
    assert _signal_status(live_server, "lawyer") is SignalStatus.DISMISSED

    phone.get_by_label("Include reviewed").check()
    phone.get_by_role("button", name="Filter").click()
    expect(phone.locator("li.risk-item", has_text="lawyer")).to_contain_text(
        "false alarm"
    )
    account_id = _download_the_complaint_file_as_pdf(
        phone, live_server, first, "Jeg klager til Finanstilsynet"
    )
    phone.goto(f"{live_server.url}/risk/")
    phone.get_by_role("link", name="Dansk").click()
    expect(phone.get_by_role("heading", name="Risikokø")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "risk-queue-da-390")
    phone.goto(f"{live_server.url}/risk/accounts/{account_id}/file")
    expect(phone.get_by_role("table")).to_contain_text("SMS modtaget")
    screenshot(phone, "complaint-file-da-390")
