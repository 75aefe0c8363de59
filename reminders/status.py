"""Provider status callbacks: a message's status only ever moves forward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Debtor, Message
from app.models.enums import MessageStatus

# Callbacks arrive duplicated and out of order; a late "sent" must not undo "delivered".
RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.UNKNOWN: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.FAILED: 4,
    MessageStatus.UNDELIVERED: 4,
}
FROM_PROVIDER = {
    "accepted": MessageStatus.SENT,
    "scheduled": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
}
CARRIER_OPT_OUT = "21610"


def apply_status(
    session: Session,
    provider_message_id: str,
    provider_status: str,
    *,
    error_code: str | None,
    now: datetime,
) -> Message | None:
    """Move the message forward to `provider_status`; unknown ids and statuses are ignored."""
    message = session.scalar(
        select(Message).where(Message.provider_message_id == provider_message_id)
    )
    new = FROM_PROVIDER.get(provider_status.lower())
    if message is None or new is None:
        return message
    if RANK.get(message.status, -1) < RANK[new]:
        message.status = new
        message.status_updated_at = now
        message.sent_at = message.sent_at or now
        if error_code:
            message.error_code = error_code
    if error_code == CARRIER_OPT_OUT:
        debtor = session.get(Debtor, message.debtor_id)
        if debtor is not None and debtor.sms_opted_out_at is None:
            debtor.sms_opted_out_at = now
    return message
