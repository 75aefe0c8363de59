"""Values, headers and whole rows: what is accepted, how it is normalised, what is said."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.errors import ValidationFailed
from app.ingest import values
from app.ingest.errors import BadValue
from app.ingest.headers import (
    SYNONYMS,
    ColumnMapping,
    guess_mapping,
    layout_fingerprint,
    normalise_header,
)
from app.ingest.reasons import format_minor
from app.ingest.rows import Field, InvoiceRow, Kind, PhoneFlag, RowError
from tests.ingest import TODAY, read_bytes


@pytest.mark.parametrize(
    ("raw", "currency", "minor"),
    [
        ("1234.56", "DKK", 123456),
        ("1.234,56", "DKK", 123456),
        ("1,234.56", "USD", 123456),
        ("1 234,56", "NOK", 123456),
        ("1\u00a0234,56 kr", "NOK", 123456),
        ("1'234.50", "CHF", 123450),
        ("1.500", "DKK", 150000),  # three decimals are impossible in kroner
        ("1,500", "USD", 150000),
        ("1,5", "DKK", 150),
        ("0,05", "EUR", 5),
        ("1234.500", "DKK", 123450),
        ("12", "DKK", 1200),
        ("-1.234.567,89", "DKK", -123456789),
        ("(1,020.00)", "USD", -102000),
        ("123,45-", "DKK", -12345),
        ("−5", "DKK", -500),
        ("DKK 100", "DKK", 10000),
        ("100,-", "DKK", 10000),
        ("€ 9,99", "EUR", 999),
        ("1.500", "JPY", 1500),
        ("1.234,567", "KWD", 1234567),
        (Decimal("1234.5"), "DKK", 123450),
        (Decimal("1E+3"), "ISK", 1000),
    ],
)
def test_amounts_become_exact_minor_units(raw: str, currency: str, minor: int) -> None:
    assert values.parse_amount(raw, currency) == minor


@pytest.mark.parametrize(
    ("raw", "currency", "says"),
    [
        ("12.345,678", "DKK", "more decimals than DKK allows (2 decimals)"),
        ("1,5", "JPY", "more decimals than JPY allows (no decimals)"),
        ("1.234", "KWD", "ambiguous"),
        ("12,34,567", "INR", "misplaced thousands separators"),
        ("1.234,567.8", "DKK", "misplaced thousands separators"),
        ("EUR 100", "DKK", "does not match the invoice currency DKK"),
        ("$100", "DKK", "does not match the invoice currency DKK"),
        ("1e5", "DKK", "is not a number"),
        ("100.", "DKK", "is not a number"),
        ("(100", "DKK", "is not a number"),
        ("abc", "DKK", "is not a number"),
        ("9" * 41, "DKK", "is not a number"),
        ("9" * 20, "DKK", "too large"),
        (Decimal("Infinity"), "DKK", "not a usable number"),
        (date(2021, 1, 1), "DKK", "is a date"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(
    raw: str, currency: str, says: str
) -> None:
    with pytest.raises(BadValue, match=says.replace("(", r"\(").replace(")", r"\)")):
        values.parse_amount(raw, currency)


def test_amounts_in_messages_are_exact() -> None:
    assert format_minor(123456789, "DKK") == "1,234,567.89 DKK"
    assert format_minor(1500, "JPY") == "1,500 JPY"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("28-01-2021", date(2021, 1, 28)),
        ("28.01.2021", date(2021, 1, 28)),
        ("2021-01-28", date(2021, 1, 28)),
        ("2021-01-28T11:04:09+00:00", date(2021, 1, 28)),
        ("Jan 28 2021", date(2021, 1, 28)),
        ("January 28, 2021", date(2021, 1, 28)),
        ("28. jan. 2021", date(2021, 1, 28)),
        ("1. maj 2020", date(2020, 5, 1)),
        ("3 mars 2020", date(2020, 3, 3)),
        ("24. desember 2020", date(2020, 12, 24)),
        (date(2020, 2, 29), date(2020, 2, 29)),
    ],
)
def test_dates_in_the_listed_formats(raw: str, expected: date) -> None:
    assert values.parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("01/02/2021", "ambiguous"),
        ("31.02.2021", "not a real date"),
        ("28-01.2021", "not in a format we read"),
        ("0001-01-01", "not a plausible invoice date"),
        ("28 smarch 2021", "month name we do not know"),
        (Decimal(44224), "is a number"),
    ],
)
def test_bad_dates_are_refused_with_a_reason(raw: str, says: str) -> None:
    with pytest.raises(BadValue, match=says):
        values.parse_date(raw)


def test_a_full_cpr_number_is_never_taken_as_a_birth_date() -> None:
    with pytest.raises(BadValue, match="CPR"):
        values.parse_birth_date("010203-1234", TODAY)
    assert values.parse_birth_date("01.02.1983", TODAY) == date(1983, 2, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("JENS HANSEN", "Jens Hansen"),
        ("  Lars   Løkke  ", "Lars Løkke"),
        ("ANNE-MARIE O'BRIEN", "Anne-Marie O'Brien"),
        ("ØSTERGAARD 3RD", "Østergaard 3rd"),
        ("BYGGE APS", "Bygge ApS"),
        ("NORDIC CONSULTING AS", "Nordic Consulting AS"),
        ("DA SILVA", "Da Silva"),
        ("McDonald", "McDonald"),
        ("jens hansen", "jens hansen"),  # mixed or lower case is left as written
    ],
)
def test_names_are_trimmed_and_title_cased_only_when_all_caps(
    raw: str, expected: str
) -> None:
    assert values.normalise_name(raw) == expected


def test_names_with_control_characters_are_refused() -> None:
    with pytest.raises(BadValue, match="control characters"):
        values.normalise_name("Jens\x00Hansen")


@pytest.mark.parametrize(
    ("raw", "country", "e164", "sms"),
    [
        ("20 12 34 56", "DK", "+4520123456", True),
        ("+45 20 12 34 56", "NO", "+4520123456", True),
        ("412 34 567", "NO", "+4741234567", True),
        ("22 22 22 22", "NO", "+4722222222", False),
        (Decimal(4520123456), "DK", "+4520123456", True),
    ],
)
def test_phones_become_e164(raw: str, country: str, e164: str, sms: bool) -> None:
    phone = values.normalise_phone(raw, country)
    assert (phone.e164, phone.can_receive_sms) == (e164, sms)


@pytest.mark.parametrize(
    ("raw", "country", "message"),
    [
        ("1234", "DK", "phone number 1234 is not a valid Danish mobile number"),
        ("1234", "DE", "phone number 1234 is not a valid mobile number in Germany"),
        ("+45 1234", "NO", "phone number +45 1234 is not a valid phone number"),
    ],
)
def test_invalid_phones_are_described_plainly(
    raw: str, country: str, message: str
) -> None:
    with pytest.raises(BadValue) as error:
        values.normalise_phone(raw, country)
    assert error.value.message == message


def test_currencies_are_iso_codes_in_use() -> None:
    assert values.parse_currency(" dkk ", TODAY, "NOK") == "DKK"
    for retired_or_not_money in ("DEM", "XAU", "XXX", "KRW!", "¤"):
        with pytest.raises(BadValue, match="not an ISO 4217 currency in use"):
            values.parse_currency(retired_or_not_money, TODAY, "DKK")


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("2100", "DK", "2100"),
        ("DK-2100", "DK", "2100"),
        (Decimal(150), "NO", "0150"),  # Oslo's leading zero, lost by a spreadsheet
        ("sw1a 1aa", "GB", "SW1A 1AA"),
    ],
)
def test_postcodes(raw: str, country: str, expected: str) -> None:
    assert values.parse_postcode(raw, country) == expected


def test_a_danish_postcode_has_four_digits() -> None:
    with pytest.raises(BadValue, match="4-digit"):
        values.parse_postcode("101", "DK")


@pytest.mark.parametrize(
    ("raw", "code"),
    [("DK", "DK"), ("no", "NO"), ("Danmark", "DK"), ("Norge", "NO"), ("Sweden", "SE")],
)
def test_countries_by_code_or_name(raw: str, code: str) -> None:
    assert values.parse_country(raw) == code


def test_e_mail_addresses() -> None:
    assert values.parse_email(" Hans@DLS.dk ") == "Hans@dls.dk"
    with pytest.raises(BadValue, match="not valid"):
        values.parse_email("hans at dls.dk")


def test_header_synonyms_never_overlap() -> None:
    texts = [text for synonyms in SYNONYMS.values() for text in synonyms]
    assert len(texts) == len(set(texts))
    assert all(normalise_header(text) == text for text in texts)


@pytest.mark.parametrize(
    "headers",
    [
        ["Fakturanummer", "Navn", "Kundenummer", "Beløb", "Valuta", "Forfaldsdato",
         "Telefon", "Fødselsdato", "Postnummer"],
        ["Fakturanr.", "Navn", "Kundenummer", "Beløp", "Valuta", "Forfallsdato",
         "Mobil", "Fødselsdato", "Postnummer"],
        ["Invoice #", "Customer Name", "Customer ID", "Amount", "Currency", "Due Date",
         "Mobile", "Date of birth", "ZIP"],
    ],
)  # fmt: skip
def test_danish_norwegian_and_english_headers_are_recognised(
    headers: list[str],
) -> None:
    mapping = guess_mapping(headers)
    assert mapping.missing == ()
    assert set(mapping.columns) >= {
        Field.REFERENCE, Field.NAME, Field.CUSTOMER_NUMBER, Field.AMOUNT, Field.CURRENCY,
        Field.DUE_ON, Field.BIRTH_DATE, Field.POSTCODE,
    }  # fmt: skip


def test_layout_fingerprint_is_stable_and_ignores_order_and_spelling() -> None:
    headers = ["Fakturanummer", "Navn", "Beløb"]
    fingerprint = layout_fingerprint(headers)
    # A stored fingerprint must keep matching: change FINGERPRINT_VERSION if this changes.
    assert fingerprint == "v1:473585815769d636b056bcc7d846742c"
    assert layout_fingerprint(["beløb", " NAVN ", "Fakturanummer"]) == fingerprint
    assert (
        layout_fingerprint(["Fakturanummer", "Navn", "Beløb", "Valuta"]) != fingerprint
    )


def test_a_mapping_round_trips_through_its_stored_form() -> None:
    mapping = ColumnMapping({Field.REFERENCE: "Bilag", Field.AMOUNT: "Sum kr"})
    assert ColumnMapping.from_dict(mapping.to_dict()) == mapping
    with pytest.raises(ValidationFailed):
        ColumnMapping.from_dict({"amount_in_cents": "Sum"})


DANISH_CSV = (
    "Fakturanr;Navn;Beløb;Valuta;Forfaldsdato;Mobil;Postnummer\r\n"
    "F-1;SØREN ØSTERGÅRD;1.234,50;DKK;01.10.2026;20 12 34 56;2100\r\n"
    "F-2;Mette Ærø;-250,00;DKK;01.10.2026;;\r\n"
)


def test_a_danish_windows_1252_export_imports() -> None:
    first, second = read_bytes(DANISH_CSV.encode("cp1252"))
    assert isinstance(first, InvoiceRow)
    assert isinstance(second, InvoiceRow)
    assert (first.debtor.name, first.amount_minor) == ("Søren Østergård", 123450)
    assert (first.debtor.phone, first.debtor.phone_flag) == (
        "+4520123456",
        PhoneFlag.MOBILE,
    )
    assert first.debtor.postcode == "2100"
    assert (second.kind, second.amount_minor) == (Kind.CREDIT_NOTE, 25000)
    assert second.debtor.phone_flag is PhoneFlag.MISSING


def test_an_excel_separator_hint_and_a_bom_are_understood() -> None:
    data = "sep=,\nInvoice number,Name,Amount\nA-1,Jens,10.00\n".encode("utf-8-sig")
    (row,) = read_bytes(data)
    assert isinstance(row, InvoiceRow)
    assert row.rows == (3,)


def test_every_problem_in_a_row_is_reported_with_its_row_number() -> None:
    data = b"Invoice number,Name,Amount,Currency,Due date\nA-1,,12.345,XYZ,31.02.2021\n"
    errors = read_bytes(data)
    assert all(isinstance(error, RowError) for error in errors)
    assert [str(error) for error in errors] == [
        "row 2: currency XYZ is not an ISO 4217 currency in use",
        "row 2: date 31.02.2021 is not a real date",
        "row 2: the debtor's name is missing",
    ]


def test_a_due_date_beyond_the_tolerance_is_refused() -> None:
    data = b"Invoice number,Name,Amount,Due date\nA-1,Jens,10,2026-11-23\nA-2,Ib,10,2026-11-24\n"
    soon, later = read_bytes(data, due_tolerance_days=7)
    assert isinstance(soon, InvoiceRow)
    assert isinstance(later, RowError)
    assert later.field is Field.DUE_ON
    assert "more than 7 days away" in later.message


def test_a_balance_column_records_what_was_already_paid() -> None:
    data = b"Invoice number,Name,Total,Balance\nA-1,Jens,100,40\nA-2,Ib,100,0\nA-3,Bo,100,120\n"
    partly, paid, over = read_bytes(data)
    assert isinstance(partly, InvoiceRow)
    assert (partly.paid_minor, partly.balance_minor) == (6000, 4000)
    assert isinstance(paid, RowError)
    assert "nothing is owed" in paid.message
    assert isinstance(over, RowError)
    assert "more than the invoice amount" in over.message


def test_a_credit_note_row_names_the_invoice_it_credits() -> None:
    data = b"Invoice number,Type,Credited invoice,Name,Amount\nK-1,Kreditnota,F-7,Jens,50\n"
    (row,) = read_bytes(data)
    assert isinstance(row, InvoiceRow)
    assert (row.kind, row.credited_reference, row.amount_minor) == (
        Kind.CREDIT_NOTE,
        "F-7",
        5000,
    )


def test_line_items_must_add_up_to_the_stated_total() -> None:
    data = (
        b"Invoice Number,Customer Name,Item Total,Total,Currency Code\n"
        b"A-1,Jens,10.00,25.00,EUR\nA-1,Jens,10.00,25.00,EUR\n"
        b"A-2,Ib,5.00,,EUR\nA-2,Ib,5.00,,USD\n"
    )
    wrong_total, mixed_currency = read_bytes(data)
    assert str(wrong_total) == (
        "rows 2–3: the lines add up to 20.00 EUR but the invoice total says 25.00 EUR"
    )
    assert str(mixed_currency) == "row 5: this line is in USD but the invoice is in EUR"


def test_scattered_lines_of_one_invoice_are_refused_not_split() -> None:
    data = b"Invoice Number,Name,Line Total\nA-1,Jens,1\nA-2,Ib,2\nA-1,Jens,3\n"
    first, second, scattered = read_bytes(data)
    assert isinstance(first, InvoiceRow)
    assert isinstance(second, InvoiceRow)
    assert isinstance(scattered, RowError)
    assert scattered.rows == (4,)
    assert "also has lines on row 2" in scattered.message


def test_a_summary_row_repeated_is_refused() -> None:
    data = b"Invoice Number,Name,Amount\nA-1,Jens,1\nA-1,Jens,1\n"
    _, repeated = read_bytes(data)
    assert str(repeated) == "row 3: invoice A-1 appears more than once (also on row 2)"


def test_a_saved_mapping_reads_an_unknown_layout() -> None:
    data = b"Bilag;Hvem;Sum kr\n17;Jens;10,00\n"
    mapping = ColumnMapping(
        {Field.REFERENCE: "Bilag", Field.NAME: "Hvem", Field.AMOUNT: "Sum kr"}
    )
    (row,) = read_bytes(data, mapping=mapping)
    assert isinstance(row, InvoiceRow)
    assert (row.external_reference, row.amount_minor) == ("17", 1000)


def test_the_creditors_defaults_are_checked() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        read_bytes(b"x", default_currency="KRONER")
    with pytest.raises(ValueError, match="ISO 3166"):
        read_bytes(b"x", default_country="Danmark")
