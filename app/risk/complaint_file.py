"""The complaint file: everything that happened on one account, in order, for a regulator.

Every text sent and received, every decision of the contact policy, every movement of money,
plan, promise, risk signal and staff action, with the debtor's local time beside UTC.

An entry says what happened as facts (a name and a value, values as codes, numbers, dates and
amounts) rather than as a sentence: the CSV record words them in English, pages and the PDF
in the reader's language (app/web/codes.py).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import (
    Account,
    AuditEvent,
    ChatMessage,
    ContactDecision,
    Conversation,
    Debtor,
    InboundMessage,
    Instalment,
    LedgerEntry,
    Message,
    PaymentPlan,
    PromiseToPay,
    RiskSignal,
)
from app.services.formatting import format_minor

# A formula in a cell would run in the reader's spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Amount:
    minor: int
    currency: str

    def __str__(self) -> str:
        return format_minor(self.minor, self.currency)


@dataclass(frozen=True)
class ChatEvent:
    """What a system line of a chat recorded (an agent's action), as the chat shows it."""

    event: str
    payload: dict[str, Any]

    def __str__(self) -> str:
        return self.event


# A fact's value: a code (str), a number, a date or time, an amount or a chat event.
FactValue = str | int | float | date | datetime | Amount | ChatEvent


@dataclass(frozen=True)
class Fact:
    name: str
    value: FactValue

    def __str__(self) -> str:
        value = self.value
        if isinstance(value, float):
            shown = f"{value:.2f}"
        elif isinstance(value, date):  # datetimes too
            shown = value.isoformat()
        else:
            shown = str(value)
        return f"{self.name.replace('_', ' ')}: {shown}"


@dataclass(frozen=True)
class FileEntry:
    at: datetime
    kind: str
    facts: tuple[Fact, ...] = ()
    # Exactly as sent or received, for a text; the reason or note otherwise.
    detail: str = ""
    channel: str = ""
    status: str = ""

    @property
    def summary(self) -> str:
        """The facts in English, as the CSV record holds them."""
        return self.english_facts()

    def english_facts(self) -> str:
        return "; ".join(str(fact) for fact in self.facts)

    def raw_detail(self) -> str:
        return self.detail

    def fact(self, name: str) -> FactValue | None:
        return next((f.value for f in self.facts if f.name == name), None)


def _facts(**values: FactValue | None) -> tuple[Fact, ...]:
    """The given facts in order, leaving out those without a value."""
    return tuple(
        Fact(name, value) for name, value in values.items() if value not in (None, "")
    )


def complaint_file(session: Session, account: Account) -> list[FileEntry]:
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    entries = [
        *_texts_sent(session, account),
        *_texts_received(session, debtor),
        *_chat_messages(session, debtor),
        *_decisions(session, account),
        *_money(session, account),
        *_arrangements(session, account),
        *_signals(session, account),
        *_staff_actions(session, account),
    ]
    return sorted(entries, key=lambda entry: entry.at)


def complaint_file_csv(entries: list[FileEntry], time_zone: str) -> str:
    zone = ZoneInfo(time_zone)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["local_time", "utc_time", "kind", "channel", "status", "summary", "detail"]
    )
    for entry in entries:
        writer.writerow(
            [
                entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
                entry.at.isoformat(),
                entry.kind,
                entry.channel,
                entry.status,
                _inert(entry.summary),
                _inert(entry.detail),
            ]
        )
    return out.getvalue()


def _inert(cell: str) -> str:
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell


def _texts_sent(session: Session, account: Account) -> list[FileEntry]:
    messages = session.scalars(
        select(Message).where(
            or_(
                Message.account_id == account.id,
                (Message.account_id.is_(None))
                & (Message.debtor_id == account.debtor_id),
            )
        )
    )
    return [
        FileEntry(
            at=message.sent_at or message.created_at,
            kind="text_sent" if message.sent_at else f"text_{message.status.value}",
            facts=_facts(
                text=message.template_key,
                to=message.to_address,
                held_back_because=message.suppressed_reason,
                provider_error=message.error_code,
            ),
            detail=message.body or "",
            channel=message.channel.value,
            status=message.status.value,
        )
        for message in messages
    ]


def _texts_received(session: Session, debtor: Debtor) -> list[FileEntry]:
    return [
        FileEntry(
            at=inbound.received_at,
            kind="text_received",
            facts=_facts(sender=inbound.from_address, keyword=inbound.keyword),
            detail=inbound.body,
            channel="sms",
            status="received",
        )
        for inbound in session.scalars(
            select(InboundMessage).where(InboundMessage.debtor_id == debtor.id)
        )
    ]


def _chat_messages(session: Session, debtor: Debtor) -> list[FileEntry]:
    """The debtor's chats; a chat line that came in as a text is already a text_received."""
    rows = session.execute(
        select(ChatMessage, Conversation.id)
        .join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .where(
            Conversation.debtor_id == debtor.id,
            ChatMessage.inbound_message_id.is_(None),
        )
    )
    return [
        FileEntry(
            at=line.created_at,
            kind=f"chat_{line.sender.value}",
            facts=_facts(
                conversation=conversation_id,
                chat_event=(
                    ChatEvent(line.event, json.loads(line.payload or "{}"))
                    if line.event
                    else None
                ),
            ),
            detail=line.body,
            channel="sms" if line.via_sms else "chat",
        )
        for line, conversation_id in rows
    ]


def _decisions(session: Session, account: Account) -> list[FileEntry]:
    return [
        FileEntry(
            at=decision.checked_at,
            kind=f"policy_{decision.outcome.value}",
            facts=_facts(reason=decision.reason, until=decision.defer_until),
            detail=decision.detail,
            channel=decision.channel.value,
            status=decision.outcome.value,
        )
        for decision in session.scalars(
            select(ContactDecision).where(ContactDecision.account_id == account.id)
        )
    ]


def _money(session: Session, account: Account) -> list[FileEntry]:
    return [
        FileEntry(
            at=entry.occurred_at,
            kind=f"ledger_{entry.kind.value}",
            facts=_facts(amount=Amount(entry.amount_minor, entry.currency)),
            detail=entry.note,
        )
        for entry in session.scalars(
            select(LedgerEntry).where(LedgerEntry.account_id == account.id)
        )
    ]


def _arrangements(session: Session, account: Account) -> list[FileEntry]:
    entries: list[FileEntry] = []
    for plan in session.scalars(
        select(PaymentPlan).where(PaymentPlan.account_id == account.id)
    ):
        entries.append(
            FileEntry(
                plan.created_at,
                "plan",
                _facts(
                    instalments=len(plan.instalments),
                    frequency=plan.frequency.value,
                    plan_status=plan.status.value,
                ),
            )
        )
        entries += [_instalment(i) for i in plan.instalments if i.last_attempt_at]
    entries += [
        FileEntry(
            promise.created_at,
            "promise",
            _facts(
                promised_for=promise.promised_on, promise_status=promise.status.value
            ),
        )
        for promise in session.scalars(
            select(PromiseToPay).where(PromiseToPay.account_id == account.id)
        )
    ]
    return entries


def _instalment(instalment: Instalment) -> FileEntry:
    assert instalment.last_attempt_at is not None
    return FileEntry(
        instalment.last_attempt_at,
        "instalment_charge",
        _facts(
            instalment=instalment.seq_no,
            instalment_status=instalment.status.value,
            attempts=instalment.attempts,
        ),
        instalment.failure_code or "",
    )


def _signals(session: Session, account: Account) -> list[FileEntry]:
    signals = session.scalars(
        select(RiskSignal).where(
            RiskSignal.debtor_id == account.debtor_id,
            or_(RiskSignal.account_id == account.id, RiskSignal.account_id.is_(None)),
        )
    )
    by_id = {signal.id: signal for signal in signals}
    entries = [
        FileEntry(
            signal.created_at,
            "risk_signal",
            _facts(
                category=signal.category,
                severity=signal.severity.value,
                confidence=signal.confidence,
                action_taken=signal.action_taken,
            ),
            signal.evidence,
            channel=signal.source.value,
            status=signal.status.value,
        )
        for signal in by_id.values()
    ]
    reviews = session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "risk_signal",
            AuditEvent.object_id.in_(by_id),
        )
    )
    # Every review, not just the last: a confirm before a resolve matters to a regulator.
    entries += [
        FileEntry(
            review.created_at,
            "risk_review",
            _facts(
                category=by_id[review.object_id].category,
                staff_action=review.action,
                by=review.actor_label,
            ),
            review.detail,
        )
        for review in reviews
        if review.object_id is not None
    ]
    return entries


def _staff_actions(session: Session, account: Account) -> list[FileEntry]:
    events = session.scalars(
        select(AuditEvent).where(
            or_(
                (AuditEvent.object_type == "account")
                & (AuditEvent.object_id == account.id),
                (AuditEvent.object_type == "debtor")
                & (AuditEvent.object_id == account.debtor_id),
            )
        )
    )
    return [
        FileEntry(
            event.created_at,
            "staff",
            _facts(staff_action=event.action, by=event.actor_label),
            event.detail,
        )
        for event in events
    ]
