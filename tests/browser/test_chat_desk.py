"""A creditor sets its chat hours on a phone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.demo import DEMO_PASSWORD
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import LiveServer, screenshot
from tests.browser.test_staff import sign_in


def test_a_creditor_sets_its_chat_hours(phone: Page, live_server: LiveServer) -> None:
    phone.goto(f"{live_server.url}/lang/en?next=/login")
    sign_in(phone, live_server.url, "fjellvann-tannklinikk@venlig.test")
    phone.goto(f"{live_server.url}/creditor/desk")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Chat hours")
    assert_accessible(phone)
    phone.get_by_label("Saturday").check()
    phone.get_by_label("Longest wait before a chat turns amber (minutes)").fill("8")
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_text("Chat hours saved.")).to_be_visible()
    expect(phone.get_by_label("Saturday")).to_be_checked()
    assert_accessible(phone)
    screenshot(phone, "creditor-chat-hours-en-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_supervisor_sees_which_agents_answer_which_creditors(
    phone: Page, live_server: LiveServer
) -> None:
    phone.goto(f"{live_server.url}/lang/da?next=/login")
    phone.get_by_label("E-mail").fill("supervisor@venlig.test")
    phone.get_by_label("Adgangskode").fill(DEMO_PASSWORD)
    phone.get_by_role("button", name="Log ind").click()
    phone.goto(f"{live_server.url}/agent/team")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Chatteam")
    assert_accessible(phone)
    screenshot(phone, "chat-team-da-390")
