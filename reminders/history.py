"""What a debtor's phone has seen: texts sent to it and texts it sent, in time order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Debtor, InboundMessage, Message
from app.models.enums import Channel, MessageStatus

SHOWN = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNKNOWN)


@dataclass(frozen=True)
class PhoneEntry:
    at: datetime
    outgoing: bool
    body: str
    status: str


def phone_thread(session: Session, phone: str) -> list[PhoneEntry]:
    outgoing = session.execute(
        select(Message.sent_at, Message.body, Message.status).where(
            Message.to_address == phone,
            Message.channel == Channel.SMS,
            Message.status.in_(SHOWN),
            Message.sent_at.is_not(None),
        )
    )
    incoming = session.execute(
        select(InboundMessage.received_at, InboundMessage.body).where(
            InboundMessage.from_address == phone
        )
    )
    entries = [
        PhoneEntry(at, True, body or "", status.value)
        for at, body, status in outgoing
        if at is not None
    ]
    entries += [PhoneEntry(at, False, body, "received") for at, body in incoming]
    return sorted(entries, key=lambda e: e.at)


@dataclass(frozen=True)
class PhoneSummary:
    debtor: Debtor
    texts: int
    last_at: datetime | None


def phones(session: Session) -> list[PhoneSummary]:
    """Every debtor with a mobile number and how many texts reached it, busiest first."""
    counts = dict(
        session.execute(
            select(Message.to_address, func.count())
            .where(Message.channel == Channel.SMS, Message.status.in_(SHOWN))
            .group_by(Message.to_address)
        ).all()
    )
    lasts = dict(
        session.execute(
            select(Message.to_address, func.max(Message.sent_at))
            .where(Message.channel == Channel.SMS, Message.status.in_(SHOWN))
            .group_by(Message.to_address)
        ).all()
    )
    debtors = session.scalars(
        select(Debtor).where(Debtor.phone_e164.is_not(None)).order_by(Debtor.name)
    )
    summaries = [
        PhoneSummary(
            d, counts.get(d.phone_e164 or "", 0), lasts.get(d.phone_e164 or "")
        )
        for d in debtors
    ]
    return sorted(summaries, key=lambda s: -s.texts)
