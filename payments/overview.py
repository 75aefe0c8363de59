"""What the debtor sees after verifying: each account, its balance and what has happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Account,
    Debtor,
    Instalment,
    LedgerEntry,
    Message,
    PaymentPlan,
    PromiseToPay,
)
from app.models.enums import AccountStatus, MessageStatus, PromiseStatus
from app.services.ledger import balances_of
from payments.settlement import live_plan

# Closed accounts are the creditor's business; everything else the debtor may want to see.
SHOWN = (
    AccountStatus.OPEN,
    AccountStatus.PROMISED,
    AccountStatus.PLAN,
    AccountStatus.PAID,
    AccountStatus.DISPUTED,
    AccountStatus.PAUSED,
)
_SENT = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNKNOWN)


@dataclass(frozen=True)
class Happening:
    """One line of the account's story, in the order it happened."""

    at: datetime
    kind: str  # "reminder", or a ledger kind: "charge", "payment", "refund", ...
    amount_minor: int | None = None


@dataclass
class AccountView:
    account: Account
    balance_minor: int
    plan: PaymentPlan | None
    promise: PromiseToPay | None
    history: list[Happening] = field(default_factory=list)

    @property
    def credit_minor(self) -> int:
        return -self.balance_minor if self.balance_minor < 0 else 0

    @property
    def needs_action(self) -> list[Instalment]:
        """Instalments the debtor must pay by hand (the bank asked, or the card failed)."""
        if self.plan is None:
            return []
        return [i for i in self.plan.instalments if i.status.value in _ACTION_STATUSES]

    @property
    def can_arrange(self) -> bool:
        return self.balance_minor > 0 and self.account.status in (
            AccountStatus.OPEN,
            AccountStatus.PROMISED,
        )


_ACTION_STATUSES = ("requires_action", "failed")


def accounts_for(session: Session, debtor: Debtor) -> list[AccountView]:
    accounts = list(
        session.scalars(
            select(Account)
            .where(Account.debtor_id == debtor.id, Account.status.in_(SHOWN))
            .order_by(Account.due_on, Account.id)
        )
    )
    balances = balances_of(session, (a.id for a in accounts))
    return [
        AccountView(
            account=account,
            balance_minor=balances[account.id],
            plan=live_plan(session, account.id),
            promise=_pending_promise(session, account.id),
            history=_history(session, account),
        )
        for account in accounts
    ]


def account_for(
    session: Session, debtor: Debtor, account_id: int
) -> AccountView | None:
    """One of the debtor's own accounts; None for anybody else's."""
    return next(
        (v for v in accounts_for(session, debtor) if v.account.id == account_id), None
    )


def total_due(views: list[AccountView]) -> int:
    return sum(max(view.balance_minor, 0) for view in views)


def _pending_promise(session: Session, account_id: int) -> PromiseToPay | None:
    return session.scalar(
        select(PromiseToPay).where(
            PromiseToPay.account_id == account_id,
            PromiseToPay.status == PromiseStatus.PENDING,
        )
    )


def _history(session: Session, account: Account) -> list[Happening]:
    entries = [
        Happening(at=e.occurred_at, kind=e.kind.value, amount_minor=e.amount_minor)
        for e in session.scalars(
            select(LedgerEntry).where(LedgerEntry.account_id == account.id)
        )
    ]
    reminders = [
        Happening(at=sent_at, kind="reminder")
        for sent_at in session.scalars(
            select(Message.sent_at).where(
                Message.account_id == account.id,
                Message.status.in_(_SENT),
                Message.sent_at.is_not(None),
            )
        )
        if sent_at is not None
    ]
    return sorted(entries + reminders, key=lambda h: h.at)


def next_instalment(plan: PaymentPlan) -> Instalment | None:
    return next(
        (i for i in plan.instalments if i.status.value in ("scheduled", "failed")), None
    )
