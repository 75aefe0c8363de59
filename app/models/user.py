"""Staff users: agency staff (admin, supervisor, agent) and creditors' own users."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.enums import Language, Role


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # A creditor user belongs to exactly one creditor; agency staff to none.
        CheckConstraint(
            "(role = 'creditor') = (creditor_id IS NOT NULL)",
            name="creditor_role_has_tenant",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role]
    creditor_id: Mapped[int | None] = mapped_column(
        ForeignKey("creditors.id", ondelete="RESTRICT"), index=True
    )
    language: Mapped[Language] = mapped_column(default=Language.EN)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Part of the login cookie's id: rotating it signs out every session of this user.
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    @property
    def is_agency_staff(self) -> bool:
        return self.creditor_id is None
