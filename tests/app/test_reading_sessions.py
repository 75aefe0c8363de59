"""Requests that only read get a reading session: on SQLite it begins deferred, so readers never
queue behind each other or a writer, and anything that writes through it is refused."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
from flask import Blueprint, Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from app import create_app, migrate
from app.db import (
    ReadingSession,
    WriteWhileReading,
    make_engine,
    make_sessionmaker,
    reading_sessionmaker,
)
from app.models import Creditor
from app.web.db import get_engine, get_session, writes_on_read
from tests.conftest import scratch_database
from tests.factories import make_creditor


@pytest.fixture
def file_app(tmp_path: Path) -> Flask:
    """An app on its own SQLite file, as `make run` and gunicorn use it."""
    app = create_app(
        {"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'venlig.sqlite3'}"}
    )
    with app.app_context():
        migrate.upgrade(get_engine())
    return app


def _session_kinds(app: Flask) -> dict[str, type[Session]]:
    """Routes that report which session class their request got."""
    seen: dict[str, type[Session]] = {}
    marked = writes_on_read(Blueprint("marked", __name__))

    @app.get("/probe/plain")
    def plain() -> str:
        seen["plain"] = type(get_session())
        return "ok"

    @app.get("/probe/marked")
    @writes_on_read
    def marked_view() -> str:
        seen["marked view"] = type(get_session())
        return "ok"

    @app.post("/probe/posted")
    def posted() -> str:
        seen["posted"] = type(get_session())
        return "ok"

    @marked.get("/probe/in-blueprint")
    def in_blueprint() -> str:
        seen["marked blueprint"] = type(get_session())
        return "ok"

    app.register_blueprint(marked)
    return seen


def test_only_safe_unmarked_requests_read(file_app: Flask) -> None:
    seen = _session_kinds(file_app)
    client = file_app.test_client()
    for path in ("/probe/plain", "/probe/marked", "/probe/in-blueprint"):
        assert client.get(path).status_code == 200
    file_app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/probe/posted").status_code == 200

    assert issubclass(seen["plain"], ReadingSession)
    for writer in ("marked view", "marked blueprint", "posted"):
        assert not issubclass(seen[writer], ReadingSession), writer


def test_a_write_through_a_reading_session_is_refused_and_changes_nothing(
    tmp_path: Path, now: datetime
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate.upgrade(engine)
    writing = make_sessionmaker(engine)
    with writing.begin() as session:
        creditor_id = make_creditor(session, now, name="Before").id
    reading = reading_sessionmaker(writing)

    with reading() as session:
        session.get_one(Creditor, creditor_id).name = "After"
        with pytest.raises(WriteWhileReading):
            session.flush()
    with reading() as session, pytest.raises(WriteWhileReading):
        session.execute(update(Creditor).values(name="After"))

    with writing() as session:
        assert session.scalar(select(Creditor.name)) == "Before"
    engine.dispose()


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path: Path, now: datetime) -> None:
    """A writer holds the write lock; a reading session still reads at once (deferred BEGIN,
    WAL), where a writing session would wait for the lock."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate.upgrade(engine)
    writing = make_sessionmaker(engine)
    reading = reading_sessionmaker(writing)
    with writing.begin() as session:
        make_creditor(session, now, name="Shown")

    holder = writing()
    holder.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock is now taken
    try:
        read: list[str | None] = []
        reader = threading.Thread(
            target=lambda: read.append(_first_name(reading)), daemon=True
        )
        reader.start()
        reader.join(
            timeout=2
        )  # the busy timeout is 5 s: a waiting reader would be late
        assert read == ["Shown"]
    finally:
        holder.close()
        engine.dispose()


def _first_name(factory) -> str | None:
    with factory() as session:
        return session.scalar(select(Creditor.name))


@pytest.mark.postgres
def test_postgresql_readers_send_no_begin_or_rollback(tmp_path: Path) -> None:
    """At READ COMMITTED each statement has its own snapshot anyway: reading sessions run in
    autocommit, and a request that reads saves its two round trips."""
    with scratch_database("postgresql", tmp_path) as url:
        engine = make_engine(url)
        try:
            reading = reading_sessionmaker(make_sessionmaker(engine))
            with reading() as session:
                session.execute(text("SELECT 1"))
                dbapi = session.connection().connection.dbapi_connection
                assert dbapi is not None
                assert dbapi.autocommit
                assert dbapi.info.transaction_status == TransactionStatus.IDLE
            with make_sessionmaker(engine)() as session:
                session.execute(text("SELECT 1"))
                dbapi = session.connection().connection.dbapi_connection
                assert dbapi is not None
                assert not dbapi.autocommit
                assert dbapi.info.transaction_status == TransactionStatus.INTRANS
        finally:
            engine.dispose()
