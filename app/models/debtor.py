"""A debtor of one creditor, with contact details and per-channel consent."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.enums import Language


class Debtor(Base):
    __tablename__ = "debtors"
    __table_args__ = (
        UniqueConstraint("creditor_id", "customer_number"),
        CheckConstraint("length(country) = 2", name="country_iso"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="RESTRICT"), index=True
    )
    customer_number: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    phone_e164: Mapped[str | None] = mapped_column(String(16), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[Language]
    timezone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    birth_date: Mapped[date | None]
    postcode: Mapped[str | None] = mapped_column(String(16))
    sms_opted_out_at: Mapped[datetime | None]
    email_opted_out_at: Mapped[datetime | None]
    cease_contact_at: Mapped[datetime | None]
    # Set when the number proved wrong, invalid or a landline; SMS stops until corrected.
    phone_unusable_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name
