"""The dispatcher: send queued messages whose time has come, at most once each.

Each message is claimed (queued -> sending) and committed, then checked again and its text
written and committed, and only then handed to the provider; the answer is recorded in a
third transaction. A crash can never lead to a second send: a message left in `sending` may
have reached the provider and is marked `unknown`, never re-sent blind. Its stored body and
`status_updated_at` (the moment it was claimed, kept while it is unknown) let the status
callback or the reconciliation job (reminders.reconcile) settle it; one without a body never
reached the provider.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.models import Account, Creditor, Debtor, Message
from app.models.enums import Channel, DecisionOutcome, MessageStatus
from app.services.ledger import balance_of
from app.services.portal_links import issue_link
from app.services.texts import TextContext, render_step_text
from reminders.decisions import record_decision
from reminders.email import EmailSender, EmailSendError, compose
from reminders.planner import RulesFor
from reminders.policy import AccountStatus as PolicyAccountStatus
from reminders.policy import Channel as PolicyChannel
from reminders.policy import (
    ContactKind,
    DebtorContactState,
    Decision,
    Defer,
    ProposedContact,
    Suppress,
    decide_contact,
)
from reminders.segments import count_segments
from reminders.sms import OutgoingSms, SentSms, SmsSender, SmsSendError
from reminders.state import ContactFacts
from reminders.status import FROM_PROVIDER, apply_early_statuses

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Why a text the provider refused for good was held back (beside the policy's reasons).
PROVIDER_ERROR = "provider_error"
# How long texts wait when the provider refuses our account (credentials, suspension).
ACCOUNT_REFUSED_RETRY = timedelta(minutes=15)
STALE_SENDING = timedelta(minutes=10)
LinkFor = Callable[[str], str]


@dataclass
class DispatchResult:
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    failed: int = 0
    retried: int = 0
    unknown: int = 0
    claimed: int = 0

    def add(self, other: DispatchResult) -> None:
        for name in vars(other):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def claim_due(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Mark up to `limit` due messages `sending` and return their ids (commit right after).

    On PostgreSQL concurrent workers skip each other's rows (FOR UPDATE SKIP LOCKED).
    Oldest first by `not_before` alone: a tick queues thousands of texts at one instant,
    and a tie-break would make the database sort all of them for every claim.
    """
    due = (
        select(Message.id)
        .where(Message.status == MessageStatus.QUEUED, Message.not_before <= now)
        .order_by(Message.not_before)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(due))
    if ids:
        session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.status == MessageStatus.QUEUED)
            .values(status=MessageStatus.SENDING, status_updated_at=now)
        )
    return ids


def dispatch_due(
    sessions: sessionmaker[Session],
    sender: SmsSender,
    *,
    now: datetime,
    rules_for: RulesFor,
    link_for: LinkFor,
    limit: int = 200,
    email_sender: EmailSender | None = None,
    send_threads: int = 1,
) -> DispatchResult:
    """Claim due messages, check and write them, send them, record the answers.

    Three short transactions per claim, whatever its size; the provider is called between
    the second and the third, by up to `send_threads` threads at once (sending is waiting
    on the network). Each claimed message moves queued -> sending -> its outcome once.
    """
    with sessions.begin() as session:
        ids = claim_due(session, now=now, limit=limit)
    result = DispatchResult(claimed=len(ids))
    if not ids:
        return result
    with sessions.begin() as session:
        ready = prepare_claimed(
            session,
            ids,
            now=now,
            rules_for=rules_for,
            link_for=link_for,
            result=result,
            email_sender=email_sender,
        )
    outcomes = _send_all(sender, [r.sms for r in ready], send_threads)
    with sessions.begin() as session:
        claimed = _by_id(session, Message, {one.message_id for one in ready})
        taken = _recorded_ids(session, outcomes)
        for one, outcome in zip(ready, outcomes, strict=True):
            record_outcome(
                session,
                claimed[one.message_id],
                outcome,
                now=now,
                result=result,
                taken=taken,
            )
        session.flush()
        apply_early_statuses(session, _provider_ids(outcomes), now=now)
    return result


def _provider_ids(outcomes: list[SentSms | SmsSendError]) -> list[str]:
    return [o.provider_id for o in outcomes if isinstance(o, SentSms)]


def _recorded_ids(session: Session, outcomes: list[SentSms | SmsSendError]) -> set[str]:
    """The provider ids among `outcomes` that other texts already hold."""
    ids = _provider_ids(outcomes)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Message.provider_message_id).where(
                Message.provider_message_id.in_(ids)
            )
        )
    )


def _send_all(
    sender: SmsSender, texts: list[OutgoingSms], threads: int
) -> list[SentSms | SmsSendError]:
    if threads <= 1 or len(texts) <= 1:
        return _send_in_turn(sender, texts)
    with ThreadPoolExecutor(max_workers=min(threads, len(texts))) as pool:
        return list(pool.map(partial(call_provider, sender), texts))


def _send_in_turn(
    sender: SmsSender, texts: list[OutgoingSms]
) -> list[SentSms | SmsSendError]:
    """Each text in turn; once the provider refuses our account, the rest are not tried:
    they would only meet the same answer."""
    outcomes: list[SentSms | SmsSendError] = []
    for sms in texts:
        refused = next(
            (o for o in outcomes if isinstance(o, SmsSendError) and o.account_refused),
            None,
        )
        outcomes.append(refused or call_provider(sender, sms))
    return outcomes


def deliver_one(
    session: Session,
    sender: SmsSender,
    message_id: int,
    *,
    now: datetime,
    rules_for: RulesFor,
    link_for: LinkFor,
    result: DispatchResult,
    email_sender: EmailSender | None = None,
) -> None:
    """Check, send and record one claimed message within the caller's transaction."""
    for ready in prepare_claimed(
        session,
        [message_id],
        now=now,
        rules_for=rules_for,
        link_for=link_for,
        result=result,
        email_sender=email_sender,
    ):
        message = session.get(Message, ready.message_id)
        assert message is not None
        outcome = call_provider(sender, ready.sms)
        record_outcome(session, message, outcome, now=now, result=result)
        session.flush()
        apply_early_statuses(session, _provider_ids([outcome]), now=now)


@dataclass(frozen=True)
class ReadySms:
    """A claimed text that passed the policy, its body written: ready for the provider."""

    message_id: int
    sms: OutgoingSms


def prepare_claimed(
    session: Session,
    message_ids: list[int],
    *,
    now: datetime,
    rules_for: RulesFor,
    link_for: LinkFor,
    result: DispatchResult,
    email_sender: EmailSender | None = None,
) -> list[ReadySms]:
    """Re-check the policy for claimed messages, in claim order: put each back, suppress
    it, send it by e-mail, or write its SMS body and return it for the provider.

    The facts are read once for all of them; a text allowed here counts against its
    debtor's caps for the rest of the claim, as if already sent.
    """
    by_id = {
        m.id: m
        for m in session.scalars(
            select(Message).where(
                Message.id.in_(message_ids), Message.status == MessageStatus.SENDING
            )
        )
    }
    messages = [by_id[i] for i in message_ids if i in by_id]
    debtors = _by_id(session, Debtor, {m.debtor_id for m in messages})
    accounts = _by_id(
        session, Account, {m.account_id for m in messages if m.account_id is not None}
    )
    facts = ContactFacts(session, accounts.values(), now, debtors=debtors)
    creditors = _by_id(session, Creditor, {d.creditor_id for d in debtors.values()})
    ready: list[ReadySms] = []
    for message in messages:
        debtor = debtors[message.debtor_id]
        account = accounts.get(message.account_id) if message.account_id else None
        decision = (
            _reminder_decision(message, account, debtor, facts, rules_for, now)
            if account is not None
            else _text_decision(message, debtor, rules_for, now)
        )
        if not _allowed_now(session, message, decision, now, result):
            continue
        facts.count_contact(debtor.id, now)
        if message.channel is Channel.EMAIL:
            _send_email(
                session,
                email_sender,
                message,
                account,
                debtor,
                creditors[debtor.creditor_id],
                now=now,
                link_for=link_for,
                result=result,
            )
        else:
            ready.append(
                _render_sms(
                    session,
                    message,
                    account,
                    debtor,
                    creditors[debtor.creditor_id],
                    now=now,
                    link_for=link_for,
                )
            )
    # Stored once all are rendered: issuing each text's link flushes as it goes, and the
    # messages' own changes then reach the database together, in one statement.
    for one in ready:
        _store_body(by_id[one.message_id], one.sms.body)
    return ready


_Model = TypeVar("_Model", Account, Creditor, Debtor, Message)


def _by_id(session: Session, model: type[_Model], ids: set[int]) -> dict[int, _Model]:
    return {
        row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))
    }


def _reminder_decision(
    message: Message,
    account: Account,
    debtor: Debtor,
    facts: ContactFacts,
    rules_for: RulesFor,
    now: datetime,
) -> Decision:
    """The debtor may have paid, opted out or disputed since the message was planned."""
    return decide_contact(
        facts.state_for(account),
        ProposedContact(PolicyChannel(message.channel.value), ContactKind.REMINDER),
        rules_for(account, debtor),
        now,
    )


# Texts without an account: answers to the debtor's own message or action, and notices.
_CONFIRMATIONS = frozenset({"stop_confirmation", "cease_confirmation"})
_ANSWERS = frozenset({"start_confirmation", "help", "receipt"})


def _text_decision(
    message: Message, debtor: Debtor, rules_for: RulesFor, now: datetime
) -> Decision:
    """Keyword answers, receipts and notices: checked again just before sending too."""
    if message.template_key in _CONFIRMATIONS:
        kind, answering = ContactKind.STOP_CONFIRMATION, message.created_at
    elif message.template_key in _ANSWERS:
        kind, answering = ContactKind.REPLY, message.created_at
    else:
        kind, answering = ContactKind.NOTICE, None
    return decide_contact(
        DebtorContactState(
            time_zone=debtor.timezone,
            country_code=debtor.country,
            account_status=PolicyAccountStatus.OPEN,
            account_due_on=message.created_at.date(),
            opted_out=_opted_out(debtor),
            cease_contact=debtor.cease_contact_at is not None
            and message.template_key not in _CONFIRMATIONS,
            phone_unusable=debtor.phone_unusable_reason is not None,
        ),
        ProposedContact(PolicyChannel(message.channel.value), kind, answering),
        rules_for(None, debtor),
        now,
    )


def _opted_out(debtor: Debtor) -> frozenset[PolicyChannel]:
    channels = set()
    if debtor.sms_opted_out_at is not None:
        channels.add(PolicyChannel.SMS)
    if debtor.email_opted_out_at is not None:
        channels.add(PolicyChannel.EMAIL)
    return frozenset(channels)


def _allowed_now(
    session: Session,
    message: Message,
    decision: Decision,
    now: datetime,
    result: DispatchResult,
) -> bool:
    if isinstance(decision, Suppress):
        message.status = MessageStatus.SUPPRESSED
        message.suppressed_reason = decision.reason.value
        record_decision(
            session, message, DecisionOutcome.SUPPRESSED, decision.reason.value, now=now
        )
        result.suppressed += 1
        return False
    if isinstance(decision, Defer):
        message.status = MessageStatus.QUEUED
        message.not_before = decision.until
        record_decision(
            session,
            message,
            DecisionOutcome.DEFERRED,
            decision.reason.value,
            now=now,
            defer_until=decision.until,
        )
        result.deferred += 1
        return False
    return True


def _render_sms(
    session: Session,
    message: Message,
    account: Account | None,
    debtor: Debtor,
    creditor: Creditor,
    *,
    now: datetime,
    link_for: LinkFor,
) -> ReadySms:
    body = message.body or render_step_text(
        session,
        message.step_id,
        message.template_key,
        message.language.value,
        _context(session, creditor, debtor, account, now=now, link_for=link_for),
    )
    return ReadySms(
        message.id,
        OutgoingSms(
            to=message.to_address, body=body, sender_name=creditor.sms_sender_name
        ),
    )


def _store_body(message: Message, body: str) -> None:
    message.body = body
    message.attempts += 1
    message.segments = count_segments(body).segments


def call_provider(sender: SmsSender, sms: OutgoingSms) -> SentSms | SmsSendError:
    """The provider's answer, or why it gave none.

    A sender that fails in a way it did not foresee may have handed the text over first:
    that text is unknown, never re-sent blind, and the claim's other answers still count.
    """
    try:
        return sender.send(sms)
    except SmsSendError as error:
        return error
    except Exception as error:
        logger.exception("the SMS sender failed unexpectedly")
        return SmsSendError(
            f"{type(error).__name__}: {error}"[:300], accepted_maybe=True
        )


def record_outcome(
    session: Session,
    message: Message,
    outcome: SentSms | SmsSendError,
    *,
    now: datetime,
    result: DispatchResult,
    taken: set[str] | None = None,
) -> None:
    """Record what the provider said about a text it was handed.

    `taken`: provider ids other texts hold already (looked up when not given); each id
    recorded here joins it.
    """
    if isinstance(outcome, SmsSendError):
        debtor = session.get(Debtor, message.debtor_id)
        assert debtor is not None
        _failed(session, message, debtor, outcome, now, result)
        return
    if taken is None:
        taken = _recorded_ids(session, [outcome])
    if outcome.provider_id in taken:
        # A provider (or a mock of one) that names two texts alike: this one went out all
        # the same, but callbacks for that id can only reach the text that holds it.
        logger.warning(
            "message %s: provider id %s is already another text's; kept without it",
            message.id,
            outcome.provider_id,
        )
    else:
        message.provider_message_id = outcome.provider_id
        taken.add(outcome.provider_id)
    # Mostly "queued"; a provider (or a mock) may answer that the text failed at once.
    message.status = FROM_PROVIDER.get(
        (outcome.status or "").strip().lower(), MessageStatus.SENT
    )
    message.segments = outcome.segments or message.segments
    message.price_minor, message.price_currency = (
        outcome.price_minor,
        outcome.price_currency,
    )
    message.sent_at = message.status_updated_at = now
    if message.status in (MessageStatus.FAILED, MessageStatus.UNDELIVERED):
        result.failed += 1
    else:
        result.sent += 1


def _send_email(
    session: Session,
    sender: EmailSender | None,
    message: Message,
    account: Account | None,
    debtor: Debtor,
    creditor: Creditor,
    *,
    now: datetime,
    link_for: LinkFor,
    result: DispatchResult,
) -> None:
    text = message.body or render_step_text(
        session,
        message.step_id,
        message.template_key,
        message.language.value,
        _context(session, creditor, debtor, account, now=now, link_for=link_for),
    )
    message.body, message.attempts = text, message.attempts + 1
    if sender is None:
        # A worker without e-mail settings must not pretend: the text stays visible as failed.
        message.status, message.error_code = MessageStatus.FAILED, "no_email_sender"
        result.failed += 1
        return
    email = compose(
        message.to_address,
        message.template_key,
        message.language.value,
        creditor.name,
        text,
    )
    try:
        sent = sender.send(email)
    except EmailSendError as error:
        message.status, message.error_code = MessageStatus.FAILED, "email_refused"
        message.status_updated_at = now
        logger.warning("e-mail %s not sent: %s", message.id, error)
        result.failed += 1
        return
    message.provider_message_id = sent.provider_id[:64]
    message.status, message.sent_at = MessageStatus.SENT, now
    message.status_updated_at = now
    result.sent += 1


def _context(
    session: Session,
    creditor: Creditor,
    debtor: Debtor,
    account: Account | None,
    *,
    now: datetime,
    link_for: LinkFor,
) -> TextContext:
    show_amount = creditor.show_amount_in_sms and account is not None
    return TextContext(
        first_name=debtor.first_name,
        creditor=creditor.name,
        link=link_for(issue_link(session, debtor, now=now)),
        support_phone=creditor.support_phone or "",
        amount_minor=balance_of(session, account.id)
        if show_amount and account
        else None,
        currency=account.currency if account else None,
    )


def _failed(
    session: Session,
    message: Message,
    debtor: Debtor,
    error: SmsSendError,
    now: datetime,
    result: DispatchResult,
) -> None:
    message.error_code = error.code[:32] if error.code else None
    if error.accepted_maybe:
        # `status_updated_at` stays the claim's: the window reconciliation searches.
        message.status = MessageStatus.UNKNOWN
        result.unknown += 1
        logger.warning(
            "message %s may have been sent (%s): marked unknown", message.id, error
        )
        return
    message.status_updated_at = now
    if error.account_refused:
        # Not this text's fault: it waits, its attempt uncounted, until the account works.
        message.status = MessageStatus.QUEUED
        message.attempts -= 1
        message.not_before = now + ACCOUNT_REFUSED_RETRY
        result.retried += 1
        logger.error(
            "the SMS provider refuses our account (%s): message %s waits",
            error,
            message.id,
        )
        return
    if error.permanent or message.attempts >= MAX_ATTEMPTS:
        message.status = MessageStatus.FAILED
        reason = _mark_unreachable(debtor, error, now)
        record_decision(session, message, DecisionOutcome.SUPPRESSED, reason, now=now)
        result.failed += 1
        return
    # Refused before acceptance (rate limit, provider outage): safe to try again later.
    message.status = MessageStatus.QUEUED
    message.not_before = now + timedelta(minutes=2**message.attempts)
    result.retried += 1


def _mark_unreachable(debtor: Debtor, error: SmsSendError, now: datetime) -> str:
    if error.opted_out:
        debtor.sms_opted_out_at = debtor.sms_opted_out_at or now
        return "opted_out"
    if error.number_unusable:
        debtor.phone_unusable_reason = f"provider_{error.code}"
        return "bad_number"
    return PROVIDER_ERROR


def mark_stale_sending_unknown(session: Session, *, now: datetime) -> int:
    """Messages stuck in `sending` (a worker died mid-send) may have gone out: mark unknown.

    `status_updated_at` keeps the moment the message was claimed: the provider, if it got
    the text at all, got it then or soon after, and reconciliation looks there.
    """
    stale_ids = list(
        session.scalars(
            select(Message.id).where(
                Message.status == MessageStatus.SENDING,
                Message.status_updated_at < now - STALE_SENDING,
            )
        )
    )
    session.execute(
        update(Message)
        .where(Message.id.in_(stale_ids), Message.status == MessageStatus.SENDING)
        .values(status=MessageStatus.UNKNOWN)
    )
    for message_id in stale_ids:
        logger.warning(
            "message %s was left sending by a stopped worker: unknown", message_id
        )
    return len(stale_ids)
