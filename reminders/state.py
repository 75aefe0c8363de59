"""What the contact policy needs to know about debtors and accounts, read in batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.models import (
    Debtor,
    Message,
    PaymentPlan,
    PromiseToPay,
    RiskSignal,
)
from app.models.enums import AccountStatus as StoredAccountStatus
from app.models.enums import (
    MessageStatus,
    PlanStatus,
    PromiseStatus,
    Severity,
    SignalStatus,
)
from reminders.policy import AccountStatus, Channel, DebtorContactState

# Messages that reached, or may have reached, the debtor count towards the frequency cap.
COUNTED_STATUSES = (
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.UNKNOWN,
)
CAP_LOOKBACK = timedelta(days=8)
BREATHING_SPACE = "breathing_space"
# Ids as a list, or as a query that selects them (a large batch is cheaper named by a query).
Ids = Collection[int] | Select[tuple[int]]


class AccountFacts(Protocol):
    """What the policy reads of an account: a stored Account, or a row the planner read."""

    @property
    def id(self) -> int: ...
    @property
    def creditor_id(self) -> int: ...
    @property
    def debtor_id(self) -> int: ...
    @property
    def status(self) -> StoredAccountStatus: ...
    @property
    def due_on(self) -> date: ...
    @property
    def paused_until(self) -> datetime | None: ...
    @property
    def pause_reason(self) -> str | None: ...


class DebtorFacts(Protocol):
    """What the policy reads of a debtor: a stored Debtor, or a row the planner read."""

    @property
    def id(self) -> int: ...
    @property
    def creditor_id(self) -> int: ...
    @property
    def timezone(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def sms_opted_out_at(self) -> datetime | None: ...
    @property
    def email_opted_out_at(self) -> datetime | None: ...
    @property
    def cease_contact_at(self) -> datetime | None: ...
    @property
    def phone_unusable_reason(self) -> str | None: ...


class ContactFacts:
    """Facts for a batch of accounts, loaded with one query per kind of fact.

    The debtors are loaded too unless the caller already has them (`debtors`). A caller
    with a large batch may name its accounts and debtors by queries (`account_ids`,
    `debtor_ids`) rather than have them sent as long lists of ids.
    """

    def __init__(
        self,
        session: Session,
        accounts: Iterable[AccountFacts],
        now: datetime,
        *,
        debtors: Mapping[int, DebtorFacts] | None = None,
        account_ids: Ids | None = None,
        debtor_ids: Ids | None = None,
    ) -> None:
        self.accounts = list(accounts)
        if account_ids is None:
            account_ids = [a.id for a in self.accounts]
        if debtor_ids is None:
            debtor_ids = {a.debtor_id for a in self.accounts}
        self.debtors: Mapping[int, DebtorFacts] = (
            debtors
            if debtors is not None
            else {
                d.id: d
                for d in session.scalars(
                    select(Debtor).where(Debtor.id.in_(debtor_ids))
                )
            }
        )
        self.recent = _recent_contacts(session, debtor_ids, now)
        self.risky = _debtors_with_pending_risk(session, debtor_ids)
        self.good_plans = _accounts_with_plan_in_good_standing(session, account_ids)
        self.promises = _pending_promises(session, account_ids)

    def count_contact(self, debtor_id: int, at: datetime) -> None:
        """A contact made since the facts were read: it counts against the caps too."""
        self.recent.setdefault(debtor_id, []).append(at)

    def state_for(self, account: AccountFacts) -> DebtorContactState:
        return self.inputs_for(account).state()

    def inputs_for(self, account: AccountFacts) -> StateInputs:
        """What the state is made of: cheap to build, hash and compare, for callers that
        decide for many accounts and share the decision between equal inputs."""
        debtor = self.debtors[account.debtor_id]
        return StateInputs(
            debtor.timezone,
            debtor.country,
            account.status,
            account.due_on,
            _opted_out(debtor),
            debtor.cease_contact_at is not None,
            debtor.phone_unusable_reason is not None,
            debtor.id in self.risky,
            account.paused_until,
            account.pause_reason == BREATHING_SPACE,
            account.id in self.good_plans,
            self.promises.get(account.id),
            tuple(self.recent.get(debtor.id, ())),
        )


class StateInputs(NamedTuple):
    """The facts a DebtorContactState is built from; equal inputs, equal states."""

    time_zone: str
    country_code: str
    status: StoredAccountStatus
    due_on: date
    opted_out: frozenset[Channel]
    cease_contact: bool
    phone_unusable: bool
    risk_pending: bool
    paused_until: datetime | None
    breathing_space: bool
    plan_in_good_standing: bool
    promise_to_pay_on: date | None
    recent_contacts: tuple[datetime, ...]

    def state(self) -> DebtorContactState:
        return DebtorContactState(
            time_zone=self.time_zone,
            country_code=self.country_code,
            account_status=AccountStatus(self.status.value),
            account_due_on=self.due_on,
            opted_out=self.opted_out,
            cease_contact=self.cease_contact,
            phone_unusable=self.phone_unusable,
            dispute_open=self.status is StoredAccountStatus.DISPUTED,
            risk_pending=self.risk_pending,
            breathing_space_until=self.paused_until if self.breathing_space else None,
            plan_in_good_standing=self.plan_in_good_standing,
            promise_to_pay_on=self.promise_to_pay_on,
            paused_until=None if self.breathing_space else self.paused_until,
            recent_contacts=self.recent_contacts,
        )


def _opted_out(debtor: DebtorFacts) -> frozenset[Channel]:
    channels = set()
    if debtor.sms_opted_out_at is not None:
        channels.add(Channel.SMS)
    if debtor.email_opted_out_at is not None:
        channels.add(Channel.EMAIL)
    return frozenset(channels)


def _recent_contacts(
    session: Session, debtor_ids: Ids, now: datetime
) -> dict[int, list[datetime]]:
    rows = session.execute(
        select(Message.debtor_id, Message.sent_at).where(
            Message.debtor_id.in_(debtor_ids),
            Message.status.in_(COUNTED_STATUSES),
            Message.sent_at.is_not(None),
            Message.sent_at > now - CAP_LOOKBACK,
        )
    )
    recent: dict[int, list[datetime]] = defaultdict(list)
    for debtor_id, sent_at in rows:
        if sent_at is not None:
            recent[debtor_id].append(sent_at)
    return recent


def _debtors_with_pending_risk(session: Session, debtor_ids: Ids) -> set[int]:
    return set(
        session.scalars(
            select(RiskSignal.debtor_id).where(
                RiskSignal.debtor_id.in_(debtor_ids),
                RiskSignal.severity == Severity.HIGH,
                # Confirmed means "real, being handled": outreach stays paused until resolved.
                RiskSignal.status.in_((SignalStatus.OPEN, SignalStatus.CONFIRMED)),
            )
        )
    )


def _accounts_with_plan_in_good_standing(
    session: Session, account_ids: Ids
) -> set[int]:
    """Accounts with an active plan: its own texts handle a failed instalment, and the
    reminders come back only when the plan breaks (the second missed instalment)."""
    return set(
        session.scalars(
            select(PaymentPlan.account_id).where(
                PaymentPlan.account_id.in_(account_ids),
                PaymentPlan.status == PlanStatus.ACTIVE,
            )
        )
    )


def _pending_promises(session: Session, account_ids: Ids) -> dict[int, date]:
    rows = session.execute(
        select(PromiseToPay.account_id, PromiseToPay.promised_on).where(
            PromiseToPay.account_id.in_(account_ids),
            PromiseToPay.status == PromiseStatus.PENDING,
        )
    )
    promises: dict[int, date] = {}
    for account_id, promised_on in rows:
        promises[account_id] = max(promised_on, promises.get(account_id, promised_on))
    return promises
