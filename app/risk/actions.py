"""Acting on detected risk: every finding becomes a RiskSignal, and the strong ones stop outreach.

The contact policy reads these rows on every planning and sending, so an unreviewed
high-severity signal pauses the debtor's reminders in the same transaction that records it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Debtor, RiskSignal
from app.models.enums import Severity, SignalSource
from app.risk.detector import RiskFinding, detect

CEASE = "cease_contact"
WRONG_PERSON = "wrong_person"


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
        _signal(debtor, finding, source, account_id, _act(debtor, finding, now), now)
        for finding in detect(text, debtor.language.value)
    ]
    session.add_all(signals)
    session.flush()
    return signals


def _act(debtor: Debtor, finding: RiskFinding, now: datetime) -> str:
    if finding.category == CEASE:
        debtor.cease_contact_at = debtor.cease_contact_at or now
        return "all outreach stopped (cease contact)"
    if finding.category == WRONG_PERSON:
        debtor.phone_unusable_reason = "wrong_number"
        return "texts to this number stopped (wrong person)"
    if finding.severity == Severity.HIGH.value:
        return "outreach paused until a supervisor reviews it"
    return "logged for review"


def _signal(
    debtor: Debtor,
    finding: RiskFinding,
    source: SignalSource,
    account_id: int | None,
    action: str,
    now: datetime,
) -> RiskSignal:
    return RiskSignal(
        debtor_id=debtor.id,
        account_id=account_id,
        category=finding.category,
        severity=Severity(finding.severity),
        source=source,
        evidence=finding.evidence,
        confidence=finding.confidence,
        action_taken=action,
        created_at=now,
    )
