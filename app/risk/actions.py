"""Acting on detected risk: every finding becomes a RiskSignal, and the strong ones stop outreach.

The contact policy reads these rows on every planning and sending, so an unreviewed
high-severity signal pauses the debtor's reminders in the same transaction that records it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Creditor, Debtor, Message, RiskSignal
from app.models.enums import (
    Channel,
    Language,
    MessageStatus,
    RiskAction,
    Severity,
    SignalSource,
)
from app.risk.detector import RiskFinding, detect
from app.services.texts import TextContext, render_text

CEASE = "cease_contact"
WRONG_PERSON = "wrong_person"
CEASE_CONFIRMATION = "cease_confirmation"
EXCERPT = 300


def record_risk(
    session: Session,
    debtor: Debtor,
    text: str,
    *,
    source: SignalSource,
    now: datetime,
    account_id: int | None = None,
) -> list[RiskSignal]:
    """Detect risk in `text` from `debtor`, record each finding and act on it at once."""
    signals = [
        _signal(
            debtor,
            finding,
            _evidence(finding, text),
            source,
            account_id,
            _act(session, debtor, finding, now),
            now,
        )
        for finding in detect(text, debtor.language.value)
    ]
    session.add_all(signals)
    session.flush()
    return signals


def _act(
    session: Session, debtor: Debtor, finding: RiskFinding, now: datetime
) -> RiskAction:
    if finding.category == CEASE:
        if debtor.cease_contact_at is None:
            debtor.cease_contact_at = now
            _confirm_cease(session, debtor, now)
        return RiskAction.OUTREACH_STOPPED
    if finding.category == WRONG_PERSON:
        debtor.phone_unusable_reason = "wrong_number"
        return RiskAction.NUMBER_STOPPED
    if finding.severity == Severity.HIGH.value:
        return RiskAction.PAUSED_FOR_REVIEW
    return RiskAction.LOGGED_FOR_REVIEW


def _confirm_cease(session: Session, debtor: Debtor, now: datetime) -> None:
    """The one text a debtor who asked us to stop still gets: that we heard them."""
    if not debtor.phone_e164 or debtor.sms_opted_out_at or debtor.phone_unusable_reason:
        return
    creditor = session.get(Creditor, debtor.creditor_id)
    assert creditor is not None
    context = TextContext(first_name=debtor.first_name, creditor=creditor.name, link="")
    session.add(
        Message(
            debtor_id=debtor.id,
            account_id=None,
            step_id=None,
            channel=Channel.SMS,
            template_key=CEASE_CONFIRMATION,
            language=Language(debtor.language),
            to_address=debtor.phone_e164,
            body=render_text(CEASE_CONFIRMATION, debtor.language.value, context),
            status=MessageStatus.QUEUED,
            not_before=now,
            created_at=now,
        )
    )


def _evidence(finding: RiskFinding, text: str) -> str:
    """The triggering words, and the message itself so a reviewer sees them in context."""
    message = " ".join(text.split())
    if len(message) > EXCERPT:
        message = message[: EXCERPT - 1] + "…"
    return f"{finding.evidence} · «{message}»"


def _signal(
    debtor: Debtor,
    finding: RiskFinding,
    evidence: str,
    source: SignalSource,
    account_id: int | None,
    action: RiskAction,
    now: datetime,
) -> RiskSignal:
    return RiskSignal(
        debtor_id=debtor.id,
        account_id=account_id,
        category=finding.category,
        severity=Severity(finding.severity),
        source=source,
        evidence=evidence,
        confidence=finding.confidence,
        action_taken=action,
        created_at=now,
    )
