"""The outbox (one Message per account and step) and the policy's recorded decisions."""

from datetime import datetime

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
from app.models.enums import Channel, DecisionOutcome, Language, MessageStatus


class Message(Base):
    """An outbound message; a step's message exists at most once per account (the claim)."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("account_id", "step_id"),
        CheckConstraint("segments IS NULL OR segments >= 1", name="segments_positive"),
        CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        CheckConstraint(
            "price_minor IS NULL OR price_minor >= 0", name="price_nonnegative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(
        ForeignKey("debtors.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("steps.id", ondelete="RESTRICT")
    )
    channel: Mapped[Channel]
    template_key: Mapped[str] = mapped_column(String(64))
    language: Mapped[Language]
    to_address: Mapped[str] = mapped_column(String(254))
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(
        default=MessageStatus.QUEUED, index=True
    )
    suppressed_reason: Mapped[str | None] = mapped_column(String(32))
    not_before: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    segments: Mapped[int | None]
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    price_currency: Mapped[str | None] = mapped_column(String(3))
    error_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    status_updated_at: Mapped[datetime | None]


class EarlyStatus(Base):
    """A provider's status callback that came before we had recorded the text's id.

    The provider answers the send request and calls back on its own schedule; a callback can
    win the race against the transaction that records the id. It waits here until the id is
    recorded, and is then applied as if it had come just then.
    """

    __tablename__ = "early_statuses"
    __table_args__ = (UniqueConstraint("provider_message_id", "provider_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_message_id: Mapped[str] = mapped_column(String(64))
    provider_status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(index=True)


class ContactDecision(Base):
    """Why a contact was deferred or suppressed, as the policy saw it at `checked_at`."""

    __tablename__ = "contact_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(
        ForeignKey("debtors.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel]
    outcome: Mapped[DecisionOutcome]
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    defer_until: Mapped[datetime | None]
    checked_at: Mapped[datetime]


class InboundMessage(Base):
    """An SMS a debtor (or anyone) sent us; the provider id makes replays harmless."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int | None] = mapped_column(
        ForeignKey("debtors.id", ondelete="SET NULL"), index=True
    )
    from_address: Mapped[str] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    provider_message_id: Mapped[str] = mapped_column(String(64), unique=True)
    keyword: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(index=True)
