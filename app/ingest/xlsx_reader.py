"""XLSX workbooks: the sheet holding the invoices, streamed by openpyxl in read-only mode."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from typing import IO, TYPE_CHECKING

from openpyxl import Workbook, load_workbook

from app.ingest.errors import FileRejected
from app.ingest.headers import (
    HEADER_SEARCH_ROWS,
    MAX_COLUMNS,
    check_headers,
    is_full_header,
    pick_header,
)
from app.ingest.reasons import Code, Reason
from app.ingest.rows import Cells, RowError, Table
from app.ingest.values import RawValue, as_text

# Worksheet XML packs about ten to one; far more than that is a zip bomb.
MAX_UNPACK_RATIO = 20
SHEETS = "xl/worksheets/"
SPOOL_IN_MEMORY_BYTES = 1 << 23

if TYPE_CHECKING:
    from _typeshed import SupportsRead


def read_xlsx_table(source: IO[bytes], max_bytes: int) -> Table:
    """The header and a lazy iterator over the rows of the workbook's first sheet.

    :raises FileRejected: not a workbook, unpacks too large, or has no header row.
    """
    stack = ExitStack()  # closes the workbook and any spool, here on failure or later
    try:
        # A zip is read from its end; a stream that cannot seek is copied first.
        archive = (
            source if source.seekable() else stack.enter_context(spooled_copy(source))
        )
        _check_archive(archive, max_bytes)
        workbook = _open_workbook(archive)
        stack.callback(workbook.close)
        headers, rows = _invoice_sheet(workbook)
    except BaseException:
        stack.close()
        raise
    return Table(headers, _within_width(rows), stack.close)


def _invoice_sheet(workbook: Workbook) -> tuple[list[str], Iterator[Cells]]:
    """The header and rows of the first sheet whose header names every required field,
    else of the first sheet with anything in it: the invoices may follow a cover sheet.

    :raises FileRejected: every sheet is empty.
    """
    fallback: tuple[list[str], Iterator[Cells]] | None = None
    for sheet in workbook.worksheets:
        rows = _rows(sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True))
        found = _headers(rows)
        if found is None:
            continue
        headers, after = found
        if is_full_header(headers):
            return headers, chain(after, rows)
        fallback = fallback or (headers, chain(after, rows))
    if fallback is None:
        raise FileRejected(Reason.of(Code.SHEET_EMPTY))
    return fallback


def spooled_copy(source: SupportsRead[bytes]) -> IO[bytes]:
    """A seekable copy of a stream that cannot seek, in memory up to 8 MB, on disk beyond.

    The caller closes it (it is handed to an ExitStack, hence no `with` here).
    """
    spool = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    try:
        shutil.copyfileobj(source, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _open_workbook(source: IO[bytes]) -> Workbook:
    try:
        # Formulas come back as their text ("=SUM(A1:A3)"): nothing is evaluated.
        workbook = load_workbook(
            source, read_only=True, data_only=False, keep_links=False
        )
    except Exception as error:  # openpyxl raises many types for a broken file
        raise FileRejected(Reason.of(Code.NOT_XLSX)) from error
    if not workbook.worksheets:
        workbook.close()
        raise FileRejected(Reason.of(Code.WORKBOOK_NO_SHEET))
    return workbook


def _check_archive(source: IO[bytes], max_bytes: int) -> None:
    start = source.tell()
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as error:
        raise FileRejected(Reason.of(Code.NOT_XLSX)) from error
    source.seek(start)
    # zipfile stops at each member's declared size, so declared sizes can be trusted.
    # Worksheets are streamed; other parts (shared strings, styles) are held in memory.
    unpacked = sum(member.file_size for member in members)
    held = max(
        (m.file_size for m in members if not m.filename.startswith(SHEETS)), default=0
    )
    if unpacked > MAX_UNPACK_RATIO * max_bytes or held > max_bytes:
        raise FileRejected(Reason.of(Code.WORKBOOK_UNPACKS_TOO_MUCH))


def _rows(sheet_rows: Iterable[tuple[object, ...]]) -> Iterator[Cells]:
    """Every row, numbered as Excel shows it."""
    try:
        for number, row in enumerate(sheet_rows, start=1):
            yield Cells(number, _trim([cell_value(cell) for cell in row]))
    except Exception as error:  # a sheet can break anywhere; openpyxl raises many types
        raise FileRejected(Reason.of(Code.WORKBOOK_DAMAGED)) from error


def _headers(rows: Iterator[Cells]) -> tuple[list[str], list[Cells]] | None:
    """The header (title and blank rows above it passed over) and the rows read after
    it; None for an empty sheet."""
    read: list[Cells] = []
    for cells in rows:
        read.append(cells)
        if len(read) >= HEADER_SEARCH_ROWS or is_full_header(_texts(cells)):
            break
    index = pick_header([_texts(cells) for cells in read])
    if index is None:
        return None
    headers = _texts(read[index])
    check_headers(headers)
    return headers, read[index + 1 :]


def _texts(cells: Cells) -> list[str]:
    return [as_text(cell) for cell in cells.values]


def _within_width(rows: Iterator[Cells]) -> Iterator[Cells | RowError]:
    for cells in rows:
        if len(cells.values) > MAX_COLUMNS:
            reason = Reason.of(Code.ROW_TOO_WIDE, limit=MAX_COLUMNS)
            yield RowError((cells.row,), None, reason)
        else:
            yield cells


def _trim(cells: list[RawValue]) -> list[RawValue]:
    end = len(cells)
    while end and not as_text(cells[end - 1]).strip():
        end -= 1
    return cells[:end]


def cell_value(cell: object) -> RawValue:
    """A cell as text, Decimal or date; never a float, and formulas stay text."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        # Excel keeps 15 significant digits; going through that text drops binary noise.
        return Decimal(format(cell, ".15g"))
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    return str(getattr(cell, "text", cell))
