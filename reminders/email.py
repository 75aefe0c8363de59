"""The e-mail port, for debtors without a usable mobile number: console and SMTP adapters."""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol

logger = logging.getLogger(__name__)


# Subject lines by language; the creditor's name goes in front ("Nordlys Energi A/S: ...").
SUBJECTS = {
    "da": {"receipt": "Kvittering for din betaling", "": "Om din betaling"},
    "nb": {"receipt": "Kvittering for betalingen din", "": "Om betalingen din"},
    "en": {"receipt": "Receipt for your payment", "": "About your payment"},
}
SIGNATURES = {
    "da": "Venlig hilsen {creditor} (sendt via Venlig)",
    "nb": "Vennlig hilsen {creditor} (sendt via Venlig)",
    "en": "Kind regards, {creditor} (sent via Venlig)",
}


def compose(
    to: str, template_key: str, language: str, creditor: str, text: str
) -> OutgoingEmail:
    """The e-mail form of a text: the same words, a subject line and a signature."""
    language = language if language in SUBJECTS else "en"
    subjects = SUBJECTS[language]
    subject = subjects.get(template_key, subjects[""])
    signature = SIGNATURES[language].format(creditor=creditor)
    return OutgoingEmail(
        to=to,
        subject=f"{creditor}: {subject}",
        body=f"{text}\n\n{signature}\n",
        sender_name=creditor,
    )


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    body: str
    sender_name: str


@dataclass(frozen=True)
class SentEmail:
    provider_id: str


class EmailSendError(Exception):
    """The mail server refused the message; `permanent` when the address itself was refused."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class EmailSender(Protocol):
    def send(self, email: OutgoingEmail) -> SentEmail: ...


class ConsoleEmailSender:
    """Development: log the e-mail; the debtor's record shows it from the outbox."""

    def send(self, email: OutgoingEmail) -> SentEmail:
        logger.info(
            "E-mail to %s from %s: %s", email.to, email.sender_name, email.subject
        )
        return SentEmail(provider_id=f"<dev-{secrets.token_hex(12)}@venlig.invalid>")


class SmtpEmailSender:
    """Any SMTP relay with STARTTLS (or implicit TLS on port 465)."""

    def __init__(
        self, *, host: str, port: int, username: str, password: str, from_address: str
    ) -> None:
        self._host, self._port = host, port
        self._username, self._password = username, password
        self._from_address = from_address

    def send(self, email: OutgoingEmail) -> SentEmail:
        message = EmailMessage()
        message["From"] = formataddr((email.sender_name, self._from_address))
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Message-ID"] = make_msgid(domain=self._from_address.split("@")[-1])
        message.set_content(email.body)
        try:
            with self._connect() as smtp:
                if self._username:
                    smtp.login(self._username, self._password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise EmailSendError(
                f"address refused: {email.to}", permanent=True
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise EmailSendError(f"mail server: {error}") from error
        return SentEmail(provider_id=str(message["Message-ID"]))

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self._port == 465:
            return smtplib.SMTP_SSL(self._host, self._port, context=context, timeout=30)
        smtp = smtplib.SMTP(self._host, self._port, timeout=30)
        smtp.starttls(context=context)
        return smtp
