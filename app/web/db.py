"""Flask glue for the database: one engine per app, one session per app context."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_sessionmaker

ENGINE_KEY = "venlig.engine"
SESSIONMAKER_KEY = "venlig.sessionmaker"


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
    """The session of the current app context; views commit it, teardown closes it."""
    if "db_session" not in g:
        g.db_session = get_sessionmaker()()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
