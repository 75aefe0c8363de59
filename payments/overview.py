"""What the debtor sees after verifying: each account, its balance and what has happened."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    BindParameter,
    String,
    bindparam,
    cast,
    exists,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.selectable import CompoundSelect

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
from app.services.ledger import RAISES_BALANCE
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


# The overview's statements are built once: on a debtor's small page, constructing a
# statement costs about as much as running it.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
# Whether each account has a live plan or a pending promise comes with it, so that most
# debtors, who have neither, need no further statement for them.
_ACCOUNTS = (
    select(
        Account,
        exists().where(
            PaymentPlan.account_id == Account.id, PaymentPlan.status.in_(LIVE_PLAN)
        ),
        exists().where(
            PromiseToPay.account_id == Account.id,
            PromiseToPay.status == PromiseStatus.PENDING,
        ),
    )
    .where(Account.debtor_id == bindparam("debtor_id"), Account.status.in_(SHOWN))
    .order_by(Account.due_on, Account.id)
)
# The account's story in one read: its ledger entries, and the reminders sent about it.
_REMINDER = "reminder"
_STORY_ROWS: CompoundSelect[int, str, int | None, datetime] = union_all(
    select(
        LedgerEntry.account_id,
        cast(LedgerEntry.kind, String),
        LedgerEntry.amount_minor,
        LedgerEntry.occurred_at,
    ).where(LedgerEntry.account_id.in_(_IDS)),
    select(
        Message.account_id, literal(_REMINDER, String), null(), Message.sent_at
    ).where(
        Message.account_id.in_(_IDS),
        Message.status.in_(_SENT),
        Message.sent_at.is_not(None),
    ),
)
_LIVE_PLANS = (
    select(PaymentPlan)
    .where(PaymentPlan.account_id.in_(_IDS), PaymentPlan.status.in_(LIVE_PLAN))
    .order_by(PaymentPlan.id)
    .options(selectinload(PaymentPlan.instalments))
)
_PENDING_PROMISES = (
    select(PromiseToPay)
    .where(
        PromiseToPay.account_id.in_(_IDS),
        PromiseToPay.status == PromiseStatus.PENDING,
    )
    .order_by(PromiseToPay.id)
)


def accounts_for(session: Session, debtor: Debtor) -> list[AccountView]:
    """Every shown account of the debtor, in a fixed number of queries however many there are."""
    rows = session.execute(_ACCOUNTS, {"debtor_id": debtor.id}).all()
    accounts = [account for account, _plan, _promise in rows]
    balances, histories = _stories(session, [account.id for account in accounts])
    with_plan = [account.id for account, has_plan, _promise in rows if has_plan]
    with_promise = [account.id for account, _plan, has_promise in rows if has_promise]
    plans = _live_plans(session, with_plan) if with_plan else {}
    promises = _pending_promises(session, with_promise) if with_promise else {}
    return [
        AccountView(
            account=account,
            balance_minor=balances.get(account.id, 0),
            plan=plans.get(account.id),
            promise=promises.get(account.id),
            history=sorted(histories.get(account.id, []), key=lambda h: h.at),
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
    plans = session.scalars(_LIVE_PLANS, {"ids": account_ids})
    # The newest live plan wins, as in settlement.live_plan.
    return {plan.account_id: plan for plan in plans}


def _pending_promises(
    session: Session, account_ids: list[int]
) -> dict[int, PromiseToPay]:
    promises = session.scalars(_PENDING_PROMISES, {"ids": account_ids})
    return {promise.account_id: promise for promise in promises}


def _stories(
    session: Session, account_ids: list[int]
) -> tuple[dict[int, int], dict[int, list[Happening]]]:
    """Balances and stories from one read of the entries and reminders, in the same
    transaction: the balance is the entries' signed sum, as in app/services/ledger.py, never
    a stored figure."""
    balances: dict[int, int] = defaultdict(int)
    histories: dict[int, list[Happening]] = defaultdict(list)
    for account_id, kind, amount_minor, at in session.execute(
        _STORY_ROWS, {"ids": account_ids}
    ):
        if amount_minor is None:  # a reminder: no money moved
            histories[account_id].append(Happening(at=at, kind=kind))
            continue
        balances[account_id] += (
            amount_minor if kind in RAISES_BALANCE else -amount_minor
        )
        histories[account_id].append(
            Happening(at=at, kind=kind, amount_minor=amount_minor)
        )
    return balances, histories


def next_instalment(plan: PaymentPlan) -> Instalment | None:
    return next(
        (i for i in plan.instalments if i.status.value in ("scheduled", "failed")), None
    )
