"""The tenant: a creditor, its plan rules."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.enums import Language, VerificationFactor


class Creditor(Base):
    __tablename__ = "creditors"
    __table_args__ = (
        CheckConstraint("length(currency) = 3", name="currency_iso"),
        CheckConstraint("length(country) = 2", name="country_iso"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    default_language: Mapped[Language]
    sms_sender_name: Mapped[str | None] = mapped_column(String(11))
    verification_factor: Mapped[VerificationFactor]
    show_amount_in_sms: Mapped[bool] = mapped_column(default=False)
    support_phone: Mapped[str | None] = mapped_column(String(20))
    support_email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class PlanRules(Base):
    """What instalment plans a creditor accepts; one row per creditor."""

    __tablename__ = "plan_rules"
    __table_args__ = (
        CheckConstraint("max_instalments >= 1", name="max_instalments_positive"),
        CheckConstraint("min_instalment_minor >= 0", name="min_instalment_nonnegative"),
        CheckConstraint(
            "first_payment_within_days >= 0", name="first_payment_nonnegative"
        ),
        CheckConstraint("promise_max_days >= 1", name="promise_max_days_positive"),
        CheckConstraint(
            "breathing_space_days BETWEEN 1 AND 90", name="breathing_space_days_range"
        ),
        CheckConstraint(
            "payday_day_of_month IS NULL OR payday_day_of_month BETWEEN 1 AND 31",
            name="payday_day_of_month_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="CASCADE"), unique=True
    )
    max_instalments: Mapped[int] = mapped_column(default=6)
    min_instalment_minor: Mapped[int] = mapped_column(BigInteger, default=10000)
    first_payment_within_days: Mapped[int] = mapped_column(default=7)
    allow_weekly: Mapped[bool] = mapped_column(default=False)
    allow_fortnightly: Mapped[bool] = mapped_column(default=True)
    allow_monthly: Mapped[bool] = mapped_column(default=True)
    payday_day_of_month: Mapped[int | None]
    promise_max_days: Mapped[int] = mapped_column(default=14)
    grace_moves_missed_instalment: Mapped[bool] = mapped_column(default=False)
    breathing_space_days: Mapped[int] = mapped_column(default=30, server_default="30")
