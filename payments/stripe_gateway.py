"""The Stripe adapter for the payment port (payments/gateway.py), on the official `stripe` library.

Checkout Sessions take debtor-present payments and save payment methods; PaymentIntents charge a
saved method off-session for an instalment. Every create call carries the caller's idempotency key,
so a retry (ours or the library's) can never charge twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import stripe
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams
from stripe.params.checkout import SessionCreateParams

from payments.gateway import (
    ChargeOutcome,
    ChargeStatus,
    CheckoutMode,
    CheckoutRequest,
    CheckoutSession,
    OffSessionCharge,
    PaymentGatewayError,
    SavedMethod,
)

# Pinned, so that upgrading the library never changes API behaviour unnoticed. It is the version
# the installed library's typed params and objects are generated for (`stripe.api_version` in
# stripe 16.1); sending another version would make those types lie. Bump it together with the
# library: tests/payments/test_stripe_contract.py fails when the two drift apart. Webhook
# endpoints must use the same version, or events arrive in another shape.
STRIPE_API_VERSION = "2026-10-28.endive"

MAX_NETWORK_RETRIES = 2

# The library's default read timeout (80 s) would hold a web worker far too long; giving up
# earlier is safe because a retry reuses the idempotency key.
_TIMEOUT_SECONDS = (5.0, 30.0)  # connect, read

# Stripe Checkout speaks all our languages under the same tags. An unknown tag falls back to the
# browser's language: a checkout in the wrong language beats no checkout.
_CHECKOUT_LOCALES = {"da": "da", "nb": "nb", "en": "en"}

# Stripe masks keys in its messages; this is a second line of defence for logs and UIs.
_API_KEY_PATTERN = re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z*]+")

_T = TypeVar("_T")


def new_stripe_client(
    api_key: str,
    *,
    http_client: stripe.HTTPClient | None = None,
    max_network_retries: int = MAX_NETWORK_RETRIES,
) -> stripe.StripeClient:
    """A client on the pinned API version; tests pass their own `http_client`."""
    return stripe.StripeClient(
        api_key,
        stripe_version=STRIPE_API_VERSION,
        http_client=http_client or stripe.RequestsClient(timeout=_TIMEOUT_SECONDS),
        max_network_retries=max_network_retries,
    )


class StripeGateway:
    """`PaymentGateway` on Stripe: hosted Checkout plus off-session PaymentIntents."""

    def __init__(self, api_key: str, client: stripe.StripeClient | None = None) -> None:
        self._api_key = api_key
        self._client = client or new_stripe_client(api_key)

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        if request.mode is CheckoutMode.PAYMENT:
            params = _payment_session_params(request)
        else:
            params = self._setup_session_params(request)
        session = self._call(
            "create a checkout session",
            lambda: self._client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            ),
        )
        if not session.url:
            raise PaymentGatewayError(
                f"Stripe returned checkout session {session.id} without a URL"
            )
        return CheckoutSession(provider_id=session.id, url=session.url)

    def charge_off_session(self, charge: OffSessionCharge) -> ChargeOutcome:
        params: PaymentIntentCreateParams = {
            "amount": charge.amount_minor,
            "currency": charge.currency.lower(),
            "customer": charge.customer_ref,
            "payment_method": charge.payment_method_ref,
            "off_session": True,
            "confirm": True,
            "description": charge.description,
            "metadata": dict(charge.metadata),
        }
        try:
            intent = self._client.v1.payment_intents.create(
                params=params, options={"idempotency_key": charge.idempotency_key}
            )
        except stripe.CardError as error:
            return _declined_outcome(error)
        except stripe.StripeError as error:
            raise self._gateway_error("charge a saved payment method", error) from error
        return _intent_outcome(intent)

    def charge_status(self, payment_intent_id: str) -> ChargeOutcome:
        intent = self._call(
            "look up a payment",
            lambda: self._client.v1.payment_intents.retrieve(payment_intent_id),
        )
        return _intent_outcome(intent)

    def describe_payment_method(self, payment_method_ref: str) -> SavedMethod:
        method = self._call(
            "look up a payment method",
            lambda: self._client.v1.payment_methods.retrieve(payment_method_ref),
        )
        return _saved_method(method)

    def _setup_session_params(self, request: CheckoutRequest) -> SessionCreateParams:
        params = _common_session_params(request)
        params["mode"] = "setup"
        # Required in setup mode by the pinned version when no payment method types are listed.
        params["currency"] = request.currency.lower()
        params["setup_intent_data"] = {"metadata": dict(request.metadata)}
        if request.customer_ref is None:
            # The saved method is only reusable off-session once attached to a Customer. Creating
            # it ourselves (rather than `customer_creation`) puts the name, email and metadata
            # from our records on it, under a key derived from the request's: a retry finds it.
            params["customer"] = self._create_customer(request)
        return params

    def _create_customer(self, request: CheckoutRequest) -> str:
        params: CustomerCreateParams = {"metadata": dict(request.metadata)}
        if request.customer_name:
            params["name"] = request.customer_name
        if request.customer_email:
            params["email"] = request.customer_email
        customer = self._call(
            "create a customer",
            lambda: self._client.v1.customers.create(
                params=params,
                options={"idempotency_key": f"{request.idempotency_key}:customer"},
            ),
        )
        return customer.id

    def _call(self, action: str, create: Callable[[], _T]) -> _T:
        try:
            return create()
        except stripe.StripeError as error:
            raise self._gateway_error(action, error) from error

    def _gateway_error(
        self, action: str, error: stripe.StripeError
    ) -> PaymentGatewayError:
        answer = f"HTTP {error.http_status}" if error.http_status else "no HTTP answer"
        code = f", code {error.code}" if error.code else ""
        return PaymentGatewayError(
            f"Stripe: could not {action} ({type(error).__name__}, {answer}{code}): "
            + self._redact(str(error))
        )

    def _redact(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "[redacted]")
        return _API_KEY_PATTERN.sub("[redacted]", text)


def _common_session_params(request: CheckoutRequest) -> SessionCreateParams:
    # No payment method types: the Dashboard's payment method settings decide what the debtor is
    # offered (cards, and MobilePay in DK / Vipps in NO once enabled there). The 2023-08-16 API
    # document's `payment_method_types` enum knows neither "mobilepay" nor "vipps", and the pinned
    # version has no `payment_method_types` for sessions at all (only the filter
    # `allowed_payment_method_types`), so a hard-coded list would be wrong either way.
    params: SessionCreateParams = {
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "locale": _CHECKOUT_LOCALES.get(request.locale, "auto"),
        "metadata": dict(request.metadata),
    }
    attempt_id = request.metadata.get("attempt_id")
    if attempt_id:
        params["client_reference_id"] = attempt_id
    if request.customer_ref:
        params["customer"] = request.customer_ref
    return params


def _payment_session_params(request: CheckoutRequest) -> SessionCreateParams:
    if request.amount_minor is None:
        raise ValueError("a payment checkout needs amount_minor")
    params = _common_session_params(request)
    params["mode"] = "payment"
    params["line_items"] = [
        {
            "quantity": 1,
            "price_data": {
                "currency": request.currency.lower(),
                "unit_amount": request.amount_minor,
                "product_data": {"name": request.description},
            },
        }
    ]
    # The metadata goes onto the PaymentIntent too, so payment_intent.* events carry it.
    params["payment_intent_data"] = {"metadata": dict(request.metadata)}
    if request.save_payment_method:
        params["payment_intent_data"]["setup_future_usage"] = "off_session"
        if not request.customer_ref:
            params["customer_creation"] = "always"
    return params


def _saved_method(method: stripe.PaymentMethod) -> SavedMethod:
    card = method.card
    if card is None:
        # Not a card (MobilePay, Vipps, ...): its type is all a debtor needs to recognise it.
        return SavedMethod(wallet=method.type)
    # Read with a default: objects from older API versions lack `display_brand`, and a
    # missing field is an AttributeError on a StripeObject.
    wallet = getattr(card, "wallet", None)
    return SavedMethod(
        # The brand the debtor chose on a co-badged card (Dankort/Visa), where known.
        brand=getattr(card, "display_brand", None) or card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        wallet=wallet.type if wallet else None,
    )


def _intent_outcome(intent: stripe.PaymentIntent) -> ChargeOutcome:
    if intent.status == "succeeded":
        return ChargeOutcome(
            ChargeStatus.SUCCEEDED, intent.id, amount_minor=intent.amount_received
        )
    # "requires_confirmation" cannot follow confirm=true; should it, only the debtor can finish.
    if intent.status in ("requires_action", "requires_confirmation"):
        return ChargeOutcome(ChargeStatus.REQUIRES_ACTION, intent.id)
    if intent.status in ("requires_payment_method", "canceled"):
        last_error = intent.last_payment_error
        if last_error is None:
            return ChargeOutcome(ChargeStatus.FAILED, intent.id)
        return ChargeOutcome(
            ChargeStatus.FAILED,
            intent.id,
            failure_code=last_error.decline_code or last_error.code,
            failure_message=last_error.message,
        )
    # "processing", "requires_capture" or a status newer than this code: money may be moving, so
    # the signed event decides and nobody retries blind.
    return ChargeOutcome(ChargeStatus.PROCESSING, intent.id)


def _declined_outcome(error: stripe.CardError) -> ChargeOutcome:
    details = error.error
    intent = details.payment_intent if details else None
    intent_id = intent.id if intent else None
    message = details.message if details else None
    if error.code == "authentication_required":
        # Off-session, the bank wants the debtor present (3-D Secure): bring them back on-session.
        return ChargeOutcome(
            ChargeStatus.REQUIRES_ACTION,
            intent_id,
            failure_code=error.code,
            failure_message=message,
        )
    decline_code = details.decline_code if details else None
    return ChargeOutcome(
        ChargeStatus.FAILED,
        intent_id,
        failure_code=decline_code or error.code,
        failure_message=message,
    )
