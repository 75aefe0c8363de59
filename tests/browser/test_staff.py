"""Staff in a real browser: sign in, find a debtor, switch language, on a phone-sized screen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.demo import DEMO_PASSWORD
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import LiveServer, screenshot


def sign_in(page: Page, base: str, email: str) -> None:
    if not page.url.startswith(f"{base}/login"):
        page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_agent_opens_a_debtor_and_switches_to_danish(
    phone: Page, live_server: LiveServer
) -> None:
    phone.goto(f"{live_server.url}/login")
    assert_accessible(phone)
    screenshot(phone, "login-en-390")
    # The Danish agent's own language is Danish; a language picked before sign-in wins.
    phone.get_by_role("link", name="English").click()
    sign_in(phone, live_server.url, "agent.dk@venlig.test")
    # An agent starts at the chat queue; the debtors are one link away.
    expect(phone.get_by_role("heading", name="Chats")).to_be_visible()
    phone.get_by_role("link", name="Debtors").click()
    expect(phone.get_by_role("heading", name="Debtors")).to_be_visible()
    phone.get_by_label("Search by name, phone, customer or invoice number").fill(
        "Mette"
    )
    phone.get_by_role("button", name="Search").click()
    phone.get_by_role("link", name=re.compile(r"^Mette ")).first.click()
    expect(phone.get_by_role("heading", name="Accounts")).to_be_visible()
    phone.get_by_role("link", name="Dansk").click()
    expect(phone.get_by_role("heading", name="Konti")).to_be_visible()
    expect(phone.locator("html")).to_have_attribute("lang", "da")
    assert_accessible(phone)
    screenshot(phone, "debtor-da-390")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_wrong_password_is_explained_in_norwegian(
    phone: Page, live_server: LiveServer
) -> None:
    phone.goto(f"{live_server.url}/lang/nb?next=/login")
    phone.get_by_label("E-post").fill("agent.no@venlig.test")
    phone.get_by_label("Passord").fill("not the password")
    phone.get_by_role("button", name="Logg inn").click()
    expect(phone.get_by_role("alert")).to_contain_text("stemmer ikke")
    screenshot(phone, "login-error-nb-390")


def test_keyboard_users_can_skip_to_content(
    phone: Page, live_server: LiveServer
) -> None:
    phone.goto(f"{live_server.url}/login")
    phone.keyboard.press("Tab")
    skip = phone.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
