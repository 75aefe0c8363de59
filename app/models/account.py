"""One debt (usually one invoice) and the ledger that is the only source of its balance."""

from datetime import date, datetime

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
from app.models.enums import AccountStatus, LedgerKind


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("creditor_id", "external_reference"),
        CheckConstraint(
            "original_amount_minor >= 0", name="original_amount_nonnegative"
        ),
        CheckConstraint("length(currency) = 3", name="currency_iso"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the debtor so tenant scoping and the reference key need no join.
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="RESTRICT"), index=True
    )
    debtor_id: Mapped[int] = mapped_column(
        ForeignKey("debtors.id", ondelete="RESTRICT"), index=True
    )
    sequence_id: Mapped[int | None] = mapped_column(
        ForeignKey("sequences.id", ondelete="SET NULL")
    )
    external_reference: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    original_amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    issued_on: Mapped[date | None]
    due_on: Mapped[date]
    status: Mapped[AccountStatus] = mapped_column(
        default=AccountStatus.OPEN, index=True
    )
    paused_until: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LedgerEntry(Base):
    """An immutable movement of money on an account; amounts are positive, the kind signs them."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("length(currency) = 3", name="currency_iso"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[LedgerKind]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Provider or import id; unique so a replayed event cannot post twice.
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    note: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime]
    created_at: Mapped[datetime]
