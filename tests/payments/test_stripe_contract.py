"""StripeGateway against Stripe's 2023-08-16 OpenAPI document, through the real `stripe` library.

Every request the library sends is recorded and checked against the document's operation
(tests/payments/stripe_contract.py); the answers are the document's own fixtures.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

import pytest
import stripe

from payments.gateway import (
    ChargeStatus,
    CheckoutMode,
    CheckoutRequest,
    OffSessionCharge,
    PaymentGatewayError,
    SavedMethod,
)
from payments.stripe_gateway import (
    MAX_NETWORK_RETRIES,
    STRIPE_API_VERSION,
    StripeGateway,
    new_stripe_client,
)
from tests.payments.stripe_contract import (
    Problem,
    RecordedRequest,
    RecordingHttpClient,
    Reply,
    StripeDocument,
    api_error,
    card_error,
    decode_form,
    stripe_document,
)

API_KEY = "sk_test_51VenligContractKeyNeverSentAnywhere"
METADATA = {"attempt_id": "att_0042", "case_id": "case_17"}

# Where what we send departs from the 2023-08-16 document, on purpose. Every entry is a finding:
# keep it explained, and remove it when the document catches up.
KNOWN_DOCUMENT_GAPS = {
    # The library's typed params and objects are generated for this version, so we pin it
    # (payments/stripe_gateway.py); the newest document under the size limit is 2023-08-16.
    # No parameter we send is unknown to the document; only the version header differs.
    Problem(
        "header Stripe-Version",
        f"{STRIPE_API_VERSION} is not the document's 2023-08-16: parameters added since are "
        "unknown to it",
    ),
}


@pytest.fixture(scope="session")
def document() -> StripeDocument:
    return stripe_document()


@pytest.fixture
def fake_stripe(document: StripeDocument) -> RecordingHttpClient:
    return RecordingHttpClient(document)


@pytest.fixture
def gateway(fake_stripe: RecordingHttpClient) -> StripeGateway:
    client = new_stripe_client(API_KEY, http_client=fake_stripe)
    return StripeGateway(API_KEY, client=client)


def checkout_request(**overrides: Any) -> CheckoutRequest:
    values: dict[str, Any] = {
        "mode": CheckoutMode.PAYMENT,
        "currency": "DKK",
        "description": "Faktura 2026-117, Aarhus Tømrerforretning",
        "success_url": "https://venlig.example/pay/done?attempt=att_0042",
        "cancel_url": "https://venlig.example/pay/cancelled?attempt=att_0042",
        "idempotency_key": "checkout-att_0042",
        "country": "DK",
        "locale": "da",
        "amount_minor": 45_000,
        "metadata": dict(METADATA),
    }
    return CheckoutRequest(**{**values, **overrides})


def instalment(**overrides: Any) -> OffSessionCharge:
    values: dict[str, Any] = {
        "amount_minor": 42_50,
        "currency": "DKK",
        "customer_ref": "cus_Debtor42",
        "payment_method_ref": "pm_SavedCard42",
        "description": "Rate 2 af 6, sag 17",
        "idempotency_key": "instalment-plan9-2-try1",
        "metadata": {"plan_id": "plan_9", "instalment": "2"},
    }
    return OffSessionCharge(**{**values, **overrides})


def assert_conforms(document: StripeDocument, requests: list[RecordedRequest]) -> None:
    """Each request fits its operation in the document and carries our two headers."""
    assert requests
    for request in requests:
        unexpected = [
            p for p in document.check(request) if p not in KNOWN_DOCUMENT_GAPS
        ]
        assert not unexpected, f"{request.method} {request.path}: " + "; ".join(
            map(str, unexpected)
        )
        assert request.header("Stripe-Version") == STRIPE_API_VERSION
        if request.method == "POST":
            assert request.header("Idempotency-Key")


def test_pinned_version_is_the_one_the_library_is_generated_for() -> None:
    # Fails on a library upgrade: re-read the changelog, then bump STRIPE_API_VERSION.
    assert stripe.api_version == STRIPE_API_VERSION


# --- checkout: payment mode --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("save", "locale", "country"),
    list(itertools.product([False, True], ["da", "nb", "en"], ["DK", "NO"])),
)
def test_payment_checkout(
    gateway: StripeGateway,
    fake_stripe: RecordingHttpClient,
    document: StripeDocument,
    save: bool,
    locale: str,
    country: str,
) -> None:
    currency = "NOK" if country == "NO" else "DKK"
    session = gateway.create_checkout(
        checkout_request(
            locale=locale, country=country, currency=currency, save_payment_method=save
        )
    )

    assert_conforms(document, fake_stripe.requests)
    [request] = fake_stripe.requests
    assert request.path == "/v1/checkout/sessions"
    assert request.header("Idempotency-Key") == "checkout-att_0042"
    form = request.form()
    assert form["mode"] == "payment"
    assert form["locale"] == locale
    assert form["line_items"] == {
        "0": {
            "quantity": "1",
            "price_data": {
                "currency": currency.lower(),
                "unit_amount": "45000",
                "product_data": {"name": "Faktura 2026-117, Aarhus Tømrerforretning"},
            },
        }
    }
    assert form["metadata"] == METADATA
    assert form["payment_intent_data"]["metadata"] == METADATA
    assert form["client_reference_id"] == "att_0042"
    assert form["success_url"] == "https://venlig.example/pay/done?attempt=att_0042"
    assert form["cancel_url"] == "https://venlig.example/pay/cancelled?attempt=att_0042"
    # Wallets (MobilePay, Vipps) come from the Dashboard's settings, never a hard-coded list.
    assert "payment_method_types" not in form
    if save:
        assert form["payment_intent_data"]["setup_future_usage"] == "off_session"
        assert form["customer_creation"] == "always"
    else:
        assert "setup_future_usage" not in form["payment_intent_data"]
        assert "customer_creation" not in form
    assert session.provider_id.startswith("cs_test_")
    assert session.url == f"https://checkout.stripe.com/c/pay/{session.provider_id}"


def test_saving_checkout_for_a_known_customer_reuses_it(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient, document: StripeDocument
) -> None:
    gateway.create_checkout(
        checkout_request(save_payment_method=True, customer_ref="cus_Debtor42")
    )

    assert_conforms(document, fake_stripe.requests)
    [request] = fake_stripe.requests
    form = request.form()
    assert form["customer"] == "cus_Debtor42"
    assert "customer_creation" not in form


def test_unknown_locale_falls_back_to_the_browsers(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient, document: StripeDocument
) -> None:
    gateway.create_checkout(checkout_request(locale="sv"))

    assert_conforms(document, fake_stripe.requests)
    assert fake_stripe.requests[0].form()["locale"] == "auto"


def test_payment_checkout_needs_an_amount(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient
) -> None:
    with pytest.raises(ValueError, match="amount_minor"):
        gateway.create_checkout(checkout_request(amount_minor=None))
    assert fake_stripe.requests == []


def test_session_without_url_is_a_gateway_error(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient
) -> None:
    fake_stripe.replies = [Reply(patch={"url": None})]

    with pytest.raises(PaymentGatewayError, match="without a URL"):
        gateway.create_checkout(checkout_request())


# --- checkout: setup mode ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "country"), [("da", "DK"), ("nb", "NO"), ("en", "NO")]
)
def test_setup_checkout_creates_the_customer_first(
    gateway: StripeGateway,
    fake_stripe: RecordingHttpClient,
    document: StripeDocument,
    locale: str,
    country: str,
) -> None:
    session = gateway.create_checkout(
        checkout_request(
            mode=CheckoutMode.SETUP,
            amount_minor=None,
            locale=locale,
            country=country,
            customer_name="Åse Bjørnstad",
            customer_email="ase@example.no",
        )
    )

    assert_conforms(document, fake_stripe.requests)
    customer_call, session_call = fake_stripe.requests
    assert customer_call.path == "/v1/customers"
    # Derived from the request's key: a retried checkout finds the same customer.
    assert customer_call.header("Idempotency-Key") == "checkout-att_0042:customer"
    assert customer_call.form() == {
        "name": "Åse Bjørnstad",
        "email": "ase@example.no",
        "metadata": METADATA,
    }
    assert session_call.path == "/v1/checkout/sessions"
    assert session_call.header("Idempotency-Key") == "checkout-att_0042"
    form = session_call.form()
    assert form["mode"] == "setup"
    assert form["currency"] == "dkk"
    assert form["locale"] == locale
    assert form["customer"].startswith("cus_fake")
    assert form["setup_intent_data"] == {"metadata": METADATA}
    assert form["metadata"] == METADATA
    assert form["client_reference_id"] == "att_0042"
    # The 2023-08-16 document's prose calls payment_method_types "required in setup mode"; the
    # pinned version drops the parameter and needs `currency` instead (sent above).
    for absent in (
        "line_items",
        "payment_intent_data",
        "customer_creation",
        "payment_method_types",
    ):
        assert absent not in form
    assert session.url.endswith(session.provider_id)


def test_setup_checkout_for_a_known_customer_creates_none(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient, document: StripeDocument
) -> None:
    gateway.create_checkout(
        checkout_request(
            mode=CheckoutMode.SETUP, amount_minor=None, customer_ref="cus_Debtor42"
        )
    )

    assert_conforms(document, fake_stripe.requests)
    [request] = fake_stripe.requests
    assert request.path == "/v1/checkout/sessions"
    assert request.form()["customer"] == "cus_Debtor42"


def test_failed_customer_creation_stops_the_checkout(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient
) -> None:
    fake_stripe.replies = [
        api_error(400, "invalid_request_error", "Invalid email address")
    ]

    with pytest.raises(PaymentGatewayError, match="could not create a customer"):
        gateway.create_checkout(
            checkout_request(
                mode=CheckoutMode.SETUP, amount_minor=None, customer_email="x@"
            )
        )
    assert [r.path for r in fake_stripe.requests] == ["/v1/customers"]


# --- off-session charges -----------------------------------------------------------------------


def test_off_session_charge_succeeds(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient, document: StripeDocument
) -> None:
    fake_stripe.replies = [
        Reply(patch={"status": "succeeded", "amount_received": 4250})
    ]

    outcome = gateway.charge_off_session(instalment())

    assert_conforms(document, fake_stripe.requests)
    [request] = fake_stripe.requests
    assert request.path == "/v1/payment_intents"
    assert request.header("Idempotency-Key") == "instalment-plan9-2-try1"
    assert request.form() == {
        "amount": "4250",
        "currency": "dkk",
        "customer": "cus_Debtor42",
        "payment_method": "pm_SavedCard42",
        "off_session": "true",
        "confirm": "true",
        "description": "Rate 2 af 6, sag 17",
        "metadata": {"plan_id": "plan_9", "instalment": "2"},
    }
    assert outcome.status is ChargeStatus.SUCCEEDED
    assert outcome.payment_intent_id
    assert outcome.payment_intent_id.startswith("pi_fake")
    assert outcome.failure_code is None


@pytest.mark.parametrize(
    ("patch", "status", "failure_code"),
    [
        ({"status": "processing"}, ChargeStatus.PROCESSING, None),
        ({"status": "requires_capture"}, ChargeStatus.PROCESSING, None),
        ({"status": "requires_action"}, ChargeStatus.REQUIRES_ACTION, None),
        (
            {
                "status": "requires_payment_method",
                "last_payment_error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                },
            },
            ChargeStatus.FAILED,
            "insufficient_funds",
        ),
        ({"status": "canceled"}, ChargeStatus.FAILED, None),
    ],
)
def test_intent_status_maps_to_an_outcome(
    gateway: StripeGateway,
    fake_stripe: RecordingHttpClient,
    document: StripeDocument,
    patch: dict[str, Any],
    status: ChargeStatus,
    failure_code: str | None,
) -> None:
    fake_stripe.replies = [Reply(patch=patch)]

    outcome = gateway.charge_off_session(instalment())

    assert_conforms(document, fake_stripe.requests)
    assert outcome.status is status
    assert outcome.failure_code == failure_code
    assert outcome.payment_intent_id


def test_authentication_required_asks_for_the_debtor(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient, document: StripeDocument
) -> None:
    fake_stripe.replies = [
        card_error(
            "authentication_required",
            decline_code="authentication_required",
            intent={"id": "pi_Needs3DS", "status": "requires_payment_method"},
        )
    ]

    outcome = gateway.charge_off_session(instalment())

    assert_conforms(document, fake_stripe.requests)
    assert len(fake_stripe.requests) == 1  # a decline is an answer: never retried
    assert outcome.status is ChargeStatus.REQUIRES_ACTION
    assert outcome.payment_intent_id == "pi_Needs3DS"
    assert outcome.failure_code == "authentication_required"


@pytest.mark.parametrize(
    ("code", "decline_code", "failure_code"),
    [
        ("card_declined", "insufficient_funds", "insufficient_funds"),
        ("card_declined", None, "card_declined"),
        ("expired_card", None, "expired_card"),
    ],
)
def test_card_decline_fails_with_its_code(
    gateway: StripeGateway,
    fake_stripe: RecordingHttpClient,
    document: StripeDocument,
    code: str,
    decline_code: str | None,
    failure_code: str,
) -> None:
    fake_stripe.replies = [
        card_error(code, decline_code=decline_code, intent={"id": "pi_Declined"})
    ]

    outcome = gateway.charge_off_session(instalment())

    assert_conforms(document, fake_stripe.requests)
    assert outcome.status is ChargeStatus.FAILED
    assert outcome.payment_intent_id == "pi_Declined"
    assert outcome.failure_code == failure_code
    assert outcome.failure_message == f"Your card was declined ({code})."


# --- provider failures -------------------------------------------------------------------------


def test_connection_error_is_retried_with_the_same_key_then_raised(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient, document: StripeDocument
) -> None:
    fake_stripe.replies = [Reply(connection_error=True)] * (MAX_NETWORK_RETRIES + 1)

    with pytest.raises(PaymentGatewayError, match="APIConnectionError") as raised:
        gateway.charge_off_session(instalment())

    assert_conforms(document, fake_stripe.requests)
    keys = {r.header("Idempotency-Key") for r in fake_stripe.requests}
    assert len(fake_stripe.requests) == MAX_NETWORK_RETRIES + 1
    assert keys == {"instalment-plan9-2-try1"}  # a retry can never charge twice
    assert API_KEY not in str(raised.value)


def test_connection_error_during_checkout_is_a_gateway_error(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient
) -> None:
    fake_stripe.replies = [Reply(connection_error=True)] * (MAX_NETWORK_RETRIES + 1)

    with pytest.raises(
        PaymentGatewayError, match="could not create a checkout session"
    ):
        gateway.create_checkout(checkout_request())


@pytest.mark.parametrize(
    ("reply", "error_name"),
    [
        (
            api_error(
                401, "invalid_request_error", f"Invalid API Key provided: {API_KEY}"
            ),
            "AuthenticationError",
        ),
        (
            api_error(400, "invalid_request_error", "No such customer: 'cus_Debtor42'"),
            "InvalidRequestError",
        ),
        (
            api_error(429, "invalid_request_error", "Too many requests"),
            "RateLimitError",
        ),
        (
            api_error(500, "api_error", "Something went wrong on Stripe's end."),
            "APIError",
        ),
    ],
)
def test_api_errors_become_gateway_errors_without_the_key(
    gateway: StripeGateway,
    fake_stripe: RecordingHttpClient,
    reply: Reply,
    error_name: str,
) -> None:
    fake_stripe.replies = [reply] * (MAX_NETWORK_RETRIES + 1)  # 5xx are retried

    with pytest.raises(PaymentGatewayError) as raised:
        gateway.charge_off_session(instalment())

    message = str(raised.value)
    assert error_name in message
    assert f"HTTP {reply.status}" in message
    assert API_KEY not in message
    assert "sk_test_" not in message


# --- the checker itself: it must be able to fail -----------------------------------------------


def raw_request(path: str, params: dict[str, Any]) -> RecordedRequest:
    """Send `params` through the real library, untyped, and return what went over the wire."""
    fake = RecordingHttpClient(stripe_document())
    client = new_stripe_client(API_KEY, http_client=fake, max_network_retries=0)
    with contextlib.suppress(
        stripe.InvalidRequestError
    ):  # the fake's 404 for unknown paths
        client.raw_request("post", path, **params)
    [request] = fake.requests
    return request


def problems_of(document: StripeDocument, request: RecordedRequest) -> set[Problem]:
    return set(document.check(request)) - KNOWN_DOCUMENT_GAPS


def valid_session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "success_url": "https://venlig.example/done",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "dkk",
                    "unit_amount": 100,
                    "product_data": {"name": "Faktura"},
                },
            }
        ],
    }
    return {**params, **overrides}


def test_checker_accepts_a_valid_request(document: StripeDocument) -> None:
    assert (
        problems_of(
            document, raw_request("/v1/checkout/sessions", valid_session_params())
        )
        == set()
    )


def test_checker_reports_an_unknown_nested_parameter(document: StripeDocument) -> None:
    request = raw_request(
        "/v1/checkout/sessions",
        valid_session_params(
            payment_intent_data={"metadata": {"a": "1"}, "colour": "blue"}
        ),
    )

    assert problems_of(document, request) == {
        Problem("payment_intent_data[colour]", "unknown parameter")
    }


def test_checker_reports_an_unknown_parameter_inside_an_array(
    document: StripeDocument,
) -> None:
    params = valid_session_params()
    params["line_items"][0]["price_data"]["product_data"]["colour"] = "blue"

    assert problems_of(document, raw_request("/v1/checkout/sessions", params)) == {
        Problem("line_items[0][price_data][product_data][colour]", "unknown parameter")
    }


def test_checker_reports_missing_required_parameters(document: StripeDocument) -> None:
    params = valid_session_params()
    del params["success_url"]
    del params["line_items"][0]["price_data"]["currency"]

    assert problems_of(document, raw_request("/v1/checkout/sessions", params)) == {
        Problem("success_url", "required parameter missing"),
        Problem("line_items[0][price_data][currency]", "required parameter missing"),
    }


def test_checker_reports_a_wrong_enum_value(document: StripeDocument) -> None:
    request = raw_request(
        "/v1/checkout/sessions", valid_session_params(mode="instalments")
    )

    assert problems_of(document, request) == {
        Problem(
            "mode", "'instalments' is not one of 'payment', 'setup', 'subscription'"
        )
    }


def test_checker_reports_a_non_integer_amount(document: StripeDocument) -> None:
    request = raw_request("/v1/payment_intents", {"amount": "42.50", "currency": "dkk"})

    assert problems_of(document, request) == {
        Problem("amount", "expected an integer, got '42.50'")
    }


def test_checker_reports_every_problem_of_a_request(document: StripeDocument) -> None:
    request = raw_request(
        "/v1/payment_intents",
        {
            "amount": "lots",
            "confirm": "yes",
            "off_session": "sometimes",
            "metadata": {"plan_id": {"nested": "x"}},
            "automatic_payment_methods": {"allow_redirects": "never"},
            "shipping_colour": "red",
        },
    )

    assert problems_of(document, request) == {
        Problem("amount", "expected an integer, got 'lots'"),
        Problem("currency", "required parameter missing"),
        Problem("confirm", "expected a boolean ('true' or 'false'), got 'yes'"),
        Problem(
            "off_session",
            "matches none of the alternatives: expected a boolean ('true' or 'false'), got "
            "'sometimes' | 'sometimes' is not one of 'one_off', 'recurring'",
        ),
        Problem(
            "metadata[plan_id]", "expected a string, got nested parameters ['nested']"
        ),
        Problem("automatic_payment_methods[enabled]", "required parameter missing"),
        Problem("shipping_colour", "unknown parameter"),
    }


def test_checker_reports_an_unknown_operation(document: StripeDocument) -> None:
    request = raw_request("/v1/checkout/instalments", {})

    assert problems_of(document, request) == {
        Problem("operation", "POST /v1/checkout/instalments is not in the document")
    }


def test_checker_reports_a_newer_api_version(document: StripeDocument) -> None:
    request = raw_request("/v1/checkout/sessions", valid_session_params())

    assert set(document.check(request)) == KNOWN_DOCUMENT_GAPS


def test_form_decoding_follows_stripes_bracket_notation() -> None:
    form, problems = decode_form(
        "line_items[0][price_data][currency]=dkk&payment_intent_data[metadata][attempt_id]=a1"
        "&expand[]=customer&expand[]=payment_intent&metadata[0]=zero"
    )

    assert problems == []
    assert form == {
        "line_items": {"0": {"price_data": {"currency": "dkk"}}},
        "payment_intent_data": {"metadata": {"attempt_id": "a1"}},
        "expand": {"0": "customer", "1": "payment_intent"},
        "metadata": {"0": "zero"},
    }


def test_form_decoding_reports_clashing_names() -> None:
    _, problems = decode_form(
        "amount=1&amount=2&customer=cus_1&customer[id]=cus_1&a]b=1"
    )

    assert problems == [
        Problem("amount", "sent more than once"),
        Problem("customer[id]", "sent both as a value and with nested parameters"),
        Problem("a]b", "malformed parameter name"),
    ]


def test_looking_up_a_charge_reads_the_payment_intent(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient, document: StripeDocument
) -> None:
    fake_stripe.replies = [
        Reply(patch={"status": "succeeded", "amount_received": 4250})
    ]

    outcome = gateway.charge_status("pi_Lost42")

    assert_conforms(document, fake_stripe.requests)
    [request] = fake_stripe.requests
    assert (request.method, request.path) == ("GET", "/v1/payment_intents/pi_Lost42")
    assert outcome.status is ChargeStatus.SUCCEEDED
    assert outcome.amount_minor == 4250


# --- what the debtor sees of a saved payment method --------------------------------------------


def test_describing_a_saved_card_reads_the_payment_method(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient, document: StripeDocument
) -> None:
    method = gateway.describe_payment_method("pm_SavedCard42")

    assert_conforms(document, fake_stripe.requests)
    [request] = fake_stripe.requests
    assert (request.method, request.path) == (
        "GET",
        "/v1/payment_methods/pm_SavedCard42",
    )
    # The official fixture's card: a Visa ending 4242, expiring 8/2024.
    assert method == SavedMethod(brand="visa", last4="4242", exp_month=8, exp_year=2024)


def test_describing_prefers_the_brand_the_card_holder_chose_and_names_the_wallet(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient, document: StripeDocument
) -> None:
    card = {
        **document.fixture("payment_method")["card"],
        "brand": "visa",
        "display_brand": "cartes_bancaires",
        "wallet": {"type": "apple_pay", "apple_pay": {}, "dynamic_last4": "0042"},
    }
    fake_stripe.replies = [Reply(patch={"card": card})]

    method = gateway.describe_payment_method("pm_SavedCard42")

    assert (method.brand, method.wallet) == ("cartes_bancaires", "apple_pay")


def test_describing_a_method_that_is_not_a_card_names_its_type(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient
) -> None:
    fake_stripe.replies = [Reply(patch={"type": "mobilepay", "card": None})]

    method = gateway.describe_payment_method("pm_Wallet42")

    assert method == SavedMethod(wallet="mobilepay")


def test_describing_an_unknown_method_is_a_gateway_error(
    gateway: StripeGateway, fake_stripe: RecordingHttpClient
) -> None:
    fake_stripe.replies = [
        api_error(404, "invalid_request_error", "No such PaymentMethod: 'pm_Gone'")
    ]

    with pytest.raises(PaymentGatewayError, match="could not look up a payment method"):
        gateway.describe_payment_method("pm_Gone")
