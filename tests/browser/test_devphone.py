"""The dev phone in a real browser: a debtor replies STOP and is texted no more."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.clock import utcnow
from app.models import Debtor
from app.scheduler import reminders_tick
from app.web.db import get_sessionmaker
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import LiveServer, screenshot


def test_stop_on_the_dev_phone_is_confirmed_and_ends_texts(
    phone: Page, live_server: LiveServer
) -> None:
    with get_sessionmaker(live_server.app)() as session:
        debtor = session.scalars(select(Debtor).where(Debtor.country == "DK")).first()
        assert debtor is not None
    phone.goto(f"{live_server.url}/dev/phone/")
    assert_accessible(phone)
    phone.goto(f"{live_server.url}/dev/phone/{debtor.id}")
    phone.get_by_label(f"Reply as {debtor.first_name}").fill("Stop")
    phone.get_by_role("button", name="Send").click()
    reminders_tick(live_server.app)
    phone.reload()
    expect(phone.get_by_text("Du får ikke flere sms'er", exact=False)).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "devphone-stop-390")
    texts_before = phone.locator(".sms-in").count()
    reminders_tick(live_server.app)
    phone.reload()
    assert phone.locator(".sms-in").count() == texts_before
    with get_sessionmaker(live_server.app)() as session:
        refreshed = session.get(Debtor, debtor.id)
        assert refreshed is not None
        assert refreshed.sms_opted_out_at is not None
    assert utcnow() >= refreshed.sms_opted_out_at
