"""StripeGateway against answers other than the official fixtures, as other mocks give them.

Each answer is a variant of the document's own fixture drawn by hypothesis from the
operation's response schema (stripe_spec3_2023-08-16.yaml): a nullable field null, an
optional one left out, an enum value newer than this code, fields the document does not
know. Error answers follow the document's `error` object in its variants, or are no JSON at
all (a proxy's HTML page), or never come. Whatever comes back, the gateway answers with our
own types or a PaymentGatewayError, and never says a charge succeeded that Stripe did not.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.gateway import (
    ChargeOutcome,
    ChargeStatus,
    CheckoutMode,
    PaymentGatewayError,
    SavedMethod,
)
from payments.stripe_gateway import StripeGateway, new_stripe_client
from tests.payments.stripe_contract import (
    JsonObject,
    RecordingHttpClient,
    StripeDocument,
    stripe_document,
)
from tests.payments.test_stripe_contract import API_KEY, checkout_request, instalment

VARIANTS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
UNKNOWN_ENUM = "something_newer"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.text(max_size=5), inner, max_size=2)
    ),
    max_leaves=4,
)


def _resolve(document: StripeDocument, schema: JsonObject) -> JsonObject:
    while "$ref" in schema:
        schema = document.spec["components"]["schemas"][
            schema["$ref"].rsplit("/", 1)[1]
        ]
    alternatives = schema.get("anyOf") or []
    objects = [_resolve(document, a) for a in alternatives]
    with_properties = [a for a in objects if "properties" in a]
    if with_properties:
        return {**with_properties[0], "nullable": schema.get("nullable", False)}
    return schema


@st.composite
def variant_of(
    draw: st.DrawFn,
    document: StripeDocument,
    schema: JsonObject,
    value: Any,
    depth: int = 0,
) -> Any:
    """`value` (a fixture) changed only in ways `schema` allows, plus unknown fields."""
    schema = _resolve(document, schema)
    properties: JsonObject = schema.get("properties", {})
    if not isinstance(value, dict) or not properties:
        return value
    required = set(schema.get("required", []))
    changed = dict(value)
    for name, child in properties.items():
        child = _resolve(document, child)
        options = ["keep"]
        if name not in required:
            options.append("remove")
        if child.get("nullable"):
            options.append("null")
        if child.get("enum") and child.get("type") == "string":
            options.append("newer")
        if "properties" in child and depth < 2:
            options.append("vary")
        choice = draw(st.sampled_from(options))
        if choice == "remove":
            changed.pop(name, None)
        elif choice == "null":
            changed[name] = None
        elif choice == "newer":
            changed[name] = UNKNOWN_ENUM
        elif choice == "vary":
            inner = value.get(name) or _fixture_for(document, child)
            changed[name] = draw(variant_of(document, child, inner, depth + 1))
    unknown = st.text(min_size=1, max_size=12).filter(lambda k: k not in properties)
    changed.update(draw(st.dictionaries(unknown, JSON_VALUES, max_size=3)))
    return changed


def _fixture_for(document: StripeDocument, schema: JsonObject) -> Any:
    name = schema.get("x-resourceId") or schema.get("title")
    return document.fixture(name) if name in document.fixtures else {}


def answer_variants(name: str) -> st.SearchStrategy[Any]:
    document = stripe_document()
    schema = document.spec["components"]["schemas"][name]
    return variant_of(document, schema, document.fixture(name))


class AnsweringClient(RecordingHttpClient):
    """Answers every request with the given JSON (or raw text) and status."""

    name: ClassVar[str] = "answering"

    def __init__(self, answers: list[tuple[int, Any]]) -> None:
        super().__init__(stripe_document())
        self.answers = list(answers)

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        super().request(method, url, headers, post_data)
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        text = body if isinstance(body, str) else json.dumps(body)
        return text, status, {"request-id": "req_variant"}


def gateway_answering(
    *answers: tuple[int, Any],
) -> tuple[StripeGateway, AnsweringClient]:
    http = AnsweringClient(list(answers))
    client = new_stripe_client(API_KEY, http_client=http, max_network_retries=0)
    return StripeGateway(API_KEY, client=client), http


# --- answers that fit the document ---------------------------------------------------------------


@VARIANTS
@given(answer=answer_variants("checkout.session"))
def test_a_checkout_session_in_any_documented_shape(answer: JsonObject) -> None:
    gateway, _ = gateway_answering((200, answer))
    url = answer.get("url")
    try:
        session = gateway.create_checkout(checkout_request())
    except PaymentGatewayError:
        assert not (isinstance(url, str) and url and answer.get("id"))
        return
    assert (session.provider_id, session.url) == (answer["id"], url)


@VARIANTS
@given(answer=answer_variants("customer"))
def test_a_customer_in_any_documented_shape(answer: JsonObject) -> None:
    session = {
        **stripe_document().fixture("checkout.session"),
        "url": "https://checkout.stripe.com/c/pay/cs_test_1",
    }
    http = AnsweringClient([(200, answer), (200, session)])
    client = new_stripe_client(API_KEY, http_client=http, max_network_retries=0)
    gateway = StripeGateway(API_KEY, client=client)

    checkout = gateway.create_checkout(
        checkout_request(mode=CheckoutMode.SETUP, amount_minor=None)
    )

    assert checkout.url


def check_intent_outcome(answer: JsonObject, outcome: ChargeOutcome) -> None:
    status = answer.get("status")
    assert outcome.payment_intent_id == answer["id"]
    if outcome.status is ChargeStatus.SUCCEEDED:
        assert status == "succeeded"
        received = answer.get("amount_received")
        assert outcome.amount_minor == (received if isinstance(received, int) else None)
    if status not in (
        "succeeded",
        "requires_action",
        "requires_confirmation",
        "requires_payment_method",
        "canceled",
    ):
        # Newer, missing or in between: the event or the later lookup decides.
        assert outcome.status is ChargeStatus.PROCESSING


@VARIANTS
@given(answer=answer_variants("payment_intent"))
def test_a_charge_answered_in_any_documented_shape(answer: JsonObject) -> None:
    gateway, http = gateway_answering((200, answer))

    outcome = gateway.charge_off_session(instalment())

    check_intent_outcome(answer, outcome)
    assert len(http.requests) == 1


@VARIANTS
@given(answer=answer_variants("payment_intent"))
def test_a_payment_looked_up_in_any_documented_shape(answer: JsonObject) -> None:
    gateway, _ = gateway_answering((200, answer))

    check_intent_outcome(answer, gateway.charge_status("pi_Lost42"))


@VARIANTS
@given(answer=answer_variants("payment_method"))
def test_a_payment_method_in_any_documented_shape(answer: JsonObject) -> None:
    gateway, _ = gateway_answering((200, answer))

    method = gateway.describe_payment_method("pm_SavedCard42")

    assert isinstance(method, SavedMethod)
    assert method.last4 is None or isinstance(method.last4, str)
    assert method.exp_month is None or isinstance(method.exp_month, int)


def test_a_decline_whose_error_has_only_its_type_fails_the_charge() -> None:
    gateway, _ = gateway_answering((402, {"error": {"type": "card_error"}}))

    outcome = gateway.charge_off_session(instalment())

    assert outcome == ChargeOutcome(ChargeStatus.FAILED, None)


def test_a_decline_with_an_intent_without_id_fails_the_charge() -> None:
    error = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "do_not_honor",
        "payment_intent": {
            "object": "payment_intent",
            "status": "requires_payment_method",
        },
        "network_decline_code": "05",
    }
    gateway, _ = gateway_answering((402, {"error": error}))

    outcome = gateway.charge_off_session(instalment())

    assert (outcome.status, outcome.payment_intent_id, outcome.failure_code) == (
        ChargeStatus.FAILED,
        None,
        "do_not_honor",
    )


# --- answers that do not fit: each one our own error -------------------------------------------

PROXY_PAGE = (
    "<html><body><h1>502 Bad Gateway</h1>" + "<p>nginx</p>" * 500 + "</body></html>"
)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (502, PROXY_PAGE),
        (200, PROXY_PAGE),
        (200, ""),
        (200, "null"),
        (200, "[]"),
        (200, '"pi_123"'),
        (200, {"object": "payment_intent"}),  # no id
        (400, {"error": {"type": "idempotency_error", "message": "Keys reused"}}),
        (400, {"error": {"type": "invalid_request_error", "code": "x" * 500}}),
        (409, {"error": {"type": "api_error"}}),
        (500, {"error": "server_error"}),
        (503, {"message": "no error object"}),
        (418, {"error": {"type": "brand_new_error_type", "message": "?"}}),
    ],
    ids=[
        "html-502",
        "html-200",
        "empty-200",
        "null",
        "list",
        "string",
        "no-id",
        "idempotency",
        "long-code",
        "409",
        "oauth-shape",
        "no-error-object",
        "unknown-type",
    ],
)
def test_an_unreadable_answer_is_a_short_gateway_error_for_every_call(
    status: int, body: Any
) -> None:
    calls = [
        lambda g: g.charge_off_session(instalment()),
        lambda g: g.charge_status("pi_Lost42"),
        lambda g: g.create_checkout(checkout_request()),
        lambda g: g.describe_payment_method("pm_SavedCard42"),
    ]
    for call in calls:
        gateway, http = gateway_answering((status, body))
        with pytest.raises(PaymentGatewayError) as raised:
            call(gateway)
        assert len(str(raised.value)) < 600
        assert API_KEY not in str(raised.value)
        assert len(http.requests) == 1


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def real_gateway(port: int, retries: int = 0) -> StripeGateway:
    client = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": f"http://127.0.0.1:{port}"},
        http_client=stripe.RequestsClient(timeout=(0.5, 0.5)),
        max_network_retries=retries,
    )
    return StripeGateway(API_KEY, client=client)


def test_no_answer_in_time_is_a_gateway_error_and_the_charge_can_be_retried(
    silent_port: int,
) -> None:
    with pytest.raises(PaymentGatewayError, match="APIConnectionError"):
        real_gateway(silent_port).charge_off_session(instalment())


def test_a_refused_connection_is_a_gateway_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(PaymentGatewayError, match="APIConnectionError"):
        real_gateway(port).create_checkout(checkout_request())
