"""E-mail as the second channel: debtors without a usable mobile, and receipts."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Account, Creditor, Debtor, Message
from app.models.enums import Channel, MessageStatus
from app.services.notices import context_for, queue_notice
from reminders.dispatch import dispatch_due
from reminders.email import (
    EmailSendError,
    OutgoingEmail,
    SentEmail,
    SmtpEmailSender,
    compose,
)
from tests.fakes import FakeSmsSender
from tests.reminders.test_engine import (
    MORNING,
    creditor,  # noqa: F401  (fixture)
    link_for,
    overdue_account,
    plan,
    rules_for,
)


@dataclass
class FakeEmailSender:
    sent: list[OutgoingEmail] = field(default_factory=list)
    refuse: bool = False

    def send(self, email: OutgoingEmail) -> SentEmail:
        if self.refuse:
            raise EmailSendError("550 mailbox unavailable", permanent=True)
        self.sent.append(email)
        return SentEmail(provider_id=f"<{len(self.sent)}@test>")


def _dispatch(
    factory: sessionmaker[Session], email: FakeEmailSender | None
) -> FakeSmsSender:
    sms = FakeSmsSender()
    dispatch_due(
        factory,
        sms,
        now=MORNING,
        rules_for=rules_for,
        link_for=link_for,
        email_sender=email,
    )
    return sms


def _messages(session: Session, account: Account) -> list[Message]:
    return list(
        session.scalars(select(Message).where(Message.account_id == account.id))
    )


def test_a_debtor_without_a_mobile_gets_the_reminder_by_email(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,  # noqa: F811
) -> None:
    account = overdue_account(
        session, creditor, days=5, phone_e164=None, email="mette@example.dk"
    )
    plan(session)
    session.commit()
    email = FakeEmailSender()
    assert _dispatch(session_factory, email).sent == []
    [sent] = email.sent
    assert sent.to == "mette@example.dk"
    assert sent.subject.startswith(f"{creditor.name}: ")
    assert "/p/" in sent.body
    session.expire_all()
    [message] = _messages(session, account)
    assert (message.channel, message.status) == (Channel.EMAIL, MessageStatus.SENT)


def test_a_wrong_number_falls_back_to_email(
    session: Session,
    creditor: Creditor,  # noqa: F811
) -> None:
    account = overdue_account(
        session,
        creditor,
        days=5,
        email="lars@example.dk",
        phone_unusable_reason="wrong_number",
    )
    plan(session)
    [message] = _messages(session, account)
    assert message.channel is Channel.EMAIL


def test_without_an_email_sender_the_email_fails_visibly(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,  # noqa: F811
) -> None:
    account = overdue_account(
        session, creditor, days=5, phone_e164=None, email="a@example.dk"
    )
    plan(session)
    session.commit()
    _dispatch(session_factory, None)
    session.expire_all()
    [message] = _messages(session, account)
    assert (message.status, message.error_code) == (
        MessageStatus.FAILED,
        "no_email_sender",
    )


def test_a_refused_address_fails_the_message_and_sends_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,  # noqa: F811
) -> None:
    account = overdue_account(
        session, creditor, days=5, phone_e164=None, email="x@example.dk"
    )
    plan(session)
    session.commit()
    _dispatch(session_factory, FakeEmailSender(refuse=True))
    session.expire_all()
    assert _messages(session, account)[0].status is MessageStatus.FAILED


def test_a_receipt_goes_by_text_and_by_email_when_both_are_known(
    session: Session,
    creditor: Creditor,  # noqa: F811
) -> None:
    account = overdue_account(session, creditor, days=5, email="mette@example.dk")
    person = session.get(Debtor, account.debtor_id)
    assert person is not None
    context = context_for(session, person, currency="DKK", paid_minor=50_000)
    queue_notice(
        session,
        person,
        "receipt",
        context,
        link_for=link_for,
        now=MORNING,
        also_email=True,
    )
    channels = sorted(m.channel.value for m in session.scalars(select(Message)))
    assert channels == ["email", "sms"]


@pytest.mark.parametrize(
    ("language", "subject", "signature"),
    [
        ("da", "Kvittering for din betaling", "Venlig hilsen"),
        ("nb", "Kvittering for betalingen din", "Vennlig hilsen"),
        ("en", "Receipt for your payment", "Kind regards"),
    ],
)
def test_the_email_speaks_the_debtors_language(
    language: str, subject: str, signature: str
) -> None:
    email = compose("a@example.dk", "receipt", language, "Nordlys Energi A/S", "Tak.")
    assert email.subject == f"Nordlys Energi A/S: {subject}"
    assert signature in email.body


class FakeSmtp:
    """Stands in for smtplib.SMTP: records what the sender does."""

    calls: ClassVar[list[tuple[str, Any]]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.calls.append(("connect", (host, port)))

    def starttls(self, context: Any) -> None:
        self.calls.append(("starttls", None))

    def login(self, username: str, password: str) -> None:
        self.calls.append(("login", username))

    def send_message(self, message: EmailMessage) -> None:
        self.calls.append(("send", message))

    def __enter__(self) -> FakeSmtp:
        return self

    def __exit__(self, *args: object) -> None:
        self.calls.append(("quit", None))


def test_smtp_uses_starttls_and_logs_in(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeSmtp.calls = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSmtp)
    sender = SmtpEmailSender(
        host="smtp.example.org",
        port=587,
        username="venlig",
        password="secret",
        from_address="reminders@venlig.example",
    )
    sent = sender.send(
        compose("a@example.dk", "reminder", "da", "Nordlys Energi A/S", "Hej.")
    )
    steps = [name for name, _ in FakeSmtp.calls]
    assert steps == ["connect", "starttls", "login", "send", "quit"]
    message = FakeSmtp.calls[3][1]
    assert message["From"] == "Nordlys Energi A/S <reminders@venlig.example>"
    assert message["Subject"] == "Nordlys Energi A/S: Om din betaling"
    assert sent.provider_id == message["Message-ID"]
