"""Small builders for test data: each adds, flushes and returns one object."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.models import Account, Creditor, Debtor, User
from app.models.enums import Language, LedgerKind, Role, VerificationFactor
from app.services.ledger import post_entry
from app.services.users import create_user

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


def make_creditor(session: Session, now: datetime, **fields: Any) -> Creditor:
    n = next(_numbers)
    values: dict[str, Any] = {
        "slug": f"creditor-{n}",
        "name": f"Creditor {n} A/S",
        "country": "DK",
        "currency": "DKK",
        "default_language": Language.DA,
        "verification_factor": VerificationFactor.BIRTH_DATE,
        "created_at": now,
    }
    creditor = Creditor(**(values | fields))
    session.add(creditor)
    session.flush()
    return creditor


def make_debtor(
    session: Session, creditor: Creditor, now: datetime, **fields: Any
) -> Debtor:
    n = next(_numbers)
    values: dict[str, Any] = {
        "creditor_id": creditor.id,
        "customer_number": f"C{n}",
        "name": f"Debtor {n} Hansen",
        "phone_e164": f"+45{20000000 + n}",
        "language": Language.DA,
        "timezone": "Europe/Copenhagen",
        "country": "DK",
        "birth_date": date(1980, 1, 1),
        "created_at": now,
    }
    debtor = Debtor(**(values | fields))
    session.add(debtor)
    session.flush()
    return debtor


def make_account(
    session: Session,
    debtor: Debtor,
    now: datetime,
    *,
    amount_minor: int = 125_000,
    **fields: Any,
) -> Account:
    n = next(_numbers)
    values: dict[str, Any] = {
        "creditor_id": debtor.creditor_id,
        "debtor_id": debtor.id,
        "external_reference": f"INV-{n}",
        "description": "Electricity, October",
        "original_amount_minor": amount_minor,
        "currency": "DKK",
        "due_on": date(2026, 10, 1),
        "created_at": now,
        "updated_at": now,
    }
    account = Account(**(values | fields))
    session.add(account)
    session.flush()
    if amount_minor:
        post_entry(session, account, LedgerKind.CHARGE, amount_minor, now=now)
    return account


def make_user(
    session: Session,
    now: datetime,
    role: Role = Role.AGENT,
    creditor: Creditor | None = None,
    **fields: Any,
) -> User:
    n = next(_numbers)
    return create_user(
        session,
        email=fields.pop("email", f"user{n}@example.test"),
        name=fields.pop("name", f"User {n}"),
        password=fields.pop("password", PASSWORD),
        role=role,
        creditor_id=creditor.id if creditor else None,
        now=now,
        **fields,
    )
