"""Live delivery on committed databases: in order, once, across connections and threads.

On PostgreSQL the follower is woken through LISTEN/NOTIFY on its own connection while the
writer commits on another; on SQLite by the in-process wake-up and the short poll.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.chat.actions import ChatAdapters, debtor_writes
from app.chat.conversations import (
    append,
    find_open_conversation,
    lines_after,
    open_or_get,
)
from app.chat.live import follow
from app.chat.notifier import (
    ChatNotifier,
    LocalNotifier,
    PostgresNotifier,
    psycopg_dsn,
)
from app.db import make_engine, make_sessionmaker
from app.models import Conversation, Debtor
from app.models.enums import ChatSender
from tests.conftest import BACKENDS, NOW, scratch_database
from tests.factories import make_creditor, make_debtor


def test_a_local_follower_is_woken_at_commit_and_not_at_rollback() -> None:
    engine = create_engine("sqlite://")
    notifier = LocalNotifier(poll_seconds=5.0)
    with notifier.subscribe(7) as subscription:
        with Session(engine) as session:
            notifier.publish(session, 7)
            session.rollback()
        assert not subscription.wait(0.05)
        with Session(engine) as session:
            notifier.publish(session, 7)
            notifier.publish(session, 8)
            session.commit()
        started = time.monotonic()
        assert subscription.wait(5.0)
        assert time.monotonic() - started < 0.5


def test_a_wait_without_news_returns_after_the_poll() -> None:
    notifier = LocalNotifier(poll_seconds=0.05)
    with notifier.subscribe(1) as subscription:
        started = time.monotonic()
        assert not subscription.wait(10.0)
        assert time.monotonic() - started < 1.0


class Desk:
    """A migrated, committed database with one debtor, and the notifier of its backend."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_sessionmaker(engine)
        self.notifier: ChatNotifier
        if engine.dialect.name == "postgresql":
            dsn = psycopg_dsn(url)
            self.listener = PostgresNotifier(
                lambda: psycopg.connect(dsn, autocommit=True), safety_poll_seconds=5.0
            )
            self.notifier = self.listener
        else:
            self.notifier = LocalNotifier(poll_seconds=0.5)
        self.adapters = ChatAdapters(self.notifier, link_for=lambda t: f"/p/{t}")
        with self.sessions.begin() as session:
            creditor = make_creditor(session, NOW)
            debtor = make_debtor(session, creditor, NOW)
            self.debtor_id = debtor.id
            self.conversation_id = open_or_get(
                session, debtor, now=NOW, notifier=self.notifier
            ).id

    def write(self, text: str) -> float:
        """Store one debtor message in its own transaction; the time it was committed."""
        with self.sessions.begin() as session:
            debtor = session.get_one(Debtor, self.debtor_id)
            debtor_writes(session, debtor, text, now=NOW, adapters=self.adapters)
        return time.monotonic()


@pytest.fixture(params=BACKENDS)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Desk]:
    with scratch_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        desk = Desk(engine, url)
        yield desk
        if isinstance(desk.notifier, PostgresNotifier):
            desk.notifier.stop()
        engine.dispose()


def _collect(
    desk: Desk,
    after: int,
    seconds: float,
    into: list[tuple[int, float]],
    last: int | None = None,
) -> None:
    for batch in follow(
        desk.sessions, desk.notifier, desk.conversation_id, after, seconds=seconds
    ):
        arrived = time.monotonic()
        into.extend((line.seq, arrived) for line in batch)
        if last is not None and into and into[-1][0] >= last:
            return


def test_a_follower_gets_every_message_once_in_order_and_quickly(desk: Desk) -> None:
    received: list[tuple[int, float]] = []
    follower = threading.Thread(target=_collect, args=(desk, 1, 10.0, received, 21))
    follower.start()
    if isinstance(desk.notifier, PostgresNotifier):
        assert desk.notifier.listening.wait(5.0)
    time.sleep(0.2)
    committed = {}
    for n in range(20):
        committed[n + 2] = desk.write(f"besked {n}")
        time.sleep(0.02)
    follower.join()
    assert [seq for seq, _ in received] == list(range(2, 22))
    latencies = [arrived - committed[seq] for seq, arrived in received]
    limit = 0.3 if desk.engine.dialect.name == "postgresql" else 0.8
    assert statistics.median(latencies) < limit, latencies


def test_a_reconnecting_follower_gets_only_what_it_missed(desk: Desk) -> None:
    for n in range(5):
        desk.write(f"besked {n}")
    received: list[tuple[int, float]] = []
    _collect(desk, 4, 0.0, received)  # had 1-4 before the connection dropped
    assert [seq for seq, _ in received] == [5, 6]


def test_concurrent_writers_get_consecutive_numbers(desk: Desk) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for n in range(10):
                desk.write(f"{name} {n}")
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with desk.sessions() as session:
        conversation = find_open_conversation(session, desk.debtor_id)
        assert conversation is not None
        assert [line.seq for line in lines_after(session, conversation.id, 0)] == list(
            range(1, 22)
        )


def test_postgres_notify_crosses_connections_only_on_commit(desk: Desk) -> None:
    if not isinstance(desk.notifier, PostgresNotifier):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    with desk.notifier.subscribe(desk.conversation_id) as subscription:
        assert desk.notifier.listening.wait(5.0)
        subscription.wait(0.0)  # the wake-up every new listener gives
        with desk.sessions() as session:
            desk.notifier.publish(session, desk.conversation_id)
            session.rollback()
        assert not subscription.wait(0.3)
        with desk.sessions.begin() as session:
            conversation = session.get_one(Conversation, desk.conversation_id)
            append(
                session,
                conversation,
                ChatSender.SYSTEM,
                "ping",
                now=datetime.now(NOW.tzinfo),
                notifier=desk.notifier,
            )
        started = time.monotonic()
        assert subscription.wait(5.0)
        assert time.monotonic() - started < 0.5
