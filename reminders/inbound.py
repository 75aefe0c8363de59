"""Inbound SMS: STOP, START and HELP keywords, and free text kept for people and the detector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Debtor, InboundMessage, Message
from app.models.enums import Channel, Language, MessageStatus
from reminders.keywords import Keyword, asks_for_person, classify_keyword

RiskHook = Callable[[Session, Debtor, str, datetime], None]
REPLY_TEMPLATES = {
    Keyword.STOP: "stop_confirmation",
    Keyword.START: "start_confirmation",
    Keyword.HELP: "help",
}


@dataclass(frozen=True)
class InboundResult:
    inbound: InboundMessage
    keyword: Keyword
    duplicate: bool = False
    reply: Message | None = None
    wants_person: bool = False


def receive_sms(
    session: Session,
    *,
    from_number: str,
    to_number: str,
    body: str,
    provider_message_id: str,
    now: datetime,
    risk_hook: RiskHook | None = None,
) -> InboundResult:
    """Record one inbound SMS once (by provider id) and act on it at once."""
    existing = session.scalar(
        select(InboundMessage).where(
            InboundMessage.provider_message_id == provider_message_id
        )
    )
    if existing is not None:
        return InboundResult(
            existing, Keyword(existing.keyword or "none"), duplicate=True
        )
    debtors = _debtors_for(session, from_number)
    keyword = classify_keyword(body)
    inbound = InboundMessage(
        debtor_id=debtors[0].id if debtors else None,
        from_address=from_number,
        to_address=to_number,
        body=body,
        provider_message_id=provider_message_id,
        keyword=keyword.value if keyword is not Keyword.NONE else None,
        received_at=now,
    )
    session.add(inbound)
    if not debtors:
        session.flush()
        return InboundResult(inbound, keyword)
    if keyword is Keyword.NONE:
        if risk_hook is not None:
            risk_hook(session, debtors[0], body, now)
        session.flush()
        return InboundResult(inbound, keyword, wants_person=asks_for_person(body))
    reply = _act_on_keyword(session, keyword, debtors, now)
    session.flush()
    return InboundResult(inbound, keyword, reply=reply)


def _debtors_for(session: Session, phone: str) -> list[Debtor]:
    """Every debtor record with this number, the most recently texted first.

    One person may owe several creditors; STOP from that phone stops them all.
    """
    last_text = (
        select(Message.sent_at)
        .where(Message.debtor_id == Debtor.id)
        .order_by(Message.sent_at.desc().nulls_last())
        .limit(1)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(Debtor)
            .where(Debtor.phone_e164 == phone)
            .order_by(last_text.desc().nulls_last(), Debtor.id)
        )
    )


def _act_on_keyword(
    session: Session, keyword: Keyword, debtors: list[Debtor], now: datetime
) -> Message | None:
    if keyword is Keyword.STOP:
        changed = [d for d in debtors if d.sms_opted_out_at is None]
        for debtor in changed:
            debtor.sms_opted_out_at = now
        # One final confirmation; a repeated STOP gets no more texts.
        return _reply(session, debtors[0], keyword, now) if changed else None
    if keyword is Keyword.START:
        changed = [d for d in debtors if d.sms_opted_out_at is not None]
        for debtor in changed:
            debtor.sms_opted_out_at = None
        return _reply(session, debtors[0], keyword, now) if changed else None
    return _reply(session, debtors[0], keyword, now)


def _reply(
    session: Session, debtor: Debtor, keyword: Keyword, now: datetime
) -> Message:
    """Queue the answer; the dispatcher sends it at once, opt-out and quiet hours aside."""
    message = Message(
        debtor_id=debtor.id,
        account_id=None,
        step_id=None,
        channel=Channel.SMS,
        template_key=REPLY_TEMPLATES[keyword],
        language=Language(debtor.language),
        to_address=debtor.phone_e164 or "",
        status=MessageStatus.QUEUED,
        not_before=now,
        created_at=now,
    )
    session.add(message)
    return message
