"""The closed vocabularies of the domain, stored as their string values."""

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    CREDITOR = "creditor"


class Language(enum.StrEnum):
    DA = "da"
    NB = "nb"
    EN = "en"


class VerificationFactor(enum.StrEnum):
    BIRTH_DATE = "birth_date"
    POSTCODE = "postcode"
    REFERENCE = "reference"


class AccountStatus(enum.StrEnum):
    OPEN = "open"
    PROMISED = "promised"
    PLAN = "plan"
    PAID = "paid"
    DISPUTED = "disputed"
    PAUSED = "paused"
    CLOSED = "closed"


class LedgerKind(enum.StrEnum):
    """Charges, fees and refunds raise the balance; payments and credits lower it."""

    CHARGE = "charge"
    FEE = "fee"
    REFUND = "refund"
    PAYMENT = "payment"
    CREDIT = "credit"


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class StepOffsetFrom(enum.StrEnum):
    DUE_DATE = "due_date"
    PREVIOUS_STEP = "previous_step"


class StepAction(enum.StrEnum):
    SEND = "send"
    HAND_TO_AGENT = "hand_to_agent"


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    UNKNOWN = "unknown"
    SUPPRESSED = "suppressed"


class DecisionOutcome(enum.StrEnum):
    DEFERRED = "deferred"
    SUPPRESSED = "suppressed"


class PlanStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class PlanFrequency(enum.StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


class InstalmentStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    PROCESSING = "processing"  # charged; the provider's event will confirm it
    PAID = "paid"
    REQUIRES_ACTION = "requires_action"
    FAILED = "failed"
    MISSED = "missed"
    MOVED = "moved"


class PromiseStatus(enum.StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class ConversationStatus(enum.StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


class ChatSender(enum.StrEnum):
    DEBTOR = "debtor"
    AGENT = "agent"
    SYSTEM = "system"


class Severity(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class SignalSource(enum.StrEnum):
    SMS = "sms"
    CHAT = "chat"
    PORTAL = "portal"
    EVENT = "event"
    AGENT = "agent"


class RiskAction(enum.StrEnum):
    """What was done at once about a risk signal; stored as the code, worded by the reader."""

    OUTREACH_STOPPED = "outreach_stopped"  # cease contact, confirmed to the debtor once
    NUMBER_STOPPED = "number_stopped"  # a wrong person: no more texts to the number
    PAUSED_FOR_REVIEW = "paused_for_review"  # until a supervisor reviews the signal
    LOGGED_FOR_REVIEW = "logged_for_review"
    DISPUTE_REVIEW = "dispute_review"  # reminders paused while an agent looks into it
    BREATHING_SPACE = "breathing_space"  # reminders paused for the breathing space


class SignalStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    RESOLVED = "resolved"


class CheckoutPurpose(enum.StrEnum):
    PAY_BALANCE = "pay_balance"
    PAY_INSTALMENT = "pay_instalment"
    START_PLAN = "start_plan"  # first instalment now, method kept for the rest
    SAVE_METHOD = "save_method"  # plan starting later, or a new card for a plan


class CheckoutStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"


class ImportStatus(enum.StrEnum):
    UPLOADED = "uploaded"  # stored, dry run not yet shown
    PLANNED = "planned"  # dry run done, waiting for the creditor's confirmation
    IMPORTING = "importing"  # confirmed; the worker is writing it
    IMPORTED = "imported"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ConversationOutcome(enum.StrEnum):
    """How an agent closed a conversation."""

    RESOLVED = "resolved"
    PROMISE = "promise"
    PLAN = "plan"
    DISPUTE = "dispute"
    CALLBACK = "callback"
    NO_ANSWER = "no_answer"


class AssignmentKind(enum.StrEnum):
    """How a conversation came to an agent (or left one)."""

    TAKE = "take"
    ROUND_ROBIN = "round_robin"
    REASSIGN = "reassign"
