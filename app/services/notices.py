"""Transactional texts caused by the debtor's own actions: receipts, failed charges, nudges.

They go through the outbox like reminders (the dispatcher sends queued rows), but with their
body written now and no account attached, so the reminder policy does not hold back a receipt
for a paid account. A debtor who said STOP, asked us to stop, or whose number is wrong gets
none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from app.models import Creditor, Debtor, Message
from app.models.enums import Channel, Language, MessageStatus
from app.services.portal_links import issue_link
from app.services.texts import TextContext, render_text

LinkFor = Callable[[str], str]


def may_text(debtor: Debtor) -> bool:
    return bool(
        debtor.phone_e164
        and debtor.sms_opted_out_at is None
        and debtor.cease_contact_at is None
        and debtor.phone_unusable_reason is None
    )


def may_email(debtor: Debtor) -> bool:
    return bool(
        debtor.email
        and debtor.email_opted_out_at is None
        and debtor.cease_contact_at is None
    )


def queue_notice(
    session: Session,
    debtor: Debtor,
    template_key: str,
    context: TextContext,
    *,
    link_for: LinkFor,
    now: datetime,
    also_email: bool = False,
) -> Message | None:
    """Queue one text for `debtor` with a fresh portal link; None when we may not text.

    A debtor we cannot text gets it by e-mail when we know the address; `also_email` sends
    both (a receipt is worth keeping in one's inbox).
    """
    channels = [Channel.SMS] if may_text(debtor) else []
    if may_email(debtor) and (also_email or not channels):
        channels.append(Channel.EMAIL)
    queued = [
        _queue(
            session, debtor, template_key, context, channel, link_for=link_for, now=now
        )
        for channel in channels
    ]
    return queued[0] if queued else None


def _queue(
    session: Session,
    debtor: Debtor,
    template_key: str,
    context: TextContext,
    channel: Channel,
    *,
    link_for: LinkFor,
    now: datetime,
) -> Message:
    creditor = session.get(Creditor, debtor.creditor_id)
    assert creditor is not None
    link = link_for(issue_link(session, debtor, now=now))
    body = render_text(
        template_key,
        debtor.language.value,
        replace(context, link=link, support_phone=creditor.support_phone or ""),
    )
    message = Message(
        debtor_id=debtor.id,
        account_id=None,
        step_id=None,
        channel=channel,
        template_key=template_key,
        language=Language(debtor.language),
        to_address=(debtor.phone_e164 if channel is Channel.SMS else debtor.email)
        or "",
        body=body,
        status=MessageStatus.QUEUED,
        not_before=now,
        created_at=now,
    )
    session.add(message)
    return message


def context_for(
    session: Session,
    debtor: Debtor,
    *,
    currency: str | None = None,
    paid_minor: int | None = None,
    balance_minor: int | None = None,
    on_date: date | None = None,
) -> TextContext:
    """The context of a notice; the balance is named only if the creditor opted in."""
    creditor = session.get(Creditor, debtor.creditor_id)
    assert creditor is not None
    show_balance = creditor.show_amount_in_sms and balance_minor and balance_minor > 0
    return TextContext(
        first_name=debtor.first_name,
        creditor=creditor.name,
        link="",  # filled in by queue_notice
        amount_minor=balance_minor if show_balance else None,
        currency=currency,
        paid_minor=paid_minor,
        on_date=on_date,
    )
