"""A creditor's reminder sequence and its ordered steps."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.enums import Channel, StepAction, StepOffsetFrom


class Sequence(Base):
    __tablename__ = "sequences"

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]

    steps: Mapped[list["Step"]] = relationship(
        order_by="Step.position", cascade="all, delete-orphan", passive_deletes=True
    )


class Step(Base):
    __tablename__ = "steps"
    __table_args__ = (
        CheckConstraint("day_offset >= 0", name="day_offset_nonnegative"),
        CheckConstraint("position >= 0", name="position_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("sequences.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    day_offset: Mapped[int]
    offset_from: Mapped[StepOffsetFrom] = mapped_column(default=StepOffsetFrom.DUE_DATE)
    channel: Mapped[Channel] = mapped_column(default=Channel.SMS)
    action: Mapped[StepAction] = mapped_column(default=StepAction.SEND)
    template_key: Mapped[str] = mapped_column(String(64))
    # A supervisor's explicit permission for wording the tone guard would refuse.
    firm_tone_allowed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Retired steps keep their sent messages' history; the planner skips them.
    retired_at: Mapped[datetime | None]
