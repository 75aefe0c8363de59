"""The notifier port: wake whoever follows a conversation when a message is stored.

Messages are stored first; the notifier only says "look again". A reader therefore always
reads the database after a wake-up (or a timeout), so a lost or doubled notification can
delay a message by one poll but never lose or repeat it.

Two adapters:
- `LocalNotifier`: wakes followers in this process at commit, and otherwise makes them look
  again every `poll_seconds` (SQLite, development, tests: other processes are seen by polling).
- `PostgresNotifier`: `pg_notify` inside the writing transaction (so it is delivered only if
  that commits), and one LISTEN connection per process that wakes local followers; a slower
  safety poll covers a dropped listener.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)
CHANNEL = "venlig_chat"


class Subscription(Protocol):
    def wait(self, timeout: float) -> bool:
        """Block until woken or `timeout` seconds pass; True when woken."""

    def close(self) -> None: ...

    def __enter__(self) -> Subscription: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...


class ChatNotifier(Protocol):
    def publish(self, session: Session, conversation_id: int) -> None:
        """Announce a new message of `conversation_id`, once `session` commits."""

    def subscribe(self, conversation_id: int) -> Subscription:
        """Follow `conversation_id`; subscribe before reading, so no wake-up falls between."""


class _Hub:
    """The followers of each conversation in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[int, set[threading.Event]] = defaultdict(set)

    def add(self, conversation_id: int) -> threading.Event:
        flag = threading.Event()
        with self._lock:
            self._events[conversation_id].add(flag)
        return flag

    def remove(self, conversation_id: int, flag: threading.Event) -> None:
        with self._lock:
            followers = self._events.get(conversation_id)
            if followers is not None:
                followers.discard(flag)
                if not followers:
                    del self._events[conversation_id]

    def wake(self, conversation_id: int) -> None:
        with self._lock:
            followers = list(self._events.get(conversation_id, ()))
        for flag in followers:
            flag.set()

    def wake_all(self) -> None:
        with self._lock:
            followers = [flag for flags in self._events.values() for flag in flags]
        for flag in followers:
            flag.set()


class _HubSubscription:
    def __init__(self, hub: _Hub, conversation_id: int, poll_seconds: float) -> None:
        self._hub, self._conversation_id = hub, conversation_id
        self._poll_seconds = poll_seconds
        self._flag = hub.add(conversation_id)

    def wait(self, timeout: float) -> bool:
        woken = self._flag.wait(max(0.0, min(timeout, self._poll_seconds)))
        # Cleared before the caller reads: a wake-up during the read sets it again.
        self._flag.clear()
        return woken

    def close(self) -> None:
        self._hub.remove(self._conversation_id, self._flag)

    def __enter__(self) -> _HubSubscription:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class LocalNotifier:
    """In-process wake-ups at commit, and a short poll for everything else."""

    def __init__(self, poll_seconds: float = 0.5) -> None:
        self.poll_seconds = poll_seconds
        self._hub = _Hub()

    def publish(self, session: Session, conversation_id: int) -> None:
        def wake(_session: Session) -> None:
            self._hub.wake(conversation_id)

        event.listen(session, "after_commit", wake, once=True)

    def subscribe(self, conversation_id: int) -> Subscription:
        return _HubSubscription(self._hub, conversation_id, self.poll_seconds)


class PostgresNotifier:
    """LISTEN/NOTIFY on one channel; payloads are conversation ids.

    `connect` opens a psycopg connection in autocommit mode (the composition root passes
    `lambda: psycopg.connect(dsn, autocommit=True)`); the listener thread starts on the
    first subscription, so nothing runs at import or in a process that never streams.
    """

    def __init__(
        self,
        connect: Any,
        *,
        channel: str = CHANNEL,
        safety_poll_seconds: float = 5.0,
    ) -> None:
        self._connect = connect
        self.channel = channel
        self.safety_poll_seconds = safety_poll_seconds
        self._hub = _Hub()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.listening = threading.Event()

    def publish(self, session: Session, conversation_id: int) -> None:
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": self.channel, "payload": str(conversation_id)},
        )

    def subscribe(self, conversation_id: int) -> Subscription:
        self.start()
        return _HubSubscription(self._hub, conversation_id, self.safety_poll_seconds)

    def start(self) -> None:
        with self._started:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._listen_forever, name="chat-listener", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen_once()
            except Exception:
                logger.exception("chat listener lost its connection; reconnecting")
                self.listening.clear()
                time.sleep(1.0)

    def _listen_once(self) -> None:
        with self._connect() as connection:
            connection.execute(f'LISTEN "{self.channel}"')
            # Whatever was published while we were not listening: everyone looks again.
            self._hub.wake_all()
            self.listening.set()
            while not self._stop.is_set():
                for notification in connection.notifies(timeout=1.0):
                    if notification.payload.isdigit():
                        self._hub.wake(int(notification.payload))


def psycopg_dsn(sqlalchemy_url: str) -> str:
    """The libpq form of a SQLAlchemy URL (postgresql+psycopg://... -> postgresql://...)."""
    return (
        make_url(sqlalchemy_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
