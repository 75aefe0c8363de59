"""Audit trail: every read of a debtor's data by staff, and every staff action."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, User


def record_audit(
    session: Session,
    actor: User | None,
    action: str,
    *,
    object_type: str,
    object_id: int | None,
    creditor_id: int | None,
    now: datetime,
    request_id: str | None = None,
    detail: str = "",
) -> AuditEvent:
    """Append one audit event; `actor` None means the system itself."""
    event = AuditEvent(
        actor_user_id=actor.id if actor else None,
        actor_label=actor.email if actor else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        creditor_id=creditor_id,
        request_id=request_id,
        detail=detail,
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event


def list_audit_events(
    session: Session, *, object_type: str, object_id: int, limit: int = 50
) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == object_type, AuditEvent.object_id == object_id
            )
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
