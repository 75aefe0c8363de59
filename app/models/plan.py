"""Instalment plans with their instalments, and promises to pay."""

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.enums import InstalmentStatus, PlanFrequency, PlanStatus, PromiseStatus


class PaymentPlan(Base):
    __tablename__ = "payment_plans"
    __table_args__ = (
        CheckConstraint("total_minor > 0", name="total_positive"),
        CheckConstraint("length(currency) = 3", name="currency_iso"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[PlanStatus] = mapped_column(default=PlanStatus.PROPOSED)
    frequency: Mapped[PlanFrequency]
    total_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Charged off-session when set; otherwise each instalment is paid from its reminder link.
    payment_method_ref: Mapped[str | None] = mapped_column(String(255))
    customer_ref: Mapped[str | None] = mapped_column(String(255))
    # What the debtor needs to recognise the saved method; the provider keeps the method itself.
    payment_method_brand: Mapped[str | None] = mapped_column(String(32))
    payment_method_last4: Mapped[str | None] = mapped_column(String(4))
    payment_method_exp_month: Mapped[int | None]
    payment_method_exp_year: Mapped[int | None]
    payment_method_wallet: Mapped[str | None] = mapped_column(String(32))
    grace_used: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    instalments: Mapped[list["Instalment"]] = relationship(
        order_by="Instalment.seq_no", cascade="all, delete-orphan", passive_deletes=True
    )


class Instalment(Base):
    __tablename__ = "instalments"
    __table_args__ = (
        UniqueConstraint("plan_id", "seq_no"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("payment_plans.id", ondelete="CASCADE"), index=True
    )
    seq_no: Mapped[int]
    due_on: Mapped[date] = mapped_column(index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[InstalmentStatus] = mapped_column(default=InstalmentStatus.SCHEDULED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    # A failed charge is retried on a later day, at most twice.
    next_attempt_on: Mapped[date | None]
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    # A plan paid from wallets (no card to charge): when the pay-by-link text went out.
    reminded_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]


class PromiseToPay(Base):
    __tablename__ = "promises_to_pay"
    __table_args__ = (
        CheckConstraint(
            "amount_minor IS NULL OR amount_minor > 0", name="amount_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    promised_on: Mapped[date]
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[PromiseStatus] = mapped_column(default=PromiseStatus.PENDING)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    nudged_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
