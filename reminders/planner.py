"""The planner: turn due sequence steps into outbox rows, once per account and step.

Work is derived from the database on every run, never from "since the last run", so a missed
or doubled run is harmless. The unique (account, step) key is the claim.

Set-based per batch of accounts: a few queries read the accounts, their debtors and the
facts the policy needs; the pure policy decides per account in memory (accounts in the same
situation share one decision); the messages and ContactDecisions are written with one
executemany each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.models import Account, ContactDecision, Debtor, Message, Sequence, Step
from app.models.enums import (
    AccountStatus,
    Channel,
    DecisionOutcome,
    Language,
    MessageStatus,
    StepAction,
)
from reminders.decisions import record_decision
from reminders.policy import Channel as PolicyChannel
from reminders.policy import (
    ContactKind,
    Decision,
    Defer,
    ProposedContact,
    Suppress,
    decide_contact,
)
from reminders.profiles import ContactRules
from reminders.sequences import sequence_for, step_due_dates
from reminders.state import AccountFacts, ContactFacts, DebtorFacts, Ids

logger = logging.getLogger(__name__)

PLANNED_STATUSES = (
    AccountStatus.OPEN,
    AccountStatus.PROMISED,
    AccountStatus.PLAN,
    AccountStatus.PAUSED,
    AccountStatus.DISPUTED,
)
SUPERSEDED = "superseded"
NO_ADDRESS = "no_address"
HANDED_TO_AGENT = "handed_to_agent"
# Puts an account in front of a person (the agents' queue) instead of sending another text.
HandOver = Callable[[Session, Account, Debtor, datetime], None]
# The contact rules for a debtor: the country profile within the creditor's bounds. They
# depend on the creditor and the debtor's country only, so the planner asks once per pair.
# The account is None for texts that belong to no account (answers, receipts, notices).
RulesFor = Callable[[AccountFacts | None, DebtorFacts], ContactRules]


@dataclass
class PlanResult:
    queued: int = 0
    deferred: int = 0
    suppressed: int = 0
    superseded: int = 0
    handed_over: int = 0


@dataclass(frozen=True, slots=True)
class _AccountRow:
    id: int
    creditor_id: int
    debtor_id: int
    sequence_id: int | None
    status: AccountStatus
    due_on: date
    created_at: datetime
    paused_until: datetime | None
    pause_reason: str | None


@dataclass(frozen=True, slots=True)
class _DebtorRow:
    id: int
    creditor_id: int
    timezone: str
    country: str
    language: Language
    phone_e164: str | None
    email: str | None
    sms_opted_out_at: datetime | None
    email_opted_out_at: datetime | None
    cease_contact_at: datetime | None
    phone_unusable_reason: str | None


# Core inserts: the ORM's bulk path prepares every row in Python first.
_MESSAGES = cast(Table, Message.__table__)
_DECISIONS = cast(Table, ContactDecision.__table__)
_ACCOUNT_COLUMNS = [getattr(Account, name) for name in _AccountRow.__slots__]
_DEBTOR_COLUMNS = [getattr(Debtor, name) for name in _DebtorRow.__slots__]


def plan_due_steps(
    session: Session,
    *,
    now: datetime,
    rules_for: RulesFor,
    batch_size: int = 1000,
    hand_over: HandOver | None = None,
) -> PlanResult:
    """Claim the latest due, unclaimed step of every open account; flushes, never commits."""
    run = _Run(session, now, rules_for, hand_over)
    for batch in _batches(session, batch_size):
        run.plan_batch(batch)
    session.flush()
    return run.result


@dataclass(frozen=True)
class _Batch:
    """Accounts in id order after `after_id`, with their debtors."""

    after_id: int
    accounts: list[_AccountRow]
    debtors: dict[int, _DebtorRow]

    def ids(self, column: Any) -> Select[tuple[int]]:
        """The batch's account (or debtor) ids as a query: two bounds, not a long list."""
        return select(column).where(
            Account.status.in_(PLANNED_STATUSES),
            Account.id > self.after_id,
            Account.id <= self.accounts[-1].id,
        )


def _batches(session: Session, size: int) -> Iterator[_Batch]:
    last_id = 0
    while True:
        rows = session.execute(
            select(*_ACCOUNT_COLUMNS, *_DEBTOR_COLUMNS)
            .join(Debtor, Debtor.id == Account.debtor_id)
            .where(Account.status.in_(PLANNED_STATUSES), Account.id > last_id)
            .order_by(Account.id)
            .limit(size)
        ).all()
        if not rows:
            return
        split = len(_ACCOUNT_COLUMNS)
        accounts = [_AccountRow(*row[:split]) for row in rows]
        debtors = {row[split]: _DebtorRow(*row[split:]) for row in rows}
        yield _Batch(last_id, accounts, debtors)
        last_id = accounts[-1].id


@dataclass
class _Pending:
    """A batch's outbox rows, and the decisions to record once the rows have ids."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    # (account id, step id) -> the decision's own columns
    decisions: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)


class _Run:
    """One planning run: caches what accounts share (sequences, dates, decisions)."""

    def __init__(
        self,
        session: Session,
        now: datetime,
        rules_for: RulesFor,
        hand_over: HandOver | None,
    ) -> None:
        self.session, self.now = session, now
        self.rules_for, self.hand_over = rules_for, hand_over
        self.result = PlanResult()
        self._sequences: dict[int, Sequence | None] = {}
        self._due: dict[Hashable, list[Step]] = {}
        self._rules: dict[tuple[int, str], ContactRules] = {}
        self._decisions: dict[Hashable, Decision] = {}

    def plan_batch(self, batch: _Batch) -> None:
        claimed = _claimed_steps(self.session, batch)
        facts = ContactFacts(
            self.session,
            batch.accounts,
            self.now,
            debtors=batch.debtors,
            account_ids=batch.ids(Account.id),
            debtor_ids=batch.ids(Account.debtor_id),
        )
        pending = _Pending()
        for account in batch.accounts:
            debtor = batch.debtors[account.debtor_id]
            due = self._due_unclaimed(account, debtor, claimed.get(account.id, set()))
            if due and due[-1].action is StepAction.HAND_TO_AGENT:
                self._hand_over(account, debtor, due)
            elif due:
                self._claim(account, debtor, due, facts, pending)
        _write(self.session, pending, batch.ids(Account.id), self.now)

    def _sequence(self, account: _AccountRow) -> Sequence | None:
        key = account.sequence_id or -account.creditor_id
        if key not in self._sequences:
            stored = self.session.get(Account, account.id)
            assert stored is not None
            self._sequences[key] = sequence_for(self.session, stored)
        return self._sequences[key]

    def _due_unclaimed(
        self, account: _AccountRow, debtor: _DebtorRow, claimed: set[int]
    ) -> list[Step]:
        """Due steps after the last claimed one, oldest first; only the last is sent."""
        sequence = self._sequence(account)
        if sequence is None:
            return []
        key = (
            sequence.id,
            account.due_on,
            account.created_at,
            debtor.timezone,
            frozenset(claimed),
        )
        due = self._due.get(key)
        if due is None:
            due = self._due[key] = _due_unclaimed(
                sequence, account, debtor.timezone, claimed, self.now
            )
        return due

    def _hand_over(
        self, account: _AccountRow, debtor: _DebtorRow, due: list[Step]
    ) -> None:
        """The sequence's last word is a person: no more texts, the account joins the queue.

        The step is claimed like a text (a suppressed outbox row), so it happens once. Rare,
        so done with the stored objects the hand-over hook expects.
        """
        stored_account = self.session.get(Account, account.id)
        stored_debtor = self.session.get(Debtor, debtor.id)
        assert stored_account is not None
        assert stored_debtor is not None
        *earlier, latest = due
        for step in earlier:
            self.session.add(
                Message(
                    **_message(
                        account,
                        debtor,
                        step,
                        self.now,
                        MessageStatus.SUPPRESSED,
                        SUPERSEDED,
                    )
                )
            )
            self.result.superseded += 1
        message = Message(
            **_message(
                account,
                debtor,
                latest,
                self.now,
                MessageStatus.SUPPRESSED,
                HANDED_TO_AGENT,
            )
        )
        self.session.add(message)
        record_decision(
            self.session,
            message,
            DecisionOutcome.SUPPRESSED,
            HANDED_TO_AGENT,
            now=self.now,
        )
        if self.hand_over is not None:
            self.hand_over(self.session, stored_account, stored_debtor, self.now)
        self.result.handed_over += 1

    def _claim(
        self,
        account: _AccountRow,
        debtor: _DebtorRow,
        due: list[Step],
        facts: ContactFacts,
        pending: _Pending,
    ) -> None:
        now = self.now
        *earlier, latest = due
        for step in earlier:
            pending.messages.append(
                _message(
                    account, debtor, step, now, MessageStatus.SUPPRESSED, SUPERSEDED
                )
            )
            self.result.superseded += 1
        channel = _channel_for(latest, debtor)
        if channel is None:
            pending.messages.append(
                _message(
                    account, debtor, latest, now, MessageStatus.SUPPRESSED, NO_ADDRESS
                )
            )
            _decide_later(
                pending, account, latest, DecisionOutcome.SUPPRESSED, NO_ADDRESS
            )
            self.result.suppressed += 1
            return
        decision = self._decide(facts, account, debtor, channel)
        if isinstance(decision, Suppress):
            reason = decision.reason.value
            pending.messages.append(
                _message(
                    account,
                    debtor,
                    latest,
                    now,
                    MessageStatus.SUPPRESSED,
                    reason,
                    channel=channel,
                )
            )
            _decide_later(pending, account, latest, DecisionOutcome.SUPPRESSED, reason)
            self.result.suppressed += 1
            return
        defer_until = decision.until if isinstance(decision, Defer) else None
        pending.messages.append(
            _message(
                account,
                debtor,
                latest,
                now,
                MessageStatus.QUEUED,
                None,
                channel=channel,
                not_before=defer_until,
            )
        )
        if isinstance(decision, Defer):
            _decide_later(
                pending,
                account,
                latest,
                DecisionOutcome.DEFERRED,
                decision.reason.value,
                defer_until=defer_until,
            )
            self.result.deferred += 1
        else:
            self.result.queued += 1

    def _decide(
        self,
        facts: ContactFacts,
        account: _AccountRow,
        debtor: _DebtorRow,
        channel: Channel,
    ) -> Decision:
        """The policy is pure: accounts whose state and rules are equal share a decision."""
        inputs = facts.inputs_for(account)
        rules = self._rules.get((debtor.creditor_id, debtor.country))
        if rules is None:
            rules = self._rules[debtor.creditor_id, debtor.country] = self.rules_for(
                account, debtor
            )
        key = (inputs, channel, rules)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decisions[key] = decide_contact(
                inputs.state(),
                ProposedContact(PolicyChannel(channel.value), ContactKind.REMINDER),
                rules,
                self.now,
            )
        return decision


def _due_unclaimed(
    sequence: Sequence,
    account: _AccountRow,
    time_zone: str,
    claimed: set[int],
    now: datetime,
) -> list[Step]:
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    handed_over = account.created_at.astimezone(zone).date()
    dated = step_due_dates(sequence.steps, account.due_on, handed_over)
    last_claimed = max(
        (i for i, (s, _) in enumerate(dated) if s.id in claimed), default=-1
    )
    return [s for i, (s, on) in enumerate(dated) if i > last_claimed and on <= today]


def _claimed_steps(session: Session, batch: _Batch) -> dict[int, set[int]]:
    """The steps already claimed per account, read by the batch's range of account ids."""
    claimed: dict[int, set[int]] = {}
    for account_id, step_id in session.execute(
        select(Message.account_id, Message.step_id).where(
            Message.account_id > batch.after_id,
            Message.account_id <= batch.accounts[-1].id,
            Message.step_id.is_not(None),
        )
    ):
        if account_id is not None and step_id is not None:
            claimed.setdefault(account_id, set()).add(step_id)
    return claimed


def _channel_for(step: Step, debtor: _DebtorRow) -> Channel | None:
    """SMS when the debtor has a usable mobile number, else e-mail when known."""
    if (
        step.channel is Channel.SMS
        and debtor.phone_e164
        and not debtor.phone_unusable_reason
    ):
        return Channel.SMS
    return Channel.EMAIL if debtor.email else None


def _message(
    account: _AccountRow,
    debtor: _DebtorRow,
    step: Step,
    now: datetime,
    status: MessageStatus,
    reason: str | None,
    *,
    channel: Channel | None = None,
    not_before: datetime | None = None,
) -> dict[str, Any]:
    """An outbox row's columns; every row names all of them, as executemany needs."""
    channel = channel or step.channel
    return {
        "debtor_id": debtor.id,
        "account_id": account.id,
        "step_id": step.id,
        "channel": channel,
        "template_key": step.template_key,
        "language": Language(debtor.language),
        "to_address": (debtor.phone_e164 if channel is Channel.SMS else debtor.email)
        or "",
        "status": status,
        "suppressed_reason": reason,
        "not_before": not_before or now,
        "attempts": 0,
        "created_at": now,
    }


def _decide_later(
    pending: _Pending,
    account: _AccountRow,
    step: Step,
    outcome: DecisionOutcome,
    reason: str,
    *,
    defer_until: datetime | None = None,
) -> None:
    pending.decisions[(account.id, step.id)] = {
        "debtor_id": account.debtor_id,
        "account_id": account.id,
        "outcome": outcome,
        "reason": reason,
        "detail": "",
        "defer_until": defer_until,
    }


def _write(
    session: Session, pending: _Pending, account_ids: Ids, now: datetime
) -> None:
    """One executemany for the batch's messages, one for its decisions."""
    if not pending.messages:
        return
    _insert_rows(session, _MESSAGES, pending.messages)
    if not pending.decisions:
        return
    decisions = []
    for message_id, account_id, step_id, channel in session.execute(
        select(Message.id, Message.account_id, Message.step_id, Message.channel).where(
            Message.account_id.in_(account_ids), Message.created_at == now
        )
    ):
        decision = pending.decisions.get((account_id or 0, step_id or 0))
        if decision is not None:
            decisions.append(
                decision
                | {"message_id": message_id, "channel": channel, "checked_at": now}
            )
    _insert_rows(session, _DECISIONS, decisions)


def _insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all name the same columns.

    On PostgreSQL as one INSERT ... SELECT over arrays of the columns' values (unnest),
    which the server takes as one statement, as fast as a plain INSERT ... SELECT; an
    executemany costs a statement per row there. Elsewhere, an executemany.
    """
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    names = list(rows[0])
    columns = []
    for name in names:
        values = [row[name] for row in rows]
        column_type = table.c[name].type
        # A value every row shares goes once, not as an array of copies.
        columns.append(
            bindparam(name, values[0], type_=column_type)
            if values.count(values[0]) == len(values)
            else func.unnest(bindparam(name, values, type_=ARRAY(column_type)))
        )
    session.execute(insert(table).from_select(names, select(*columns)))
