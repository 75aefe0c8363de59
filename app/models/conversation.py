"""A conversation the debtor asked for, and its messages."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.enums import ChatSender, ConversationStatus, Language


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(
            "csat_score IS NULL OR csat_score BETWEEN 1 AND 5", name="csat_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="RESTRICT"), index=True
    )
    debtor_id: Mapped[int] = mapped_column(
        ForeignKey("debtors.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[ConversationStatus] = mapped_column(
        default=ConversationStatus.WAITING, index=True
    )
    language: Mapped[Language]
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str | None] = mapped_column(String(32))
    csat_score: Mapped[int | None]
    csat_comment: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[ChatSender]
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    via_sms: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
