"""The planner: turn due sequence steps into outbox rows, once per account and step.

Work is derived from the database on every run, never from "since the last run", so a missed
or doubled run is harmless. The unique (account, step) key is the claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, Debtor, Message, Sequence, Step
from app.models.enums import (
    AccountStatus,
    Channel,
    DecisionOutcome,
    Language,
    MessageStatus,
    StepAction,
)
from reminders.decisions import record_decision
from reminders.policy import (
    Allow,
    ContactKind,
    Defer,
    ProposedContact,
    Suppress,
    decide_contact,
)
from reminders.policy import Channel as PolicyChannel
from reminders.profiles import ContactRules
from reminders.sequences import sequence_for, step_due_dates
from reminders.state import ContactFacts

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
# The account is None for texts that belong to no account (answers, receipts, notices).
RulesFor = Callable[[Account | None, Debtor], ContactRules]


@dataclass
class PlanResult:
    queued: int = 0
    deferred: int = 0
    suppressed: int = 0
    superseded: int = 0
    handed_over: int = 0


def plan_due_steps(
    session: Session,
    *,
    now: datetime,
    rules_for: RulesFor,
    batch_size: int = 500,
    hand_over: HandOver | None = None,
) -> PlanResult:
    """Claim the latest due, unclaimed step of every open account; flushes, never commits."""
    result = PlanResult()
    sequences: dict[int, Sequence | None] = {}
    for accounts in _batches(session, batch_size):
        facts = ContactFacts(session, accounts, now)
        claimed = _claimed_steps(session, [a.id for a in accounts])
        for account in accounts:
            sequence = _sequence(session, sequences, account)
            if sequence is None:
                continue
            debtor = facts.debtors[account.debtor_id]
            due = _due_unclaimed(
                sequence, account, debtor, claimed.get(account.id, set()), now
            )
            if due and due[-1].action is StepAction.HAND_TO_AGENT:
                _hand_over(session, account, debtor, due, now, hand_over, result)
            elif due:
                _claim(session, account, debtor, due, facts, rules_for, now, result)
    session.flush()
    return result


def _batches(session: Session, size: int) -> Iterator[list[Account]]:
    last_id = 0
    while True:
        accounts = list(
            session.scalars(
                select(Account)
                .where(Account.status.in_(PLANNED_STATUSES), Account.id > last_id)
                .order_by(Account.id)
                .limit(size)
            )
        )
        if not accounts:
            return
        yield accounts
        last_id = accounts[-1].id


def _claimed_steps(session: Session, account_ids: list[int]) -> dict[int, set[int]]:
    claimed: dict[int, set[int]] = {}
    for account_id, step_id in session.execute(
        select(Message.account_id, Message.step_id).where(
            Message.account_id.in_(account_ids), Message.step_id.is_not(None)
        )
    ):
        if account_id is not None and step_id is not None:
            claimed.setdefault(account_id, set()).add(step_id)
    return claimed


def _sequence(
    session: Session, cache: dict[int, Sequence | None], account: Account
) -> Sequence | None:
    key = account.sequence_id or -account.creditor_id
    if key not in cache:
        cache[key] = sequence_for(session, account)
    return cache[key]


def _due_unclaimed(
    sequence: Sequence,
    account: Account,
    debtor: Debtor,
    claimed: set[int],
    now: datetime,
) -> list[Step]:
    """Due steps after the last claimed one, oldest first; only the last will be sent."""
    today = now.astimezone(ZoneInfo(debtor.timezone)).date()
    handed_over = account.created_at.astimezone(ZoneInfo(debtor.timezone)).date()
    dated = step_due_dates(sequence.steps, account.due_on, handed_over)
    last_claimed = max(
        (i for i, (s, _) in enumerate(dated) if s.id in claimed), default=-1
    )
    return [s for i, (s, on) in enumerate(dated) if i > last_claimed and on <= today]


def _hand_over(
    session: Session,
    account: Account,
    debtor: Debtor,
    due: list[Step],
    now: datetime,
    hand_over: HandOver | None,
    result: PlanResult,
) -> None:
    """The sequence's last word is a person: no more texts, the account joins the queue.

    The step is claimed like a text (a suppressed outbox row), so it happens once.
    """
    *earlier, latest = due
    for step in earlier:
        _add_message(
            session, account, debtor, step, now, MessageStatus.SUPPRESSED, SUPERSEDED
        )
        result.superseded += 1
    message = _add_message(
        session, account, debtor, latest, now, MessageStatus.SUPPRESSED, HANDED_TO_AGENT
    )
    record_decision(
        session, message, DecisionOutcome.SUPPRESSED, HANDED_TO_AGENT, now=now
    )
    if hand_over is not None:
        hand_over(session, account, debtor, now)
    result.handed_over += 1


def _claim(
    session: Session,
    account: Account,
    debtor: Debtor,
    due: list[Step],
    facts: ContactFacts,
    rules_for: RulesFor,
    now: datetime,
    result: PlanResult,
) -> None:
    *earlier, latest = due
    for step in earlier:
        _add_message(
            session, account, debtor, step, now, MessageStatus.SUPPRESSED, SUPERSEDED
        )
        result.superseded += 1
    channel = _channel_for(latest, debtor)
    if channel is None:
        message = _add_message(
            session, account, debtor, latest, now, MessageStatus.SUPPRESSED, NO_ADDRESS
        )
        record_decision(
            session, message, DecisionOutcome.SUPPRESSED, NO_ADDRESS, now=now
        )
        result.suppressed += 1
        return
    decision = decide_contact(
        facts.state_for(account),
        ProposedContact(PolicyChannel(channel.value), ContactKind.REMINDER),
        rules_for(account, debtor),
        now,
    )
    _record(session, account, debtor, latest, channel, decision, now, result)


def _record(
    session: Session,
    account: Account,
    debtor: Debtor,
    step: Step,
    channel: Channel,
    decision: Allow | Defer | Suppress,
    now: datetime,
    result: PlanResult,
) -> None:
    if isinstance(decision, Suppress):
        message = _add_message(
            session,
            account,
            debtor,
            step,
            now,
            MessageStatus.SUPPRESSED,
            decision.reason.value,
            channel=channel,
        )
        record_decision(
            session, message, DecisionOutcome.SUPPRESSED, decision.reason.value, now=now
        )
        result.suppressed += 1
        return
    not_before = decision.until if isinstance(decision, Defer) else now
    message = _add_message(
        session,
        account,
        debtor,
        step,
        now,
        MessageStatus.QUEUED,
        None,
        channel=channel,
        not_before=not_before,
    )
    if isinstance(decision, Defer):
        record_decision(
            session,
            message,
            DecisionOutcome.DEFERRED,
            decision.reason.value,
            now=now,
            defer_until=decision.until,
        )
        result.deferred += 1
    else:
        result.queued += 1


def _channel_for(step: Step, debtor: Debtor) -> Channel | None:
    """SMS when the debtor has a usable mobile number, else e-mail when known."""
    if (
        step.channel is Channel.SMS
        and debtor.phone_e164
        and not debtor.phone_unusable_reason
    ):
        return Channel.SMS
    return Channel.EMAIL if debtor.email else None


def _add_message(
    session: Session,
    account: Account,
    debtor: Debtor,
    step: Step,
    now: datetime,
    status: MessageStatus,
    reason: str | None,
    *,
    channel: Channel | None = None,
    not_before: datetime | None = None,
) -> Message:
    channel = channel or step.channel
    message = Message(
        debtor_id=debtor.id,
        account_id=account.id,
        step_id=step.id,
        channel=channel,
        template_key=step.template_key,
        language=Language(debtor.language),
        to_address=(debtor.phone_e164 if channel is Channel.SMS else debtor.email)
        or "",
        status=status,
        suppressed_reason=reason,
        not_before=not_before or now,
        created_at=now,
    )
    session.add(message)
    return message
