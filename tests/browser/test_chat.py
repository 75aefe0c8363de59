"""Live chat in two browsers: a debtor on a phone asks for a person, an agent takes the
conversation, messages cross both ways live, once and in order; the agent sends a plan offer
and closes, and the debtor rates the conversation. Every page is photographed and checked
with axe-core."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from app.clock import utcnow
from app.demo import DEMO_PASSWORD
from app.models import Debtor
from app.services.portal_links import issue_link
from app.web.db import get_sessionmaker
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import ARTIFACTS, PHONE, LiveServer, screenshot
from tests.browser.test_portal import demo_debtor, text_the_debtor

CHAT_DEBTOR = (
    "DK-10003"  # Danish creditor, verified by birth date; no other test uses it
)
AGENT = "agent.dk@venlig.test"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def debtor_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def agent_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def _link(live_server: LiveServer, debtor_id: int) -> str:
    with get_sessionmaker(live_server.app).begin() as session:
        debtor = session.get(Debtor, debtor_id)
        assert debtor is not None
        return issue_link(session, debtor, now=utcnow())


def _seqs(page: Page) -> list[int]:
    return [
        int(seq)
        for seq in page.locator("[data-chat-lines] [data-seq]").evaluate_all(
            "els => els.map(e => e.getAttribute('data-seq'))"
        )
    ]


def _arrives(page: Page, text: str) -> float:
    """Wait for a chat line with exactly this text; the seconds it took."""
    started = time.monotonic()
    expect(page.locator(".chat-body", has_text=text)).to_have_count(1, timeout=5_000)
    return time.monotonic() - started


def test_debtor_and_agent_chat_live(
    live_server: LiveServer, debtor_page: Page, agent_page: Page
) -> None:
    base, debtor = live_server.url, demo_debtor(live_server, CHAT_DEBTOR)
    text_the_debtor(live_server, debtor.id)  # a reminder, so the thread has a story

    # The debtor opens the link from the text, in English, and asks for a person.
    d = debtor_page
    d.goto(f"{base}/lang/en?next=/p/{_link(live_server, debtor.id)}")
    d.get_by_label("Your date of birth").fill(debtor.answer)
    d.get_by_role("button", name="Continue").click()
    d.get_by_role("link", name="Talk to a person").first.click()
    expect(d.get_by_role("heading", name="Talk to a person")).to_be_visible()
    expect(d.locator(".chat-text_out")).to_have_count(1)  # the reminder, as sent
    screenshot(d, "chat-debtor-ask-390")
    assert_accessible(d)
    d.get_by_label("Your message").fill("Hello, can I talk to someone about my bill?")
    d.get_by_role("button", name="Send").click()
    expect(d.get_by_text("Your message has reached")).to_be_visible()
    expect(d.locator(".chat-mine .chat-body")).to_have_text(
        ["Hello, can I talk to someone about my bill?"]
    )

    # The agent signs in, finds the debtor in the queue and takes the conversation.
    a = agent_page
    a.goto(f"{base}/lang/en?next=/login")
    a.get_by_label("E-mail").fill(AGENT)
    a.get_by_label("Password").fill(DEMO_PASSWORD)
    a.get_by_role("button", name="Sign in").click()
    a.get_by_role("link", name="Chats").click()
    row = a.locator("tr", has_text=debtor.first_name)
    expect(row).to_be_visible()
    screenshot(a, "chat-agent-queue-1280")
    assert_accessible(a)
    row.get_by_role("link").first.click()
    a.get_by_role("button", name="Take this conversation").click()
    expect(a.get_by_text("You handle this conversation.")).to_be_visible()
    expect(d.get_by_text("has joined the conversation")).to_be_visible()
    expect(d.get_by_text("Anja Holm is helping you.")).to_be_visible()

    # Messages both ways, live.
    latencies = []
    for n in range(3):
        a.get_by_label("Your reply").fill(f"Agent message {n}")
        started = time.monotonic()
        a.get_by_role("button", name="Send").click()
        expect(d.locator(".chat-body", has_text=f"Agent message {n}")).to_have_count(1)
        latencies.append(time.monotonic() - started)
        d.get_by_label("Your message").fill(f"Debtor message {n}")
        started = time.monotonic()
        d.get_by_role("button", name="Send").click()
        expect(a.locator(".chat-body", has_text=f"Debtor message {n}")).to_have_count(1)
        latencies.append(time.monotonic() - started)
    for page in (d, a):
        seqs = _seqs(page)
        assert seqs == sorted(set(seqs)), seqs  # in order, none twice
    assert _seqs(d) == _seqs(a)
    screenshot(a, "chat-agent-conversation-1280")
    assert_accessible(a)

    # A plan offer: the debtor gets a link to the plan with its terms chosen.
    a.get_by_text("Send a plan offer").click()
    a.get_by_role("button", name="Send the plan offer").click()
    offer = d.get_by_role("link", name="See and choose this plan")
    expect(offer).to_be_visible()
    screenshot(d, "chat-debtor-offer-390")
    assert_accessible(d)
    href = offer.get_attribute("href") or ""
    assert "choice=" in href

    # The agent closes; the debtor's page asks for a rating.
    a.get_by_text("Close the conversation").click()
    a.get_by_label("Outcome").select_option("plan")
    a.get_by_role("button", name="Close with this outcome").click()
    expect(a.get_by_text("Closed (Instalment plan).")).to_be_visible()
    expect(d.get_by_text("How well did we help you?")).to_be_visible()
    screenshot(d, "chat-debtor-rating-390")
    assert_accessible(d)
    d.get_by_label("5 - Very well").check()
    d.get_by_role("button", name="Send your answer").click()
    expect(d.get_by_text("Thank you for your answer.")).to_be_visible()

    # The offer itself opens the plan page with the offered terms chosen.
    d.goto(f"{base}{href}")
    expect(d.locator("input[name=choice]:checked")).to_have_count(1)
    screenshot(d, "chat-debtor-plan-390")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "chat-latency.json").write_text(
        json.dumps(
            {
                "round_trips_seconds": [round(x, 3) for x in latencies],
                "median_seconds": round(statistics.median(latencies), 3),
                "max_seconds": round(max(latencies), 3),
            }
        )
    )
    assert statistics.median(latencies) < 1.0, latencies


def test_the_supervisor_desk_and_canned_responses_in_danish(
    live_server: LiveServer, agent_page: Page
) -> None:
    a, base = agent_page, live_server.url
    a.goto(f"{base}/lang/da?next=/login")
    a.get_by_label("E-mail").fill("supervisor@venlig.test")
    a.get_by_label("Adgangskode").fill(DEMO_PASSWORD)
    a.get_by_role("button", name="Log ind").click()
    a.get_by_role("link", name="Chats").click()
    screenshot(a, "chat-supervisor-queue-da-1280")
    assert_accessible(a)
    a.get_by_role("link", name="Overblik").click()
    expect(a.get_by_role("heading", name="Chatoverblik")).to_be_visible()
    screenshot(a, "chat-desk-da-1280")
    assert_accessible(a)
    a.goto(f"{base}/agent/canned")
    expect(a.get_by_text("Saldo og link")).to_be_visible()
    screenshot(a, "chat-canned-da-1280")
    assert_accessible(a)
    a.get_by_role("link", name="Nyt standardsvar").click()
    screenshot(a, "chat-canned-form-da-1280")
    assert_accessible(a)
