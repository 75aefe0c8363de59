"""Server-Sent Events for one conversation: every line after the client's last, in order.

The browser's EventSource reconnects by itself and sends `Last-Event-ID`, the number of the
last line it got, so a dropped connection resumes without gaps or repeats. A stream stays
open CHAT_STREAM_SECONDS and then ends (the client reconnects at once): a worker thread is
never held forever, and proxies never see an idle connection.

Each stream holds a thread: run gunicorn with `--worker-class gthread --threads 8` (or more).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from flask import Response, current_app, request, stream_with_context

from app.chat.conversations import ChatLine
from app.chat.live import follow
from app.web.db import get_session, get_sessionmaker
from app.web.live.wiring import chat_notifier

KEEPALIVE_SECONDS = 15.0


def resume_after(default: int = 0) -> int:
    """The client's last line: the Last-Event-ID header, else `?after=`, else `default`."""
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("after")):
        if raw is not None and raw.strip().isdigit():
            return int(raw.strip())
    return default


def event_stream(
    conversation_id: int,
    after_seq: int,
    render: Callable[[ChatLine], dict[str, object]],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> Response:
    """Stream the conversation's lines; `on_progress(last_seq)` runs after each batch and
    keep-alive (the debtor's "seen", the agent's presence)."""
    app = current_app._get_current_object()
    # The request's own session (access checks) must not hold a transaction, on SQLite a
    # write lock, for as long as the stream runs; each poll uses a short session of its own.
    get_session().close()
    sessions = get_sessionmaker(app)
    notifier = chat_notifier(app)
    seconds = float(app.config["CHAT_STREAM_SECONDS"])

    def generate() -> Iterator[str]:
        last = after_seq
        yield "retry: 1000\n\n"
        if on_progress is not None:
            on_progress(last)
        for batch in follow(
            sessions,
            notifier,
            conversation_id,
            after_seq,
            seconds=seconds,
            keepalive=KEEPALIVE_SECONDS,
        ):
            for line in batch:
                data = json.dumps(render(line), ensure_ascii=False)
                yield f"id: {line.seq}\nevent: line\ndata: {data}\n\n"
                last = line.seq
            if not batch:
                yield ": keep-alive\n\n"
            if on_progress is not None:
                on_progress(last)

    return Response(
        stream_with_context(generate()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
