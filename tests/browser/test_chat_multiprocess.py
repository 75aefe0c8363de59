"""Live chat as in production: gunicorn with two gthread workers on PostgreSQL, where every
message fans out through LISTEN/NOTIFY, whichever worker holds the debtor's stream and
whichever holds the agent's.

A debtor on a phone and an agent at a desk, in two Chromium contexts: the debtor asks for a
person, the agent takes the conversation, messages cross both ways live, once and in order;
the agent offers a plan, the debtor accepts and pays the first part, the agent closes and the
debtor rates the conversation. Then a returning debtor whose connection drops
mid-conversation: after it returns, what the agent wrote meanwhile is there, once and in
order.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, expect
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app import create_app, migrate
from app.chat.conversations import append, close_conversation, open_or_get
from app.chat.notifier import CHANNEL, LocalNotifier
from app.clock import utcnow
from app.demo import DEMO_PASSWORD, seed_demo
from app.models import Conversation, Debtor, Instalment, PaymentPlan
from app.models.enums import (
    ChatSender,
    ConversationOutcome,
    ConversationStatus,
    InstalmentStatus,
    PlanStatus,
)
from app.services.portal_links import issue_link
from app.services.users import find_user_by_email
from app.web.db import get_engine, get_sessionmaker
from tests.bench.common import free_port, serve
from tests.browser.conftest import ARTIFACTS, PHONE, LiveServer, screenshot
from tests.browser.relay import Relay
from tests.browser.test_portal import (
    GOOD_CARD,
    Texts,
    demo_debtor,
    follow_sms_link,
    pay_on_sandbox,
    text_the_debtor,
    verify,
)
from tests.conftest import scratch_database

# Without TEST_DATABASE_URL, scratch_database skips these with the suite's usual reason
# (CI sets VENLIG_REQUIRE_POSTGRES, so there they always run).
pytestmark = pytest.mark.postgres

ROOT = ARTIFACTS.parents[1]
AGENT = "agent.dk@venlig.test"  # answers the Danish demo creditor's chats
AGENT_NAME = "Anja Holm"
JOURNEY_DEBTOR = "DK-10003"  # verified by birth date, owes on two invoices
RECONNECT_DEBTOR = "DK-10009"
DESKTOP = {"width": 1280, "height": 900}
# A line must arrive well before the notifier's 5-second safety poll would find it, so a
# pass means LISTEN/NOTIFY woke the stream.
LIVE_MS = 3_000
THREADS = "8"  # as the README's production section serves it


@pytest.fixture(scope="module")
def gunicorn_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo on a scratch PostgreSQL database, served by gunicorn (2 gthread workers).

    The `app` beside the URL is this process's own view of the same database, for domain
    calls and for checking what the server stored.
    """
    with scratch_database("postgresql", tmp_path_factory.mktemp("pg")) as url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = {
            "ENV": "testing",
            "DATABASE_URL": url,
            "PUBLIC_BASE_URL": base,  # texts and payment return pages point here
            "SECRET_KEY": secrets.token_urlsafe(32),
            "LOG_LEVEL": "WARNING",
        }
        app = create_app(settings)
        migrate.upgrade(get_engine(app))
        with get_sessionmaker(app).begin() as session:
            seed_demo(session, now=datetime.now(UTC))
        env = {f"VENLIG_{key}": value for key, value in settings.items()}
        server = serve(
            {**env, "PYTHONPATH": str(ROOT)},
            port,
            # Open event streams would hold a graceful stop for their full length.
            (
                "--worker-class",
                "gthread",
                "--threads",
                THREADS,
                "--graceful-timeout",
                "2",
            ),
        )
        try:
            yield LiveServer(base, app)
        finally:
            server.terminate()
            server.wait(timeout=30)
            get_engine(app).dispose()


@pytest.fixture
def relay(gunicorn_postgres: LiveServer) -> Iterator[Relay]:
    """The debtor's network to the server, which the test can cut."""
    with Relay(upstream=urlsplit(gunicorn_postgres.url).port or 80) as line:
        yield line


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


# --- helpers ---------------------------------------------------------------------------------


def sign_in_agent(page: Page, base: str) -> None:
    page.goto(f"{base}/lang/en?next=/login")
    page.get_by_label("E-mail").fill(AGENT)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def take_conversation(page: Page, first_name: str) -> None:
    page.get_by_role("link", name="Chats").click()
    row = page.locator("tr", has_text=first_name)
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    page.get_by_role("button", name="Take this conversation").click()
    expect(page.get_by_text("You handle this conversation.")).to_be_visible()


def ask_for_a_person(page: Page, question: str) -> None:
    page.get_by_role("link", name="Talk to a person").first.click()
    expect(page.get_by_role("heading", name="Talk to a person")).to_be_visible()
    page.get_by_label("Your message").fill(question)
    page.get_by_role("button", name="Send").click()
    # The first message opens the conversation and the page reloads with its live stream.
    expect(page.get_by_text("Your message has reached")).to_be_visible()
    expect(page.locator("[data-chat-stream]")).to_have_count(1)


def send(page: Page, label: str, body: str) -> None:
    page.get_by_label(label).fill(body)
    page.get_by_role("button", name="Send").click()


def arrives(page: Page, body: str) -> None:
    """The line shows up on the open page (no reload), exactly once."""
    expect(page.locator(".chat-body", has_text=body)).to_have_count(1, timeout=LIVE_MS)


def chat_seqs(page: Page, conversation_id: int) -> list[int]:
    """The numbers of the conversation's lines, in the order the page shows them."""
    lines = page.locator(
        f'[data-chat-lines] [data-conversation="{conversation_id}"][data-seq]'
    )
    return [
        int(seq)
        for seq in lines.evaluate_all("els => els.map(e => e.getAttribute('data-seq'))")
    ]


def bodies_like(page: Page, prefix: str) -> list[str]:
    """The chat texts starting with `prefix`, in the order the page shows them."""
    return [
        body
        for body in page.locator("[data-chat-lines] .chat-body").all_inner_texts()
        if body.startswith(prefix)
    ]


def conversation_of(live: LiveServer, debtor_id: int) -> Conversation:
    with get_sessionmaker(live.app)() as session:
        conversation = session.scalar(
            select(Conversation)
            .where(Conversation.debtor_id == debtor_id)
            .order_by(Conversation.id.desc())
        )
        assert conversation is not None
        session.expunge(conversation)
        return conversation


def assert_whole_thread(page: Page, live: LiveServer, debtor_id: int) -> None:
    """Every line of the debtor's latest conversation, from the first to the last stored,
    once and in order."""
    conversation = conversation_of(live, debtor_id)
    assert chat_seqs(page, conversation.id) == list(range(1, conversation.last_seq + 1))


def chat_listeners(live: LiveServer) -> int:
    """Server connections LISTENing on the chat channel of this database: one per gunicorn
    worker that has served an event stream."""
    with get_engine(live.app).connect() as connection:
        count = connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND query = :listen"
            ),
            {"listen": f'LISTEN "{CHANNEL}"'},
        )
    return int(count or 0)


def earlier_conversation(session: Session, debtor: Debtor, at: datetime) -> None:
    """A closed conversation from before: its lines share numbers with the new one's."""
    agent = find_user_by_email(session, AGENT)
    assert agent is not None
    notifier = LocalNotifier()  # nobody follows it
    conversation = open_or_get(session, debtor, now=at, notifier=notifier)
    for sender, body, author in (
        (ChatSender.DEBTOR, "An earlier question", None),
        (ChatSender.AGENT, "An earlier answer", agent),
    ):
        append(
            session,
            conversation,
            sender,
            body,
            now=at,
            notifier=notifier,
            author=author,
        )
    close_conversation(
        session,
        conversation,
        agent,
        ConversationOutcome.RESOLVED,
        now=at,
        notifier=notifier,
    )


# --- the journeys ----------------------------------------------------------------------------


def test_chat_plan_payment_and_rating_across_two_workers(
    gunicorn_postgres: LiveServer, debtor_page: Page, agent_page: Page
) -> None:
    live, base = gunicorn_postgres, gunicorn_postgres.url
    assert get_engine(live.app).dialect.name == "postgresql"
    debtor = demo_debtor(live, JOURNEY_DEBTOR)
    text_the_debtor(live, debtor.id)  # a reminder with a link, on the dev phone

    # The debtor taps the link in the text, confirms who they are and asks for a person.
    d, a = debtor_page, agent_page
    d.goto(f"{base}/lang/en")
    follow_sms_link(d, live, debtor.id)
    verify(d, Texts(live.app, "en"), debtor)
    ask_for_a_person(d, "Hello, can I talk to someone about my bill?")
    screenshot(d, "chat-multiprocess-debtor-asks-390")

    # The agent takes it; the debtor's open page hears of it at once.
    sign_in_agent(a, base)
    take_conversation(a, debtor.first_name)
    expect(d.get_by_text(f"{AGENT_NAME} has joined the conversation.")).to_have_count(
        1, timeout=LIVE_MS
    )
    expect(d.get_by_text(f"{AGENT_NAME} is helping you.")).to_be_visible()

    # Messages both ways, each seen live on the other side.
    expected: list[str] = []
    for n in range(3):
        send(a, "Your reply", f"Agent message {n}")
        arrives(d, f"Agent message {n}")
        send(d, "Your message", f"Debtor message {n}")
        arrives(a, f"Debtor message {n}")
        expected += [f"Agent message {n}", f"Debtor message {n}"]
    # The streams went through PostgreSQL: the workers LISTEN on the chat channel.
    listening_workers = chat_listeners(live)
    assert 1 <= listening_workers <= 2, listening_workers
    for page in (d, a):
        assert bodies_like(page, "Agent message") == expected[0::2]
        assert bodies_like(page, "Debtor message") == expected[1::2]
        assert_whole_thread(page, live, debtor.id)
    screenshot(a, "chat-multiprocess-agent-conversation-1280")

    # The agent offers a plan from the console; it reaches the debtor's open page.
    a.get_by_text("Send a plan offer").click()
    a.get_by_role("button", name="Send the plan offer").click()
    expect(a.get_by_text("The plan offer is sent.")).to_be_visible()
    offer = d.get_by_role("link", name="See and choose this plan")
    expect(offer).to_have_count(1, timeout=LIVE_MS)
    screenshot(d, "chat-multiprocess-debtor-offer-390")

    # The debtor follows the offer, accepts it and pays the first part with a demo card.
    offer.click()
    expect(d.locator("input[name=choice]:checked")).to_have_count(1)
    d.get_by_role("button", name="Choose this plan and pay the first part").click()
    expect(d.get_by_role("heading", name=re.compile(r"^Pay "))).to_be_visible()
    pay_on_sandbox(d, Texts(live.app, "en"), GOOD_CARD)
    expect(
        d.get_by_role("heading", name="Thank you, your payment is confirmed")
    ).to_be_visible()
    screenshot(d, "chat-multiprocess-debtor-paid-390")

    # Back in the chat, the thread is whole; the agent closes with the outcome.
    d.get_by_role("link", name="Back to your case").click()
    d.get_by_role("link", name="Talk to a person").first.click()
    assert_whole_thread(d, live, debtor.id)
    a.get_by_text("Close the conversation").click()
    a.get_by_label("Outcome").select_option(ConversationOutcome.PLAN.value)
    a.get_by_role("button", name="Close with this outcome").click()
    expect(a.get_by_text("Closed (Instalment plan).")).to_be_visible()

    # The debtor's open page turns into the rating question.
    expect(d.get_by_text("How well did we help you?")).to_be_visible(timeout=LIVE_MS)
    screenshot(d, "chat-multiprocess-debtor-rating-390")
    d.get_by_label("5 - Very well").check()
    d.get_by_label("Anything you want to add? (optional)").fill("Quick and kind.")
    d.get_by_role("button", name="Send your answer").click()
    expect(d.get_by_text("Thank you for your answer.")).to_be_visible()
    for page in (d, a):
        page.reload()
        assert bodies_like(page, "Agent message") == expected[0::2]
        assert bodies_like(page, "Debtor message") == expected[1::2]
        assert_whole_thread(page, live, debtor.id)

    with get_sessionmaker(live.app)() as session:
        conversation = session.scalar(
            select(Conversation).where(Conversation.debtor_id == debtor.id)
        )
        assert conversation is not None
        assert conversation.status is ConversationStatus.CLOSED
        assert conversation.outcome is ConversationOutcome.PLAN
        assert conversation.closed_at is not None
        assert (conversation.csat_score, conversation.csat_comment) == (
            5,
            "Quick and kind.",
        )
        plan = session.scalar(
            select(PaymentPlan).where(
                PaymentPlan.account_id.in_([acc.id for acc in debtor.accounts])
            )
        )
        assert plan is not None
        assert plan.status is PlanStatus.ACTIVE
        instalments = list(
            session.scalars(
                select(Instalment)
                .where(Instalment.plan_id == plan.id)
                .order_by(Instalment.seq_no)
            )
        )
        assert instalments[0].status is InstalmentStatus.PAID
        assert {i.status for i in instalments[1:]} == {InstalmentStatus.SCHEDULED}

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "chat-multiprocess.json").write_text(
        json.dumps({"gunicorn_workers": 2, "listening_workers": listening_workers})
    )


def test_a_dropped_connection_gets_every_missed_message_once(
    gunicorn_postgres: LiveServer, relay: Relay, debtor_page: Page, agent_page: Page
) -> None:
    live, base = gunicorn_postgres, gunicorn_postgres.url
    debtor = demo_debtor(live, RECONNECT_DEBTOR)
    with get_sessionmaker(live.app).begin() as session:
        owner = session.get(Debtor, debtor.id)
        assert owner is not None
        earlier_conversation(session, owner, utcnow() - timedelta(days=10))
        token = issue_link(session, owner, now=utcnow())

    # The phone reaches the server through a relay that can lose the signal.
    d, a = debtor_page, agent_page
    streams: list[Request] = []
    d.on(
        "request", lambda sent: streams.append(sent) if "/events" in sent.url else None
    )
    d.goto(f"{relay.url}/lang/en?next=/p/{token}")
    verify(d, Texts(live.app, "en"), debtor)
    ask_for_a_person(d, "Are you there?")
    sign_in_agent(a, base)
    take_conversation(a, debtor.first_name)
    expect(d.get_by_text(f"{AGENT_NAME} has joined the conversation.")).to_have_count(
        1, timeout=LIVE_MS
    )
    send(a, "Your reply", "Before the drop")
    arrives(d, "Before the drop")

    # The signal goes: the open event stream breaks, and the browser is offline.
    with d.expect_event(
        "requestfailed", predicate=lambda failed: "/events" in failed.url
    ):
        d.context.set_offline(True)
        relay.cut()
    missed = [f"While offline {n}" for n in range(3)]
    for body in missed:
        send(a, "Your reply", body)
        expect(a.locator(".chat-body", has_text=body)).to_have_count(1)
    expect(d.locator(".chat-body", has_text="While offline")).to_have_count(0)
    screenshot(d, "chat-multiprocess-debtor-offline-390")

    # The signal returns: the stream reconnects and resumes after the last line it had.
    relay.restore()
    d.context.set_offline(False)
    for body in missed:
        arrives(d, body)
    assert bodies_like(d, "While offline") == missed
    # It asked for what came after the last line it had, not for the whole thread again.
    before = d.locator(".chat-line", has_text="Before the drop").get_attribute(
        "data-seq"
    )
    assert streams[-1].all_headers().get("last-event-id") == before
    assert_whole_thread(d, live, debtor.id)
    screenshot(d, "chat-multiprocess-debtor-reconnected-390")

    # And it goes on live both ways.
    send(a, "Your reply", "After the drop")
    arrives(d, "After the drop")
    send(d, "Your message", "Got them all")
    arrives(a, "Got them all")
    for page in (d, a):
        assert_whole_thread(page, live, debtor.id)
        # The earlier conversation is still there, once.
        expect(page.locator(".chat-body", has_text="An earlier answer")).to_have_count(
            1
        )
