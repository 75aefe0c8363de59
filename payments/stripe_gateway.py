"""The Stripe adapter for the payment port (payments/gateway.py), on the official `stripe` library.

Checkout Sessions take debtor-present payments and save payment methods; PaymentIntents charge a
saved method off-session for an instalment. Every create call carries the caller's idempotency key,
so a retry (ours or the library's) can never charge twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

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

# Enough of Stripe's message to tell what went wrong.
_MAX_DETAIL = 300


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
        session_id, url = _text(session, "id"), _text(session, "url")
        if not session_id or not url:
            # `url` is nullable in the document; without it the debtor cannot pay.
            raise PaymentGatewayError(
                f"Stripe returned checkout session {session_id} without a URL"
            )
        return CheckoutSession(provider_id=session_id, url=url)

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
        except Exception as error:
            # The charge may have been made: the caller retries with the same key later.
            raise self._gateway_error("charge a saved payment method", error) from error
        return self._read("read a charge's answer", lambda: _intent_outcome(intent))

    def charge_status(self, payment_intent_id: str) -> ChargeOutcome:
        intent = self._call(
            "look up a payment",
            lambda: self._client.v1.payment_intents.retrieve(payment_intent_id),
        )
        return self._read("read a payment", lambda: _intent_outcome(intent))

    def describe_payment_method(self, payment_method_ref: str) -> SavedMethod:
        method = self._call(
            "look up a payment method",
            lambda: self._client.v1.payment_methods.retrieve(payment_method_ref),
        )
        return self._read("read a payment method", lambda: _saved_method(method))

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
        customer_id = _text(customer, "id")
        if not customer_id:
            raise PaymentGatewayError("Stripe returned a customer without an id")
        return customer_id

    def _call(self, action: str, create: Callable[[], _T]) -> _T:
        """The library's answer; any failure, its own or one it did not foresee (an answer
        that is JSON but not an object), is a PaymentGatewayError."""
        try:
            return create()
        except Exception as error:
            raise self._gateway_error(action, error) from error

    def _read(self, action: str, read: Callable[[], _T]) -> _T:
        """Read an answer; one that lacks what the document promises is the provider's
        failure, never an AttributeError out of a job or a view."""
        try:
            return read()
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise self._gateway_error(action, error) from error

    def _gateway_error(self, action: str, error: Exception) -> PaymentGatewayError:
        if isinstance(error, stripe.StripeError):
            status = error.http_status
            answer = f"HTTP {status}" if status else "no HTTP answer"
            code = f", code {error.code[:64]}" if error.code else ""
            detail = str(error)
        else:
            answer, code, detail = "an answer we cannot read", "", str(error)
        detail = " ".join(self._redact(detail).split())
        if len(detail) > _MAX_DETAIL:
            # A proxy's HTML page comes back whole in the library's message.
            detail = detail[: _MAX_DETAIL - 1] + "…"
        return PaymentGatewayError(
            f"Stripe: could not {action} ({type(error).__name__}, {answer}{code}): "
            + detail
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


# Stripe's objects raise AttributeError for a key the answer lacks; the document marks most
# of what we read optional or nullable (and other mocks leave out more), so each is read
# with a default, and read only as the type the document gives it.


def _is_object(value: object) -> bool:
    return isinstance(value, (stripe.StripeObject, dict))


def _field(obj: object, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    if isinstance(obj, stripe.StripeObject):
        try:
            return obj[key]
        except KeyError:
            return None
    return None


def _text(obj: object, key: str) -> str | None:
    value = _field(obj, key)
    return value if isinstance(value, str) and value else None


def _whole(obj: object, key: str) -> int | None:
    value = _field(obj, key)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return value
    return None


def _saved_method(method: stripe.PaymentMethod) -> SavedMethod:
    if _text(method, "id") is None:
        raise ValueError("a PaymentMethod without an id")
    card = _field(method, "card")
    if not _is_object(card):
        # Not a card (MobilePay, Vipps, ...): its type is all a debtor needs to recognise it.
        return SavedMethod(wallet=_text(method, "type"))
    # Objects from older API versions lack `display_brand`.
    return SavedMethod(
        # The brand the debtor chose on a co-badged card (Dankort/Visa), where known.
        brand=_text(card, "display_brand") or _text(card, "brand"),
        last4=_text(card, "last4"),
        exp_month=_whole(card, "exp_month"),
        exp_year=_whole(card, "exp_year"),
        wallet=_text(_field(card, "wallet"), "type"),
    )


def _intent_outcome(intent: stripe.PaymentIntent) -> ChargeOutcome:
    intent_id = _text(intent, "id")
    if intent_id is None:
        raise ValueError("a PaymentIntent without an id")
    status = _text(intent, "status")
    if status == "succeeded":
        return ChargeOutcome(
            ChargeStatus.SUCCEEDED,
            intent_id,
            amount_minor=_whole(intent, "amount_received"),
        )
    # "requires_confirmation" cannot follow confirm=true; should it, only the debtor can finish.
    if status in ("requires_action", "requires_confirmation"):
        return ChargeOutcome(ChargeStatus.REQUIRES_ACTION, intent_id)
    if status in ("requires_payment_method", "canceled"):
        last_error = _field(intent, "last_payment_error")
        return ChargeOutcome(
            ChargeStatus.FAILED,
            intent_id,
            failure_code=_text(last_error, "decline_code") or _text(last_error, "code"),
            failure_message=_text(last_error, "message"),
        )
    # "processing", "requires_capture", a status newer than this code or none at all: money
    # may be moving, so the signed event (or the lookup after CONFIRMATION_WAIT) decides and
    # nobody retries blind.
    return ChargeOutcome(ChargeStatus.PROCESSING, intent_id)


def _declined_outcome(error: stripe.CardError) -> ChargeOutcome:
    details = error.error
    intent_id = _text(_field(details, "payment_intent"), "id")
    message = _text(details, "message")
    if error.code == "authentication_required":
        # Off-session, the bank wants the debtor present (3-D Secure): bring them back on-session.
        return ChargeOutcome(
            ChargeStatus.REQUIRES_ACTION,
            intent_id,
            failure_code=error.code,
            failure_message=message,
        )
    return ChargeOutcome(
        ChargeStatus.FAILED,
        intent_id,
        failure_code=_text(details, "decline_code") or error.code,
        failure_message=message,
    )
