"""Staff accounts: creation, password checks with argon2, sign-out everywhere."""

from __future__ import annotations

import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, ValidationFailed
from app.models import User
from app.models.enums import Language, Role

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("venlig-timing-equaliser")
MIN_PASSWORD_LENGTH = 10


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    now: datetime,
    creditor_id: int | None = None,
    language: Language = Language.EN,
) -> User:
    """Add a staff user with an argon2 hash of `password`.

    :raises ValidationFailed: password too short or creditor missing for a creditor user.
    :raises Conflict: the e-mail is taken.
    """
    email = email.strip().lower()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "Password too short",
            {"password": [f"at least {MIN_PASSWORD_LENGTH} characters"]},
        )
    if (role is Role.CREDITOR) != (creditor_id is not None):
        raise ValidationFailed(
            "Creditor users need a creditor; agency staff must not have one",
            {"creditor_id": ["required exactly for role creditor"]},
        )
    if find_user_by_email(session, email) is not None:
        raise Conflict(f"A user with e-mail {email} exists already")
    user = User(
        email=email,
        name=name,
        password_hash=_hasher.hash(password),
        role=role,
        creditor_id=creditor_id,
        language=language,
        session_token=secrets.token_hex(16),
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(
        select(User).where(func.lower(User.email) == email.strip().lower())
    )


def authenticate(
    session: Session, email: str, password: str, *, now: datetime
) -> User | None:
    """Return the active user whose password matches, else None; upgrades old hashes."""
    user = find_user_by_email(session, email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return user


def find_user_by_login_id(session: Session, login_id: str) -> User | None:
    """Resolve the id kept in the login cookie: '<user id>:<session token>'."""
    user_id, _, token = login_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    return user if secrets.compare_digest(user.session_token, token) else None


def sign_out_everywhere(user: User) -> None:
    """Invalidate every login cookie issued to this user."""
    user.session_token = secrets.token_hex(16)
