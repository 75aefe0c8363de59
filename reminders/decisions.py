"""ContactDecision rows: why a message was deferred or suppressed, for the timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import ContactDecision, Message
from app.models.enums import DecisionOutcome


def record_decision(
    session: Session,
    message: Message,
    outcome: DecisionOutcome,
    reason: str,
    *,
    now: datetime,
    defer_until: datetime | None = None,
) -> ContactDecision:
    if message.id is None:
        session.flush()
    decision = ContactDecision(
        debtor_id=message.debtor_id,
        account_id=message.account_id,
        message_id=message.id,
        channel=message.channel,
        outcome=outcome,
        reason=reason,
        defer_until=defer_until,
        checked_at=now,
    )
    session.add(decision)
    return decision
