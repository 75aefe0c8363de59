"""Migrations build exactly the models' schema, and walk down and up again, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from app import migrate
from app.db import Base, make_engine
from tests.conftest import BACKENDS, scratch_database


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with scratch_database(request.param, tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_builds_every_table(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert _tables(empty_engine) == set(Base.metadata.tables)


def test_autogenerate_finds_no_difference_after_upgrade(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    assert migrate.schema_differences(empty_engine) == []


def test_head_to_base_to_head(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert _tables(empty_engine) == set()
    migrate.upgrade(empty_engine)
    assert migrate.schema_differences(empty_engine) == []


def test_upgrading_twice_is_harmless(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)
    assert _tables(empty_engine) == set(Base.metadata.tables)
