"""Flask glue for the database: one engine per app, one session per app context."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_sessionmaker, reading_sessionmaker

ENGINE_KEY = "venlig.engine"
SESSIONMAKER_KEY = "venlig.sessionmaker"
READING_SESSIONMAKER_KEY = "venlig.reading_sessionmaker"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES_ON_READ = "venlig_writes_on_read"
Marked = TypeVar("Marked", bound=Callable[..., Any] | Blueprint)


def init_db(app: Flask) -> None:
    """Create the engine unless a test handed one in, and close sessions at teardown."""
    if SESSIONMAKER_KEY not in app.extensions:
        url = _absolute_sqlite_url(app, app.config["DATABASE_URL"])
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        engine = make_engine(url)
        app.extensions[ENGINE_KEY] = engine
        app.extensions[SESSIONMAKER_KEY] = make_sessionmaker(engine)
    app.teardown_appcontext(_close_session)


def _absolute_sqlite_url(app: Flask, url: str) -> str:
    """A relative SQLite path is relative to the project root, wherever the process runs."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        path = Path(app.root_path, "..", url.removeprefix("sqlite:///")).resolve()
        return f"sqlite:///{path}"
    return url


def get_engine(app: Flask | None = None) -> Engine:
    engine: Engine = (app or current_app).extensions[ENGINE_KEY]
    return engine


def get_sessionmaker(app: Flask | None = None) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = (app or current_app).extensions[SESSIONMAKER_KEY]
    return factory


def get_session() -> Session:
    """The session of the current app context; views commit it, teardown closes it.

    A request with a safe method (GET, HEAD) gets a reading session, unless its view is marked
    `writes_on_read`: readers then never queue behind each other on SQLite's write lock.
    """
    if "db_session" not in g:
        g.db_session = (
            _reading_sessionmaker() if _only_reads() else get_sessionmaker()
        )()
    session: Session = g.db_session
    return session


def writes_on_read(target: Marked) -> Marked:
    """Mark a view, or a whole blueprint, that writes although the method is safe (a GET that
    records something, such as when an API key was last used)."""
    setattr(target, _WRITES_ON_READ, True)
    return target


def _only_reads() -> bool:
    if not has_request_context() or request.method not in _SAFE_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    blueprints = (current_app.blueprints.get(name) for name in request.blueprints)
    return not any(
        getattr(item, _WRITES_ON_READ, False) for item in (view, *blueprints)
    )


def _reading_sessionmaker() -> sessionmaker[Session]:
    extensions = current_app.extensions
    if READING_SESSIONMAKER_KEY not in extensions:
        extensions[READING_SESSIONMAKER_KEY] = reading_sessionmaker(get_sessionmaker())
    factory: sessionmaker[Session] = extensions[READING_SESSIONMAKER_KEY]
    return factory


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
