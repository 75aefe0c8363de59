"""Reconciliation: settle texts whose fate is unknown by asking the provider.

A text becomes `unknown` when it may have reached the provider but we never learnt its id (a
timeout after the request went out, a worker that died mid-send). Status callbacks settle the
ones with an id; the others are looked up here, among the provider's messages to the number
taken around our attempt, by their exact body (a reminder carries a fresh personal link, so
its body names one text). Found: it went out, and is recorded as the provider knows it. Not
found within the grace period (provider lists are eventually consistent): it never went out;
it is marked failed with a ContactDecision saying why, and is never sent again. Whether the
debtor gets another text is then up to the planner and the policy, as for anyone else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Message
from app.models.enums import Channel, DecisionOutcome, MessageStatus
from reminders.decisions import record_decision
from reminders.sms import OutgoingSms, SentSms, SmsLookupError, SmsSender
from reminders.status import (
    apply_early_statuses,
    apply_status,
    settle_early_statuses,
)

logger = logging.getLogger(__name__)

# Younger unknown texts may still be answered by a callback or a slow provider list.
SETTLE_AFTER = timedelta(minutes=5)
DEFAULT_GRACE = timedelta(hours=24)
# A text goes to the provider within the tick that claimed it (`status_updated_at`); the
# margins allow for a slow tick and for the provider's clock being a little off ours.
ATTEMPT_EARLIEST = timedelta(minutes=5)
ATTEMPT_LATEST = timedelta(hours=1)
NOT_AT_PROVIDER = "not_at_provider"


@dataclass
class ReconcileResult:
    found: int = 0
    waiting: int = 0
    not_sent: int = 0
    lookup_errors: int = 0


def reconcile_unknown(
    sessions: sessionmaker[Session],
    sender: SmsSender,
    *,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    limit: int = 500,
) -> ReconcileResult:
    """Look up, one transaction each, up to `limit` unknown texts that have no provider id;
    first, apply status callbacks that came before their text's id was recorded.

    Each text stays locked (FOR UPDATE SKIP LOCKED on PostgreSQL) while the provider is
    asked, so workers reconciling at once never settle one text twice.
    """
    with sessions.begin() as session:
        settle_early_statuses(session, now=now)
    result = ReconcileResult()
    after_id = 0
    for _ in range(limit):
        with sessions.begin() as session:
            message = _next_unknown(session, now=now, after_id=after_id)
            if message is None:
                break
            after_id = message.id
            reconcile_one(session, sender, message, now=now, grace=grace, result=result)
    if result != ReconcileResult():
        logger.info("reconciled unknown texts: %s", result)
    return result


def _next_unknown(session: Session, *, now: datetime, after_id: int) -> Message | None:
    return session.scalar(
        select(Message)
        .where(
            Message.status == MessageStatus.UNKNOWN,
            Message.provider_message_id.is_(None),
            Message.channel == Channel.SMS,
            Message.status_updated_at <= now - SETTLE_AFTER,
            Message.id > after_id,
        )
        .order_by(Message.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def reconcile_one(
    session: Session,
    sender: SmsSender,
    message: Message,
    *,
    now: datetime,
    grace: timedelta,
    result: ReconcileResult,
) -> None:
    """Settle one unknown text if the provider's answer allows; leave it unknown if not."""
    attempted_at = message.status_updated_at
    assert attempted_at is not None  # set when the text was claimed for sending
    if message.body is None:
        # The dispatcher writes the body before it calls the provider.
        _mark_not_sent(
            session, message, now, "the worker stopped before the text was written"
        )
        result.not_sent += 1
        return
    try:
        held = sender.find_sent(
            OutgoingSms(to=message.to_address, body=message.body),
            created_from=attempted_at - ATTEMPT_EARLIEST,
            created_until=attempted_at + ATTEMPT_LATEST,
        )
    except SmsLookupError as error:
        logger.warning("message %s: provider lookup failed (%s)", message.id, error)
        result.lookup_errors += 1
        return
    match = _unrecorded(session, held)
    if match is not None:
        _record_found(session, message, match, attempted_at, now)
        result.found += 1
    elif now - attempted_at >= grace:
        _mark_not_sent(
            session,
            message,
            now,
            f"the provider held no such text {grace / timedelta(hours=1):g} hours "
            f"after the attempt at "
            f"{attempted_at:%Y-%m-%d %H:%M} UTC",
        )
        result.not_sent += 1
    else:
        result.waiting += 1


def _unrecorded(session: Session, held: list[SentSms]) -> SentSms | None:
    """The first provider message not already recorded against another of our texts."""
    if not held:
        return None
    recorded = set(
        session.scalars(
            select(Message.provider_message_id).where(
                Message.provider_message_id.in_([h.provider_id for h in held])
            )
        )
    )
    return next((h for h in held if h.provider_id not in recorded), None)


def _record_found(
    session: Session,
    message: Message,
    found: SentSms,
    attempted_at: datetime,
    now: datetime,
) -> None:
    message.provider_message_id = found.provider_id
    message.segments = found.segments or message.segments
    message.price_minor, message.price_currency = (
        found.price_minor,
        found.price_currency,
    )
    message.sent_at = found.sent_at or attempted_at
    session.flush()
    # The provider's status moves it forward exactly as a callback would (opt-outs too).
    apply_status(
        session, found.provider_id, found.status, error_code=found.error_code, now=now
    )
    apply_early_statuses(session, [found.provider_id], now=now)
    logger.info("message %s found at the provider as %s", message.id, found.provider_id)


def _mark_not_sent(
    session: Session, message: Message, now: datetime, because: str
) -> None:
    message.status = MessageStatus.FAILED
    message.error_code = NOT_AT_PROVIDER
    message.status_updated_at = now
    decision = record_decision(
        session, message, DecisionOutcome.SUPPRESSED, NOT_AT_PROVIDER, now=now
    )
    decision.detail = f"Never sent: {because}. It will not be sent again."
    logger.warning("message %s was never sent: %s", message.id, because)
