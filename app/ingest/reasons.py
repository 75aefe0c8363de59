"""Why a row was rejected or flagged, as data: a code and its values, worded at the edge.

The domain never words a row's problem for a reader: it keeps a Reason (a Code plus named
values), so a dry run stored while the creditor read Danish can be shown to a colleague who
reads Norwegian, and the rejection report follows whoever downloads it. `english` words a
reason in English (the REST API, logs, tests); the web layer words it in the reader's
language with `TEMPLATES` as gettext message ids.

Each template is marked with `N_` so `pybabel extract` finds it (N_ is one of its default
keywords) and uses named placeholders only, so a translation may put them in any order.
Values that read differently per language are typed: Money is formatted by the reader's
locale, Country named in their language, FieldName worded as the field's phrase.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from babel import Locale

from app.errors import N_
from app.services.formatting import format_minor


@dataclass(frozen=True)
class Money:
    """An amount in minor units, formatted where it is shown."""

    minor: int
    currency: str


@dataclass(frozen=True)
class Country:
    """An ISO 3166 alpha-2 code, named in the reader's language."""

    code: str


@dataclass(frozen=True)
class FieldName:
    """A field (rows.Field's value), worded as "the invoice number" in the reader's language."""

    value: str


@dataclass(frozen=True)
class FieldNames:
    """Several fields, worded and listed in the reader's language."""

    values: tuple[str, ...]


Param = str | int | Money | Country | FieldName | FieldNames


class Code(enum.StrEnum):
    """Every reason a row can be rejected or flagged for."""

    # Amounts and currencies
    AMOUNT_IS_DATE = "amount_is_date"
    AMOUNT_NOT_DECIMAL = "amount_not_decimal"
    AMOUNT_NOT_NUMBER = "amount_not_number"
    AMOUNT_IS_FORMULA = "amount_is_formula"
    AMOUNT_OTHER_CURRENCY = "amount_other_currency"
    AMOUNT_AMBIGUOUS = "amount_ambiguous"
    AMOUNT_BAD_GROUPING = "amount_bad_grouping"
    AMOUNT_UNUSABLE = "amount_unusable"
    AMOUNT_TOO_PRECISE = "amount_too_precise"
    AMOUNT_HAS_DECIMALS = "amount_has_decimals"
    AMOUNT_TOO_LARGE = "amount_too_large"
    AMOUNT_ZERO = "amount_zero"
    LINES_ADD_UP_TO_ZERO = "lines_add_up_to_zero"
    NEGATIVE_INVOICE = "negative_invoice"
    LINES_DISAGREE_WITH_TOTAL = "lines_disagree_with_total"
    LINE_OTHER_CURRENCY = "line_other_currency"
    NOTHING_DUE = "nothing_due"
    DUE_ABOVE_AMOUNT = "due_above_amount"
    CURRENCY_UNKNOWN = "currency_unknown"
    CURRENCY_SIGN = "currency_sign"
    # Dates
    DATE_IS_NUMBER = "date_is_number"
    DATE_IS_FORMULA = "date_is_formula"
    DATE_AMBIGUOUS = "date_ambiguous"
    DATE_ORDER_MIXED = "date_order_mixed"
    DATE_TWO_DIGIT_YEAR = "date_two_digit_year"
    # A whole file's slash dates, when no value showed their order (a dry run's notice)
    DATES_READ_DAY_FIRST = "dates_read_day_first"
    DATES_READ_MONTH_FIRST = "dates_read_month_first"
    DATE_NOT_REAL = "date_not_real"
    DATE_UNKNOWN_FORMAT = "date_unknown_format"
    DATE_UNKNOWN_MONTH = "date_unknown_month"
    DATE_IMPLAUSIBLE = "date_implausible"
    DUE_TOO_FAR = "due_too_far"
    BIRTH_DATE_IS_CPR = "birth_date_is_cpr"
    BIRTH_DATE_NOT_PAST = "birth_date_not_past"
    # Text, names and contacts
    MISSING = "missing"
    CONTROL_CHARACTERS = "control_characters"
    TOO_LONG = "too_long"
    REFERENCE_EMPTY = "reference_empty"
    NAME_EMPTY = "name_empty"
    PHONE_INVALID = "phone_invalid"
    PHONE_NOT_DANISH_MOBILE = "phone_not_danish_mobile"
    PHONE_NOT_NORWEGIAN_MOBILE = "phone_not_norwegian_mobile"
    PHONE_NOT_SWEDISH_MOBILE = "phone_not_swedish_mobile"
    PHONE_NOT_FINNISH_MOBILE = "phone_not_finnish_mobile"
    PHONE_NOT_MOBILE_IN = "phone_not_mobile_in"
    LANDLINE = "landline"
    EMAIL_INVALID = "email_invalid"
    POSTCODE_DIGITS = "postcode_digits"
    POSTCODE_INVALID = "postcode_invalid"
    COUNTRY_UNKNOWN = "country_unknown"
    KIND_UNKNOWN = "kind_unknown"
    # Rows of a file or items of an API batch
    ROW_NOT_CSV = "row_not_csv"
    ROW_MIXED_ENCODING = "row_mixed_encoding"
    ROW_TOO_WIDE = "row_too_wide"
    ROW_WIDER_THAN_HEADER = "row_wider_than_header"
    ROW_SEPARATOR_IN_VALUE = "row_separator_in_value"
    ROW_QUOTE_NOT_CLOSED = "row_quote_not_closed"
    LINES_APART = "lines_apart"
    INVOICE_REPEATED = "invoice_repeated"
    NEIGHBOUR_UNREADABLE = "neighbour_unreadable"
    TOO_MANY_LINES = "too_many_lines"
    ITEM_UNREADABLE = "item_unreadable"
    ITEM_REPEATED = "item_repeated"
    # Against the creditor's accounts
    ACCOUNT_NOT_IMPORTED = "account_not_imported"
    ACCOUNT_OTHER_CURRENCY = "account_other_currency"
    BELOW_ZERO = "below_zero"
    CREDIT_WITHOUT_INVOICE = "credit_without_invoice"
    CREDIT_UNKNOWN_INVOICE = "credit_unknown_invoice"
    CREDIT_CHANGED = "credit_changed"
    CREDIT_TOO_LARGE = "credit_too_large"
    # A whole file: why it cannot be read or imported at all
    FILE_EMPTY = "file_empty"
    FILE_OLD_XLS = "file_old_xls"
    FILE_UTF16 = "file_utf16"
    FILE_UNKNOWN_TYPE = "file_unknown_type"
    FILE_OVER_LIMIT = "file_over_limit"
    FILE_LARGER_THAN_LIMIT = "file_larger_than_limit"
    FILE_GONE = "file_gone"
    NO_HEADER = "no_header"
    HEADER_NOT_CSV = "header_not_csv"
    LINE_TOO_LONG = "line_too_long"
    TOO_MANY_COLUMNS = "too_many_columns"
    MAPPED_COLUMN_MISSING = "mapped_column_missing"
    COLUMNS_UNKNOWN = "columns_unknown"
    NOT_XLSX = "not_xlsx"
    WORKBOOK_NO_SHEET = "workbook_no_sheet"
    WORKBOOK_UNPACKS_TOO_MUCH = "workbook_unpacks_too_much"
    WORKBOOK_DAMAGED = "workbook_damaged"
    SHEET_EMPTY = "sheet_empty"
    XML_NOT_UBL = "xml_not_ubl"
    XML_UNSAFE = "xml_unsafe"
    XML_MALFORMED = "xml_malformed"
    XML_CURRENCY_MISMATCH = "xml_currency_mismatch"
    CHECK_STOPPED = "check_stopped"
    IMPORT_STOPPED = "import_stopped"
    # A dry run stored before reasons were kept as codes: its English words as they were.
    WORDED = "worded"


# The fields of an invoice row (rows.Field's values) as a reason names them.
FIELD_PHRASES: Mapping[str, str] = {
    "external_reference": N_("the invoice number"),
    "kind": N_("the document type"),
    "credited_reference": N_("the credited invoice number"),
    "customer_number": N_("the customer number"),
    "name": N_("the debtor's name"),
    "last_name": N_("the debtor's last name"),
    "mobile": N_("the mobile number"),
    "phone": N_("the phone number"),
    "email": N_("the e-mail address"),
    "birth_date": N_("the birth date"),
    "postcode": N_("the postcode"),
    "country": N_("the country"),
    "description": N_("the description"),
    "amount": N_("the amount"),
    "line_amount": N_("the line amount"),
    "outstanding": N_("the balance due"),
    "currency": N_("the currency"),
    "issued_on": N_("the invoice date"),
    "due_on": N_("the due date"),
}

TEMPLATES: Mapping[Code, str] = {
    Code.AMOUNT_IS_DATE: N_("amount %(value)s is a date, not an amount"),
    Code.AMOUNT_NOT_DECIMAL: N_("amount %(value)s is not a decimal number"),
    Code.AMOUNT_NOT_NUMBER: N_("amount %(value)s is not a number"),
    Code.AMOUNT_IS_FORMULA: N_(
        "amount %(value)s is a formula, not its result; copy the column and paste it "
        "as values, then upload the file again"
    ),
    Code.AMOUNT_OTHER_CURRENCY: N_(
        "amount %(value)s does not match the invoice currency %(currency)s"
    ),
    Code.AMOUNT_AMBIGUOUS: N_(
        "amount %(value)s is ambiguous: write 1234.567 or 1234,567"
    ),
    Code.AMOUNT_BAD_GROUPING: N_("amount %(value)s has misplaced thousands separators"),
    Code.AMOUNT_UNUSABLE: N_("amount %(value)s is not a usable number"),
    Code.AMOUNT_TOO_PRECISE: N_(
        "amount %(value)s has more decimals than %(currency)s allows "
        "(%(decimals)s decimals)"
    ),
    Code.AMOUNT_HAS_DECIMALS: N_(
        "amount %(value)s has more decimals than %(currency)s allows (no decimals)"
    ),
    Code.AMOUNT_TOO_LARGE: N_("amount %(value)s is too large to be a real invoice"),
    Code.AMOUNT_ZERO: N_("the amount is %(amount)s, so nothing is owed"),
    Code.LINES_ADD_UP_TO_ZERO: N_("the lines add up to %(amount)s, so nothing is owed"),
    Code.NEGATIVE_INVOICE: N_("the amount is negative but the row is an invoice"),
    Code.LINES_DISAGREE_WITH_TOTAL: N_(
        "the lines add up to %(added)s but the invoice total says %(stated)s"
    ),
    Code.LINE_OTHER_CURRENCY: N_(
        "this line is in %(value)s but the invoice is in %(currency)s"
    ),
    Code.NOTHING_DUE: N_("the balance due is %(due)s, so nothing is owed"),
    Code.DUE_ABOVE_AMOUNT: N_(
        "the balance due %(due)s is more than the invoice amount %(amount)s"
    ),
    Code.CURRENCY_UNKNOWN: N_("currency %(value)s is not an ISO 4217 currency in use"),
    Code.CURRENCY_SIGN: N_(
        "currency %(value)s is not an ISO 4217 currency in use; write its "
        "three-letter code (%(currencies)s)"
    ),
    Code.DATE_IS_NUMBER: N_("date %(value)s is a number, not a date"),
    Code.DATE_IS_FORMULA: N_(
        "date %(value)s is a formula, not its result; copy the column and paste it "
        "as values, then upload the file again"
    ),
    Code.DATE_AMBIGUOUS: N_(
        "date %(value)s is ambiguous (day/month or month/day?); "
        "use dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd"
    ),
    Code.DATE_ORDER_MIXED: N_(
        "date %(value)s cannot be read: its column has dates with the day first "
        "(31/10/2026) and dates with the month first (10/31/2026); write the dates as "
        "yyyy-mm-dd or dd-mm-yyyy"
    ),
    Code.DATE_TWO_DIGIT_YEAR: N_(
        "date %(value)s has a two-digit year; write the year with four digits"
    ),
    Code.DATES_READ_DAY_FIRST: N_(
        "no date in the column for %(field)s shows whether the day or the month comes "
        "first, so its dates with slashes were read with the day first (dd/mm/yyyy), as "
        "is usual in %(country)s; check a few of them before you import"
    ),
    Code.DATES_READ_MONTH_FIRST: N_(
        "no date in the column for %(field)s shows whether the day or the month comes "
        "first, so its dates with slashes were read with the month first (mm/dd/yyyy), "
        "as is usual in %(country)s; check a few of them before you import"
    ),
    Code.DATE_NOT_REAL: N_("date %(value)s is not a real date"),
    Code.DATE_UNKNOWN_FORMAT: N_(
        "date %(value)s is not in a format we read; "
        "use dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd"
    ),
    Code.DATE_UNKNOWN_MONTH: N_("date %(value)s has a month name we do not know"),
    Code.DATE_IMPLAUSIBLE: N_("date %(value)s is not a plausible invoice date"),
    Code.DUE_TOO_FAR: N_(
        "the due date %(date)s is more than %(days)s days away; only invoices that "
        "have fallen due can be handed over"
    ),
    Code.BIRTH_DATE_IS_CPR: N_(
        "the birth date looks like a full CPR number; give only the date"
    ),
    Code.BIRTH_DATE_NOT_PAST: N_("birth date %(date)s is not in the past"),
    Code.MISSING: N_("%(field)s is missing"),
    Code.CONTROL_CHARACTERS: N_("%(field)s contains invisible control characters"),
    Code.TOO_LONG: N_("%(field)s is longer than %(limit)s characters"),
    Code.REFERENCE_EMPTY: N_("the invoice number is empty"),
    Code.NAME_EMPTY: N_("the debtor's name is empty"),
    Code.PHONE_INVALID: N_("phone number %(phone)s is not a valid phone number"),
    Code.PHONE_NOT_DANISH_MOBILE: N_(
        "phone number %(phone)s is not a valid Danish mobile number"
    ),
    Code.PHONE_NOT_NORWEGIAN_MOBILE: N_(
        "phone number %(phone)s is not a valid Norwegian mobile number"
    ),
    Code.PHONE_NOT_SWEDISH_MOBILE: N_(
        "phone number %(phone)s is not a valid Swedish mobile number"
    ),
    Code.PHONE_NOT_FINNISH_MOBILE: N_(
        "phone number %(phone)s is not a valid Finnish mobile number"
    ),
    Code.PHONE_NOT_MOBILE_IN: N_(
        "phone number %(phone)s is not a valid mobile number in %(country)s"
    ),
    Code.LANDLINE: N_("phone number %(phone)s is a landline, so it cannot receive SMS"),
    Code.EMAIL_INVALID: N_("e-mail address %(value)s is not valid"),
    Code.POSTCODE_DIGITS: N_("postcode %(value)s is not a %(digits)s-digit postcode"),
    Code.POSTCODE_INVALID: N_("postcode %(value)s is not a postcode"),
    Code.COUNTRY_UNKNOWN: N_("country %(value)s is not a country we know"),
    Code.KIND_UNKNOWN: N_(
        "document type %(value)s is neither an invoice nor a credit note"
    ),
    Code.ROW_NOT_CSV: N_("the row could not be read as CSV (%(error)s)"),
    Code.ROW_MIXED_ENCODING: N_(
        "the row is not in the file's encoding (%(encoding)s); save the whole file "
        "as CSV UTF-8 and upload it again"
    ),
    Code.ROW_TOO_WIDE: N_("the row has more than %(limit)s values"),
    Code.ROW_WIDER_THAN_HEADER: N_(
        "the row has %(count)s values but the header names %(width)s"
    ),
    Code.ROW_SEPARATOR_IN_VALUE: N_(
        "the row has %(count)s values but the header names %(width)s; a value "
        "probably contains the character that separates the columns: put such a "
        "value in double quotes and upload the file again"
    ),
    Code.ROW_QUOTE_NOT_CLOSED: N_(
        'a value on this row opens a quote (") that is never closed, so the rows '
        "after it were read into that value and are missing; close or remove the "
        "quote and upload the file again"
    ),
    Code.LINES_APART: N_(
        "invoice %(reference)s also has lines on row %(row)s; put the lines of each "
        "invoice next to each other (sort by invoice number) and upload again"
    ),
    Code.INVOICE_REPEATED: N_(
        "invoice %(reference)s appears more than once (also on row %(row)s)"
    ),
    Code.NEIGHBOUR_UNREADABLE: N_(
        "row %(row)s beside this invoice's lines could not be read, so its total "
        "cannot be trusted"
    ),
    Code.TOO_MANY_LINES: N_("the invoice has more than %(limit)s lines"),
    Code.ITEM_UNREADABLE: N_("the item could not be read"),
    Code.ITEM_REPEATED: N_(
        "invoice %(reference)s appears more than once in the batch (also item %(item)s)"
    ),
    Code.ACCOUNT_NOT_IMPORTED: N_(
        "the account was not added by an import, so a file cannot change it"
    ),
    Code.ACCOUNT_OTHER_CURRENCY: N_(
        "the row is in %(currency)s but the account is in %(account_currency)s"
    ),
    Code.BELOW_ZERO: N_(
        "the file says %(owed)s is owed, but %(taken)s has already been paid or "
        "credited; an agent has to settle this invoice"
    ),
    Code.CREDIT_WITHOUT_INVOICE: N_(
        "the credit note does not say which invoice it credits"
    ),
    Code.CREDIT_UNKNOWN_INVOICE: N_("invoice %(invoice)s is not among your accounts"),
    Code.CREDIT_CHANGED: N_(
        "credit note %(reference)s was already applied for %(amount)s; a changed "
        "credit note needs a new number"
    ),
    Code.CREDIT_TOO_LARGE: N_(
        "the credit note takes off %(credit)s but invoice %(invoice)s has only "
        "%(left)s left"
    ),
    Code.FILE_EMPTY: N_("%(file)s is empty"),
    Code.FILE_OLD_XLS: N_("%(file)s is an old .xls workbook; save it as .xlsx or CSV"),
    Code.FILE_UTF16: N_("%(file)s is saved as UTF-16 text; save it as CSV UTF-8"),
    Code.FILE_UNKNOWN_TYPE: N_("%(file)s is not a CSV, XLSX or UBL XML file"),
    Code.FILE_OVER_LIMIT: N_("the file is %(size)s, over the %(limit)s limit"),
    Code.FILE_LARGER_THAN_LIMIT: N_("the file is larger than the %(limit)s limit"),
    Code.FILE_GONE: N_("the uploaded file is no longer kept; upload it again"),
    Code.NO_HEADER: N_("the file has no header row"),
    Code.HEADER_NOT_CSV: N_("the header row could not be read as CSV (%(error)s)"),
    Code.LINE_TOO_LONG: N_("line %(line)s is longer than 1 MB"),
    Code.TOO_MANY_COLUMNS: N_("the file has more than %(limit)s columns"),
    Code.MAPPED_COLUMN_MISSING: N_(
        "the file has no column %(column)s, which the mapping uses"
    ),
    Code.COLUMNS_UNKNOWN: N_("we could not tell which columns hold: %(fields)s"),
    Code.NOT_XLSX: N_("the file is not a readable XLSX workbook"),
    Code.WORKBOOK_NO_SHEET: N_("the workbook has no worksheet"),
    Code.WORKBOOK_UNPACKS_TOO_MUCH: N_(
        "the workbook unpacks to far more data than a spreadsheet holds"
    ),
    Code.WORKBOOK_DAMAGED: N_(
        "the workbook is damaged and could not be read to the end"
    ),
    Code.SHEET_EMPTY: N_("the workbook's first sheet is empty"),
    Code.XML_NOT_UBL: N_("the XML file is not a UBL invoice or credit note"),
    Code.XML_UNSAFE: N_(
        "the XML declares a DTD or entities, which an invoice never needs; "
        "it was refused for safety"
    ),
    Code.XML_MALFORMED: N_("the XML is not well-formed (%(error)s)"),
    Code.XML_CURRENCY_MISMATCH: N_(
        "the amounts are in %(stated)s but the invoice currency is %(currency)s"
    ),
    Code.CHECK_STOPPED: N_(
        "the check stopped unexpectedly; please upload the file again"
    ),
    Code.IMPORT_STOPPED: N_(
        "the import stopped unexpectedly; please upload the file again"
    ),
}


@dataclass(frozen=True)
class Reason:
    """A code and the values its words need; comparable, hashable and JSON-safe."""

    code: Code
    params: tuple[tuple[str, Param], ...] = ()

    @classmethod
    def of(cls, code: Code, **params: Param) -> Reason:
        return cls(code, tuple(sorted(params.items())))

    @classmethod
    def worded(cls, text: str) -> Reason:
        return cls(Code.WORDED, (("text", text),))

    def english(self) -> str:
        return self.words(lambda template: template, ENGLISH)

    def words(self, translate: Callable[[str], str], style: Style) -> str:
        """The reason in the reader's words: `translate` looks a template up, `style`
        renders the typed values."""
        values = {name: style.render(value) for name, value in self.params}
        if self.code is Code.WORDED:
            return str(values["text"])
        return translate(TEMPLATES[self.code]) % values

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "params": {name: _param_json(value) for name, value in self.params},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        params = {name: _param(value) for name, value in data["params"].items()}
        return cls.of(Code(data["code"]), **params)


class Style:
    """How typed values read; this one in English, the web layer's in the reader's."""

    def __init__(
        self,
        money: Callable[[Money], str],
        country: Callable[[str], str],
        field: Callable[[str], str],
        number: Callable[[int], str],
    ) -> None:
        self.money = money
        self.country = country
        self.field = field
        self.number = number

    def render(self, value: Param) -> str:
        if isinstance(value, int):
            return self.number(value)
        if isinstance(value, Money):
            return self.money(value)
        if isinstance(value, Country):
            return self.country(value.code)
        if isinstance(value, FieldName):
            return self.field(value.value)
        if isinstance(value, FieldNames):
            return ", ".join(self.field(name) for name in value.values)
        return value


def country_name(code: str) -> str:
    """The English name of a country code."""
    return str(Locale.parse("en").territories.get(code, code))


def _english_money(money: Money) -> str:
    return format_minor(money.minor, money.currency)


ENGLISH = Style(_english_money, country_name, FIELD_PHRASES.__getitem__, "{:,}".format)


def _param_json(value: Param) -> Any:
    if isinstance(value, Money):
        return {"money": [value.minor, value.currency]}
    if isinstance(value, Country):
        return {"country": value.code}
    if isinstance(value, FieldName):
        return {"field": value.value}
    if isinstance(value, FieldNames):
        return {"fields": list(value.values)}
    return value


def _param(data: Any) -> Param:
    if isinstance(data, dict):
        if "money" in data:
            minor, currency = data["money"]
            return Money(int(minor), str(currency))
        if "country" in data:
            return Country(str(data["country"]))
        if "fields" in data:
            return FieldNames(tuple(str(name) for name in data["fields"]))
        return FieldName(str(data["field"]))
    if isinstance(data, int):
        return data
    return str(data)
