"""Migrations build exactly the models' schema, and walk down and up again, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from app import migrate
from app.db import Base, make_engine
from app.models import RiskSignal
from app.models.enums import RiskAction, Severity, SignalSource
from tests.conftest import BACKENDS, scratch_database
from tests.factories import make_creditor, make_debtor


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


def test_risk_actions_stored_as_sentences_become_codes_and_back(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "e3b8d5f0a2c4")
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    sentences = [
        "outreach paused until a supervisor reviews it",
        "reminders paused for 30 days",
        "all outreach stopped (cease contact); confirmed to the debtor once",
        "something an operator wrote by hand",
    ]
    with Session(empty_engine) as session:
        debtor = make_debtor(session, make_creditor(session, now), now)
        session.add_all(
            RiskSignal(
                debtor_id=debtor.id,
                category="hardship",
                severity=Severity.MEDIUM,
                source=SignalSource.PORTAL,
                evidence="",
                confidence=1.0,
                action_taken=sentence,
                created_at=now,
            )
            for sentence in sentences
        )
        session.commit()

    def stored() -> list[str]:
        with Session(empty_engine) as session:
            return list(
                session.scalars(select(RiskSignal.action_taken).order_by(RiskSignal.id))
            )

    migrate.upgrade(empty_engine)
    assert stored() == [
        RiskAction.PAUSED_FOR_REVIEW,
        RiskAction.BREATHING_SPACE,
        RiskAction.OUTREACH_STOPPED,
        "something an operator wrote by hand",
    ]
    migrate.downgrade(empty_engine, "e3b8d5f0a2c4")
    assert stored() == [
        "outreach paused until a supervisor reviews it",
        "reminders paused for breathing space",
        "all outreach stopped (cease contact); confirmed to the debtor once",
        "something an operator wrote by hand",
    ]
