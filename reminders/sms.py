"""The SMS port: what the engine needs from a provider, and the adapters behind it."""

from __future__ import annotations

import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from babel.numbers import get_currency_precision
from twilio.base.exceptions import TwilioException, TwilioRestException

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingSms:
    to: str
    body: str
    sender_name: str | None = None


@dataclass(frozen=True)
class SentSms:
    """A message the provider holds; `status` is the provider's own word for its state.

    `sent_at` and `error_code` are known when the message is looked up later, not when the
    provider first accepts it.
    """

    provider_id: str
    status: str
    segments: int | None = None
    price_minor: int | None = None
    price_currency: str | None = None
    sent_at: datetime | None = None
    error_code: str | None = None


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


class SmsLookupError(Exception):
    """The provider could not say which messages it holds (outage, rate limit, timeout)."""


class SmsSender(Protocol):
    def send(self, sms: OutgoingSms) -> SentSms: ...

    def find_sent(
        self, sms: OutgoingSms, *, created_from: datetime, created_until: datetime
    ) -> list[SentSms]:
        """The provider's outbound messages to `sms.to` with exactly `sms.body`, taken
        between the two instants; raises SmsLookupError when the provider cannot answer."""
        ...


# The dev sender remembers this many texts for lookups; a dev worker sends far fewer.
CONSOLE_MEMORY = 10_000


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class ConsoleSmsSender:
    """Development: log the text; the dev phone shows it from the outbox.

    It stands in for the provider, so it also remembers what it took (in this process, as
    the provider's own records) and stamps each text with its own clock, as a provider does.
    """

    def __init__(self, clock: Callable[[], datetime] = _wall_clock) -> None:
        self._clock = clock
        self._taken: deque[tuple[OutgoingSms, SentSms, datetime]] = deque(
            maxlen=CONSOLE_MEMORY
        )
        self._lock = threading.Lock()

    def send(self, sms: OutgoingSms) -> SentSms:
        provider_id = f"SMdev{secrets.token_hex(15)}"
        logger.info(
            "SMS to %s from %s: %s", sms.to, sms.sender_name or "Venlig", sms.body
        )
        taken_at = self._clock()
        sent = SentSms(provider_id=provider_id, status="delivered", sent_at=taken_at)
        with self._lock:
            self._taken.append((sms, sent, taken_at))
        return sent

    def find_sent(
        self, sms: OutgoingSms, *, created_from: datetime, created_until: datetime
    ) -> list[SentSms]:
        with self._lock:
            taken = list(self._taken)
        return [
            sent
            for earlier, sent, taken_at in taken
            if (earlier.to, earlier.body) == (sms.to, sms.body)
            and created_from <= taken_at <= created_until
        ]


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

    def find_sent(
        self, sms: OutgoingSms, *, created_from: datetime, created_until: datetime
    ) -> list[SentSms]:
        """Twilio filters lists by recipient and by the day a message was sent (DateSent is
        documented as a date), so we ask from the start of that UTC day and compare the
        creation time and the body ourselves. A message Twilio has not sent yet is not
        listed; Twilio's lists are also eventually consistent: an empty answer means
        "not yet", and the caller decides when to stop asking. One page is enough: a
        debtor gets a few texts a day, never LOOKUP_LIMIT."""
        day_start = created_from.astimezone(UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        try:
            listed = list(
                self._client.messages.page(
                    to=sms.to, date_sent_after=day_start, page_size=LOOKUP_LIMIT
                )
            )
        except TwilioException as error:
            raise SmsLookupError(str(error)) from error
        return [
            _sent_from_twilio(message)
            for message in listed
            if str(message.direction or "").startswith("outbound")
            and message.body == sms.body
            and message.date_created is not None
            and created_from <= message.date_created <= created_until
        ]


# A debtor receives a handful of texts a day; more than this to one number is not ours.
LOOKUP_LIMIT = 200


def _sent_from_twilio(message: Any) -> SentSms:
    return SentSms(
        provider_id=message.sid,
        status=str(message.status or "queued"),
        segments=int(message.num_segments) if message.num_segments else None,
        price_minor=_minor_units(message.price, message.price_unit),
        price_currency=message.price_unit.upper() if message.price else None,
        sent_at=message.date_sent,
        error_code=str(message.error_code) if message.error_code else None,
    )


def _minor_units(price: str | None, currency: str | None) -> int | None:
    """Twilio quotes a cost as a negative decimal ("-0.00750"); we keep it in whole minor
    units of its currency, rounded to the nearest."""
    if not price or not currency:
        return None
    exponent = Decimal(1).scaleb(get_currency_precision(currency.upper()))
    return int((abs(Decimal(price)) * exponent).to_integral_value(ROUND_HALF_UP))


def _translate_rest_error(error: TwilioRestException) -> SmsSendError:
    code = str(error.code) if error.code is not None else None
    if code in _OPTED_OUT:
        return SmsSendError(error.msg, code=code, permanent=True, opted_out=True)
    if code in _NUMBER_UNUSABLE:
        return SmsSendError(error.msg, code=code, permanent=True, number_unusable=True)
    if error.status in _RETRYABLE_HTTP:
        return SmsSendError(error.msg, code=code)
    return SmsSendError(error.msg, code=code, permanent=True)
