"""Single values from invoice files: amounts, currencies, dates, names, contacts."""

from __future__ import annotations

import enum
import functools
import re
from datetime import date
from decimal import Decimal

import phonenumbers
from babel import Locale
from babel.core import get_global
from babel.numbers import get_territory_currencies

from app.errors import ValidationFailed
from app.ingest.errors import BadValue
from app.ingest.reasons import Code, Country, FieldName, Reason
from app.services.formatting import minor_unit_exponent
from app.services.phones import PhoneInfo, parse_phone

# A cell value: text from CSV, or already typed by XLSX (numbers, dates) and UBL.
RawValue = str | Decimal | date

# Bigger than any real invoice, small enough for a BIGINT and for exact arithmetic.
MAX_AMOUNT_MINOR = 10**15
MAX_AMOUNT_CHARS = 40
# First characters a spreadsheet would read as a formula; exports guarding against that
# put an apostrophe before them.
GUARDED = frozenset("=+-−@")
KRONER = frozenset({"DKK", "NOK", "SEK", "ISK"})
# The currencies in use that CLDR names a dollar: what "$" may stand for.
DOLLARS = frozenset({
    "AUD", "BBD", "BMD", "BND", "BSD", "BZD", "CAD", "FJD", "GYD", "HKD", "JMD", "KYD",
    "LRD", "NAD", "NZD", "SBD", "SGD", "SRD", "TTD", "TWD", "USD", "XCD",
})  # fmt: skip
# Currency signs accepted next to an amount, and the currencies each may stand for.
AMOUNT_SIGNS = {
    "kr": KRONER,
    "kr.": KRONER,
    ",-": KRONER,
    "€": {"EUR"},
    "£": {"GBP"},
    "$": DOLLARS,
}
# Signs and words a currency column may hold instead of a code: one that stands for one
# currency means it; one that stands for several means the creditor's currency when
# that is among them ("kr." for a Danish creditor is DKK), else it is refused.
CURRENCY_SIGNS = {
    **{sign: codes for sign, codes in AMOUNT_SIGNS.items() if sign != ",-"},
    "kr.-": KRONER, "kroner": KRONER,
    "dkr": {"DKK"}, "dkr.": {"DKK"}, "nkr": {"NOK"}, "nkr.": {"NOK"}, "nok kr": {"NOK"},
    "skr": {"SEK"}, "skr.": {"SEK"}, "euro": {"EUR"}, "eur.": {"EUR"},
}  # fmt: skip
_AMOUNT = re.compile(
    r"(?P<lead>[+\-−(]?)\s*(?P<pre>[^\d\s+\-−(]*)\s*(?P<sign>[+\-−(]?)\s*"
    r"(?P<number>\d[\d.,' \u00a0\u202f]*?)\s*(?P<post>\)?-?)\s*(?P<unit>[^\d\s]*)"
)
_FIRST_GROUP = re.compile(r"[1-9]\d{0,2}")
_XSD_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")

MONTHS = {
    "january": 1, "januar": 1, "february": 2, "februar": 2, "march": 3, "marts": 3,
    "mars": 3, "april": 4, "may": 5, "maj": 5, "mai": 5, "june": 6, "juni": 6,
    "july": 7, "juli": 7, "august": 8, "september": 9, "october": 10, "oktober": 10,
    "november": 11, "december": 12, "desember": 12,
}  # fmt: skip
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.+\-Z ]*)?")
# A time after a date ("23.11.2026 00:00", "23-11-2026 00:00:00") is the export's, not
# the invoice's: it is dropped as it is for yyyy-mm-dd.
_DMY_DATE = re.compile(
    r"(\d{1,2})([-.])(\d{1,2})\2(\d{4})(?:[T ]\d{1,2}[:.]\d{2}[\d:.]*)?"
)
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})\.?[\s-]+([^\W\d_]{3,})\.?,?[\s-]+(\d{4})")
_MONTH_NAME_DAY = re.compile(r"([^\W\d_]{3,})\.?\s+(\d{1,2}),?\s+(\d{4})")
# Slash dates: year first (yyyy/mm/dd) reads one way only; day and month first
# (23/11/2026, 11/23/2026) are read in the order decided for their column.
_YEAR_FIRST_SLASH = re.compile(
    r"(\d{4})/(\d{1,2})/(\d{1,2})(?:[T ]\d{1,2}[:.]\d{2}[\d:.]*)?"
)
_SLASH_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:[T ]\d{1,2}[:.]\d{2}[\d:.]*)?"
)
_CPR = re.compile(r"\d{6}-?\d{4}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
EARLIEST_YEAR = 1900
LATEST_YEAR = 2199

# Company forms keep their own spelling when an all-caps name is title-cased.
LEGAL_FORMS = {
    "APS": "ApS", "A/S": "A/S", "I/S": "I/S", "K/S": "K/S", "P/S": "P/S", "IVS": "IVS",
    "AMBA": "AMBA", "AS": "AS", "ASA": "ASA", "ANS": "ANS", "DA": "DA", "ENK": "ENK",
    "SA": "SA", "AB": "AB", "LTD": "Ltd", "LTD.": "Ltd.", "LLC": "LLC", "INC": "Inc",
    "INC.": "Inc.", "GMBH": "GmbH", "PLC": "PLC", "BV": "BV", "NV": "NV",
}  # fmt: skip
_WORD_START = re.compile(r"(^|[-'’./])(\w)")
# "Not a valid Danish mobile number"; other countries are named instead.
NOT_A_MOBILE = {
    "DK": Code.PHONE_NOT_DANISH_MOBILE,
    "NO": Code.PHONE_NOT_NORWEGIAN_MOBILE,
    "SE": Code.PHONE_NOT_SWEDISH_MOBILE,
    "FI": Code.PHONE_NOT_FINNISH_MOBILE,
}
POSTCODE_DIGITS = {"DK": 4, "NO": 4}
# Two-letter CLDR territories that are not countries: unions, pseudo-locales, "unknown".
NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})
KINDS = {
    "invoice": "invoice", "faktura": "invoice", "credit note": "credit_note",
    "credit_note": "credit_note", "creditnote": "credit_note", "credit": "credit_note",
    "credit memo": "credit_note", "kreditnota": "credit_note", "kredit": "credit_note",
}  # fmt: skip


def as_text(raw: RawValue) -> str:
    """The value as the creditor would read it in the file."""
    if isinstance(raw, Decimal):
        return format(raw, "f")
    if isinstance(raw, date):
        return raw.isoformat()
    return raw


def parse_amount(raw: RawValue, currency: str) -> int:
    """A signed amount in the currency's minor units; either decimal mark is read."""
    if isinstance(raw, date):
        raise BadValue(Reason.of(Code.AMOUNT_IS_DATE, value=raw.isoformat()))
    exponent = minor_unit_exponent(currency)
    value = (
        raw if isinstance(raw, Decimal) else _decimal_from_text(raw, currency, exponent)
    )
    return _to_minor(value, currency, exponent, as_text(raw))


def parse_xsd_decimal(raw: str) -> Decimal:
    """An XML Schema decimal (point as decimal mark, no grouping) as used by UBL."""
    if not _XSD_DECIMAL.fullmatch(raw.strip()):
        raise BadValue(Reason.of(Code.AMOUNT_NOT_DECIMAL, value=raw))
    return Decimal(raw.strip())


def _decimal_from_text(raw: str, currency: str, exponent: int) -> Decimal:
    text = raw.strip()
    if text[:1] == "'" and text[1:2] in GUARDED:
        # Exports that guard against formula injection write a negative as '-250,00.
        text = text[1:]
    if text.startswith("="):  # a workbook's formulas are read as their text
        raise BadValue(Reason.of(Code.AMOUNT_IS_FORMULA, value=text))
    match = _AMOUNT.fullmatch(text) if len(text) <= MAX_AMOUNT_CHARS else None
    if match is None:
        raise BadValue(Reason.of(Code.AMOUNT_NOT_NUMBER, value=text))
    _check_amount_sign(match["pre"] + match["unit"], currency, text)
    # The sign may stand before the currency too: "-£12.00", "(£12.00)", "-kr 250".
    if match["lead"] and match["sign"]:
        raise BadValue(Reason.of(Code.AMOUNT_NOT_NUMBER, value=text))
    negative = _is_negative(match["lead"] or match["sign"], match["post"], text)
    number = _decimal_from_digits(match["number"], exponent, text)
    return -number if negative else number


def _check_amount_sign(unit: str, currency: str, text: str) -> None:
    known = AMOUNT_SIGNS.get(unit.lower())
    if not unit or unit.upper() == currency or (known and currency in known):
        return
    if unit.isalpha() or known:
        raise BadValue(
            Reason.of(Code.AMOUNT_OTHER_CURRENCY, value=text, currency=currency)
        )
    raise BadValue(Reason.of(Code.AMOUNT_NOT_NUMBER, value=text))


def _is_negative(sign: str, post: str, text: str) -> bool:
    if (sign == "(") != post.startswith(")") or (post.endswith("-") and sign):
        raise BadValue(Reason.of(Code.AMOUNT_NOT_NUMBER, value=text))
    return sign in ("-", "−", "(") or post.endswith("-")


def _decimal_from_digits(number: str, exponent: int, text: str) -> Decimal:
    whole, fraction = _split_decimal_mark(number, exponent, text)
    digits = _ungroup(whole, text)
    if not fraction.isdigit() and fraction:
        raise BadValue(Reason.of(Code.AMOUNT_NOT_NUMBER, value=text))
    return Decimal(f"{digits}.{fraction or '0'}")


def _split_decimal_mark(number: str, exponent: int, text: str) -> tuple[str, str]:
    """Split at the decimal mark; which of . and , it is follows from the digits."""
    marks = [mark for mark in ".," if mark in number]
    if len(marks) == 2:
        whole, _, fraction = number.rpartition(max(marks, key=number.rfind))
        return whole, fraction
    if not marks or number.count(marks[0]) > 1:
        return number, ""
    whole, _, fraction = number.rpartition(marks[0])
    if len(fraction) == 3 and _FIRST_GROUP.fullmatch(whole):
        # "1.500" can only mean fifteen hundred in a currency with two decimals.
        if exponent == 3:
            raise BadValue(Reason.of(Code.AMOUNT_AMBIGUOUS, value=text))
        return number, ""
    return whole, fraction


def _ungroup(whole: str, text: str) -> str:
    """The digits of the whole part, after checking its thousands grouping."""
    separators = {char for char in whole if not char.isdigit()}
    if not separators:
        return whole or "0"
    groups = re.split(r"[^\d]", whole)
    valid = (
        len(separators) == 1
        and 1 <= len(groups[0]) <= 3
        and all(len(group) == 3 for group in groups[1:])
    )
    if not valid:
        raise BadValue(Reason.of(Code.AMOUNT_BAD_GROUPING, value=text))
    return "".join(groups)


def _to_minor(value: Decimal, currency: str, exponent: int, text: str) -> int:
    if not value.is_finite() or value.adjusted() > 20:
        raise BadValue(Reason.of(Code.AMOUNT_UNUSABLE, value=text))
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        if not exponent:
            raise BadValue(
                Reason.of(Code.AMOUNT_HAS_DECIMALS, value=text, currency=currency)
            )
        raise BadValue(
            Reason.of(
                Code.AMOUNT_TOO_PRECISE,
                value=text,
                currency=currency,
                decimals=exponent,
            )
        )
    if abs(scaled) > MAX_AMOUNT_MINOR:
        raise BadValue(Reason.of(Code.AMOUNT_TOO_LARGE, value=text))
    return int(scaled)


def parse_currency(raw: RawValue, today: date, default_currency: str) -> str:
    """An ISO 4217 code of a currency in use today, upper-cased, or the one a sign
    stands for ("£" is GBP; "kr." is the creditor's `default_currency` if a krone)."""
    text = as_text(raw).strip()
    code = text.upper()
    if code in currencies_in_use(today):
        return code
    meant = CURRENCY_SIGNS.get(" ".join(text.casefold().split()))
    if not meant:
        raise BadValue(Reason.of(Code.CURRENCY_UNKNOWN, value=text))
    if len(meant) == 1:
        return next(iter(meant))
    if default_currency in meant:
        return default_currency
    choices = ", ".join(sorted(meant))  # the sign cannot be read: name the codes
    raise BadValue(Reason.of(Code.CURRENCY_SIGN, value=text, currencies=choices))


@functools.lru_cache(maxsize=4)
def currencies_in_use(today: date) -> frozenset[str]:
    """Every currency that is legal tender somewhere on `today` (CLDR, via babel)."""
    territories = get_global("territory_currencies")
    return frozenset(
        code
        for territory in territories
        for code in get_territory_currencies(territory, today)
    )


class DateOrder(enum.StrEnum):
    """How a column's slash dates read: decided per file and column (see dates.py)."""

    DAY_FIRST = "day_first"  # 23/11/2026
    MONTH_FIRST = "month_first"  # 11/23/2026
    MIXED = "mixed"  # the column proves both, so none of its slash dates is read


def proven_order(raw: RawValue) -> DateOrder | None:
    """The order a slash date proves: a first part over 12 is a day, a second one over
    12 is; None when both could be a month (or it is no day-and-month slash date)."""
    match = _SLASH_DATE.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        return None
    first, second = int(match[1]), int(match[2])
    if first > 12 >= second:
        return DateOrder.DAY_FIRST
    if second > 12 >= first:
        return DateOrder.MONTH_FIRST
    return None


def is_slash_date(raw: RawValue) -> bool:
    """Whether the value is a slash date with the day and month first, in some order."""
    return isinstance(raw, str) and _SLASH_DATE.fullmatch(raw.strip()) is not None


def parse_date(raw: RawValue, order: DateOrder | None = None) -> date:
    """A calendar date from dd-mm-yyyy, dd.mm.yyyy, yyyy-mm-dd, yyyy/mm/dd or a month
    name; dd/mm/yyyy or mm/dd/yyyy as `order` says (None: refused as ambiguous)."""
    if isinstance(raw, date):
        return _plausible(raw, raw.isoformat())
    if isinstance(raw, Decimal):
        raise BadValue(Reason.of(Code.DATE_IS_NUMBER, value=as_text(raw)))
    text = raw.strip()
    if text.startswith("="):
        raise BadValue(Reason.of(Code.DATE_IS_FORMULA, value=text))
    year, month, day = _date_parts(text, order)
    try:
        parsed = date(year, month, day)
    except ValueError:
        raise BadValue(Reason.of(Code.DATE_NOT_REAL, value=text)) from None
    return _plausible(parsed, text)


def _date_parts(text: str, order: DateOrder | None) -> tuple[int, int, int]:
    if match := _ISO_DATE.fullmatch(text) or _YEAR_FIRST_SLASH.fullmatch(text):
        return int(match[1]), int(match[2]), int(match[3])
    if match := _SLASH_DATE.fullmatch(text):
        return _slash_parts(match, order, text)
    if match := _DMY_DATE.fullmatch(text):
        return int(match[4]), int(match[3]), int(match[1])
    if match := _DAY_MONTH_NAME.fullmatch(text):
        return int(match[3]), _month(match[2], text), int(match[1])
    if match := _MONTH_NAME_DAY.fullmatch(text):
        return int(match[3]), _month(match[1], text), int(match[2])
    raise BadValue(Reason.of(Code.DATE_UNKNOWN_FORMAT, value=text))


def _slash_parts(
    match: re.Match[str], order: DateOrder | None, text: str
) -> tuple[int, int, int]:
    if len(match[3]) == 2:  # the century is a guess, risky for a birth date
        raise BadValue(Reason.of(Code.DATE_TWO_DIGIT_YEAR, value=text))
    if order is DateOrder.DAY_FIRST:
        return int(match[3]), int(match[2]), int(match[1])
    if order is DateOrder.MONTH_FIRST:
        return int(match[3]), int(match[1]), int(match[2])
    if order is DateOrder.MIXED:
        raise BadValue(Reason.of(Code.DATE_ORDER_MIXED, value=text))
    raise BadValue(Reason.of(Code.DATE_AMBIGUOUS, value=text))


def _month(word: str, text: str) -> int:
    found = {
        number for name, number in MONTHS.items() if name.startswith(word.casefold())
    }
    if len(found) != 1:
        raise BadValue(Reason.of(Code.DATE_UNKNOWN_MONTH, value=text))
    return found.pop()


def _plausible(value: date, text: str) -> date:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise BadValue(Reason.of(Code.DATE_IMPLAUSIBLE, value=text))
    return value


def parse_birth_date(
    raw: RawValue, today: date, order: DateOrder | None = None
) -> date:
    """A birth date in the past; a full CPR number is refused rather than stored."""
    if isinstance(raw, str) and _CPR.fullmatch(raw.strip()):
        raise BadValue(Reason.of(Code.BIRTH_DATE_IS_CPR))
    born = parse_date(raw, order)
    if born >= today:
        raise BadValue(Reason.of(Code.BIRTH_DATE_NOT_PAST, date=born.isoformat()))
    return born


def clean_text(raw: RawValue, field: str, max_length: int) -> str:
    """Whitespace collapsed; control characters and over-long values refused.

    `field` is the rows.Field value the text is for, to name it in the reason.
    """
    text = " ".join(as_text(raw).split())
    if _CONTROL.search(text):
        raise BadValue(Reason.of(Code.CONTROL_CHARACTERS, field=FieldName(field)))
    if len(text) > max_length:
        raise BadValue(
            Reason.of(Code.TOO_LONG, field=FieldName(field), limit=max_length)
        )
    return text


def normalise_name(raw: RawValue) -> str:
    """Trimmed; title-cased only when written in all capitals (JENS HANSEN A/S)."""
    name = clean_text(raw, "name", 200)
    if not name:
        raise BadValue(Reason.of(Code.NAME_EMPTY))
    return _title_case(name) if name.isupper() else name


def _title_case(name: str) -> str:
    words = [
        _WORD_START.sub(lambda m: m[1] + m[2].upper(), w.lower()) for w in name.split()
    ]
    last = name.split()[-1]
    if len(words) > 1 and last in LEGAL_FORMS:
        words[-1] = LEGAL_FORMS[last]
    return " ".join(words)


def normalise_phone(raw: RawValue, default_country: str) -> PhoneInfo:
    """The number in E.164 with its country, zone and SMS reach."""
    text = as_text(raw).strip()
    try:
        return parse_phone(text, default_country)
    except ValidationFailed:
        found = _phone_among_words(text, default_country)
    if found is None:
        raise BadValue(_invalid_phone(text, default_country))
    return found


def _phone_among_words(text: str, country: str) -> PhoneInfo | None:
    """A number written beside words or another number ("+45 2012 3458 (mobil)",
    "33 12 34 56 / 20 12 34 56"): the first that can take SMS, else the first."""
    found: list[PhoneInfo] = []
    for match in phonenumbers.PhoneNumberMatcher(text, country):
        try:
            found.append(parse_phone(match.raw_string, country))
        except ValidationFailed:
            continue
    return next((phone for phone in found if phone.can_receive_sms), None) or (
        found[0] if found else None
    )


def _invalid_phone(text: str, country: str) -> Reason:
    if text.startswith(("+", "00")):
        return Reason.of(Code.PHONE_INVALID, phone=text)
    if country in NOT_A_MOBILE:
        return Reason.of(NOT_A_MOBILE[country], phone=text)
    return Reason.of(Code.PHONE_NOT_MOBILE_IN, phone=text, country=Country(country))


def parse_email(raw: RawValue) -> str:
    """An e-mail address with its domain lower-cased."""
    text = as_text(raw).strip()
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise BadValue(Reason.of(Code.EMAIL_INVALID, value=text))
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def parse_postcode(raw: RawValue, country: str) -> str:
    """A postcode; Danish and Norwegian ones must have four digits."""
    text = " ".join(as_text(raw).upper().split()).removeprefix(f"{country}-")
    digits = POSTCODE_DIGITS.get(country)
    if digits and isinstance(raw, Decimal):
        text = text.zfill(digits)  # a spreadsheet number loses Oslo's leading zero
    if digits and not (len(text) == digits and text.isdigit()):
        raise BadValue(
            Reason.of(Code.POSTCODE_DIGITS, value=as_text(raw).strip(), digits=digits)
        )
    if not text or len(text) > 16:
        raise BadValue(Reason.of(Code.POSTCODE_INVALID, value=as_text(raw).strip()))
    return text


def parse_country(raw: RawValue) -> str:
    """An ISO 3166 alpha-2 code, from a code or an English, Danish or Norwegian name."""
    text = as_text(raw).strip()
    code = country_codes().get(text.casefold())
    if code is None:
        raise BadValue(Reason.of(Code.COUNTRY_UNKNOWN, value=text))
    return code


@functools.cache
def country_codes() -> dict[str, str]:
    """Codes and names (en, da, nb), case-folded, mapped to the alpha-2 code."""
    codes: dict[str, str] = {}
    for language in ("en", "da", "nb"):
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES:
                codes[name.casefold()] = code
                codes[code.casefold()] = code
    return codes


def country_timezone(country: str) -> str | None:
    """The country's zone when it has only one; None when it spans several."""
    zones = get_global("territory_zones").get(country, [])
    return str(zones[0]) if len(zones) == 1 else None


def parse_kind(raw: RawValue) -> str:
    """The document type, "invoice" or "credit_note", in English, Danish, Norwegian."""
    kind = KINDS.get(" ".join(as_text(raw).casefold().split()))
    if kind is None:
        raise BadValue(Reason.of(Code.KIND_UNKNOWN, value=as_text(raw)))
    return kind
