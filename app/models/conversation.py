"""A conversation the debtor asked for, its messages, and the chat desk around it.

The desk: each creditor's opening hours and wait target, the agents who answer for it, their
presence, every assignment, staff notes on a debtor and canned responses.
"""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.enums import (
    AssignmentKind,
    ChatSender,
    ConversationOutcome,
    ConversationStatus,
    Language,
)

_OPEN = text("status <> 'closed'")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(
            "csat_score IS NULL OR csat_score BETWEEN 1 AND 5", name="csat_range"
        ),
        CheckConstraint("last_seq >= 0", name="last_seq_nonnegative"),
        CheckConstraint("agent_wait_seconds >= 0", name="agent_wait_nonnegative"),
        # One open thread per debtor: a second "talk to a person" joins the first.
        Index(
            "uq_conversations_open_debtor",
            "debtor_id",
            unique=True,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
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
    outcome: Mapped[ConversationOutcome | None]
    csat_score: Mapped[int | None]
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_at: Mapped[datetime | None]
    opened_at: Mapped[datetime]
    # "portal" or "sms": where the debtor asked for a person.
    opened_via: Mapped[str] = mapped_column(
        String(16), default="portal", server_default="portal"
    )
    # The debtor's choice: answers reach them by SMS once they have left the page.
    reply_by_sms: Mapped[bool] = mapped_column(default=True, server_default=true())
    first_response_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The sequence number of the newest message; messages are numbered under a row lock,
    # so numbers are committed in order and a reader after N never misses one.
    last_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # The SLA clock: runs while the debtor waits for the agent, in business seconds.
    waiting_since: Mapped[datetime | None] = mapped_column(index=True)
    agent_wait_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    first_response_seconds: Mapped[int | None]
    handling_seconds: Mapped[int | None]
    # What reached the debtor's page, and when the page was last connected.
    debtor_seen_at: Mapped[datetime | None]
    debtor_read_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    # Up to which message the debtor was told by SMS that an answer is waiting.
    sms_notified_seq: Mapped[int] = mapped_column(default=0, server_default="0")


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int]
    sender: Mapped[ChatSender]
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Kept as typed; escaped when shown, never stored as HTML.
    body: Mapped[str] = mapped_column(Text)
    # A system line ("joined", "closed", ...) or an agent's plan offer; None for plain text.
    event: Mapped[str | None] = mapped_column(String(32))
    # JSON details of the event (an agent's name, a plan's terms).
    payload: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    via_sms: Mapped[bool] = mapped_column(default=False)
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime]


class ChatDesk(Base):
    """A creditor's chat opening hours (local time) and wait target; defaults when absent."""

    __tablename__ = "chat_desks"
    __table_args__ = (
        CheckConstraint(
            "opens_minute >= 0 AND opens_minute < closes_minute "
            "AND closes_minute <= 1440",
            name="hours_in_day",
        ),
        CheckConstraint("target_wait_minutes >= 1", name="target_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="CASCADE"), unique=True
    )
    time_zone: Mapped[str] = mapped_column(String(64))
    opens_minute: Mapped[int] = mapped_column(default=8 * 60)
    closes_minute: Mapped[int] = mapped_column(default=16 * 60)
    # Open weekdays, Monday = 0: "01234" is Monday to Friday.
    weekdays: Mapped[str] = mapped_column(String(7), default="01234")
    closed_on_holidays: Mapped[bool] = mapped_column(default=True)
    # A waiting conversation turns amber past this many business minutes, red past twice it.
    target_wait_minutes: Mapped[int] = mapped_column(default=5)


class ChatAgent(Base):
    """An agent answers the chats of this creditor (agency agents serve named creditors)."""

    __tablename__ = "chat_agents"
    __table_args__ = (UniqueConstraint("user_id", "creditor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    creditor_id: Mapped[int] = mapped_column(
        ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )


class AgentPresence(Base):
    """Whether an agent is at the console and takes round-robin chats."""

    __tablename__ = "agent_presence"
    __table_args__ = (CheckConstraint("max_active >= 1", name="max_active_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    available: Mapped[bool] = mapped_column(default=False)
    last_seen_at: Mapped[datetime]
    last_assigned_at: Mapped[datetime | None]
    max_active: Mapped[int] = mapped_column(default=3)


class ConversationAssignment(Base):
    """Every time a conversation came to an agent, and who decided it."""

    __tablename__ = "conversation_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    assigned_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    kind: Mapped[AssignmentKind]
    assigned_at: Mapped[datetime]


class DebtorNote(Base):
    """A staff note on a debtor (optionally one account), shown in the context panel."""

    __tablename__ = "debtor_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(
        ForeignKey("debtors.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    author_label: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CannedResponse(Base):
    """A reply an agent can insert, per language; {first_name}, {balance}, {link} are filled."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: offered for every creditor.
    creditor_id: Mapped[int | None] = mapped_column(
        ForeignKey("creditors.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[Language]
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
