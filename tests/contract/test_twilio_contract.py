"""Our Twilio calls against a mock generated from Twilio's OpenAPI document.

Prism validates each request against the document (422 for a violation) and answers with the
document's examples, so these tests catch a parameter we name wrongly or leave out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from reminders.sms import OutgoingSms, SmsSendError, TwilioSmsSender

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
        self.sent.append(
            {"method": method, "url": url, "data": dict(kwargs.get("data") or {})}
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
