"""Personal links sent to debtors: only a hash of the token is stored."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class PortalLink(Base):
    __tablename__ = "portal_links"
    __table_args__ = (
        CheckConstraint("failed_attempts >= 0", name="failed_attempts_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(
        ForeignKey("debtors.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the random token; the token itself is only ever in the SMS.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
