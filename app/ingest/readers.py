"""Invoice files in, validated invoice rows or row errors out, whatever the format.

Memory stays flat however long the file: rows are read, checked and yielded one at
a time. Line-item exports are grouped by *adjacent* invoice number, so only the
current invoice's lines are held (at most MAX_LINES_PER_INVOICE). Exports list an
invoice's lines together; when one does not, a bounded window of recent invoice
numbers (RECENT_REFERENCES) turns the stray lines into a row error instead of a
second, partial invoice. A repeat further back than the window is not seen here; the
upsert's unique key per creditor catches it. Run every import to the end (a dry run)
and commit only once the creditor has seen its row errors.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import io
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import IO, TYPE_CHECKING, BinaryIO

from app.ingest.csv_reader import UTF8_BOM, UTF16_BOMS, read_csv_table
from app.ingest.dates import DATE_FIELDS, DateOrders, decide_date_orders
from app.ingest.errors import FileRejected, UnknownLayout
from app.ingest.headers import (
    ColumnMapping,
    Layout,
    RowExtractor,
    describe_layout,
    guess_mapping,
)
from app.ingest.reasons import Code, Reason
from app.ingest.rows import (
    Field,
    ImportItem,
    ImportOptions,
    Record,
    RowError,
    Table,
    build_invoice,
)
from app.ingest.ubl_reader import read_ubl_record
from app.ingest.values import RawValue, as_text
from app.ingest.xlsx_reader import read_xlsx_table, spooled_copy

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_LINES_PER_INVOICE = 10_000
RECENT_REFERENCES = 10_000
BUFFER_BYTES = 1 << 16
SNIFF_BYTES = 512
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


class FileFormat(enum.StrEnum):
    """The kinds of file an upload may be."""

    CSV = "csv"
    XLSX = "xlsx"
    UBL = "ubl"


def read_invoices(
    stream: BinaryIO,
    *,
    filename: str,
    default_country: str,
    default_currency: str,
    today: date,
    max_bytes: int,
    mapping: ColumnMapping | None = None,
    due_tolerance_days: int = 7,
    notices: list[Reason] | None = None,
) -> Iterator[ImportItem]:
    """Every invoice and credit note in the file, validated, or why a row was refused.

    Nothing is read until the first item is asked for. A file with dates in columns
    is read twice when it may have slash dates: first to settle their order per column
    (dates.py). `notices` receives what is no row's problem but the creditor should
    check: the order assumed for slash dates nothing in the file showed.

    :raises FileRejected: the whole file is unusable (too large, empty, not a known
        format, unsafe XML); UnknownLayout when the columns need mapping first.
    """
    options = ImportOptions(
        default_country, default_currency, today, due_tolerance_days
    )
    with contextlib.ExitStack() as stack:
        source: IO[bytes] = stream
        if not stream.seekable():
            # Copied so that it can be read twice.
            source = stack.enter_context(spooled_copy(_Limited(stream, max_bytes)))
        start = source.tell()
        content = _read(source, filename, max_bytes)
        if isinstance(content, Record):
            yield from build_invoice(content, options)
            return
        content.close()  # read again below, once the dates' order is settled
        mapping = mapping or guess_mapping(content.headers)
        if mapping.missing:
            raise UnknownLayout(describe_layout(content.headers))
        orders = _date_orders(source, start, filename, max_bytes, mapping, options)
        if orders is not None:
            options = dataclasses.replace(options, date_orders=orders.orders)
            (notices if notices is not None else []).extend(orders.notices)
        table = _table(source, start, filename, max_bytes)
        stack.callback(table.close)
        yield from _from_table(table, mapping, options)


def read_layout(stream: BinaryIO, *, filename: str, max_bytes: int) -> Layout | None:
    """A CSV or XLSX file's headers, fingerprint and suggested mapping; None for UBL.

    :raises FileRejected: the file is unusable.
    """
    content = _read(stream, filename, max_bytes)
    if isinstance(content, Record):
        return None
    content.close()
    return describe_layout(content.headers)


def _from_table(
    table: Table, mapping: ColumnMapping, options: ImportOptions
) -> Iterator[ImportItem]:
    extractor = RowExtractor(mapping, table.headers)
    grouper = _Grouper(line_items=Field.LINE_AMOUNT in mapping.columns)
    for item in grouper.group(_records(table, extractor)):
        yield from build_invoice(item, options) if isinstance(item, Record) else [item]


def _date_orders(
    stream: IO[bytes],
    start: int,
    filename: str,
    max_bytes: int,
    mapping: ColumnMapping,
    options: ImportOptions,
) -> DateOrders | None:
    """The order of each date column's slash dates, from a first reading of the file;
    None when it has no date column or no "/" at all."""
    if not any(field in mapping.columns for field in DATE_FIELDS):
        return None
    if not _has_slash(stream, start):
        return None
    table = _table(stream, start, filename, max_bytes)
    try:
        extractor = RowExtractor(mapping, table.headers)
        lines = (
            found for found in _records(table, extractor) if isinstance(found, tuple)
        )
        return decide_date_orders(
            (values for _row, values in lines), options.default_country
        )
    finally:
        table.close()


def _has_slash(stream: IO[bytes], start: int) -> bool:
    """Whether the file holds a "/" anywhere; a workbook is compressed, so it may."""
    stream.seek(start)
    if stream.read(len(ZIP_MAGIC)) == ZIP_MAGIC:
        return True
    stream.seek(start)
    return any(b"/" in chunk for chunk in iter(partial(stream.read, BUFFER_BYTES), b""))


def _table(stream: IO[bytes], start: int, filename: str, max_bytes: int) -> Table:
    """The file at `start` read again as the table it was a moment ago."""
    stream.seek(start)
    content = _read(stream, filename, max_bytes)
    if isinstance(content, Record):  # the same bytes: it cannot have changed format
        raise FileRejected(Reason.of(Code.FILE_UNKNOWN_TYPE, file=filename))
    return content


def _read(stream: IO[bytes], filename: str, max_bytes: int) -> Table | Record:
    start = _check_size(stream, max_bytes)
    source = io.BufferedReader(_Limited(stream, max_bytes), BUFFER_BYTES)
    file_format = sniff_format(source.peek(SNIFF_BYTES)[:SNIFF_BYTES], filename)
    if file_format is FileFormat.UBL:
        return read_ubl_record(source)
    if file_format is FileFormat.CSV:
        return read_csv_table(source)
    if start is None:
        return read_xlsx_table(source, max_bytes)
    stream.seek(start)  # the size was checked up front, so read it directly
    return read_xlsx_table(stream, max_bytes)


def sniff_format(head: bytes, filename: str) -> FileFormat:
    """The format from the file's first bytes; the name is only used in messages.

    :raises FileRejected: empty, or a format we do not read.
    """
    if not head:
        raise FileRejected(Reason.of(Code.FILE_EMPTY, file=filename))
    if head.startswith(ZIP_MAGIC):
        return FileFormat.XLSX
    if head.startswith(OLE_MAGIC):
        raise FileRejected(Reason.of(Code.FILE_OLD_XLS, file=filename))
    if head.startswith(UTF16_BOMS):
        if head.decode("utf-16", errors="ignore").lstrip().startswith("<"):
            return FileFormat.UBL  # XML may be UTF-16; its parser reads that
        return FileFormat.CSV  # Excel's "Unicode text": tab-separated UTF-16
    if head.removeprefix(UTF8_BOM).lstrip().startswith(b"<"):
        return FileFormat.UBL
    if b"\x00" in head:
        raise FileRejected(Reason.of(Code.FILE_UNKNOWN_TYPE, file=filename))
    return FileFormat.CSV


def _check_size(stream: IO[bytes], max_bytes: int) -> int | None:
    """Refuse an oversized seekable file before reading it; its start, or None."""
    if not stream.seekable():
        return None
    start = stream.tell()
    size = stream.seek(0, io.SEEK_END) - start
    stream.seek(start)
    if size > max_bytes:
        raise FileRejected(
            Reason.of(Code.FILE_OVER_LIMIT, size=_size(size), limit=_size(max_bytes))
        )
    return start


def _size(count: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"  # display only
    return f"{count} bytes"


class _Limited(io.RawIOBase):
    """Reads through to `stream`, refusing the file once it passes `max_bytes`."""

    def __init__(self, stream: IO[bytes], max_bytes: int) -> None:
        super().__init__()
        self.stream = stream
        self.max_bytes = max_bytes
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.stream.read(min(len(view), self.max_bytes - self.count + 1))
        self.count += len(data)
        if self.count > self.max_bytes:
            raise FileRejected(
                Reason.of(Code.FILE_LARGER_THAN_LIMIT, limit=_size(self.max_bytes))
            )
        view[: len(data)] = data
        return len(data)


def _records(
    table: Table, extractor: RowExtractor
) -> Iterator[tuple[int, dict[Field, RawValue]] | RowError]:
    for cells in table.rows:
        if isinstance(cells, RowError):
            yield cells
            continue
        found = extractor.extract(cells)
        if isinstance(found, dict):
            yield cells.row, found
        elif found is not None:
            yield found


@dataclass
class _Group:
    """The rows of one invoice seen so far."""

    key: str
    suspect: int | None  # an unreadable row that may have been one of its lines
    rows: list[int] = field(default_factory=list)
    lines: list[dict[Field, RawValue]] = field(default_factory=list)
    overflow: bool = False

    def add(self, row: int, values: dict[Field, RawValue]) -> None:
        if len(self.lines) < MAX_LINES_PER_INVOICE:
            self.rows.append(row)
            self.lines.append(values)
        else:
            self.overflow = True


class _Grouper:
    """Turns rows into invoice records; adjacent lines of one invoice become one."""

    def __init__(self, *, line_items: bool) -> None:
        self.line_items = line_items
        self.recent: OrderedDict[str, int] = OrderedDict()
        self.current: _Group | None = None
        self.unreadable: list[RowError] = []  # held back to keep the rows in order
        self.taint_next: int | None = None

    def group(
        self, records: Iterator[tuple[int, dict[Field, RawValue]] | RowError]
    ) -> Iterator[Record | RowError]:
        for record in records:
            if isinstance(record, RowError):
                yield from self._unreadable(record)
            else:
                yield from self._add(*record)
        yield from self._flush()

    def _unreadable(self, error: RowError) -> Iterator[Record | RowError]:
        if not self.line_items:
            yield from self._flush()
            yield error
            return
        # The row may have been a line of the invoice before it or of the one after it;
        # either way that invoice's total cannot be trusted.
        if self.current is not None:
            self.current.suspect = error.rows[0]
        self.taint_next = error.rows[0]
        self.unreadable.append(error)

    def _add(
        self, row: int, values: dict[Field, RawValue]
    ) -> Iterator[Record | RowError]:
        key = as_text(values.get(Field.REFERENCE, "")).strip()
        group = self.current
        if not (self.line_items and group is not None and key and key == group.key):
            yield from self._flush()
            group = self.current = _Group(key, suspect=self.taint_next)
        self.taint_next = None
        group.add(row, values)

    def _flush(self) -> Iterator[Record | RowError]:
        group, self.current = self.current, None
        if group is not None:
            yield self._settle(group)
        unreadable, self.unreadable = self.unreadable, []
        yield from unreadable

    def _settle(self, group: _Group) -> Record | RowError:
        rows, key = tuple(group.rows), group.key
        earlier = self._remember(key, rows[0])
        if earlier is not None:
            return RowError(rows, Field.REFERENCE, self._repeat(key, earlier), key, key)
        if group.suspect is not None:
            reason = Reason.of(Code.NEIGHBOUR_UNREADABLE, row=group.suspect)
            return RowError(rows, Field.LINE_AMOUNT, reason, "", key)
        if group.overflow:
            reason = Reason.of(Code.TOO_MANY_LINES, limit=MAX_LINES_PER_INVOICE)
            return RowError(rows, Field.LINE_AMOUNT, reason, "", key)
        return Record(rows, tuple(group.lines))

    def _remember(self, key: str, row: int) -> int | None:
        """The row where this invoice number was last seen, if it was, recently."""
        if not key:
            return None
        earlier = self.recent.get(key)
        self.recent[key] = row
        if len(self.recent) > RECENT_REFERENCES:
            self.recent.popitem(last=False)
        return earlier

    def _repeat(self, key: str, earlier: int) -> Reason:
        code = Code.LINES_APART if self.line_items else Code.INVOICE_REPEATED
        return Reason.of(code, reference=key, row=earlier)
