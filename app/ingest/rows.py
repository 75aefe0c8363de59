"""What an import yields (invoice rows, row errors) and how a record becomes one."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import TypeVar

from app.ingest import values
from app.ingest.errors import BadValue
from app.ingest.reasons import FIELD_PHRASES, Code, FieldName, Money, Reason
from app.ingest.values import DateOrder, RawValue
from app.services.phones import PhoneInfo

T = TypeVar("T")
MAX_DESCRIPTION = 500
MAX_REFERENCE = 64  # Account.external_reference and Debtor.customer_number


class Field(enum.StrEnum):
    """What a column (or a UBL element) holds."""

    REFERENCE = "external_reference"
    KIND = "kind"
    CREDITED_REFERENCE = "credited_reference"
    CUSTOMER_NUMBER = "customer_number"
    NAME = "name"
    LAST_NAME = "last_name"  # when the name is split: NAME then holds the first name
    MOBILE = "mobile"
    PHONE = "phone"
    EMAIL = "email"
    BIRTH_DATE = "birth_date"
    POSTCODE = "postcode"
    COUNTRY = "country"
    DESCRIPTION = "description"
    AMOUNT = "amount"
    LINE_AMOUNT = "line_amount"
    OUTSTANDING = "outstanding"
    CURRENCY = "currency"
    ISSUED_ON = "issued_on"
    DUE_ON = "due_on"

    @property
    def label(self) -> str:
        return FIELD_LABELS[self]


FIELD_LABELS = {field: FIELD_PHRASES[field.value] for field in Field}


class Kind(enum.StrEnum):
    """An invoice raises what is owed; a credit note lowers an invoice's balance."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class PhoneFlag(enum.StrEnum):
    """Whether SMS can reach the debtor; anything but MOBILE needs another channel."""

    MOBILE = "mobile"
    LANDLINE = "landline"
    INVALID = "invalid"
    MISSING = "missing"


@dataclass(frozen=True)
class RowWarning:
    """A problem that does not stop the row: the value was left out or flagged."""

    field: Field
    reason: Reason
    raw_value: str

    @property
    def message(self) -> str:
        return self.reason.english()


@dataclass(frozen=True)
class RowError:
    """Rows that cannot be imported (or were flagged), and why."""

    # Spreadsheet row numbers as the creditor sees them (header = 1); none for UBL.
    rows: tuple[int, ...]
    field: Field | None
    reason: Reason
    raw_value: str = ""
    reference: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    @property
    def message(self) -> str:
        """The reason in English (the API's language, logs and tests)."""
        return self.reason.english()

    @property
    def where(self) -> str:
        return where_in_file(self.rows, self.reference)


def where_in_file(rows: tuple[int, ...], reference: str | None) -> str:
    """Where a problem is, in English: row 17, rows 3–5, or the UBL invoice's number."""
    if len(rows) == 1:
        return f"row {rows[0]}"
    if rows:
        return f"rows {rows[0]}–{rows[-1]}"
    return f"invoice {reference}" if reference else "the document"


@dataclass(frozen=True)
class DebtorDetails:
    """Who owes the money, as far as the file says."""

    name: str
    customer_number: str | None
    phone: str | None  # E.164; kept for landlines, None when missing or invalid
    phone_flag: PhoneFlag
    email: str | None
    birth_date: date | None
    postcode: str | None
    country: str  # the address country, else the phone's, else the creditor's default
    timezone: str | None  # from the phone, else the country; None if that spans zones


@dataclass(frozen=True)
class InvoiceRow:
    """One validated invoice or credit note with its debtor, ready to be upserted."""

    rows: tuple[int, ...]  # every file row it came from; empty for a UBL document
    kind: Kind
    external_reference: str
    credited_reference: str | None  # the invoice a credit note reduces, when given
    debtor: DebtorDetails
    description: str
    amount_minor: int  # positive: the invoice total, or what a credit note takes off
    paid_minor: int  # already paid before hand-over, per the file; 0 for credit notes
    currency: str
    issued_on: date | None
    due_on: date | None  # None when the file gives none: the creditor's terms apply
    warnings: tuple[RowWarning, ...] = ()

    @property
    def balance_minor(self) -> int:
        return self.amount_minor - self.paid_minor


ImportItem = InvoiceRow | RowError


@dataclass(frozen=True)
class Record:
    """The raw values of one invoice: a line per file row (one for summaries, UBL)."""

    rows: tuple[int, ...]
    lines: tuple[Mapping[Field, RawValue], ...]

    @property
    def is_line_items(self) -> bool:
        return Field.LINE_AMOUNT in self.lines[0]

    @property
    def is_balance_only(self) -> bool:
        """Only the balance due is given (a list of open items), no invoice total."""
        first = self.lines[0]
        totals = (Field.AMOUNT, Field.LINE_AMOUNT)
        return Field.OUTSTANDING in first and not any(f in first for f in totals)


@dataclass(frozen=True)
class Cells:
    """One spreadsheet row as read: its number (header = 1) and its cell values."""

    row: int
    values: list[RawValue]


@dataclass(frozen=True)
class Table:
    """A spreadsheet's header and its rows, read lazily."""

    headers: list[str]
    rows: Iterator[Cells | RowError]
    close: Callable[[], None] = lambda: None  # releases what the reader opened


@dataclass(frozen=True)
class ImportOptions:
    """The creditor's defaults and the checks' reference date."""

    default_country: str
    default_currency: str
    today: date
    due_tolerance_days: int = 7
    # How each date column's slash dates read (dates.decide_date_orders); a column
    # not in it has them refused as ambiguous.
    date_orders: Mapping[Field, DateOrder] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.default_country not in values.country_codes().values():
            raise ValueError(
                f"{self.default_country!r} is not an ISO 3166 country code"
            )
        if self.default_currency not in values.currencies_in_use(self.today):
            raise ValueError(
                f"{self.default_currency!r} is not an ISO 4217 currency in use"
            )

    @property
    def latest_due_on(self) -> date:
        return self.today + timedelta(days=self.due_tolerance_days)

    def date_parser(self, date_field: Field) -> Callable[[RawValue], date]:
        """Reads the column's dates, its slash dates in the order decided for it."""
        return partial(values.parse_date, order=self.date_orders.get(date_field))


def build_invoice(record: Record, options: ImportOptions) -> list[ImportItem]:
    """The record as one InvoiceRow, or every RowError found in it."""
    check = _Check(record)
    check.reference = check.required(Field.REFERENCE, _reference)
    currency = _currency(check, options)
    money = _money(check, currency, options) if currency else None
    issued_on, due_on = _dates(check, options, money.kind if money else Kind.INVOICE)
    credited = check.parse(Field.CREDITED_REFERENCE, _reference)
    debtor = _debtor(check, options)
    if check.errors or not (check.reference and currency and money and debtor):
        return list(check.errors)
    return [
        InvoiceRow(
            rows=record.rows,
            kind=money.kind,
            external_reference=check.reference,
            credited_reference=credited if money.kind is Kind.CREDIT_NOTE else None,
            debtor=debtor,
            description=_description(record),
            amount_minor=money.amount,
            paid_minor=money.paid,
            currency=currency,
            issued_on=issued_on,
            due_on=due_on,
            warnings=tuple(check.warnings),
        )
    ]


class _Check:
    """Collects every problem in a record, so the creditor sees them all at once."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.reference: str | None = None
        self.errors: list[RowError] = []
        self.warnings: list[RowWarning] = []

    def raw(self, field: Field, line: int = 0) -> RawValue | None:
        value = self.record.lines[line].get(field)
        blank = value is None or (isinstance(value, str) and not value.strip())
        return None if blank else value

    def parse(
        self, field: Field, parser: Callable[[RawValue], T], line: int = 0
    ) -> T | None:
        raw = self.raw(field, line)
        if raw is None:
            return None
        try:
            return parser(raw)
        except BadValue as error:
            self.fail(field, error.reason, raw, line)
            return None

    def soft(self, field: Field, parser: Callable[[RawValue], T]) -> T | None:
        raw = self.raw(field)
        if raw is None:
            return None
        try:
            return parser(raw)
        except BadValue as error:
            self.warnings.append(RowWarning(field, error.reason, values.as_text(raw)))
            return None

    def required(
        self, field: Field, parser: Callable[[RawValue], T], line: int = 0
    ) -> T | None:
        if self.raw(field, line) is None:
            self.fail(
                field, Reason.of(Code.MISSING, field=FieldName(field)), None, line
            )
            return None
        return self.parse(field, parser, line)

    def fail(
        self, field: Field, reason: Reason, raw: RawValue | None, line: int | None
    ) -> None:
        rows = self.record.rows
        where = rows[line : line + 1] if line is not None else rows
        text = "" if raw is None else values.as_text(raw)
        self.errors.append(RowError(where, field, reason, text, self.reference))


def _reference(raw: RawValue) -> str:
    text = values.clean_text(raw, Field.REFERENCE, MAX_REFERENCE)
    if not text:
        raise BadValue(Reason.of(Code.REFERENCE_EMPTY))
    return text


def _currency(check: _Check, options: ImportOptions) -> str | None:
    if check.raw(Field.CURRENCY) is None:
        return options.default_currency
    return check.parse(Field.CURRENCY, partial(_line_currency, options=options))


def _line_currency(raw: RawValue, options: ImportOptions) -> str:
    return values.parse_currency(raw, options.today, options.default_currency)


def _currency_or_none(raw: RawValue, options: ImportOptions) -> str | None:
    try:
        return _line_currency(raw, options)
    except BadValue:
        return None


@dataclass(frozen=True)
class _Money:
    kind: Kind
    amount: int
    paid: int


def _money(check: _Check, currency: str, options: ImportOptions) -> _Money | None:
    parse = partial(values.parse_amount, currency=currency)
    if check.record.is_balance_only:
        # What is still owed is all the file says: it is the amount handed over.
        signed, outstanding = check.required(Field.OUTSTANDING, parse), None
    else:
        if check.record.is_line_items:
            signed = _line_total(check, currency, options)
        else:
            signed = check.required(Field.AMOUNT, parse)
        outstanding = check.parse(Field.OUTSTANDING, parse)
    kind = _kind(check, signed or 0)
    if signed is None:
        return None
    if signed == 0:
        _nothing_owed(check, currency)
    amount = abs(signed)
    paid = _paid(check, amount, outstanding, currency) if kind is Kind.INVOICE else 0
    return _Money(kind, amount, paid)


def _nothing_owed(check: _Check, currency: str) -> None:
    zero = Money(0, currency)
    if check.record.is_balance_only:
        reason = Reason.of(Code.NOTHING_DUE, due=zero)
        check.fail(Field.OUTSTANDING, reason, check.raw(Field.OUTSTANDING), 0)
        return
    code = Code.LINES_ADD_UP_TO_ZERO if check.record.is_line_items else Code.AMOUNT_ZERO
    check.fail(Field.AMOUNT, Reason.of(code, amount=zero), None, None)


def _kind(check: _Check, signed: int) -> Kind:
    """A credit note when the file says so or the amount is negative."""
    declared = check.parse(Field.KIND, values.parse_kind)
    if declared == Kind.INVOICE and signed < 0:
        check.fail(Field.AMOUNT, Reason.of(Code.NEGATIVE_INVOICE), None, None)
    credit = declared == Kind.CREDIT_NOTE or signed < 0
    return Kind.CREDIT_NOTE if credit else Kind.INVOICE


def _line_total(check: _Check, currency: str, options: ImportOptions) -> int | None:
    parse = partial(values.parse_amount, currency=currency)
    lines = range(len(check.record.lines))
    amounts = [check.required(Field.LINE_AMOUNT, parse, line) for line in lines]
    for line in lines[1:]:
        _same_currency(check, currency, options, line)
    if any(amount is None for amount in amounts):
        return None
    total = sum(amount for amount in amounts if amount is not None)
    stated = check.parse(Field.AMOUNT, parse)
    if stated is not None and stated != total:
        reason = Reason.of(
            Code.LINES_DISAGREE_WITH_TOTAL,
            added=Money(total, currency),
            stated=Money(stated, currency),
        )
        check.fail(Field.AMOUNT, reason, check.raw(Field.AMOUNT), None)
    return total


def _same_currency(
    check: _Check, currency: str, options: ImportOptions, line: int
) -> None:
    raw = check.raw(Field.CURRENCY, line)
    if raw is not None and _currency_or_none(raw, options) != currency:
        reason = Reason.of(
            Code.LINE_OTHER_CURRENCY, value=values.as_text(raw), currency=currency
        )
        check.fail(Field.CURRENCY, reason, raw, line)


def _paid(check: _Check, amount: int, outstanding: int | None, currency: str) -> int:
    if outstanding is None:
        return 0
    due = Money(outstanding, currency)
    raw = check.raw(Field.OUTSTANDING)
    if outstanding <= 0:
        check.fail(Field.OUTSTANDING, Reason.of(Code.NOTHING_DUE, due=due), raw, 0)
    elif outstanding > amount:
        reason = Reason.of(
            Code.DUE_ABOVE_AMOUNT, due=due, amount=Money(amount, currency)
        )
        check.fail(Field.OUTSTANDING, reason, raw, 0)
    return max(amount - outstanding, 0)


def _dates(
    check: _Check, options: ImportOptions, kind: Kind
) -> tuple[date | None, date | None]:
    issued_on = check.parse(Field.ISSUED_ON, options.date_parser(Field.ISSUED_ON))
    due_on = check.parse(Field.DUE_ON, options.date_parser(Field.DUE_ON))
    if due_on is not None and kind is Kind.INVOICE and due_on > options.latest_due_on:
        reason = Reason.of(
            Code.DUE_TOO_FAR, date=due_on.isoformat(), days=options.due_tolerance_days
        )
        check.fail(Field.DUE_ON, reason, check.raw(Field.DUE_ON), 0)
    return issued_on, due_on


def _debtor(check: _Check, options: ImportOptions) -> DebtorDetails | None:
    name = _name(check)
    address_country = check.soft(Field.COUNTRY, values.parse_country)
    phone, flag = _phone(check, address_country or options.default_country)
    country = address_country or (phone.country if phone else options.default_country)
    birth_date = partial(
        values.parse_birth_date,
        today=options.today,
        order=options.date_orders.get(Field.BIRTH_DATE),
    )
    details = DebtorDetails(
        name=name or "",
        customer_number=check.parse(Field.CUSTOMER_NUMBER, _customer_number),
        phone=phone.e164 if phone else None,
        phone_flag=flag,
        email=check.soft(Field.EMAIL, values.parse_email),
        birth_date=check.soft(Field.BIRTH_DATE, birth_date),
        postcode=check.soft(
            Field.POSTCODE, partial(values.parse_postcode, country=country)
        ),
        country=country,
        timezone=phone.timezone if phone else values.country_timezone(country),
    )
    return details if name else None


def _name(check: _Check) -> str | None:
    """The debtor's name, from one column or from a first and a last name column."""
    last = check.raw(Field.LAST_NAME)
    if last is None:
        return check.required(Field.NAME, values.normalise_name)
    first = check.raw(Field.NAME)
    parts = (values.as_text(part).strip() for part in (first, last) if part is not None)
    try:
        return values.normalise_name(" ".join(parts))
    except BadValue as error:
        check.fail(Field.LAST_NAME, error.reason, last, 0)
        return None


def _customer_number(raw: RawValue) -> str:
    return values.clean_text(raw, Field.CUSTOMER_NUMBER, MAX_REFERENCE)


def _phone(check: _Check, country: str) -> tuple[PhoneInfo | None, PhoneFlag]:
    field = Field.MOBILE if check.raw(Field.MOBILE) is not None else Field.PHONE
    raw = check.raw(field)
    if raw is None:
        return None, PhoneFlag.MISSING
    phone = check.soft(field, partial(values.normalise_phone, default_country=country))
    if phone is None:
        return None, PhoneFlag.INVALID
    if not phone.can_receive_sms:
        text = values.as_text(raw).strip()
        reason = Reason.of(Code.LANDLINE, phone=text)
        check.warnings.append(RowWarning(field, reason, text))
        return phone, PhoneFlag.LANDLINE
    return phone, PhoneFlag.MOBILE


def _description(record: Record) -> str:
    """The distinct line descriptions, joined until the column is full."""
    parts: list[str] = []
    for line in record.lines:
        part = _plain(line.get(Field.DESCRIPTION, ""))
        if part and part not in parts:
            parts.append(part)
        if len("; ".join(parts)) > MAX_DESCRIPTION:
            break
    text = "; ".join(parts)
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _plain(raw: RawValue) -> str:
    return " ".join("".join(c for c in values.as_text(raw) if c.isprintable()).split())
