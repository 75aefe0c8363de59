"""Complaint-risk signals with their evidence and review."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.enums import Severity, SignalSource, SignalStatus


class RiskSignal(Base):
    __tablename__ = "risk_signals"
    __table_args__ = (
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(
        ForeignKey("debtors.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[Severity]
    source: Mapped[SignalSource]
    evidence: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float]
    action_taken: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[SignalStatus] = mapped_column(default=SignalStatus.OPEN, index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
