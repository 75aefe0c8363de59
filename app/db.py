"""Declarative base, engine and session factory: plain SQLAlchemy, no Flask."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Execution option marking an engine's connections as reading only (see ReadingSession).
READING_OPTION = "venlig_reading"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend; SQLite stores them naive, so we re-attach UTC.

    A naive datetime is refused: it is almost always a local time taken by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        return (
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        )


def _enum_values(enum_class: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_class]


class Base(DeclarativeBase):
    """Base of every model: constraint names are deterministic so migrations can name them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        enum.Enum: Enum(
            enum.Enum,
            native_enum=False,
            create_constraint=True,
            validate_strings=True,
            values_callable=_enum_values,
            length=32,
        ),
    }


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, and transactions begun by SQLAlchemy so SAVEPOINTs work (pysqlite)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        # WAL lets the web process read while the worker writes (no-op for :memory:).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
        # SQLite's own lower() folds ASCII only, so "Østergaard" never matched "øster";
        # Python's folds every letter, as PostgreSQL's lower() does.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock at once, so it never fails half-way on a lock another
        # writer holds; a reader begins deferred, and WAL readers wait for no one.
        reading = connection.get_execution_options().get(READING_OPTION)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for `url`, with the SQLite settings the app relies on."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def make_sessionmaker(bind: Any, **kwargs: Any) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit (views render after it)."""
    return sessionmaker(bind=bind, expire_on_commit=False, **kwargs)


class WriteWhileReading(RuntimeError):
    """Something tried to write through a session opened for reading only."""


class ReadingSession(Session):
    """A session that only reads: on SQLite its transactions begin deferred, and any write
    through it is refused, since a deferred transaction that later writes can fail at once
    on a busy database instead of waiting its turn."""


@event.listens_for(ReadingSession, "do_orm_execute")
def _refuse_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise WriteWhileReading(f"a reading session was asked to run {state.statement}")


@event.listens_for(ReadingSession, "before_flush")
def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    changed = [*session.new, *session.dirty, *session.deleted]
    if changed:
        raise WriteWhileReading(f"a reading session was asked to save {changed[:3]}")


def reading_sessionmaker(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """`factory`'s sessions, but opened for reading only (see ReadingSession).

    On PostgreSQL they read in autocommit: at READ COMMITTED every statement sees its own
    snapshot inside a transaction too, so BEGIN and ROLLBACK would only cost two round trips.
    SQLite keeps its deferred transaction, which does hold one snapshot for all its reads.
    """
    bind = factory.kw.get("bind")
    if isinstance(bind, Engine):
        options: dict[str, Any] = {READING_OPTION: True}
        if bind.dialect.name == "postgresql":
            options["isolation_level"] = "AUTOCOMMIT"
        bind = bind.execution_options(**options)
    return sessionmaker(**{**factory.kw, "bind": bind, "class_": ReadingSession})
