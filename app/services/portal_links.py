"""Personal portal links: random tokens, stored only as hashes, expiring, renewed per reminder."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, Creditor, Debtor, PortalLink
from app.models.enums import VerificationFactor

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


MAX_FAILURES = 5
LOCK_FOR = timedelta(hours=1)
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y", "%d%m%Y", "%d.%m.%y")


class Verification(enum.StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"


def factor_for(creditor: Creditor, debtor: Debtor) -> VerificationFactor:
    """The creditor's factor, or the invoice number when the creditor never gave us that fact."""
    known = {
        VerificationFactor.BIRTH_DATE: debtor.birth_date is not None,
        VerificationFactor.POSTCODE: bool(debtor.postcode),
        VerificationFactor.REFERENCE: True,
    }
    factor = creditor.verification_factor
    return factor if known[factor] else VerificationFactor.REFERENCE


def is_locked(link: PortalLink, now: datetime) -> bool:
    return link.locked_until is not None and link.locked_until > now


def verify(
    session: Session,
    link: PortalLink,
    creditor: Creditor,
    debtor: Debtor,
    answer: str,
    *,
    now: datetime,
) -> Verification:
    """Check the debtor's answer; the fifth wrong answer in a row locks the link for an hour."""
    if is_locked(link, now):
        return Verification.LOCKED
    if _matches(session, factor_for(creditor, debtor), debtor, answer):
        link.failed_attempts, link.locked_until, link.verified_at = 0, None, now
        return Verification.VERIFIED
    link.failed_attempts += 1
    if link.failed_attempts >= MAX_FAILURES:
        link.failed_attempts, link.locked_until = 0, now + LOCK_FOR
        return Verification.LOCKED
    return Verification.WRONG


def _matches(
    session: Session, factor: VerificationFactor, debtor: Debtor, answer: str
) -> bool:
    if factor is VerificationFactor.BIRTH_DATE:
        born_on = parse_birth_date(answer)
        return born_on is not None and born_on == debtor.birth_date
    if factor is VerificationFactor.POSTCODE:
        return _same(_compact(answer), _compact(debtor.postcode or ""))
    references = session.scalars(
        select(Account.external_reference).where(Account.debtor_id == debtor.id)
    )
    given = _compact(answer)
    # Every reference is compared, so the time taken does not tell which one matched.
    return bool(sum(_same(given, _compact(reference)) for reference in references))


def parse_birth_date(text: str) -> date | None:
    text = text.strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _compact(text: str) -> str:
    """Ignore case, spaces, dashes and leading zeros: people type what they read."""
    kept = "".join(ch for ch in text.casefold() if ch.isalnum())
    return kept.lstrip("0") or kept


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
