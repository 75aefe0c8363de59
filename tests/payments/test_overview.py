"""The debtor's overview: each account's balance and its story, read in one go."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.models import Account, Message
from app.models.enums import Channel, Language, LedgerKind, MessageStatus
from app.services.ledger import post_entry
from payments.overview import Happening, accounts_for
from tests.factories import make_account, make_creditor, make_debtor


def _text(
    session: Session,
    account: Account,
    status: MessageStatus,
    now: datetime,
    sent_at: datetime | None = None,
) -> None:
    session.add(
        Message(
            debtor_id=account.debtor_id,
            account_id=account.id,
            channel=Channel.SMS,
            template_key="reminder",
            language=Language.DA,
            to_address="+4520000000",
            body="Hej",
            status=status,
            not_before=now,
            created_at=now,
            sent_at=sent_at,
        )
    )
    session.flush()


def test_the_story_tells_entries_and_sent_reminders_in_order(
    session: Session, now: datetime
) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now, amount_minor=100_000)
    other = make_account(
        session, debtor, now + timedelta(seconds=1), amount_minor=5_000
    )
    for status, offset in (
        (MessageStatus.DELIVERED, 1),
        (MessageStatus.SENT, 2),
        (MessageStatus.UNKNOWN, 3),
    ):
        _text(session, account, status, now, now + timedelta(hours=offset))
    for status in (
        MessageStatus.QUEUED,
        MessageStatus.FAILED,
    ):  # never reached the debtor
        _text(session, account, status, now)
    post_entry(
        session, account, LedgerKind.PAYMENT, 30_000, now=now + timedelta(hours=4)
    )
    post_entry(session, account, LedgerKind.FEE, 2_500, now=now + timedelta(hours=5))

    views = {view.account.id: view for view in accounts_for(session, debtor)}

    assert views[account.id].balance_minor == 100_000 - 30_000 + 2_500
    assert views[account.id].history == [
        Happening(at=now, kind="charge", amount_minor=100_000),
        Happening(at=now + timedelta(hours=1), kind="reminder"),
        Happening(at=now + timedelta(hours=2), kind="reminder"),
        Happening(at=now + timedelta(hours=3), kind="reminder"),
        Happening(at=now + timedelta(hours=4), kind="payment", amount_minor=30_000),
        Happening(at=now + timedelta(hours=5), kind="fee", amount_minor=2_500),
    ]
    assert views[other.id].balance_minor == 5_000
    assert views[other.id].history == [
        Happening(at=now + timedelta(seconds=1), kind="charge", amount_minor=5_000)
    ]
