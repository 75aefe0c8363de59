"""Fixtures: a migrated database per backend, per-test rollback, the app and its client.

Every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import create_app, migrate
from app.db import make_engine, make_sessionmaker
from app.services import users
from app.web.db import ENGINE_KEY, SESSIONMAKER_KEY

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
REQUIRE_POSTGRES = os.environ.get("VENLIG_REQUIRE_POSTGRES") == "1"
REQUIRE_BROWSER = os.environ.get("VENLIG_REQUIRE_BROWSER") == "1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOW = datetime(2026, 11, 16, 10, 30, tzinfo=UTC)  # a Monday morning in Copenhagen

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Production argon2 parameters cost ~100 ms a hash; tests need the algorithm, not the cost."""
    original = users._hasher
    users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    users._hasher = original


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_POSTGRES and not PG_URL:
        raise pytest.UsageError(
            "VENLIG_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"
        )
    if REQUIRE_BROWSER and not Path(CHROMIUM).exists():
        raise pytest.UsageError(
            "VENLIG_REQUIRE_BROWSER=1 but Chromium is not installed"
        )


def skip_unless_postgres() -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL to run them")


@contextmanager
def scratch_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """A new empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir / f'venlig-{secrets.token_hex(4)}.sqlite3'}"
        return
    skip_unless_postgres()
    name = f"venlig_test_{secrets.token_hex(6)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database migrated to head, shared by the session's tests on that backend."""
    with scratch_database(request.param, tmp_path_factory.mktemp("db")) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection):
    return make_sessionmaker(connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def session(session_factory) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def make_app(connection: Connection, session_factory):
    """Build an app on the test's connection, with extra settings."""

    def build(**overrides: object) -> Flask:
        return create_app(
            {"ENV": "testing", **overrides},
            extensions={
                ENGINE_KEY: connection.engine,
                SESSIONMAKER_KEY: session_factory,
            },
        )

    return build


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
