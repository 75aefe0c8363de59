"""Properties: amounts round-trip exactly, no input crashes the importer, memory stays flat."""

from __future__ import annotations

import csv
import gc
import io
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from app.ingest.errors import FileRejected
from app.ingest.readers import read_invoices
from app.ingest.rows import ImportItem, InvoiceRow, Kind, RowError
from app.services.formatting import minor_unit_exponent
from tests.ingest import TODAY, read_bytes

CURRENCIES = ["DKK", "NOK", "SEK", "EUR", "USD", "JPY", "ISK", "KWD"]
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def written_amounts(draw: st.DrawFn) -> tuple[int, str, str]:
    """A non-zero amount in minor units, its currency, and one way a person writes it."""
    currency = draw(st.sampled_from(CURRENCIES))
    minor = draw(st.integers(-(10**12), 10**12).filter(bool))
    decimal_mark = draw(st.sampled_from([".", ","]))
    grouping = draw(
        st.sampled_from(["", " ", "\u00a0", "'", "," if decimal_mark == "." else "."])
    )
    sign = draw(st.sampled_from(["-{}", "({})", "{}-", "−{}"]))
    return minor, currency, _write(minor, currency, decimal_mark, grouping, sign)


def _write(
    minor: int, currency: str, decimal_mark: str, grouping: str, sign: str
) -> str:
    exponent = minor_unit_exponent(currency)
    whole, fraction = divmod(abs(minor), 10**exponent)
    text = f"{whole:,}".replace(",", grouping)
    if exponent:
        text += decimal_mark + str(fraction).zfill(exponent)
    return sign.format(text) if minor < 0 else text


@SLOW
@given(
    amounts=st.lists(written_amounts(), min_size=1, max_size=5),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_accepted_amounts_round_trip_exactly(
    amounts: list[tuple[int, str, str]], delimiter: str, encoding: str
) -> None:
    output = io.StringIO()
    writer = csv.writer(output, delimiter=delimiter)
    writer.writerow(["Invoice number", "Name", "Amount", "Currency", "Due date"])
    for number, (_, currency, text) in enumerate(amounts):
        writer.writerow([f"F-{number}", "Søren Ærø", text, currency, "01.10.2026"])
    assume(encoding != "cp1252" or "−" not in output.getvalue())  # no such minus there
    items = read_bytes(output.getvalue().encode(encoding))
    assert len(items) == len(amounts)
    for item, (minor, currency, _) in zip(items, amounts, strict=True):
        if isinstance(item, RowError):
            # Only "1.234"-style amounts in three-decimal currencies are ambiguous.
            assert minor_unit_exponent(currency) == 3, str(item)
            continue
        assert (item.amount_minor, item.currency) == (abs(minor), currency)
        assert item.kind is (Kind.CREDIT_NOTE if minor < 0 else Kind.INVOICE)
        assert item.debtor.name == "Søren Ærø"


def consume(data: bytes, filename: str = "upload") -> None:
    """Import `data`; only invoice rows, row errors or a file refusal may come out."""
    try:
        items = read_bytes(data, filename=filename)
    except FileRejected:
        return  # refusing the whole file, with a reason, is an allowed outcome
    assert all(isinstance(item, InvoiceRow | RowError) for item in items)
    assert all(str(item) for item in items if isinstance(item, RowError))


@SLOW
@given(st.binary(max_size=3000))
def test_no_bytes_crash_the_importer(data: bytes) -> None:
    consume(data)


HEADERS = [
    "Invoice number", "Fakturanr", "Name", "Navn", "Amount", "Beløb", "Line total",
    "Total", "Balance", "Currency", "Due date", "Forfaldsdato", "Mobil", "Telefon",
    "Email", "Fødselsdato", "Postnummer", "Land", "Type", "Credited invoice",
]  # fmt: skip
CELL = st.text(
    alphabet=st.sampled_from(
        list("0123456789-.,;'\" \t\r\n()+€$kKrRøØæ/:=@xXJENSdkDK")
    ),
    max_size=20,
)


@SLOW
@given(
    headers=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8, unique=True),
    rows=st.lists(st.lists(CELL, max_size=10), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "cp1252"]),
)
def test_no_csv_crashes_the_importer(
    headers: list[str], rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    output = io.StringIO()
    writer = csv.writer(output, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    consume(output.getvalue().encode(encoding, errors="replace"))


UBL_FIELDS = ["ID", "IssueDate", "DueDate", "DocumentCurrencyCode", "Note"]


@SLOW
@given(
    values=st.lists(st.text(max_size=15), min_size=5, max_size=5),
    payable=st.text(max_size=12),
    customer=st.lists(st.text(max_size=15), min_size=4, max_size=4),
)
def test_no_ubl_document_crashes_the_importer(
    values: list[str], payable: str, customer: list[str]
) -> None:
    consume(_ubl(values, payable, customer).encode(), filename="invoice.xml")


def _ubl(values: list[str], payable: str, customer: list[str]) -> str:
    header = "".join(
        f"<cbc:{tag}>{escape(_xml_text(value))}</cbc:{tag}>"
        for tag, value in zip(UBL_FIELDS, values, strict=True)
    )
    name, phone, postcode, country = (escape(_xml_text(value)) for value in customer)
    party = (
        f"<cac:Party><cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>"
        f"<cac:PostalAddress><cbc:PostalZone>{postcode}</cbc:PostalZone><cac:Country>"
        f"<cbc:IdentificationCode>{country}</cbc:IdentificationCode></cac:Country>"
        f"</cac:PostalAddress><cac:Contact><cbc:Telephone>{phone}</cbc:Telephone>"
        "</cac:Contact></cac:Party>"
    )
    total = f"<cbc:PayableAmount>{escape(_xml_text(payable))}</cbc:PayableAmount>"
    return (
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" '
        'xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
        'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
        f"{header}<cac:AccountingCustomerParty>{party}</cac:AccountingCustomerParty>"
        f"<cac:LegalMonetaryTotal>{total}</cac:LegalMonetaryTotal></Invoice>"
    )


def _xml_text(value: str) -> str:
    """Only characters XML 1.0 allows, so the document itself is well-formed."""
    return "".join(c for c in value if c in "\t\n\r" or " " <= c <= "\ud7ff")


SPREADSHEET_CELL = st.one_of(
    st.none(),
    st.text(max_size=15).map(_xml_text),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(Decimal),
    st.dates(min_value=date(1900, 3, 1)),
    st.booleans(),
    st.sampled_from(["=1+1", "=SUM(A1:A3)", '=HYPERLINK("http://example.com")']),
)


@settings(SLOW, max_examples=30)
@given(rows=st.lists(st.lists(SPREADSHEET_CELL, max_size=6), max_size=5))
def test_no_workbook_crashes_the_importer(rows: list[list[Any]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Invoice number", "Name", "Amount", "Currency", "Due date", "Mobil"])
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    consume(output.getvalue(), filename="invoices.xlsx")


class _GeneratedCsv(io.RawIOBase):
    """A CSV upload made up line by line as it is read, never held whole."""

    def __init__(self, header: bytes, lines: Iterator[bytes]) -> None:
        super().__init__()
        self.pending = header
        self.lines = lines

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self.pending) < len(buffer):
            line = next(self.lines, b"")
            if not line:
                break
            self.pending += line
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def import_generated(header: bytes, lines: Iterator[bytes]) -> Iterator[ImportItem]:
    return read_invoices(
        _GeneratedCsv(header, lines),
        filename="big.csv",
        default_country="DK",
        default_currency="DKK",
        today=TODAY,
        max_bytes=1 << 40,
    )


def allocated_blocks() -> int:
    """Live small objects; a per-row leak would make this grow with the rows read."""
    gc.collect()
    return sys.getallocatedblocks()


INVOICES, LINES = 100, 10_000  # a million rows; each invoice as long as one may be


def test_memory_stays_flat_over_a_million_line_item_rows() -> None:
    lines = (
        b"F-%d;Kunde %d;%d,%02d;01.10.2026\n" % (invoice, invoice, line, line % 100)
        for invoice in range(INVOICES)
        for line in range(LINES)
    )
    header = b"Invoice number;Name;Line total;Due date\n"
    line_total = sum(line * 100 + line % 100 for line in range(LINES))
    blocks: list[int] = []
    for number, item in enumerate(import_generated(header, lines), start=1):
        assert isinstance(item, InvoiceRow)
        assert item.amount_minor == line_total
        if number in (INVOICES // 10, INVOICES):
            blocks.append(allocated_blocks())
    assert number == INVOICES
    assert blocks[1] - blocks[0] < 10_000


def test_memory_stays_flat_over_summary_rows() -> None:
    rows = 50_000  # five times the window of recent invoice numbers
    lines = (b"F-%d;Kunde %d;%d,50;01.10.2026\n" % (n, n, n) for n in range(rows))
    header = b"Invoice number;Name;Amount;Due date\n"
    blocks: list[int] = []
    for number, item in enumerate(import_generated(header, lines), start=1):
        assert isinstance(item, InvoiceRow)
        if number in (rows * 2 // 5, rows):
            blocks.append(allocated_blocks())
    assert blocks[1] - blocks[0] < 10_000
