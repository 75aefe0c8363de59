"""Creditors' API keys: shown once when made, kept only as a SHA-256 hash, revocable.

A key is "vk_live_" and 32 random bytes (URL-safe base64). Its hash is the lookup key;
the comparison after the lookup is constant-time. A key belongs to one creditor, and
everything the API does with it is scoped to that creditor.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationFailed
from app.models import ApiKey, Creditor, User

KEY_PREFIX = "vk_live_"
SECRET_BYTES = 32
SHOWN_PREFIX_CHARS = 12  # "vk_live_" and four characters of the secret
MAX_NAME = 100
MAX_PRESENTED = 200  # longer than any key we issue; refused without hashing
# last_used_at is written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewKey:
    """A key just made: `secret` is the only time the plain key exists."""

    key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    """The stored form of a key: hex SHA-256 (keys are random, so no salt is needed)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_key(
    session: Session,
    creditor: Creditor,
    name: str,
    *,
    created_by: User | None,
    now: datetime,
) -> NewKey:
    """Make a key for `creditor`; the caller shows `secret` once and commits.

    :raises ValidationFailed: the name is empty or too long.
    """
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_NAME:
        raise ValidationFailed(
            f"The key needs a name of 1 to {MAX_NAME} characters",
            {"name": [f"1 to {MAX_NAME} characters"]},
        )
    secret = KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    key = ApiKey(
        creditor_id=creditor.id,
        name=clean,
        prefix=secret[:SHOWN_PREFIX_CHARS],
        key_hash=hash_key(secret),
        created_by_id=created_by.id if created_by else None,
        created_at=now,
    )
    session.add(key)
    session.flush()
    return NewKey(key, secret)


def authenticate(session: Session, presented: str, *, now: datetime) -> Creditor | None:
    """The creditor whose live key `presented` is; None for unknown or revoked keys.

    Records when the key was last used (at most once a minute), without committing.
    """
    if not presented.startswith(KEY_PREFIX) or len(presented) > MAX_PRESENTED:
        return None
    digest = hash_key(presented)
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    if key.revoked_at is not None:
        return None
    if key.last_used_at is None or key.last_used_at + LAST_USED_RESOLUTION <= now:
        key.last_used_at = now
    return session.get(Creditor, key.creditor_id)


def revoke_key(
    session: Session, creditor: Creditor, key_id: int, *, now: datetime
) -> ApiKey:
    """Revoke one of the creditor's keys; revoking twice keeps the first time.

    :raises NotFound: no such key for this creditor.
    """
    key = session.get(ApiKey, key_id)
    if key is None or key.creditor_id != creditor.id:
        raise NotFound("No such API key")
    if key.revoked_at is None:
        key.revoked_at = now
        session.flush()
    return key


def list_keys(session: Session, creditor: Creditor) -> list[ApiKey]:
    """The creditor's keys, live ones first, newest first."""
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.creditor_id == creditor.id)
            .order_by(
                ApiKey.revoked_at.is_not(None),
                ApiKey.created_at.desc(),
                ApiKey.id.desc(),
            )
        )
    )
