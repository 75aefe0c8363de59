"""Provider status callbacks: a message's status only ever moves forward.

A callback can come before the dispatcher has recorded the text's id (the provider calls back
while the rest of the claim is still being sent): it is kept as an EarlyStatus and applied
once the id is recorded, by the dispatcher at once or by the sweep shortly after.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Debtor, EarlyStatus, Message
from app.models.enums import MessageStatus
from reminders.sms import MAX_PROVIDER_ID

logger = logging.getLogger(__name__)

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
    "canceled": MessageStatus.FAILED,  # a scheduled text cancelled before it went out
}
CARRIER_OPT_OUT = "21610"
# A callback whose id is still unknown after this long was not about one of our texts (another
# system on the same provider account) and is forgotten.
KEEP_EARLY = timedelta(days=7)


def apply_status(
    session: Session,
    provider_message_id: str,
    provider_status: str,
    *,
    error_code: str | None,
    now: datetime,
) -> Message | None:
    """Move the message forward to `provider_status`; unknown statuses are ignored, and a
    status for an id not recorded yet is kept until it is.

    Twilio documents ErrorCode as present only on failures and MessageStatus as a list that
    grows (partially_delivered, ...): a status we do not know changes nothing, an
    id longer than any we record is not ours, and an error code is kept to its column.
    """
    provider_message_id = provider_message_id.strip()
    if not provider_message_id or len(provider_message_id) > MAX_PROVIDER_ID:
        return None
    error_code = (error_code or "").strip()[:32] or None
    message = session.scalar(
        select(Message).where(Message.provider_message_id == provider_message_id)
    )
    new = FROM_PROVIDER.get(provider_status.strip().lower())
    if new is None:
        return message
    if message is None:
        _keep_early(session, provider_message_id, provider_status, error_code, now)
        return None
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


def _keep_early(
    session: Session,
    provider_message_id: str,
    provider_status: str,
    error_code: str | None,
    now: datetime,
) -> None:
    early = EarlyStatus(
        provider_message_id=provider_message_id,
        provider_status=provider_status.strip().lower(),
        error_code=error_code,
        received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(early)
    except IntegrityError:
        pass  # the same callback, delivered twice: kept once


def apply_early_statuses(
    session: Session, provider_message_ids: Collection[str], *, now: datetime
) -> int:
    """Apply the kept callbacks for ids just recorded; returns how many were applied."""
    if not provider_message_ids:
        return 0
    kept = session.scalars(
        select(EarlyStatus).where(
            EarlyStatus.provider_message_id.in_(list(provider_message_ids))
        )
    ).all()
    return _apply(session, kept, now)


def settle_early_statuses(session: Session, *, now: datetime) -> int:
    """The sweep: apply kept callbacks whose id has been recorded meanwhile (a callback and
    the recording can pass each other), and forget those too old to be ours."""
    kept = session.scalars(
        select(EarlyStatus).join(
            Message, Message.provider_message_id == EarlyStatus.provider_message_id
        )
    ).all()
    applied = _apply(session, kept, now)
    forgotten = len(
        session.scalars(
            delete(EarlyStatus)
            .where(EarlyStatus.received_at < now - KEEP_EARLY)
            .returning(EarlyStatus.id)
        ).all()
    )
    if applied or forgotten:
        logger.info(
            "early status callbacks: %d applied, %d forgotten", applied, forgotten
        )
    return applied


def _apply(session: Session, kept: Collection[EarlyStatus], now: datetime) -> int:
    ordered = sorted(kept, key=lambda e: RANK[FROM_PROVIDER[e.provider_status]])
    for early in ordered:
        apply_status(
            session,
            early.provider_message_id,
            early.provider_status,
            error_code=early.error_code,
            now=now,
        )
        session.delete(early)
    return len(ordered)
