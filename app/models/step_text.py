"""A creditor's own wording of one sequence step in one language."""

from datetime import datetime

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.enums import Language


class StepText(Base):
    """Sent instead of the step's default template to debtors who read `language`."""

    __tablename__ = "step_texts"
    __table_args__ = (UniqueConstraint("step_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique (step_id, language) index also serves look-ups by step.
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    language: Mapped[Language]
    # A restricted template: text and the placeholders app.services.texts allows.
    body: Mapped[str] = mapped_column(Text)
    saved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    saved_at: Mapped[datetime]
