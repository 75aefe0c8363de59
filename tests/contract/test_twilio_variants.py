"""TwilioSmsSender against answers other than the document's examples.

Prism in dynamic mode (`-d`) answers with random data that fits Twilio's document: every
Message field nullable, strings where we expect numbers and dates, extra properties. A stub
server on 127.0.0.1 answers with Twilio's error shape (code, message, more_info, status), the
RFC 9457 shape of its newer APIs, a proxy's HTML page, or not in time. Every answer must
become a SentSms or our SmsSendError / SmsLookupError, each text sent once.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from reminders.sms import (
    MAX_PROVIDER_ID,
    OutgoingSms,
    SentSms,
    SmsLookupError,
    SmsSendError,
    TwilioSmsSender,
    _sent_from_twilio,
)
from tests.contract.conftest import prism_mock
from tests.contract.test_twilio_contract import ACCOUNT_SID, CALLBACK, SERVICE_SID

TEXT = OutgoingSms(to="+4520123456", body="Hej Mette. En venlig påmindelse.")
DAY = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)


@dataclass
class RoutedClient(TwilioHttpClient):
    """The library's requests to `base` instead of api.twilio.com; answers are recorded."""

    base: str = ""
    read_timeout: float = 10
    answers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(timeout=self.read_timeout)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        url = url.replace("https://api.twilio.com", self.base)
        response = super().request(method, url, *args, **kwargs)
        self.answers.append(response.text)
        return response


def sender_for(http: RoutedClient) -> TwilioSmsSender:
    return TwilioSmsSender(
        Client(ACCOUNT_SID, "test-token", http_client=http),
        messaging_service_sid=SERVICE_SID,
        status_callback_url=CALLBACK,
    )


# --- Prism, dynamic ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dynamic_mock() -> Iterator[str]:
    with prism_mock(
        "-d", "--seed", "venlig", "--json-schema-faker-fillProperties"
    ) as base:
        yield base


def test_random_schema_valid_answers_are_a_sent_text_or_an_unknown_one(
    dynamic_mock: str,
) -> None:
    http = RoutedClient(base=dynamic_mock)
    sender = sender_for(http)
    outcomes: list[SentSms | SmsSendError] = []
    for _ in range(60):
        try:
            outcomes.append(sender.send(TEXT))
        except SmsSendError as error:
            outcomes.append(error)

    assert len(http.answers) == 60  # one request per text, never a second
    for outcome in outcomes:
        if isinstance(outcome, SmsSendError):
            # Twilio said it took the text but we cannot name it: never re-sent blind.
            assert outcome.accepted_maybe, outcome
            continue
        assert 0 < len(outcome.provider_id) <= MAX_PROVIDER_ID
        assert outcome.status == outcome.status.lower()
        assert outcome.segments is None or outcome.segments > 0
    # The mock did what it is for: numbers and dates Twilio's document only calls strings.
    segments = [json.loads(a).get("num_segments") for a in http.answers]
    assert any(s is not None and not str(s).isdigit() for s in segments)
    assert sum(isinstance(o, SentSms) for o in outcomes) >= 30


def test_random_message_lists_are_read_or_refused_never_misread(
    dynamic_mock: str,
) -> None:
    http = RoutedClient(base=dynamic_mock)
    sender = sender_for(http)
    for _ in range(10):
        assert (
            sender.find_sent(
                TEXT, created_from=DAY, created_until=DAY + timedelta(hours=1)
            )
            == []  # random bodies: none is ours
        )
    # Each listed message, whatever its fields, reads as a SentSms or not at all.
    client = Client(ACCOUNT_SID, "test-token", http_client=http)
    for _ in range(10):
        for message in client.messages.page(to=TEXT.to, page_size=20):
            sent = _sent_from_twilio(message)
            assert sent.price_minor is None or sent.price_minor >= 0
            assert sent.price_currency is None or len(sent.price_currency) == 3
            assert sent.sent_at is None or sent.sent_at.tzinfo is not None
            assert sent.error_code is None or len(sent.error_code) <= 32


# --- a stub Twilio: error answers, a proxy, silence ---------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "application/json"
    delay: float = 0.0


class Stub(ThreadingHTTPServer):
    answer: Answer
    requests: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: Stub

    def _reply(self) -> None:
        self.server.requests += 1
        answer = self.server.answer
        time.sleep(answer.delay)
        body = answer.body.encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting

    def do_GET(self) -> None:
        self._reply()

    def do_POST(self) -> None:
        self._reply()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def stub_sender(stub: Stub, answer: Answer, timeout: float = 5) -> TwilioSmsSender:
    stub.answer = answer
    host, port = stub.server_address[:2]
    return sender_for(
        RoutedClient(base=f"http://{host!s}:{port}", read_timeout=timeout)
    )


def twilio_error(status: int, code: int, message: str) -> Answer:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    body = {"code": code, "message": message, "more_info": more_info, "status": status}
    return Answer(status, json.dumps(body))


RFC9457_BAD_NUMBER = {
    "type": "https://www.twilio.com/docs/errors/21211",
    "title": "Invalid 'To' Phone Number",
    "status": 400,
    "code": 21211,
}
PROXY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000


@pytest.mark.parametrize(
    ("answer", "permanent", "maybe", "code"),
    [
        pytest.param(
            twilio_error(400, 21211, "Invalid 'To'"),
            True,
            False,
            "21211",
            id="bad-number",
        ),
        pytest.param(
            twilio_error(400, 21610, "Unsubscribed"),
            True,
            False,
            "21610",
            id="opted-out",
        ),
        # Our credentials or account, not the text: see the test below.
        pytest.param(
            twilio_error(401, 20003, "Authenticate"), False, False, "20003", id="auth"
        ),
        pytest.param(
            twilio_error(429, 20429, "Too Many Requests"),
            False,
            False,
            "20429",
            id="rate-limit",
        ),
        pytest.param(
            twilio_error(503, 20503, "Unavailable"),
            False,
            False,
            "20503",
            id="unavailable",
        ),
        pytest.param(
            twilio_error(500, 20500, "Internal error"), False, True, "20500", id="500"
        ),
        pytest.param(
            Answer(502, PROXY_PAGE, "text/html"), False, True, None, id="proxy-502"
        ),
        pytest.param(
            Answer(504, "", "text/plain"), False, True, None, id="proxy-504-empty"
        ),
        pytest.param(
            Answer(200, PROXY_PAGE, "text/html"), False, True, None, id="proxy-200-html"
        ),
        pytest.param(
            Answer(201, json.dumps({"sid": None, "status": "queued"})),
            False,
            True,
            None,
            id="no-sid",
        ),
        pytest.param(
            Answer(201, json.dumps({"sid": "SM" + "1" * 90})),
            False,
            True,
            None,
            id="long-sid",
        ),
        pytest.param(Answer(201, "[]"), False, True, None, id="not-an-object"),
        # Outside the document (a string there): the SDK cannot build the message at all.
        pytest.param(
            Answer(201, json.dumps({"sid": "SM1", "date_created": 1763370000})),
            False,
            True,
            None,
            id="date-as-number",
        ),
        pytest.param(
            Answer(400, json.dumps(RFC9457_BAD_NUMBER)),
            True,
            False,
            "21211",
            id="rfc9457",
        ),
    ],
)
def test_an_error_answer_becomes_our_send_error(
    stub: Stub, answer: Answer, permanent: bool, maybe: bool, code: str | None
) -> None:
    with pytest.raises(SmsSendError) as raised:
        stub_sender(stub, answer).send(TEXT)

    error = raised.value
    assert (error.permanent, error.accepted_maybe, error.code) == (
        permanent,
        maybe,
        code,
    )
    assert len(str(error)) <= 300
    assert "<html>" not in str(error) or len(str(error)) <= 300
    assert stub.requests == 1


@pytest.mark.parametrize(
    "answer",
    [
        twilio_error(401, 20003, "Authenticate"),
        twilio_error(403, 20005, "Account not active"),
    ],
)
def test_a_refused_account_blames_no_text(stub: Stub, answer: Answer) -> None:
    with pytest.raises(SmsSendError) as raised:
        stub_sender(stub, answer).send(TEXT)

    error = raised.value
    assert error.account_refused
    assert (error.permanent, error.accepted_maybe, error.number_unusable) == (
        False,
        False,
        False,
    )


def test_an_unknown_status_and_extra_fields_are_a_sent_text(stub: Stub) -> None:
    answer = Answer(
        201,
        json.dumps(
            {
                "sid": "SMa1b2c3",  # another shape than Twilio's 34 characters
                "status": "Lost_In_Space",
                "num_segments": "many",
                "price": "not a price",
                "date_created": "yesterday-ish",
                "brand_new_field": {"nested": [1, 2]},
            }
        ),
    )

    sent = stub_sender(stub, answer).send(TEXT)

    assert sent == SentSms(provider_id="SMa1b2c3", status="lost_in_space")


def test_no_answer_in_time_may_have_reached_twilio(stub: Stub) -> None:
    with pytest.raises(SmsSendError) as raised:
        stub_sender(stub, Answer(201, "{}", delay=2), timeout=0.5).send(TEXT)

    assert raised.value.accepted_maybe
    assert not raised.value.permanent
    assert stub.requests == 1


def test_a_refused_connection_never_carried_the_text() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the test sends
    sender = sender_for(RoutedClient(base=f"http://127.0.0.1:{port}"))

    with pytest.raises(SmsSendError) as raised:
        sender.send(TEXT)

    # Safe to try again later: nothing reached Twilio.
    assert not raised.value.accepted_maybe
    assert not raised.value.permanent


@pytest.mark.parametrize(
    ("answer", "timeout"),
    [
        (twilio_error(500, 20500, "Internal error"), 5.0),
        (Answer(200, PROXY_PAGE, "text/html"), 5.0),
        (Answer(200, json.dumps({"messages": "none"})), 5.0),
        (Answer(200, "{}", delay=2), 0.5),
    ],
    ids=["500", "html", "odd-page", "timeout"],
)
def test_a_lookup_without_a_readable_answer_is_an_error_never_none_found(
    stub: Stub, answer: Answer, timeout: float
) -> None:
    with pytest.raises(SmsLookupError):
        stub_sender(stub, answer, timeout).find_sent(
            TEXT, created_from=DAY, created_until=DAY + timedelta(hours=1)
        )
