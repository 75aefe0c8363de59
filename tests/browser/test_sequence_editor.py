"""The demo creditor edits its reminder sequence on a phone: adds a step, moves it, reads the
previews in three languages with their segment counts, saves a change, words a Danish text
its own way and replaces the characters that make it UCS-2; and its settings."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from app.models import Creditor, Sequence, Step, StepText
from app.web.db import get_sessionmaker
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import LiveServer, screenshot

CREDITOR = "nordlys-energi@venlig.test"
WIDTH = 390


@pytest.fixture
def demo_sequence(live_server: LiveServer) -> Iterator[None]:
    """Put the demo creditor's sequence back afterwards: other tests rely on it."""
    fields = ("position", "day_offset", "offset_from", "channel", "action")
    more = ("template_key", "firm_tone_allowed_by_id", "retired_at")
    sessions = get_sessionmaker(live_server.app)
    with sessions() as session:
        steps = _steps(session)
        before = {s.id: {f: getattr(s, f) for f in fields + more} for s in steps}
        texts_before = set(session.scalars(select(StepText.id)))
    yield
    with sessions() as session:
        for text in session.scalars(select(StepText)):
            if text.id not in texts_before:
                session.delete(text)
        for step in _steps(session):
            if step.id in before:
                for name, value in before[step.id].items():
                    setattr(step, name, value)
            else:
                session.delete(step)
        session.commit()


def _steps(session) -> list[Step]:
    creditor = session.scalars(
        select(Creditor).where(Creditor.slug == "nordlys-energi")
    ).one()
    sequence = session.scalars(
        select(Sequence).where(Sequence.creditor_id == creditor.id, Sequence.is_default)
    ).one()
    return list(sequence.steps)


def sign_in_in_english(page: Page, base: str) -> None:
    # The demo creditor's own language is Danish; a language picked before sign-in wins.
    page.goto(f"{base}/lang/en?next=/login")
    page.get_by_label("E-mail").fill(CREDITOR)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Debtors")).to_be_visible()


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_a_creditor_adds_moves_previews_and_saves_a_step(
    phone: Page, live_server: LiveServer, demo_sequence: None
) -> None:
    sign_in_in_english(phone, live_server.url)
    phone.get_by_role("link", name="Reminders").click()
    expect(
        phone.get_by_role("heading", name="Reminder sequence of Nordlys Energi A/S")
    ).to_be_visible()
    steps = phone.locator("ol.steps > li")
    expect(steps).to_have_count(4)
    assert_accessible(phone)
    screenshot(phone, "sequence-en-390")
    fits(phone)

    # Add a step at the end.
    add = phone.locator("#add")
    add.get_by_label("Days").fill("40")
    add.get_by_label("Text").select_option(label="Reminder")
    add.get_by_role("button", name="Add step").click()
    expect(phone.get_by_role("status")).to_contain_text("Step added.")
    expect(steps).to_have_count(5)
    expect(steps.nth(4).get_by_role("heading", level=3)).to_have_text(
        "Step 5: Reminder"
    )

    # Move it above the last notice: it takes the last notice's day.
    steps.nth(4).get_by_role("button", name="Move up step 5").click()
    expect(phone.get_by_role("status")).to_contain_text("Step moved.")
    moved = steps.nth(3)
    expect(moved.get_by_role("heading", level=3)).to_have_text("Step 4: Reminder")
    expect(moved).to_contain_text("30 days after the due date")
    expect(steps.nth(4)).to_contain_text("Step 5: Last friendly notice")
    expect(steps.nth(4)).to_contain_text("40 days after the due date")

    # Its text, for a real demo debtor, in Danish, Norwegian and English.
    for language, greeting in (
        ("Dansk", "Hej "),
        ("Norsk bokmål", "Hei "),
        ("English", "Hi "),
    ):
        preview = moved.get_by_role("region", name=language)
        expect(preview.locator(".sms")).to_contain_text(greeting)
        expect(preview.locator(".sms")).to_contain_text("Nordlys Energi A/S")
        expect(preview.locator(".segments")).to_have_text(re.compile(r"^\d segments?$"))
        expect(preview).to_contain_text("GSM-7")
    moved.scroll_into_view_if_needed()
    screenshot(phone, "sequence-moved-en-390")

    # Change its day and save.
    moved.get_by_text("Change step 4").click()
    moved.get_by_label("Days").fill("33")
    moved.get_by_role("button", name="Save step 4").click()
    expect(phone.get_by_role("status")).to_contain_text("Step saved.")
    expect(steps.nth(3)).to_contain_text("33 days after the due date")
    assert_accessible(phone)
    fits(phone)

    # A day before the step above is refused, next to the field, and nothing changes.
    moved = steps.nth(3)
    moved.get_by_text("Change step 4").click()
    moved.get_by_label("Days").fill("15")
    moved.get_by_role("button", name="Save step 4").click()
    expect(phone.get_by_role("alert")).to_contain_text("This change was not saved")
    days = phone.locator("ol.steps > li").nth(3).get_by_label("Days")
    expect(days).to_have_attribute("aria-invalid", "true")
    expect(days).to_have_accessible_description(
        re.compile("Step 4 would come on day 15")
    )
    assert_accessible(phone)
    screenshot(phone, "sequence-refused-en-390")
    phone.get_by_role("link", name="Reminders").click()
    expect(phone.locator("ol.steps > li").nth(3)).to_contain_text(
        "33 days after the due date"
    )


def test_the_sequence_and_settings_read_well_in_danish(
    phone: Page, live_server: LiveServer
) -> None:
    sign_in_in_english(phone, live_server.url)
    phone.goto(f"{live_server.url}/lang/da?next=/creditor/sequence")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Nordlys Energi A/S")
    expect(phone.locator("html")).to_have_attribute("lang", "da")
    assert_accessible(phone)
    screenshot(phone, "sequence-da-390")
    fits(phone)
    phone.get_by_role("navigation", name="Hovedmenu").get_by_role(
        "link", name="Indstillinger"
    ).click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Nordlys Energi A/S")
    expect(
        phone.get_by_role("checkbox", name=re.compile("beløb", re.I))
    ).not_to_be_checked()
    assert_accessible(phone)
    screenshot(phone, "creditor-settings-da-390")
    fits(phone)


def test_bad_settings_are_explained_and_linked_to_their_fields(
    phone: Page, live_server: LiveServer
) -> None:
    sign_in_in_english(phone, live_server.url)
    phone.get_by_role("link", name="Settings").click()
    sender = phone.get_by_label("Sender name")
    expect(sender).to_have_value("NordlysEl")
    sender.fill("Nordlys-El!")
    phone.get_by_role("button", name="Save settings").click()
    expect(phone.get_by_role("alert")).to_contain_text("The settings were not saved")
    expect(sender).to_have_attribute("aria-invalid", "true")
    expect(sender).to_have_accessible_description(re.compile("Use up to 11 letters"))
    assert_accessible(phone)
    screenshot(phone, "creditor-settings-refused-en-390")
    fits(phone)
    phone.get_by_role("link", name="Settings").click()
    expect(phone.get_by_label("Sender name")).to_have_value("NordlysEl")


def test_a_creditor_words_a_danish_text_and_replaces_its_ucs2_characters(
    phone: Page, live_server: LiveServer, demo_sequence: None
) -> None:
    sign_in_in_english(phone, live_server.url)
    phone.get_by_role("link", name="Reminders").click()
    first = phone.locator("ol.steps > li").nth(0)
    danish = first.get_by_role("region", name="Dansk")

    # The form starts from the default text; the creditor types its own, as word
    # processors do it, with an en dash and curly quotes.
    danish.get_by_text("Change this text").click()
    text = danish.get_by_label("Your text (Dansk)")
    expect(text).to_have_value(re.compile(r"^Hej \{\{ first_name \}\}\. "))
    text.fill(
        "Hej {{ first_name }} – se betalingen til “{{ creditor }}” her: {{ link }}"
    )
    danish.get_by_role("button", name="Save text").click()
    expect(phone.get_by_role("status")).to_contain_text("Text saved.")
    danish = phone.locator("ol.steps > li").nth(0).get_by_role("region", name="Dansk")
    expect(danish.locator(".badge")).to_contain_text(["your own text"])
    expect(danish.locator(".sms")).to_contain_text("– se betalingen til “Nordlys")
    expect(danish.locator(".encoding")).to_have_text("UCS-2")
    expect(danish.locator(".segments")).to_have_text(re.compile(r"^[2-9] segments$"))
    expect(danish.locator(".ucs2")).to_contain_text("can be replaced by -")
    assert_accessible(phone)
    danish.scroll_into_view_if_needed()
    screenshot(phone, "sequence-own-text-ucs2-en-390")
    fits(phone)

    # One click replaces them, saves, and says what the text costs now.
    danish.get_by_role("button", name="Replace with GSM-7 characters").click()
    expect(phone.get_by_role("status")).to_contain_text(
        "Characters replaced: the Dansk text now needs 1 segment (GSM-7)."
    )
    danish = phone.locator("ol.steps > li").nth(0).get_by_role("region", name="Dansk")
    expect(danish.locator(".sms")).to_contain_text('- se betalingen til "Nordlys')
    expect(danish.locator(".encoding")).to_have_text("GSM-7")
    expect(danish.locator(".segments")).to_have_text("1 segment")
    expect(danish.locator(".ucs2")).to_have_count(0)

    # A placeholder that does not exist is refused next to the text; nothing changes.
    danish.get_by_text("Change this text").click()
    text = danish.get_by_label("Your text (Dansk)")
    text.fill("Hej {{ navn }}, se mere her: {{ link }}")
    danish.get_by_role("button", name="Save text").click()
    expect(phone.get_by_role("alert")).to_contain_text("This change was not saved")
    text = (
        phone.locator("ol.steps > li")
        .nth(0)
        .get_by_role("region", name="Dansk")
        .get_by_label("Your text (Dansk)")
    )
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(text).to_have_accessible_description(
        re.compile("{{ navn }} is not a placeholder you can use")
    )
    assert_accessible(phone)
    screenshot(phone, "sequence-own-text-refused-en-390")
    fits(phone)

    # Back to the default text.
    phone.get_by_role("link", name="Reminders").click()
    danish = phone.locator("ol.steps > li").nth(0).get_by_role("region", name="Dansk")
    expect(danish.locator(".sms")).to_contain_text('- se betalingen til "Nordlys')
    danish.get_by_text("Change this text").click()
    danish.get_by_role("button", name="Revert to the default text").click()
    expect(phone.get_by_role("status")).to_contain_text(
        "The default text is used again."
    )
    danish = phone.locator("ol.steps > li").nth(0).get_by_role("region", name="Dansk")
    expect(danish.locator(".sms")).to_contain_text("har endnu ikke modtaget betaling")
