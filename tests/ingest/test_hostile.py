"""Hostile and broken files: refused with a clear message, and nothing outside is read."""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from app.ingest.errors import FileRejected, UnknownLayout
from app.ingest.headers import MAX_COLUMNS
from app.ingest.readers import read_invoices, read_layout
from app.ingest.rows import Field, InvoiceRow, RowError
from tests.ingest import TODAY, read_bytes, read_stream

UBL_HEAD = '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"'
CBC = 'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"'
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE Invoice [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">\n'
        for n in range(1, 10)
    )
    + f"]>\n{UBL_HEAD} {CBC}><cbc:ID>&lol9;</cbc:ID></Invoice>\n"
)

_watched: set[str] = set()
_opened: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _watched and str(args[0]) in _watched:
        _opened.append(str(args[0]))


sys.addaudithook(_audit)  # hooks cannot be removed; this one only watches listed paths


@pytest.fixture
def secret(tmp_path: Path) -> Iterator[Path]:
    """A file outside the upload that no import may open."""
    path = tmp_path / "secret.txt"
    path.write_text("the creditor's secret")
    _watched.add(str(path))
    _opened.clear()
    yield path
    _watched.discard(str(path))


def rejected(data: bytes, **options: Any) -> str:
    with pytest.raises(FileRejected) as error:
        read_bytes(data, **options)
    return error.value.message


def test_an_external_entity_is_refused_without_opening_the_file(secret: Path) -> None:
    xml = (
        f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        f"\n{UBL_HEAD} {CBC}><cbc:ID>&xxe;</cbc:ID></Invoice>\n"
    )
    message = rejected(xml.encode(), filename="invoice.xml")
    assert "refused for safety" in message
    assert "secret" not in message
    assert _opened == []


def test_an_external_dtd_is_refused_without_opening_it(secret: Path) -> None:
    xml = f'<?xml version="1.0"?>\n<!DOCTYPE Invoice SYSTEM "{secret.as_uri()}">\n{UBL_HEAD}/>'
    assert "refused for safety" in rejected(xml.encode())
    assert _opened == []


def test_a_billion_laughs_file_is_refused_before_expanding() -> None:
    assert "refused for safety" in rejected(BILLION_LAUGHS.encode())


def test_an_entity_inside_a_workbook_is_refused(secret: Path) -> None:
    doctype = f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    workbook = _workbook([["Invoice number", "Name", "Amount"], ["A-1", "Jens", 10]])
    poisoned = _rewrite_member(
        workbook,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(b"<worksheet", doctype.encode() + b"<worksheet", 1),
    )
    rejected(poisoned, filename="invoices.xlsx")
    assert _opened == []


def test_an_empty_file_is_refused() -> None:
    assert rejected(b"", filename="empty.csv") == "empty.csv is empty"
    assert rejected(b"\r\n  \n") == "the file has no header row"


def test_an_oversized_file_is_refused_before_anything_is_read() -> None:
    stream = io.BytesIO(b"x" * 2_000)
    with pytest.raises(FileRejected, match="the file is 2 kB, over the 1 kB limit"):
        read_stream(stream, max_bytes=1_000)
    assert stream.tell() == 0


def test_a_200_mb_file_is_refused_with_the_configured_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as huge:
        huge.write(b"Invoice number,Name,Amount\n")
        huge.truncate(200 * 10**6)  # sparse: nothing to write, nothing read
    with path.open("rb") as stream, pytest.raises(FileRejected) as error:
        read_stream(stream, max_bytes=100 * 10**6)
    assert error.value.message == "the file is 200 MB, over the 100 MB limit"


def test_an_oversized_stream_is_refused_after_reading_at_most_the_limit() -> None:
    stream = _Unseekable(b"Invoice number,Name,Amount\n" + b"A,B,1\n" * 1_000)
    with pytest.raises(FileRejected, match="larger than the 1 kB limit"):
        read_stream(stream, max_bytes=1_000)
    assert stream.delivered <= 1_001


def test_a_workbook_from_an_unseekable_stream_is_read() -> None:
    data = _workbook([["Invoice number", "Name", "Amount"], ["A-1", "Jens", 10]])
    (row,) = read_stream(_Unseekable(data), filename="a.xlsx")
    assert isinstance(row, InvoiceRow)


def test_rows_in_another_encoding_are_refused_one_by_one() -> None:
    utf8_file = (
        b"Invoice number,Name,Amount\n"
        + "A-1,Søren,1\n".encode()
        + "A-2,Ærø,2\n".encode("cp1252")
        + "A-3,Åse,3\n".encode()
    )
    cp1252_file = (
        "Invoice number,Name,Amount\nA-1,Søren,1\n".encode("cp1252")
        + "A-2,Ærø,2\n".encode()
    )
    first, mixed, third = read_bytes(utf8_file)
    assert isinstance(first, InvoiceRow)
    assert first.debtor.name == "Søren"
    assert isinstance(mixed, RowError)
    assert str(mixed).startswith("row 3: the row is not in the file's encoding (utf-8)")
    assert isinstance(third, InvoiceRow)
    first, mixed = read_bytes(cp1252_file)
    assert isinstance(first, InvoiceRow)
    assert first.debtor.name == "Søren"
    assert isinstance(mixed, RowError)


def test_a_row_with_ten_thousand_columns_is_refused_alone() -> None:
    wide = "A-2,Ib,2," + ",".join(["x"] * 9_997)
    data = f"Invoice number,Name,Amount\nA-1,Jens,1,,,\n{wide}\nA-3,Bo,3\n".encode()
    first, too_wide, third = read_bytes(data)
    assert isinstance(first, InvoiceRow)
    assert str(too_wide) == "row 3: the row has 10,000 values but the header names 3"
    assert isinstance(third, InvoiceRow)


def test_a_header_with_ten_thousand_columns_is_refused() -> None:
    header = ",".join(f"c{n}" for n in range(10_000))
    message = f"the file has more than {MAX_COLUMNS:,} columns"
    assert rejected(f"{header}\n".encode()) == message
    assert rejected(_workbook([[f"c{n}" for n in range(10_000)]])) == message


def test_formulas_in_a_workbook_are_text_and_never_evaluated() -> None:
    workbook = _workbook(
        [
            ["Invoice number", "Name", "Amount", "Due date"],
            ["A-1", '=HYPERLINK("http://example.com","Jens")', 10, None],
            ["A-2", "Ib", "=1+1", None],
            ["A-3", "Bo", 0.1 + 0.2, datetime(2026, 1, 5)],
        ]
    )
    first, formula_amount, third = read_bytes(workbook, filename="invoices.xlsx")
    assert isinstance(first, InvoiceRow)
    assert first.debtor.name == '=HYPERLINK("http://example.com","Jens")'
    assert isinstance(formula_amount, RowError)
    assert (formula_amount.field, formula_amount.raw_value) == (Field.AMOUNT, "=1+1")
    assert isinstance(third, InvoiceRow)
    assert third.amount_minor == 30  # Excel's 15 digits, not 0.30000000000000004
    assert third.due_on == datetime(2026, 1, 5).date()


@pytest.mark.parametrize("kept", [0.1, 0.5, 0.9])
def test_a_damaged_worksheet_is_refused_wherever_it_breaks(kept: float) -> None:
    rows = [["Invoice number", "Name", "Amount"]] + [
        [f"A-{n}", "Jens", n] for n in range(1, 200)
    ]
    damaged = _rewrite_member(
        _workbook(rows),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml[: int(len(xml) * kept)],
    )
    message = "the workbook is damaged and could not be read to the end"
    assert rejected(damaged, filename="invoices.xlsx") == message


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_a_zip_bomb_is_refused_from_its_declared_sizes(member: str) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr(member, b" " * 3_000_000)
    message = rejected(archive.getvalue(), max_bytes=100_000)
    assert message == "the workbook unpacks to far more data than a spreadsheet holds"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old .xls workbook"),
        # UTF-16 without a BOM: which byte order is a guess, so it is still refused.
        ("Invoice number\tName\n".encode("utf-16-le"), "not a CSV, XLSX or UBL"),
        (b"%PDF-1.7\n\x00\x01\x02", "not a CSV, XLSX or UBL XML file"),
        (b"PK\x03\x04 not really a zip", "not a readable XLSX workbook"),
        (b"<Invoice><unclosed></Invoice>", "not well-formed"),
        (b"<html><body>hello</body></html>", "not a UBL invoice or credit note"),
        (b"Invoice\rnumber,Name\n", "the header row could not be read as CSV"),
    ],
)
def test_files_of_the_wrong_kind_are_refused_plainly(data: bytes, says: str) -> None:
    assert says in rejected(data)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_excel_unicode_text_is_read_by_its_byte_order_mark(encoding: str) -> None:
    """Excel's "Unicode text" (UTF-16 with a BOM, tab-separated) was refused with
    "save it as CSV UTF-8"; the product owner decided it is read like any text file."""
    text = "Fakturanr.\tKundenavn\tForfaldsdato\tBeløb\r\n900\tBo Ærø\t01-11-2026\t1.000,00\r\n"
    bom = "" if encoding == "utf-16" else "\ufeff"  # "utf-16" writes its own
    (row,) = read_bytes((bom + text).encode(encoding), filename="ark.txt")
    assert isinstance(row, InvoiceRow)
    assert (row.debtor.name, row.amount_minor, row.due_on) == (
        "Bo Ærø",
        100000,
        date(2026, 11, 1),
    )


def test_a_line_longer_than_any_invoice_row_is_refused() -> None:
    data = b"Invoice number,Name,Amount\n" + b"x" * (1 << 20) + b"\n"
    assert rejected(data, max_bytes=10**7) == "line 2 is longer than 1 MB"


def test_a_plain_zip_is_not_taken_for_a_workbook() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as plain:
        plain.writestr("hello.txt", "hello")
    assert "not a readable XLSX workbook" in rejected(archive.getvalue())


def test_ubl_amounts_in_another_currency_are_refused() -> None:
    xml = (
        f'{UBL_HEAD} {CBC} xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:'
        'CommonAggregateComponents-2"><cbc:ID>1</cbc:ID>'
        "<cbc:DocumentCurrencyCode>DKK</cbc:DocumentCurrencyCode><cac:LegalMonetaryTotal>"
        '<cbc:PayableAmount currencyID="EUR">10.00</cbc:PayableAmount>'
        "</cac:LegalMonetaryTotal></Invoice>"
    )
    assert "in EUR but the invoice currency is DKK" in rejected(xml.encode())


def test_an_unknown_layout_asks_for_a_mapping() -> None:
    with pytest.raises(UnknownLayout) as error:
        read_bytes(b"Bilag;Hvem;Hvor meget\n17;Jens;10,00\n")
    layout = error.value.layout
    assert layout.headers == ("Bilag", "Hvem", "Hvor meget")
    assert layout.missing == (Field.REFERENCE, Field.NAME, Field.AMOUNT)
    assert layout.fingerprint.startswith("v1:")
    assert "the invoice number, the debtor's name, the amount" in error.value.message


def test_an_overlong_cell_is_a_row_error() -> None:
    data = b"Invoice number,Name,Amount\nA-1,Jens,1\nA-2," + b"y" * 200_000 + b",2\n"
    first, overlong = read_bytes(data)
    assert isinstance(first, InvoiceRow)
    assert isinstance(overlong, RowError)
    assert "could not be read as CSV" in overlong.message


class _Unseekable(io.RawIOBase):
    """An upload arriving as a stream, counting what was taken from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = io.BytesIO(data)
        self.delivered = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.delivered += len(chunk)
        return len(chunk)


def _workbook(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _rewrite_member(data: bytes, name: str, change: Any) -> bytes:
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(output, "w") as target,
    ):
        for item in source.infolist():
            content = source.read(item)
            target.writestr(item, change(content) if item.filename == name else content)
    return output.getvalue()


def test_reading_the_layout_of_a_streamed_workbook_releases_it() -> None:
    data = _workbook([["Fakturanummer", "Navn", "Beløb"], ["F-1", "Jens", 10]])
    layout = read_layout(_Unseekable(data), filename="a.xlsx", max_bytes=1_000_000)
    assert layout is not None
    assert layout.headers == ("Fakturanummer", "Navn", "Beløb")
    assert layout.missing == ()


def test_an_import_stopped_half_way_releases_the_workbook() -> None:
    rows = [
        ["Invoice number", "Name", "Amount"],
        ["A-1", "Jens", 10],
        ["A-2", "Ib", 20],
    ]
    items = read_invoices(
        _Unseekable(_workbook(rows)),
        filename="a.xlsx",
        default_country="DK",
        default_currency="DKK",
        today=TODAY,
        max_bytes=1_000_000,
    )
    assert isinstance(next(items), InvoiceRow)
    items.close()
