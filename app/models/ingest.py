"""Uploads of invoice files, remembered column mappings, API keys and API idempotency."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.enums import ImportStatus


class ImportBatch(Base):
    """One uploaded file, from dry run to import; the file itself lives on disk."""

    __tablename__ = "import_batches"
    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="size_nonnegative"),
        CheckConstraint("rows_done >= 0", name="rows_done_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    status: Mapped[ImportStatus] = mapped_column(
        default=ImportStatus.UPLOADED, index=True
    )
    # JSON: the column mapping used and the dry run's counts, as shown to the creditor.
    mapping_json: Mapped[str | None] = mapped_column(Text)
    plan_json: Mapped[str | None] = mapped_column(Text)
    rows_total: Mapped[int | None]
    rows_done: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class SavedMapping(Base):
    """The creditor's last column mapping for one file layout (a fingerprint of its headers)."""

    __tablename__ = "saved_mappings"
    __table_args__ = (UniqueConstraint("creditor_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64))
    mapping_json: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class ApiKey(Base):
    """A creditor's API key: shown once, stored as a SHA-256 hash, revocable."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # The first characters, shown in lists so a key can be recognised without revealing it.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiIdempotency(Base):
    """The stored answer to an API request sent with an Idempotency-Key header."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("creditor_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(255))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
