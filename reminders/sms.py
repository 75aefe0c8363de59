"""The SMS port: what the engine needs from a provider, and the adapters behind it."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from twilio.base.exceptions import TwilioException, TwilioRestException

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingSms:
    to: str
    body: str
    sender_name: str | None = None


@dataclass(frozen=True)
class SentSms:
    """The provider accepted the message; `status` is its first reported status."""

    provider_id: str
    status: str
    segments: int | None = None
    price_minor: int | None = None
    price_currency: str | None = None


class SmsSendError(Exception):
    """The provider did not take the message.

    `accepted_maybe` is True when the request may have reached the provider (a timeout after
    sending): such a message must never be re-sent blind. `permanent` errors (invalid number,
    landline, opted out at the carrier) make the number unusable.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        permanent: bool = False,
        accepted_maybe: bool = False,
        number_unusable: bool = False,
        opted_out: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent
        self.accepted_maybe = accepted_maybe
        self.number_unusable = number_unusable
        self.opted_out = opted_out


class SmsSender(Protocol):
    def send(self, sms: OutgoingSms) -> SentSms: ...


class ConsoleSmsSender:
    """Development: log the text; the dev phone shows it from the outbox."""

    def send(self, sms: OutgoingSms) -> SentSms:
        provider_id = f"SMdev{secrets.token_hex(15)}"
        logger.info(
            "SMS to %s from %s: %s", sms.to, sms.sender_name or "Venlig", sms.body
        )
        return SentSms(provider_id=provider_id, status="delivered")


# Twilio error codes: https://www.twilio.com/docs/api/errors
_OPTED_OUT = {"21610"}
_NUMBER_UNUSABLE = {"21211", "21614", "21612", "21408", "30006", "21265"}
_RETRYABLE_HTTP = {429, 500, 502, 503, 504}


class TwilioSmsSender:
    """Twilio Programmable Messaging through a Messaging Service, with status callbacks."""

    def __init__(
        self,
        client: Any,
        *,
        messaging_service_sid: str,
        status_callback_url: str,
    ) -> None:
        self._client = client
        self._messaging_service_sid = messaging_service_sid
        self._status_callback_url = status_callback_url

    def send(self, sms: OutgoingSms) -> SentSms:
        if not sms.body.strip():
            raise SmsSendError("refusing to send an empty SMS", permanent=True)
        params: dict[str, Any] = {
            "to": sms.to,
            "body": sms.body,
            "messaging_service_sid": self._messaging_service_sid,
            "status_callback": self._status_callback_url,
        }
        if sms.sender_name:
            params["from_"] = sms.sender_name
        try:
            message = self._client.messages.create(**params)
        except TwilioRestException as error:
            raise _translate_rest_error(error) from error
        except TwilioException as error:
            # No HTTP answer: the request may or may not have reached Twilio.
            raise SmsSendError(str(error), accepted_maybe=True) from error
        return SentSms(
            provider_id=message.sid,
            status=str(message.status or "queued"),
            segments=int(message.num_segments) if message.num_segments else None,
        )


def _translate_rest_error(error: TwilioRestException) -> SmsSendError:
    code = str(error.code) if error.code is not None else None
    if code in _OPTED_OUT:
        return SmsSendError(error.msg, code=code, permanent=True, opted_out=True)
    if code in _NUMBER_UNUSABLE:
        return SmsSendError(error.msg, code=code, permanent=True, number_unusable=True)
    if error.status in _RETRYABLE_HTTP:
        return SmsSendError(error.msg, code=code)
    return SmsSendError(error.msg, code=code, permanent=True)
