"""The supervisor works the risk queue in a real browser: confirm, resolve, dismiss."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.models import Debtor, RiskSignal
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
    phone.get_by_role("link", name="Dansk").click()
    expect(phone.get_by_role("heading", name="Risikokø")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "risk-queue-da-390")
