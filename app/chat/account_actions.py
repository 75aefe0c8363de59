"""What an agent does for the debtor from the console, each audited on the account's timeline.

Promise, dispute, breathing space, pause and resume reuse the portal's own domain functions,
so the reminder policy reacts exactly as if the debtor had done it; the debtor sees a line
about it in the chat. Notes stay among staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.actions import must_handle
from app.chat.assignment import reassign, take
from app.chat.conversations import (
    append,
    clean_text,
    close_conversation,
)
from app.chat.notifier import ChatNotifier
from app.errors import N_, Conflict, NotFound
from app.models import (
    Account,
    Conversation,
    Debtor,
    DebtorNote,
    PromiseToPay,
    RiskSignal,
    User,
)
from app.models.enums import (
    AccountStatus,
    ChatSender,
    ConversationOutcome,
)
from app.risk.requests import (
    BREATHING_SPACE,
    DisputeReason,
    HardshipReason,
    ask_for_breathing_space,
    open_dispute,
)
from app.services.audit import record_audit
from payments.arrangements import promise_to_pay, rules_of

AGENT_PAUSE = "agent_pause"
NOTE_LIMIT = 2000
_PAUSABLE = (
    AccountStatus.OPEN,
    AccountStatus.PROMISED,
    AccountStatus.PLAN,
    AccountStatus.PAUSED,
    AccountStatus.DISPUTED,
)


@dataclass(frozen=True)
class Staff:
    """Who acts, for the audit trail."""

    user: User
    request_id: str | None = None


def _audit(
    session: Session,
    staff: Staff,
    action: str,
    *,
    object_type: str,
    object_id: int,
    creditor_id: int,
    now: datetime,
    detail: str = "",
) -> None:
    record_audit(
        session,
        staff.user,
        action,
        object_type=object_type,
        object_id=object_id,
        creditor_id=creditor_id,
        now=now,
        request_id=staff.request_id,
        detail=detail,
    )


def record_view(
    session: Session, staff: Staff, conversation: Conversation, *, now: datetime
) -> None:
    """An agent opened the conversation (and with it the debtor's whole story)."""
    _on_conversation(session, staff, conversation, "chat.viewed", now)


def _on_conversation(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    action: str,
    now: datetime,
    detail: str = "",
) -> None:
    _audit(
        session,
        staff,
        action,
        object_type="conversation",
        object_id=conversation.id,
        creditor_id=conversation.creditor_id,
        now=now,
        detail=detail,
    )


def _account_of(
    session: Session, conversation: Conversation, account_id: int
) -> Account:
    account = session.get(Account, account_id)
    if account is None or account.debtor_id != conversation.debtor_id:
        raise NotFound(N_("No such account"))
    return account


def _debtor_of(session: Session, conversation: Conversation) -> Debtor:
    debtor = session.get(Debtor, conversation.debtor_id)
    assert debtor is not None
    return debtor


def _on_account(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    account: Account,
    action: str,
    detail: str,
    now: datetime,
) -> None:
    """Audited on the account (its complaint file) and on the conversation."""
    for object_type, object_id in (
        ("account", account.id),
        ("conversation", conversation.id),
    ):
        _audit(
            session,
            staff,
            action,
            object_type=object_type,
            object_id=object_id,
            creditor_id=conversation.creditor_id,
            now=now,
            detail=detail,
        )


def take_conversation(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    take(session, conversation, staff.user, now=now, notifier=notifier)
    _on_conversation(session, staff, conversation, "chat.taken", now)


def hand_over(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    agent: User,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    reassign(session, conversation, staff.user, agent, now=now, notifier=notifier)
    _on_conversation(
        session, staff, conversation, "chat.reassigned", now, detail=f"to {agent.email}"
    )


def record_promise(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    account_id: int,
    on: date,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> PromiseToPay:
    """:raises Conflict, ValidationFailed: as `promise_to_pay`."""
    must_handle(session, conversation, staff.user)
    account = _account_of(session, conversation, account_id)
    promise = promise_to_pay(session, account, on, today=now.date(), now=now)
    _on_account(
        session,
        staff,
        conversation,
        account,
        "chat.promise",
        f"promise to pay on {on.isoformat()}",
        now,
    )
    _tell(
        session,
        conversation,
        staff,
        "promise",
        {"reference": account.external_reference, "date": on.isoformat()},
        now,
        notifier,
    )
    return promise


def start_dispute(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    account_id: int,
    reason: DisputeReason,
    text: str,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> RiskSignal:
    """:raises Conflict, ValidationFailed: as `open_dispute`."""
    must_handle(session, conversation, staff.user)
    account = _account_of(session, conversation, account_id)
    signal = open_dispute(session, account, reason, text, now=now)
    _on_account(
        session,
        staff,
        conversation,
        account,
        "chat.dispute",
        f"dispute opened ({reason.value})",
        now,
    )
    _tell(
        session,
        conversation,
        staff,
        "dispute",
        {"reference": account.external_reference},
        now,
        notifier,
    )
    return signal


def start_breathing_space(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    reason: HardshipReason,
    text: str,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> RiskSignal:
    must_handle(session, conversation, staff.user)
    debtor = _debtor_of(session, conversation)
    days = rules_of(session, debtor.creditor_id).breathing_space_days
    signal = ask_for_breathing_space(session, debtor, reason, text, days=days, now=now)
    _audit(
        session,
        staff,
        "chat.breathing_space",
        object_type="debtor",
        object_id=debtor.id,
        creditor_id=conversation.creditor_id,
        now=now,
        detail=f"{days} days ({reason.value})",
    )
    _tell(
        session,
        conversation,
        staff,
        "breathing_space",
        {"until": (now + timedelta(days=days)).date().isoformat()},
        now,
        notifier,
    )
    return signal


def pause_reminders(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    account_id: int,
    days: int,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    """No reminders on the account for `days` days.

    :raises Conflict: the account is paid or closed, or in breathing space.
    """
    must_handle(session, conversation, staff.user)
    account = _account_of(session, conversation, account_id)
    if account.status not in _PAUSABLE or account.pause_reason == BREATHING_SPACE:
        raise Conflict(N_("Reminders cannot be paused on this account now"))
    until = now + timedelta(days=max(1, min(days, 90)))
    account.paused_until, account.pause_reason = until, AGENT_PAUSE
    account.updated_at = now
    _on_account(
        session,
        staff,
        conversation,
        account,
        "chat.pause",
        f"reminders paused until {until.date().isoformat()}",
        now,
    )
    _tell(
        session,
        conversation,
        staff,
        "paused",
        {"reference": account.external_reference, "until": until.date().isoformat()},
        now,
        notifier,
    )


def resume_reminders(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    account_id: int,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    """:raises Conflict: the account's reminders are not paused."""
    must_handle(session, conversation, staff.user)
    account = _account_of(session, conversation, account_id)
    if account.paused_until is None and account.pause_reason is None:
        raise Conflict(N_("Reminders are not paused on this account"))
    account.paused_until, account.pause_reason = None, None
    account.updated_at = now
    _on_account(
        session, staff, conversation, account, "chat.resume", "reminders resumed", now
    )
    _tell(
        session,
        conversation,
        staff,
        "resumed",
        {"reference": account.external_reference},
        now,
        notifier,
    )


def add_note(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    body: str,
    *,
    now: datetime,
    account_id: int | None = None,
) -> DebtorNote:
    """A note for staff on the debtor (or one account); allowed on closed conversations too."""
    account = _account_of(session, conversation, account_id) if account_id else None
    note = DebtorNote(
        debtor_id=conversation.debtor_id,
        account_id=account.id if account else None,
        conversation_id=conversation.id,
        author_user_id=staff.user.id,
        author_label=staff.user.name,
        body=clean_text(body, limit=NOTE_LIMIT),
        created_at=now,
    )
    session.add(note)
    session.flush()
    _audit(
        session,
        staff,
        "chat.note",
        object_type="account" if account else "debtor",
        object_id=account.id if account else conversation.debtor_id,
        creditor_id=conversation.creditor_id,
        now=now,
        detail=f"note {note.id} in conversation {conversation.id}",
    )
    return note


def close_with_outcome(
    session: Session,
    staff: Staff,
    conversation: Conversation,
    outcome: ConversationOutcome,
    *,
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    must_handle(session, conversation, staff.user)
    close_conversation(
        session, conversation, staff.user, outcome, now=now, notifier=notifier
    )
    _on_conversation(
        session, staff, conversation, "chat.closed", now, detail=outcome.value
    )


def notes_of(session: Session, debtor_id: int) -> list[DebtorNote]:
    return list(
        session.scalars(
            select(DebtorNote)
            .where(DebtorNote.debtor_id == debtor_id)
            .order_by(DebtorNote.created_at.desc(), DebtorNote.id.desc())
        )
    )


def _tell(
    session: Session,
    conversation: Conversation,
    staff: Staff,
    event: str,
    payload: dict[str, str],
    now: datetime,
    notifier: ChatNotifier,
) -> None:
    append(
        session,
        conversation,
        ChatSender.SYSTEM,
        f"{event}: {payload}",
        now=now,
        notifier=notifier,
        author=staff.user,
        event=event,
        payload=payload,
    )
