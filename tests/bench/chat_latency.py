"""Benchmark: live chat delivery under gunicorn (2 gthread workers), many conversations at once.

Every debtor keeps its event stream open (and reconnects, as a browser does); this process
stores agent messages in random conversations and notes when each was committed; the figure
is the time from commit to the line arriving on the debtor's stream, p50 and p99. On
PostgreSQL the wake-up is LISTEN/NOTIFY across processes; on SQLite, the 0.5 s poll.
Aim (issue 7): p99 under 300 ms on PostgreSQL.

    python -m tests.bench.chat_latency --database-url postgresql+psycopg://... [--conversations 50]
"""

from __future__ import annotations

import argparse
import http.client
import random
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date

import psycopg
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from app.chat.conversations import append, open_or_get
from app.chat.notifier import ChatNotifier, LocalNotifier, PostgresNotifier, psycopg_dsn
from app.clock import utcnow
from app.db import make_engine, make_sessionmaker
from app.demo import seed_demo
from app.migrate import upgrade
from app.models import Conversation, Creditor, Debtor
from app.models.enums import ChatSender, Language
from app.services.portal_links import issue_link
from app.web.db import get_engine, get_session
from tests.bench.common import free_port, serve, verified_cookie, write_figures
from tests.bench.portal_overview import SECRET

BIRTH = date(1980, 1, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10, help="per conversation")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        env = {
            "VENLIG_DATABASE_URL": url,
            "VENLIG_SECRET_KEY": SECRET,
            "VENLIG_LOG_LEVEL": "WARNING",
        }
        followers = _prepare(env, args.conversations)
        port = free_port()
        threads = str(args.conversations + 8)
        server = serve(env, port, ("--worker-class", "gthread", "--threads", threads))
        try:
            latencies = _measure(url, port, followers, args.messages)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()  # open streams hold graceful shutdown
                server.wait(timeout=10)
    _report(latencies, url.split(":")[0], args.conversations)


def _prepare(env: dict[str, str], count: int) -> list[tuple[int, str]]:
    """Debtors who asked for a person, each signed in: (conversation id, cookie)."""
    settings = {k.removeprefix("VENLIG_"): v for k, v in env.items()}
    app = create_app({**settings, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade(get_engine(), "head")
        session = get_session()
        if not session.scalar(select(func.count()).select_from(Creditor)):
            seed_demo(session, now=utcnow())
        creditor = session.scalars(select(Creditor).order_by(Creditor.id)).first()
        assert creditor is not None
        pairs = [_bench_debtor(session, creditor, n) for n in range(count)]
        session.commit()
    return [
        (conversation, verified_cookie(app, token, BIRTH.strftime("%d-%m-%Y")))
        for conversation, token in pairs
    ]


def _bench_debtor(session: Session, creditor: Creditor, n: int) -> tuple[int, str]:
    number = f"BENCH-{n:04d}"
    debtor = session.scalar(select(Debtor).where(Debtor.customer_number == number))
    if debtor is None:
        debtor = Debtor(
            creditor_id=creditor.id,
            customer_number=number,
            name=f"Bench Debtor {n}",
            language=Language.DA,
            timezone="Europe/Copenhagen",
            country=creditor.country,
            birth_date=BIRTH,
            created_at=utcnow(),
        )
        session.add(debtor)
        session.flush()
    conversation = open_or_get(session, debtor, now=utcnow(), notifier=LocalNotifier())
    return conversation.id, issue_link(session, debtor, now=utcnow())


class Follower(threading.Thread):
    """One debtor's browser: an event stream, reconnected with Last-Event-ID when it ends."""

    def __init__(self, port: int, conversation_id: int, cookie: str) -> None:
        super().__init__(daemon=True)
        self.port, self.conversation_id, self.cookie = port, conversation_id, cookie
        self.arrived: dict[int, float] = {}
        self.last = 0
        self.stop = threading.Event()
        self.connected = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._read_once()
            except OSError:
                time.sleep(0.2)

    def _read_once(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request(
            "GET",
            f"/p/help/{self.conversation_id}/events",
            headers={"Cookie": self.cookie, "Last-Event-ID": str(self.last)},
        )
        response = connection.getresponse()
        assert response.status == 200, response.status
        self.connected.set()
        seq = None
        while not self.stop.is_set():
            line = response.fp.readline()
            if not line:
                break
            text = line.decode().rstrip("\n")
            if text.startswith("id: "):
                seq = int(text[4:])
            elif text == "" and seq is not None:
                self.arrived.setdefault(seq, time.monotonic())
                self.last = max(self.last, seq)
                seq = None
        connection.close()


def _notifier(url: str) -> ChatNotifier:
    if url.startswith("postgresql"):
        dsn = psycopg_dsn(url)
        return PostgresNotifier(lambda: psycopg.connect(dsn, autocommit=True))
    return LocalNotifier()


def _measure(
    url: str, port: int, followers_spec: list[tuple[int, str]], per_conversation: int
) -> list[float]:
    followers = [Follower(port, cid, cookie) for cid, cookie in followers_spec]
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        for follower in followers:
            conversation = session.get(Conversation, follower.conversation_id)
            assert conversation is not None
            follower.last = conversation.last_seq
    for follower in followers:
        follower.start()
    for follower in followers:
        assert follower.connected.wait(10), "a stream did not open"
    time.sleep(1.0)
    notifier = _notifier(url)
    committed: dict[tuple[int, int], float] = {}
    order = [f for f in followers for _ in range(per_conversation)]
    random.Random(7).shuffle(order)
    for follower in order:
        seq, at = _write(sessions, notifier, follower.conversation_id)
        committed[(follower.conversation_id, seq)] = at
        time.sleep(0.02)
    _wait_for(lambda: all(len(f.arrived) >= per_conversation for f in followers), 15)
    for follower in followers:
        follower.stop.set()
    engine.dispose()
    return [
        follower.arrived[seq] - at
        for follower in followers
        for (cid, seq), at in committed.items()
        if cid == follower.conversation_id and seq in follower.arrived
    ]


def _write(sessions, notifier: ChatNotifier, conversation_id: int) -> tuple[int, float]:
    with sessions.begin() as session:
        conversation = session.get(Conversation, conversation_id)
        message = append(
            session,
            conversation,
            ChatSender.AGENT,
            "bench",
            now=utcnow(),
            notifier=notifier,
        )
        seq, at = message.seq, time.monotonic()  # stored; committed on leaving
    return seq, at


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.05)


def _report(latencies: list[float], backend: str, conversations: int) -> None:
    ordered = sorted(latencies)
    figures = {
        "database": backend,
        "conversations": conversations,
        "messages": len(ordered),
        "p50_ms": round(1000 * statistics.median(ordered), 1) if ordered else None,
        "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 1)
        if ordered
        else None,
        "max_ms": round(1000 * ordered[-1], 1) if ordered else None,
    }
    write_figures(f"chat_latency_{backend}.json", figures)


if __name__ == "__main__":
    main()
