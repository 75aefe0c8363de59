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
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

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
    landline, opted out at the carrier) make the number unusable. `account_refused` says the
    provider refused our account, not this message (wrong credentials, a suspended account):
    every text would meet the same answer, so none of them is to blame.
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
        account_refused: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent
        self.accepted_maybe = accepted_maybe
        self.number_unusable = number_unusable
        self.opted_out = opted_out
        self.account_refused = account_refused


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
# Refused before Twilio took the text: a rate limit, or a service not taking requests.
_REFUSED_HTTP = {429, 503}
# Unauthorised or forbidden: the credentials or the account, never the one text.
_ACCOUNT_REFUSED_HTTP = {401, 403}
# Any other 5xx (500, or a proxy's 502/504) may come after the text was created: Twilio's
# create call has no idempotency key, so such a text is never re-sent blind.
# Where our ids are kept (Message.provider_message_id); Twilio's SIDs have 34 characters.
MAX_PROVIDER_ID = 64
# Enough of a provider's message to tell what went wrong (not a proxy's whole HTML page).
_MAX_DETAIL = 300


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
        except TwilioServiceException as error:
            # The RFC 9457 error shape of Twilio's newer APIs: an HTTP answer all the same.
            raise _translate_http_error(
                error.status, error.code, error.detail or error.title
            ) from error
        except Exception as error:
            # No HTTP answer (a timeout, a dropped connection) or one we cannot read (a proxy's
            # HTML page with status 200): the text may or may not be at Twilio. Only a
            # connection never made is certain not to have carried it.
            raise SmsSendError(
                _detail(error), accepted_maybe=not _never_connected(error)
            ) from error
        return _accepted(message)

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
        except Exception as error:
            # An error answer, none at all, or a page we cannot read: never "none found".
            raise SmsLookupError(_detail(error)) from error
        return [
            _sent_from_twilio(message)
            for message in listed
            if str(message.direction or "").startswith("outbound")
            and message.body == sms.body
            and _is_instant(message.date_created)
            and created_from <= message.date_created <= created_until
            and _usable_id(message.sid)
        ]


# A debtor receives a handful of texts a day; more than this to one number is not ours.
LOOKUP_LIMIT = 200


# The Message resource in Twilio's document (twilio_api_v2010.json) has no required field
# and every one is nullable; the library passes through what it cannot parse. Only the sid
# is needed to follow a text up; everything else is read when it makes sense, else left out.


def _accepted(message: Any) -> SentSms:
    """The answer to a create call. Without a sid we can keep, the text is at Twilio (it
    said so) under a name we do not know: reconciliation finds it by its body."""
    if not _usable_id(message.sid):
        raise SmsSendError(
            f"Twilio took the text but named it {message.sid!r}", accepted_maybe=True
        )
    return SentSms(
        provider_id=message.sid,
        status=_status(message.status),
        segments=_count(message.num_segments),
    )


def _sent_from_twilio(message: Any) -> SentSms:
    price_minor = _minor_units(message.price, message.price_unit)
    return SentSms(
        provider_id=message.sid,
        status=_status(message.status),
        segments=_count(message.num_segments),
        price_minor=price_minor,
        price_currency=str(message.price_unit).upper()[:3]
        if price_minor is not None
        else None,
        sent_at=message.date_sent if _is_instant(message.date_sent) else None,
        error_code=_error_code(message.error_code),
    )


def _usable_id(sid: object) -> bool:
    return isinstance(sid, str) and 0 < len(sid.strip()) <= MAX_PROVIDER_ID


def _status(status: object) -> str:
    """Twilio's word for the state, lower case; a status newer than our code is kept as
    it is (the callers treat words they do not know as "taken, not yet delivered")."""
    return (
        str(status).strip().lower() if isinstance(status, str) and status else "queued"
    )


def _count(value: object) -> int | None:
    """`num_segments` is a string in the document ("1"); anything else is not known."""
    text = str(value).strip() if value is not None else ""
    return (
        int(text)
        if text.isascii() and text.isdigit() and 0 < int(text) < 1000
        else None
    )


def _error_code(value: object) -> str | None:
    return str(value)[:32] if value not in (None, "", 0) else None


def _is_instant(value: object) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None


def _minor_units(price: object, currency: object) -> int | None:
    """Twilio quotes a cost as a negative decimal ("-0.00750"); we keep it in whole minor
    units of its currency, rounded to the nearest. A price or currency we cannot read is
    not known rather than an error: the text went out all the same."""
    if not price or not isinstance(currency, str) or len(currency) != 3:
        return None
    try:
        amount = abs(Decimal(str(price)))
        exponent = Decimal(1).scaleb(get_currency_precision(currency.upper()))
        minor = int((amount * exponent).to_integral_value(ROUND_HALF_UP))
    except (ArithmeticError, ValueError):
        return None
    return minor if minor < 2**63 else None


def _translate_rest_error(error: TwilioRestException) -> SmsSendError:
    return _translate_http_error(error.status, error.code, error.msg)


def _translate_http_error(
    status: object, code: object, message: object
) -> SmsSendError:
    """Twilio's error answer (the document's code, message, more_info, status) as ours.

    Without a JSON body the library gives the HTTP status as the code: it is then none.
    """
    text = _shorten(str(message or f"HTTP {status}"))
    code_text = str(code)[:32] if code not in (None, "", status) else None
    if code_text in _OPTED_OUT:
        return SmsSendError(text, code=code_text, permanent=True, opted_out=True)
    if code_text in _NUMBER_UNUSABLE:
        return SmsSendError(text, code=code_text, permanent=True, number_unusable=True)
    if status in _ACCOUNT_REFUSED_HTTP:
        return SmsSendError(text, code=code_text, account_refused=True)
    if status in _REFUSED_HTTP:
        return SmsSendError(text, code=code_text)
    if isinstance(status, int) and status >= 500:
        return SmsSendError(text, code=code_text, accepted_maybe=True)
    return SmsSendError(text, code=code_text, permanent=True)


def _never_connected(error: BaseException) -> bool:
    """True when no connection to the provider was made, so no request went out: refused,
    no route, name not resolved, or a connect timeout (requests/urllib3 say so by type)."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if type(current).__name__ in _NOT_CONNECTED or isinstance(
            current, ConnectionRefusedError
        ):
            return True
        pending += [current.__cause__, current.__context__, *current.args]
        pending.append(getattr(current, "reason", None))
    return False


# urllib3's and requests' names for "the connection was never made", read by name so that
# this module does not depend on the HTTP library underneath the provider's SDK.
_NOT_CONNECTED = {
    "NewConnectionError",
    "NameResolutionError",
    "ConnectTimeoutError",
    "ConnectTimeout",
}


def _detail(error: BaseException) -> str:
    return _shorten(f"{type(error).__name__}: {error}")


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"
