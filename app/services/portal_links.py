"""Personal portal links: random tokens, stored only as hashes, expiring, renewed per reminder."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Debtor, PortalLink

TOKEN_BYTES = 24  # 192 bits, above the 128 the design asks for
DEFAULT_TTL = timedelta(days=30)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(
    session: Session, debtor: Debtor, *, now: datetime, ttl: timedelta = DEFAULT_TTL
) -> str:
    """Create a fresh token for `debtor` and return it; only its hash is kept.

    Earlier links of the debtor are renewed to the same expiry, so an older SMS keeps working.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + ttl
    for link in session.scalars(
        select(PortalLink).where(
            PortalLink.debtor_id == debtor.id, PortalLink.expires_at > now
        )
    ):
        link.expires_at = expires_at
    session.add(
        PortalLink(
            debtor_id=debtor.id,
            token_hash=hash_token(token),
            expires_at=expires_at,
            created_at=now,
        )
    )
    session.flush()
    return token


def find_link(session: Session, token: str, *, now: datetime) -> PortalLink | None:
    """The live link for `token`, or None if unknown or expired."""
    link = session.scalar(
        select(PortalLink).where(PortalLink.token_hash == hash_token(token))
    )
    if link is None or link.expires_at <= now:
        return None
    return link
