"""Following a conversation live: every message after a given number, in order, once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from app.chat.conversations import ChatLine, lines_after
from app.chat.notifier import ChatNotifier


def follow(
    sessions: Callable[[], Session],
    notifier: ChatNotifier,
    conversation_id: int,
    after_seq: int,
    *,
    seconds: float,
    keepalive: float = 15.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[list[ChatLine]]:
    """Yield each batch of new lines (an empty batch as a keep-alive) for `seconds`.

    Subscribes before the first read, and reads the database after every wake-up or
    timeout, so nothing published in between is missed; numbers only grow, so nothing
    is sent twice. A reconnecting client passes the last number it has.
    """
    deadline = clock() + seconds
    last_sent = clock()
    with notifier.subscribe(conversation_id) as subscription:
        while True:
            with sessions() as session:
                batch = lines_after(session, conversation_id, after_seq)
            if batch:
                after_seq = batch[-1].seq
                last_sent = clock()
                yield batch
                continue
            now = clock()
            if now >= deadline:
                return
            if now - last_sent >= keepalive:
                last_sent = now
                yield []
            subscription.wait(min(deadline - now, keepalive - (now - last_sent)))
