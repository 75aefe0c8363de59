"""What the debtor sees after verifying: each account, its balance and what has happened."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

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
from payments.settlement import LIVE_PLAN

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

    def needs_action(self, today: date) -> list[Instalment]:
        """Instalments the debtor pays by hand: the bank asked, the card failed, or the plan
        is paid from a wallet and the date is near."""
        if self.plan is None:
            return []
        by_link = self.plan.payment_method_ref is None
        return [
            i
            for i in self.plan.instalments
            if i.status.value in _ACTION_STATUSES
            or (
                by_link
                and i.status.value == "scheduled"
                and i.due_on <= today + BY_LINK_SHOWN
            )
        ]

    @property
    def can_arrange(self) -> bool:
        return self.balance_minor > 0 and self.account.status in (
            AccountStatus.OPEN,
            AccountStatus.PROMISED,
        )


_ACTION_STATUSES = ("requires_action", "failed")
# A wallet-paid instalment gets its pay button this long before its date.
BY_LINK_SHOWN = timedelta(days=3)


def accounts_for(session: Session, debtor: Debtor) -> list[AccountView]:
    """Every shown account of the debtor, in a fixed number of queries however many there are."""
    accounts = list(
        session.scalars(
            select(Account)
            .where(Account.debtor_id == debtor.id, Account.status.in_(SHOWN))
            .order_by(Account.due_on, Account.id)
        )
    )
    ids = [a.id for a in accounts]
    balances = balances_of(session, ids)
    plans = _live_plans(session, ids)
    promises = _pending_promises(session, ids)
    histories = _histories(session, ids)
    return [
        AccountView(
            account=account,
            balance_minor=balances[account.id],
            plan=plans.get(account.id),
            promise=promises.get(account.id),
            history=histories.get(account.id, []),
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


def _live_plans(session: Session, account_ids: list[int]) -> dict[int, PaymentPlan]:
    plans = session.scalars(
        select(PaymentPlan)
        .where(
            PaymentPlan.account_id.in_(account_ids), PaymentPlan.status.in_(LIVE_PLAN)
        )
        .order_by(PaymentPlan.id)
        .options(selectinload(PaymentPlan.instalments))
    )
    # The newest live plan wins, as in settlement.live_plan.
    return {plan.account_id: plan for plan in plans}


def _pending_promises(
    session: Session, account_ids: list[int]
) -> dict[int, PromiseToPay]:
    promises = session.scalars(
        select(PromiseToPay)
        .where(
            PromiseToPay.account_id.in_(account_ids),
            PromiseToPay.status == PromiseStatus.PENDING,
        )
        .order_by(PromiseToPay.id)
    )
    return {promise.account_id: promise for promise in promises}


def _histories(session: Session, account_ids: list[int]) -> dict[int, list[Happening]]:
    histories: dict[int, list[Happening]] = defaultdict(list)
    for entry in session.scalars(
        select(LedgerEntry).where(LedgerEntry.account_id.in_(account_ids))
    ):
        histories[entry.account_id].append(
            Happening(
                at=entry.occurred_at,
                kind=entry.kind.value,
                amount_minor=entry.amount_minor,
            )
        )
    reminders = session.execute(
        select(Message.account_id, Message.sent_at).where(
            Message.account_id.in_(account_ids),
            Message.status.in_(_SENT),
            Message.sent_at.is_not(None),
        )
    )
    for account_id, sent_at in reminders:
        if account_id is not None and sent_at is not None:
            histories[account_id].append(Happening(at=sent_at, kind="reminder"))
    for happenings in histories.values():
        happenings.sort(key=lambda h: h.at)
    return histories


def next_instalment(plan: PaymentPlan) -> Instalment | None:
    return next(
        (i for i in plan.instalments if i.status.value in ("scheduled", "failed")), None
    )
