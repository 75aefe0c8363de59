"""What the ingest tests share: a creditor, a folder for uploads, and the session factory the
worker takes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.ingest.batches import UploadStore
from app.models import Creditor
from tests.factories import make_creditor


@pytest.fixture
def store(tmp_path: Path) -> UploadStore:
    return UploadStore(tmp_path / "uploads")


@pytest.fixture
def creditor(session: Session, now: datetime) -> Creditor:
    return make_creditor(session, now)


@pytest.fixture
def sessions(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    return session_factory
