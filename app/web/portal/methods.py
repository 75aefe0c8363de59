"""The plan's saved payment method in the debtor's words: "Visa ending 4242, expires 12/2030"."""

from __future__ import annotations

from flask_babel import gettext as _

from app.models import PaymentPlan

# Brand names are names: the same in every language. Stripe's `brand` and `display_brand`
# codes differ for some brands, so both spellings are here.
BRAND_NAMES = {
    "amex": "American Express",
    "american_express": "American Express",
    "cartes_bancaires": "Cartes Bancaires",
    "dankort": "Dankort",
    "diners": "Diners Club",
    "diners_club": "Diners Club",
    "discover": "Discover",
    "eftpos_au": "eftpos",
    "eftpos_australia": "eftpos",
    "interac": "Interac",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "union_pay": "UnionPay",
    "visa": "Visa",
}
WALLET_NAMES = {
    "amex_express_checkout": "Amex Express Checkout",
    "apple_pay": "Apple Pay",
    "google_pay": "Google Pay",
    "link": "Link",
    "masterpass": "Masterpass",
    "mobilepay": "MobilePay",
    "samsung_pay": "Samsung Pay",
    "vipps": "Vipps",
    "visa_checkout": "Visa Checkout",
}
_NO_BRAND = ("", "unknown", "other")


def saved_method_label(plan: PaymentPlan) -> str | None:
    """How the debtor recognises the plan's saved method; None when no method is saved."""
    if plan.payment_method_ref is None:
        return None
    card = _card_label(plan)
    wallet = _name(WALLET_NAMES, plan.payment_method_wallet)
    if wallet and card:
        return _("%(wallet)s: %(card)s", wallet=wallet, card=card)
    return wallet or card or _("A saved card")


def expiry_label(plan: PaymentPlan) -> str | None:
    month, year = plan.payment_method_exp_month, plan.payment_method_exp_year
    if month is None or year is None:
        return None
    return f"{month:02d}/{year}"


def _card_label(plan: PaymentPlan) -> str | None:
    if not plan.payment_method_last4:
        return None
    brand = plan.payment_method_brand or ""
    name = _("Card") if brand in _NO_BRAND else _name(BRAND_NAMES, brand)
    expiry = expiry_label(plan)
    if expiry is None:
        return _(
            "%(brand)s ending %(last4)s", brand=name, last4=plan.payment_method_last4
        )
    return _(
        "%(brand)s ending %(last4)s, expires %(expiry)s",
        brand=name,
        last4=plan.payment_method_last4,
        expiry=expiry,
    )


def _name(names: dict[str, str], code: str | None) -> str | None:
    """A known name, or the provider's code made readable ("new_wallet" -> "New Wallet")."""
    if not code:
        return None
    return names.get(code) or code.replace("_", " ").title()
