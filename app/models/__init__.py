"""Every model, imported here so the metadata is complete wherever models are used."""

from app.db import Base
from app.models.account import Account, LedgerEntry
from app.models.audit import AuditEvent
from app.models.conversation import (
    AgentPresence,
    CannedResponse,
    ChatAgent,
    ChatDesk,
    ChatMessage,
    Conversation,
    ConversationAssignment,
    DebtorNote,
)
from app.models.creditor import Creditor, PlanRules
from app.models.debtor import Debtor
from app.models.ingest import ApiIdempotency, ApiKey, ImportBatch, SavedMapping
from app.models.message import ContactDecision, EarlyStatus, InboundMessage, Message
from app.models.payment import CheckoutAttempt, PaymentEvent
from app.models.plan import Instalment, PaymentPlan, PromiseToPay
from app.models.portal import PortalLink
from app.models.risk import RiskSignal
from app.models.sequence import Sequence, Step
from app.models.step_text import StepText
from app.models.user import User

# Complete only once every model module above is imported.
metadata = Base.metadata

__all__ = [
    "Account",
    "AgentPresence",
    "ApiIdempotency",
    "ApiKey",
    "AuditEvent",
    "CannedResponse",
    "ChatAgent",
    "ChatDesk",
    "ChatMessage",
    "CheckoutAttempt",
    "ContactDecision",
    "Conversation",
    "ConversationAssignment",
    "Creditor",
    "Debtor",
    "DebtorNote",
    "EarlyStatus",
    "ImportBatch",
    "InboundMessage",
    "Instalment",
    "LedgerEntry",
    "Message",
    "PaymentEvent",
    "PaymentPlan",
    "PlanRules",
    "PortalLink",
    "PromiseToPay",
    "RiskSignal",
    "SavedMapping",
    "Sequence",
    "Step",
    "StepText",
    "User",
    "metadata",
]
