"""What a debtor tells us on the portal that is itself a complaint risk.

A dispute, a request for breathing space and "this is not me" each become a RiskSignal (the
supervisor's queue is the agent task) and change what the reminder policy does at once.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import N_, Conflict, ValidationFailed
from app.models import Account, Debtor, RiskSignal
from app.models.enums import AccountStatus, RiskAction, Severity, SignalSource
from app.risk.actions import record_risk

BREATHING_SPACE = "breathing_space"  # Account.pause_reason read by the reminder policy
MAX_TEXT = 2000
# What the debtor is told: a person looks at the dispute within this many days.
DISPUTE_ANSWER_DAYS = 5


class DisputeReason(enum.StrEnum):
    NOT_MINE = "not_mine"
    ALREADY_PAID = "already_paid"
    WRONG_AMOUNT = "wrong_amount"
    QUALITY = "quality"
    OTHER = "other"


class HardshipReason(enum.StrEnum):
    JOB_LOSS = "job_loss"
    ILLNESS = "illness"
    OTHER = "other"


_DISPUTE_SIGNALS = {
    DisputeReason.NOT_MINE: ("dispute_not_owed", Severity.HIGH),
    DisputeReason.ALREADY_PAID: ("already_paid", Severity.MEDIUM),
    DisputeReason.WRONG_AMOUNT: ("dispute_amount", Severity.MEDIUM),
    DisputeReason.QUALITY: ("dispute_quality", Severity.MEDIUM),
    DisputeReason.OTHER: ("dispute_other", Severity.MEDIUM),
}
_OPEN_FOR_REQUESTS = (
    AccountStatus.OPEN,
    AccountStatus.PROMISED,
    AccountStatus.PLAN,
    AccountStatus.PAUSED,
)


def open_dispute(
    session: Session,
    account: Account,
    reason: DisputeReason,
    text: str,
    *,
    now: datetime,
) -> RiskSignal:
    """Pause the account's reminders until a person has looked at the dispute.

    :raises Conflict: the account is paid, closed or already disputed.
    :raises ValidationFailed: the explanation is too long.
    """
    if account.status not in _OPEN_FOR_REQUESTS:
        raise Conflict(N_("This account cannot be disputed now"))
    text = _clean(text)
    debtor = _debtor(session, account)
    category, severity = _DISPUTE_SIGNALS[reason]
    account.status, account.updated_at = AccountStatus.DISPUTED, now
    signal = _signal(
        session,
        debtor,
        account,
        category,
        severity,
        evidence=f"Dispute ({reason.value}): {text}"
        if text
        else f"Dispute ({reason.value})",
        action=RiskAction.DISPUTE_REVIEW,
        now=now,
    )
    # The debtor's own words may say more (a lawyer, a complaint to an authority).
    if text:
        record_risk(
            session,
            debtor,
            text,
            source=SignalSource.PORTAL,
            now=now,
            account_id=account.id,
        )
    return signal


def ask_for_breathing_space(
    session: Session,
    debtor: Debtor,
    reason: HardshipReason,
    text: str,
    *,
    days: int,
    now: datetime,
) -> RiskSignal:
    """Pause reminders on every open account of the debtor for `days` days."""
    text = _clean(text)
    until = now + timedelta(days=days)
    for account in session.scalars(
        select(Account).where(
            Account.debtor_id == debtor.id, Account.status.in_(_OPEN_FOR_REQUESTS)
        )
    ):
        account.paused_until, account.pause_reason = until, BREATHING_SPACE
        account.updated_at = now
    evidence = f"Breathing space asked ({reason.value})" + (f": {text}" if text else "")
    signal = _signal(
        session,
        debtor,
        None,
        "hardship",
        Severity.MEDIUM,
        evidence=evidence,
        action=RiskAction.BREATHING_SPACE,
        now=now,
    )
    if text:
        record_risk(session, debtor, text, source=SignalSource.PORTAL, now=now)
    return signal


def report_wrong_number(
    session: Session, debtor: Debtor, *, now: datetime
) -> RiskSignal:
    """Someone who is not the debtor opened the link: stop every text to that number."""
    if debtor.phone_e164:
        for holder in session.scalars(
            select(Debtor).where(Debtor.phone_e164 == debtor.phone_e164)
        ):
            holder.phone_unusable_reason = "wrong_number"
    return _signal(
        session,
        debtor,
        None,
        "wrong_number",
        Severity.HIGH,
        evidence="The person who opened the payment link said they are not the debtor",
        action=RiskAction.NUMBER_STOPPED,
        now=now,
    )


def _signal(
    session: Session,
    debtor: Debtor,
    account: Account | None,
    category: str,
    severity: Severity,
    *,
    evidence: str,
    action: RiskAction,
    now: datetime,
) -> RiskSignal:
    signal = RiskSignal(
        debtor_id=debtor.id,
        account_id=account.id if account else None,
        category=category,
        severity=severity,
        source=SignalSource.PORTAL,
        evidence=evidence,
        confidence=1.0,
        action_taken=action,
        created_at=now,
    )
    session.add(signal)
    session.flush()
    return signal


def _clean(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"Please keep it under {MAX_TEXT} characters")
    return text


def _debtor(session: Session, account: Account) -> Debtor:
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    return debtor
