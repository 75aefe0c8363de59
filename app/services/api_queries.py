"""What a creditor's API key may read: its accounts, payments and plans, never another's.

Lists are keyset-paginated by id: a page is the rows after the last id seen, so a client
walking the list neither skips nor repeats rows while new ones arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.errors import NotFound
from app.models import Account, Debtor, LedgerEntry, PaymentPlan
from app.models.enums import LedgerKind
from app.services.ledger import balances_of

T = TypeVar("T")
MAX_REFERENCE = 64
# Ledger movements the payments feed carries: money in, and money given back.
PAYMENT_KINDS = (LedgerKind.PAYMENT, LedgerKind.REFUND)


@dataclass(frozen=True)
class AccountView:
    account: Account
    debtor: Debtor
    balance_minor: int


@dataclass(frozen=True)
class PaymentView:
    entry: LedgerEntry
    external_reference: str


@dataclass(frozen=True)
class PlanView:
    plan: PaymentPlan
    external_reference: str


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    last_id: int | None  # the id to continue after; None when the page is empty
    has_more: bool


def list_accounts(
    session: Session, creditor_id: int, *, after_id: int | None, limit: int
) -> Page[AccountView]:
    """The creditor's accounts in id order, after `after_id`, with balances."""
    statement = (
        select(Account, Debtor)
        .join(Debtor, Debtor.id == Account.debtor_id)
        .where(Account.creditor_id == creditor_id)
    )
    if after_id is not None:
        statement = statement.where(Account.id > after_id)
    rows = list(session.execute(statement.order_by(Account.id).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    balances = balances_of(session, (account.id for account, _ in rows))
    views = [
        AccountView(account, debtor, balances[account.id]) for account, debtor in rows
    ]
    return Page(views, views[-1].account.id if views else after_id, has_more)


def get_account(session: Session, creditor_id: int, reference: str) -> AccountView:
    """:raises NotFound: the creditor has no account with this reference."""
    found = None
    if _plausible_reference(reference):
        found = session.execute(
            select(Account, Debtor)
            .join(Debtor, Debtor.id == Account.debtor_id)
            .where(
                Account.creditor_id == creditor_id,
                Account.external_reference == reference,
            )
        ).first()
    if found is None:
        raise NotFound("No account with this reference")
    account, debtor = found
    balance = balances_of(session, [account.id])[account.id]
    return AccountView(account, debtor, balance)


def payments_since(
    session: Session, creditor_id: int, *, after_id: int | None, limit: int
) -> Page[PaymentView]:
    """Payments and refunds on the creditor's accounts, in the order they were booked."""
    statement = (
        select(LedgerEntry, Account.external_reference)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(
            Account.creditor_id == creditor_id,
            LedgerEntry.kind.in_(PAYMENT_KINDS),
        )
    )
    if after_id is not None:
        statement = statement.where(LedgerEntry.id > after_id)
    rows = list(session.execute(statement.order_by(LedgerEntry.id).limit(limit + 1)))
    has_more = len(rows) > limit
    views = [PaymentView(entry, reference) for entry, reference in rows[:limit]]
    return Page(views, views[-1].entry.id if views else after_id, has_more)


def plans_since(
    session: Session, creditor_id: int, *, after_id: int | None, limit: int
) -> Page[PlanView]:
    """Instalment plans on the creditor's accounts, in the order they were made."""
    statement = (
        select(PaymentPlan, Account.external_reference)
        .join(Account, Account.id == PaymentPlan.account_id)
        .where(Account.creditor_id == creditor_id)
        .options(selectinload(PaymentPlan.instalments))
    )
    if after_id is not None:
        statement = statement.where(PaymentPlan.id > after_id)
    rows = list(session.execute(statement.order_by(PaymentPlan.id).limit(limit + 1)))
    has_more = len(rows) > limit
    views = [PlanView(plan, reference) for plan, reference in rows[:limit]]
    return Page(views, views[-1].plan.id if views else after_id, has_more)


def _plausible_reference(reference: str) -> bool:
    """Whether the text could be a stored reference; others are not looked up at all.

    Keeps NUL bytes and lone surrogates, which no database column can hold, out of
    queries.
    """
    return (
        0 < len(reference) <= MAX_REFERENCE
        and "\x00" not in reference
        and not any("\ud800" <= char <= "\udfff" for char in reference)
    )
