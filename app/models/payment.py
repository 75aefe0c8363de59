"""Checkouts the debtor started, and the provider events already applied to the ledger."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.enums import CheckoutPurpose, CheckoutStatus


class CheckoutAttempt(Base):
    """One hosted checkout; its id travels in the provider's metadata to find it again."""

    __tablename__ = "checkout_attempts"
    __table_args__ = (
        CheckConstraint(
            "amount_minor IS NULL OR amount_minor > 0", name="amount_positive"
        ),
        CheckConstraint("length(currency) = 3", name="currency_iso"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_plans.id", ondelete="SET NULL")
    )
    instalment_id: Mapped[int | None] = mapped_column(
        ForeignKey("instalments.id", ondelete="SET NULL")
    )
    purpose: Mapped[CheckoutPurpose]
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(16))
    provider_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[CheckoutStatus] = mapped_column(default=CheckoutStatus.OPEN)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class PaymentEvent(Base):
    """A provider event, stored once: a replayed event id is recognised and skipped."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime]
