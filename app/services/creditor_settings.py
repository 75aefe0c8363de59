"""A creditor's own settings: what its texts show, how debtors confirm who they are, how
to reach it, and which plans, promises and pauses it accepts. Every change is audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Creditor, PlanRules, User
from app.models.enums import VerificationFactor
from app.services.audit import record_audit
from app.services.phones import parse_phone

# Sane bounds (inclusive) for the numbers; the database checks the hard limits too.
BOUNDS: dict[str, tuple[int, int]] = {
    "max_instalments": (1, 36),
    "first_payment_within_days": (0, 30),
    "payday_day_of_month": (1, 31),
    "promise_max_days": (1, 60),
    "breathing_space_days": (1, 90),
}
# The smallest instalment, in major units (kroner): up to 100,000.
MAX_MIN_INSTALMENT_MAJOR = 100_000
# Alphanumeric sender ids hold at most 11 characters: networks cut or refuse longer ones.
SENDER_NAME_MAX = 11
# Alphanumeric sender ids: ASCII letters, digits and spaces, with at least one letter.
_SENDER_NAME = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]+(?: [A-Za-z0-9]+)*$")
# A domain of two labels or more ("fjellvann" alone is no address), the last one 2+ long.
_EMAIL = re.compile(r"^[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]{2,}$")
EMAIL_MAX = 200


@dataclass(frozen=True, kw_only=True)
class CreditorSettings:
    show_amount_in_sms: bool
    sms_sender_name: str | None
    verification_factor: VerificationFactor
    support_phone: str | None  # E.164
    support_email: str | None
    max_instalments: int
    min_instalment_minor: int
    first_payment_within_days: int
    allow_weekly: bool
    allow_fortnightly: bool
    allow_monthly: bool
    payday_day_of_month: int | None
    promise_max_days: int
    grace_moves_missed_instalment: bool
    breathing_space_days: int


_CREDITOR_FIELDS = (
    "show_amount_in_sms",
    "sms_sender_name",
    "verification_factor",
    "support_phone",
    "support_email",
)


def settings_of(session: Session, creditor: Creditor) -> CreditorSettings:
    rules = _rules_of(session, creditor)
    values = {
        f.name: getattr(creditor if f.name in _CREDITOR_FIELDS else rules, f.name)
        for f in fields(CreditorSettings)
    }
    return CreditorSettings(**values)


def normalise_settings(
    settings: CreditorSettings, *, country: str, minor_exponent: int
) -> CreditorSettings:
    """Check the settings and tidy them (E.164 phone, trimmed names, None for blanks).

    :raises ValidationFailed: `errors` maps each bad field to a stable code.
    """
    errors: dict[str, list[str]] = {}
    for name, (low, high) in BOUNDS.items():
        value = getattr(settings, name)
        if value is not None and not low <= value <= high:
            errors[name] = ["out_of_range"]
    limit = MAX_MIN_INSTALMENT_MAJOR * 10**minor_exponent
    if not 0 <= settings.min_instalment_minor <= limit:
        errors["min_instalment_minor"] = ["out_of_range"]
    if not (
        settings.allow_weekly or settings.allow_fortnightly or settings.allow_monthly
    ):
        errors["frequencies"] = ["none_allowed"]
    sender = _collect(errors, check_sender_name, settings.sms_sender_name)
    email = _collect(errors, check_support_email, settings.support_email)
    phone = (settings.support_phone or "").strip() or None
    if phone:
        try:
            phone = parse_phone(phone, country).e164
        except ValidationFailed:
            errors["support_phone"] = ["invalid"]
    if errors:
        raise ValidationFailed("The settings are not valid", errors)
    return replace(
        settings, sms_sender_name=sender, support_email=email, support_phone=phone
    )


def check_sender_name(raw: str | None) -> str | None:
    """The SMS sender name, trimmed; None when blank.

    :raises ValidationFailed: "too_long" past SENDER_NAME_MAX characters (an alphanumeric
        sender id holds no more, and a network would cut it), else "invalid" when it is not
        letters A-Z, digits and single spaces with at least one letter.
    """
    sender = (raw or "").strip() or None
    if sender and len(sender) > SENDER_NAME_MAX:
        raise ValidationFailed(
            "Sender name too long", {"sms_sender_name": ["too_long"]}
        )
    if sender and not _SENDER_NAME.match(sender):
        raise ValidationFailed(
            "Sender name not valid", {"sms_sender_name": ["invalid"]}
        )
    return sender


def check_support_email(raw: str | None) -> str | None:
    """The support e-mail address, trimmed; None when blank.

    :raises ValidationFailed: "invalid": not name@domain.tld, or too long.
    """
    email = (raw or "").strip() or None
    if email and (len(email) > EMAIL_MAX or not _EMAIL.match(email)):
        raise ValidationFailed(
            "E-mail address not valid", {"support_email": ["invalid"]}
        )
    return email


def _collect(
    errors: dict[str, list[str]],
    check: Callable[[str | None], str | None],
    raw: str | None,
) -> str | None:
    """`check(raw)`, its errors added to `errors` instead of raised."""
    try:
        return check(raw)
    except ValidationFailed as refused:
        errors.update(refused.errors)
        return raw


def update_settings(
    session: Session,
    creditor: Creditor,
    settings: CreditorSettings,
    *,
    actor: User,
    now: datetime,
    request_id: str | None = None,
) -> list[str]:
    """Store checked settings; audit each change. Returns the names of the changed fields."""
    rules = _rules_of(session, creditor)
    if rules.id is None:
        session.add(rules)
    changed: list[str] = []
    for f in fields(CreditorSettings):
        target = creditor if f.name in _CREDITOR_FIELDS else rules
        old, new = getattr(target, f.name), getattr(settings, f.name)
        if old == new:
            continue
        setattr(target, f.name, new)
        changed.append(f.name)
        record_audit(
            session,
            actor,
            "settings_changed",
            object_type="creditor",
            object_id=creditor.id,
            creditor_id=creditor.id,
            now=now,
            request_id=request_id,
            detail=f"{f.name}: {_shown(old)} -> {_shown(new)}",
        )
    session.flush()
    return changed


def _rules_of(session: Session, creditor: Creditor) -> PlanRules:
    """The creditor's rules, or a new row with the defaults (not yet added)."""
    rules = session.scalar(
        select(PlanRules).where(PlanRules.creditor_id == creditor.id)
    )
    if rules is not None:
        return rules
    defaults = {
        column.key: column.default.arg
        for column in PlanRules.__table__.columns
        if column.default is not None
    }
    return PlanRules(creditor_id=creditor.id, payday_day_of_month=None, **defaults)


def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    return str(getattr(value, "value", value))
