"""Our Twilio calls against a mock generated from Twilio's OpenAPI document.

Prism validates each request against the document (422 for a violation) and answers with the
document's examples, so these tests catch a parameter we name wrongly or leave out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from reminders.sms import (
    OutgoingSms,
    SentSms,
    SmsLookupError,
    SmsSendError,
    TwilioSmsSender,
)

ACCOUNT_SID = "AC" + "a" * 32
SERVICE_SID = "MG" + "b" * 32
CALLBACK = "https://venlig.example/webhooks/twilio/status"


@dataclass
class MockRoutedClient(TwilioHttpClient):
    """Sends the library's requests to the mock instead of api.twilio.com, and records them."""

    base: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(timeout=10)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        url = url.replace("https://api.twilio.com", self.base)
        params = kwargs.get("params") or {}
        query = urlencode({k: v for k, v in params.items() if v is not None})
        self.sent.append(
            {
                "method": method,
                "url": f"{url}?{query}" if query else url,
                "data": dict(kwargs.get("data") or {}),
            }
        )
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def http(twilio_mock: str) -> MockRoutedClient:
    return MockRoutedClient(base=twilio_mock)


def sender(http: MockRoutedClient, service_sid: str = SERVICE_SID) -> TwilioSmsSender:
    client = Client(ACCOUNT_SID, "test-token", http_client=http)
    return TwilioSmsSender(
        client, messaging_service_sid=service_sid, status_callback_url=CALLBACK
    )


def test_a_reminder_is_accepted_by_the_api_as_documented(
    http: MockRoutedClient,
) -> None:
    sent = sender(http).send(
        OutgoingSms(to="+4520123456", body="Hej Mette. En venlig påmindelse.")
    )
    assert sent.provider_id.startswith("SM")
    assert sent.status
    [request] = http.sent
    assert request["method"] == "POST"
    assert request["url"].endswith(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    assert request["data"] == {
        "To": "+4520123456",
        "Body": "Hej Mette. En venlig påmindelse.",
        "MessagingServiceSid": SERVICE_SID,
        "StatusCallback": CALLBACK,
    }


def test_an_alphanumeric_sender_goes_as_from(http: MockRoutedClient) -> None:
    sender(http).send(
        OutgoingSms(to="+4741234567", body="Hei", sender_name="Fjellvann")
    )
    assert http.sent[0]["data"]["From"] == "Fjellvann"


def test_a_malformed_messaging_service_is_refused_by_the_api_and_not_retried(
    http: MockRoutedClient,
) -> None:
    with pytest.raises(SmsSendError) as refused:
        sender(http, service_sid="not-a-service").send(
            OutgoingSms(to="+4520123456", body="Hej")
        )
    assert refused.value.permanent
    assert not refused.value.accepted_maybe


def test_an_empty_text_never_reaches_the_api(http: MockRoutedClient) -> None:
    with pytest.raises(SmsSendError):
        sender(http).send(OutgoingSms(to="+4520123456", body="   "))
    assert http.sent == []


# The document's list example holds an outbound "testing" to +18182008801, taken then.
LISTED_TO, LISTED_BODY = "+18182008801", "testing"
LISTED_AT = datetime(2019, 5, 24, 17, 44, 46, tzinfo=UTC)


def test_a_lookup_lists_messages_by_recipient_and_send_date_as_documented(
    http: MockRoutedClient,
) -> None:
    [found] = sender(http).find_sent(
        OutgoingSms(to=LISTED_TO, body=LISTED_BODY),
        created_from=LISTED_AT - timedelta(minutes=5),
        created_until=LISTED_AT + timedelta(hours=1),
    )
    assert found == SentSms(
        provider_id="SMded05904ccb347238880ca9264e8fe1c",
        status="sent",
        segments=1,
        price_minor=1,  # "-0.00750" USD, to the nearest cent
        price_currency="USD",
        sent_at=datetime(2019, 5, 24, 17, 44, 50, tzinfo=UTC),
    )
    [request] = http.sent
    assert request["method"] == "GET"
    path, query = request["url"].split("?", 1)
    assert path.endswith(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    assert parse_qs(query) == {
        "To": [LISTED_TO],
        "DateSent>": ["2019-05-24T00:00:00Z"],
        "PageSize": ["200"],
    }


def test_a_lookup_ignores_other_texts_and_those_outside_the_window(
    http: MockRoutedClient,
) -> None:
    window = {
        "created_from": LISTED_AT - timedelta(minutes=5),
        "created_until": LISTED_AT + timedelta(hours=1),
    }
    assert sender(http).find_sent(OutgoingSms(LISTED_TO, "other words"), **window) == []
    # The example's inbound message has these words: a reply to us is not our text.
    inbound = OutgoingSms(LISTED_TO, "look mom I have media!")
    assert sender(http).find_sent(inbound, **window) == []
    later = {
        "created_from": LISTED_AT + timedelta(minutes=1),
        "created_until": LISTED_AT + timedelta(hours=1),
    }
    assert sender(http).find_sent(OutgoingSms(LISTED_TO, LISTED_BODY), **later) == []


def test_a_refused_lookup_is_an_error_never_an_empty_answer(
    http: MockRoutedClient,
) -> None:
    client = Client("not-an-account", "test-token", http_client=http)
    lookup = TwilioSmsSender(
        client, messaging_service_sid=SERVICE_SID, status_callback_url=CALLBACK
    )
    with pytest.raises(SmsLookupError):
        lookup.find_sent(
            OutgoingSms(LISTED_TO, LISTED_BODY),
            created_from=LISTED_AT,
            created_until=LISTED_AT + timedelta(hours=1),
        )
