"""The sandbox gateway's checkout page: demo cards, a pretend bank check, signed events.

Registered only when PAYMENTS_BACKEND is "sandbox". Completing a checkout sends the same
signed events Stripe would, through the same webhook code, before the debtor is sent back.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.providers import payment_gateway
from app.web.webhooks.stripe import deliver_events
from payments.sandbox import (
    Card,
    SandboxCheckout,
    SandboxGateway,
    SandboxOutcome,
    UnknownCard,
    UnknownCheckout,
)

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")

DEMO_CARDS = [
    (Card.SUCCEEDS, _l("Succeeds")),
    (Card.DECLINED, _l("Declined")),
    (Card.INSUFFICIENT_FUNDS, _l("Declined: insufficient funds")),
    (Card.AUTHENTICATE, _l("Asks the bank to confirm (3-D Secure)")),
    (Card.FAILS_LATER, _l("Succeeds now, later instalments fail")),
]
# Where Stripe offers them: paid now, never charged again (plans then pay by link).
WALLETS = {"DK": "MobilePay", "FI": "MobilePay", "NO": "Vipps"}

DECLINE_REASONS = {
    "generic_decline": _l("the bank said no"),
    "insufficient_funds": _l("not enough money on the account"),
    "authentication_failed": _l("the payment was not confirmed with the bank"),
}


@bp.get("/checkout/<token>")
def checkout(token: str) -> ResponseReturnValue:
    return _page(token, _checkout(token))


@bp.post("/checkout/<token>")
def pay(token: str) -> ResponseReturnValue:
    found = _checkout(token)
    if request.form.get("action") == "cancel":
        return redirect(found.request.cancel_url, 303)
    if request.form.get("action") == "wallet":
        try:
            return _finish(token, found, _gateway().pay_with_wallet(found), "")
        except UnknownCard:
            return _page(
                token, found, _("Use one of the demo cards listed below.")
            ), 400
    card_number = request.form.get("card_number", "")
    try:
        outcome = _gateway().complete_checkout(found, card_number)
    except UnknownCard:
        message = _("Use one of the demo cards listed below.")
        return _page(token, found, message, card_number), 400
    return _finish(token, found, outcome, card_number)


@bp.post("/checkout/<token>/authenticate")
def authenticate(token: str) -> ResponseReturnValue:
    found = _checkout(token)
    card_number = request.form.get("card_number", "")
    if request.form.get("answer") == "approve":
        outcome = _gateway().complete_checkout(found, card_number, authenticated=True)
    else:
        outcome = _gateway().fail_authentication(found)
    return _finish(token, found, outcome, card_number)


def _finish(
    token: str, found: SandboxCheckout, outcome: SandboxOutcome, card_number: str
) -> ResponseReturnValue:
    deliver_events(outcome.events)
    if outcome.needs_authentication:
        return render_template(
            "sandbox/authenticate.html",
            token=token,
            found=found,
            card_number=card_number,
        )
    if not outcome.succeeded:
        reason = DECLINE_REASONS.get(
            outcome.decline_code or "", DECLINE_REASONS["generic_decline"]
        )
        message = _(
            "The card was declined: %(reason)s. Try another card.", reason=reason
        )
        return _page(token, found, message, card_number), 402
    return redirect(found.request.success_url, 303)


def _page(
    token: str, found: SandboxCheckout, error: str | None = None, card_number: str = ""
) -> ResponseReturnValue:
    return render_template(
        "sandbox/checkout.html",
        token=token,
        found=found,
        wallet=WALLETS.get(found.request.country),
        cards=DEMO_CARDS,
        error=error,
        card_number=card_number[:32],
    )


def _checkout(token: str) -> SandboxCheckout:
    try:
        return _gateway().read_checkout(token)
    except UnknownCheckout:
        abort(404)


def _gateway() -> SandboxGateway:
    gateway = payment_gateway(current_app)
    if not isinstance(gateway, SandboxGateway):
        abort(404)
    return gateway
