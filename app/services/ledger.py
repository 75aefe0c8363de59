"""The ledger: the only way a balance changes, idempotent per external id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Account, LedgerEntry
from app.models.enums import LedgerKind

RAISES_BALANCE = frozenset({LedgerKind.CHARGE, LedgerKind.FEE, LedgerKind.REFUND})

_signed_amount = case(
    (LedgerEntry.kind.in_(list(RAISES_BALANCE)), LedgerEntry.amount_minor),
    else_=-LedgerEntry.amount_minor,
)


def post_entry(
    session: Session,
    account: Account,
    kind: LedgerKind,
    amount_minor: int,
    *,
    now: datetime,
    occurred_at: datetime | None = None,
    external_id: str | None = None,
    note: str = "",
) -> LedgerEntry:
    """Post one entry in the account's currency; a known `external_id` returns the first posting.

    :raises ValidationFailed: the amount is not a positive whole number of minor units.
    """
    if (
        isinstance(amount_minor, bool)
        or not isinstance(amount_minor, int)
        or amount_minor <= 0
    ):
        raise ValidationFailed("Amount must be a positive whole number of minor units")
    if external_id is not None:
        existing = session.scalar(
            select(LedgerEntry).where(LedgerEntry.external_id == external_id)
        )
        if existing is not None:
            return existing
    entry = LedgerEntry(
        account_id=account.id,
        kind=kind,
        amount_minor=amount_minor,
        currency=account.currency,
        external_id=external_id,
        note=note,
        occurred_at=occurred_at or now,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def balance_of(session: Session, account_id: int) -> int:
    """The account's balance in minor units: the signed sum of its ledger."""
    total = session.scalar(
        select(func.coalesce(func.sum(_signed_amount), 0)).where(
            LedgerEntry.account_id == account_id
        )
    )
    return int(total or 0)


def balances_of(session: Session, account_ids: Iterable[int]) -> dict[int, int]:
    """Balances of many accounts in one query; accounts without entries have 0."""
    ids = list(account_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(LedgerEntry.account_id, func.sum(_signed_amount))
        .where(LedgerEntry.account_id.in_(ids))
        .group_by(LedgerEntry.account_id)
    )
    balances = dict.fromkeys(ids, 0)
    balances.update({account_id: int(total) for account_id, total in rows})
    return balances


def entries_of(session: Session, account_id: int) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == account_id)
            .order_by(LedgerEntry.occurred_at, LedgerEntry.id)
        )
    )
