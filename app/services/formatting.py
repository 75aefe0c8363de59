"""Locale-aware formatting of money and dates, shared by pages and SMS texts."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point for an ISO 4217 currency (DKK 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


# English readers of Nordic debts: Babel's plain English glues the code to the number
# ("DKK1,844.25"); the English locale of the currency's country reads naturally.
_ENGLISH_FOR = {"DKK": "en_DK", "NOK": "en_NO", "SEK": "en_SE", "EUR": "en_IE"}


# Pages show the same few amounts again and again; Babel's formatting is comparatively slow.
@lru_cache(maxsize=4096)
def format_money(amount_minor: int, currency: str, locale: str) -> str:
    """1.250,00 kr. in Danish, kr 1 250,00 in Norwegian, 1.250,00 kr. in English for DKK."""
    if locale.split("_")[0] == "en":
        locale = _ENGLISH_FOR.get(currency, locale)
    # Decimal, not float: exact for any amount.
    amount = Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))
    return str(format_currency(amount, currency, locale=locale, currency_digits=True))


def format_minor(amount_minor: int, currency: str) -> str:
    """An exact, unambiguous rendering in English: 1,234.50 DKK."""
    exponent = minor_unit_exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-exponent):,.{exponent}f} {currency}"
