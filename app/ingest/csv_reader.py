"""CSV files: encoding, delimiter and rows, read one line at a time."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from app.ingest.errors import FileRejected
from app.ingest.headers import (
    HEADER_SEARCH_ROWS,
    check_headers,
    is_full_header,
    pick_header,
)
from app.ingest.reasons import Code, Reason
from app.ingest.rows import Cells, RowError, Table
from app.ingest.values import RawValue

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

DELIMITERS = (";", ",", "\t", "|")
MAX_LINE_BYTES = 1 << 20  # far beyond any invoice row; keeps one line's memory bounded
BUFFER_BYTES = 1 << 16
SEPARATOR_SLIPS = 2  # extra values an unquoted separator or two makes
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_EXCEL_SEPARATOR_HINT = re.compile(r"sep=(.)\r?\n?")


def read_csv_table(stream: BinaryIO) -> Table:
    """The header and a lazy iterator over the rows of a CSV file.

    Title and blank lines above the header are passed over (see pick_header).

    A file with a UTF-16 byte order mark (Excel's "Unicode text") is decoded by it.

    :raises FileRejected: the file has no header or a line is absurdly long.
    """
    if _peek(stream).startswith(UTF16_BOMS):
        stream = io.BufferedReader(_Utf16AsUtf8(stream), BUFFER_BYTES)
    lines = _LineDecoder(stream)
    first = next(lines, None)
    hint = _EXCEL_SEPARATOR_HINT.fullmatch(first) if first is not None else None
    forced = hint[1] if hint else None
    read = [] if hint or first is None else [(first, lines.mixed)]
    read += _lines_to_header(lines, forced, done=bool(read) and _full(first, forced))
    index = pick_header([_split(line, forced) for line, _ in read])
    if index is None:
        raise FileRejected(Reason.of(Code.NO_HEADER))
    delimiter = forced or _delimiter(read[index][0])
    reader = csv.reader(_replay(read[index:], lines), delimiter=delimiter)
    try:
        headers = next(reader)
    except csv.Error as error:
        raise FileRejected(Reason.of(Code.HEADER_NOT_CSV, error=str(error))) from None
    check_headers(headers)
    above = index + (1 if hint else 0)  # lines before the header
    rows = _rows(reader, lines, first_row=above + 2)
    return Table(headers, _checked(rows, len(headers), delimiter))


def _lines_to_header(
    lines: _LineDecoder, delimiter: str | None, *, done: bool
) -> list[tuple[str, bool]]:
    """The next lines, up to one surely the header or HEADER_SEARCH_ROWS in all."""
    read: list[tuple[str, bool]] = []
    while not done and len(read) < HEADER_SEARCH_ROWS - 1:
        lines.mixed = False
        line = next(lines, None)
        if line is None:
            break
        read.append((line, lines.mixed))
        done = _full(line, delimiter)
    return read


def _full(line: str | None, delimiter: str | None) -> bool:
    return line is not None and is_full_header(_split(line, delimiter))


def _replay(read: list[tuple[str, bool]], lines: _LineDecoder) -> Iterator[str]:
    """The lines read while looking for the header, then the rest of the file."""
    for line, mixed in read:
        lines.mixed = lines.mixed or mixed  # _rows reports the row it ends up in
        yield line
    yield from lines


def _split(line: str, delimiter: str | None) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter or _delimiter(line)), [])
    except csv.Error:
        return [line]  # reading it as the header says what is wrong


def _delimiter(header_line: str) -> str:
    """The candidate splitting the header into the most columns (ties: first listed)."""
    return max(DELIMITERS, key=lambda delimiter: _field_count(header_line, delimiter))


def _field_count(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0  # the header read itself reports why


def _rows(
    reader: Iterator[list[str]], lines: _LineDecoder, first_row: int
) -> Iterator[Cells | RowError]:
    row = first_row
    while True:
        lines.mixed = False
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RowError((row,), None, Reason.of(Code.ROW_NOT_CSV, error=str(error)))
        else:
            yield (
                _mixed_encoding(row, lines) if lines.mixed else Cells(row, list(values))
            )
        row += 1


def _checked(
    rows: Iterator[Cells | RowError], width: int, delimiter: str
) -> Iterator[Cells | RowError]:
    """Rows as read, or why a row is surely misread: a quote never closed swallowed the
    rows after it, or a separator in a value without quotes ("1,234.50" in a
    comma-separated file) split it."""
    for cells in rows:
        if not isinstance(cells, Cells):
            yield cells
        elif _swallows_rows(cells.values, width, delimiter):
            yield RowError((cells.row,), None, Reason.of(Code.ROW_QUOTE_NOT_CLOSED))
        elif _split_at_separator(cells.values, width):
            count = len(cells.values)
            reason = Reason.of(Code.ROW_SEPARATOR_IN_VALUE, count=count, width=width)
            yield RowError((cells.row,), None, reason)
        else:
            yield cells


def _swallows_rows(values: list[RawValue], width: int, delimiter: str) -> bool:
    """Whether a value holds lines that read as rows of their own: an address may
    break across lines, but its lines do not hold a row's worth of separators."""
    return any(
        _reads_as_row(line, width, delimiter)
        for value in values
        if isinstance(value, str) and "\n" in value
        for line in value.splitlines()[1:]
    )


def _reads_as_row(line: str, width: int, delimiter: str) -> bool:
    parts = line.split(delimiter)
    filled = sum(1 for part in parts if part.strip())
    return len(parts) >= max(2, width) and filled >= 2


def _split_at_separator(values: list[RawValue], width: int) -> bool:
    extra = values[width:]
    return 0 < len(extra) <= SEPARATOR_SLIPS and any(str(v).strip() for v in extra)


def _mixed_encoding(row: int, lines: _LineDecoder) -> RowError:
    reason = Reason.of(Code.ROW_MIXED_ENCODING, encoding=str(lines.encoding))
    return RowError((row,), None, reason)


def _peek(stream: BinaryIO) -> bytes:
    peek = getattr(stream, "peek", None)
    return bytes(peek(2)[:2]) if peek else b""


class _Utf16AsUtf8(io.RawIOBase):
    """A UTF-16 file (its BOM says which byte order) read as UTF-8 bytes, so it is
    split into lines and decoded as any other text file is."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self.stream = stream
        # A byte that is not UTF-16 reads as U+FFFD, as a mixed line could not be told.
        self.decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self.pending:
            chunk = self.stream.read(BUFFER_BYTES)
            self.pending = self.decoder.decode(chunk, final=not chunk).encode()
            if not chunk:
                break
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self.pending))
        view[:count], self.pending = self.pending[:count], self.pending[count:]
        return count


class _LineDecoder(Iterator[str]):
    """Decodes line by line, UTF-8 (BOM or not) or Windows-1252, spotting mixed lines.

    The encoding is settled by the first line that is not plain ASCII; a later line that
    only the other encoding explains sets `mixed`, so its row is rejected, not misread.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.encoding: str | None = None
        self.mixed = False
        self.line_number = 0
        self.cr_only = False  # lines end in a lone CR, as Excel's "CSV (Macintosh)"
        self.pending = b""

    def __next__(self) -> str:
        raw = self._readline()
        if not raw:
            raise StopIteration
        self.line_number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise FileRejected(Reason.of(Code.LINE_TOO_LONG, line=self.line_number))
        if self.line_number == 1 and raw.startswith(UTF8_BOM):
            self.encoding, raw = "utf-8", raw[len(UTF8_BOM) :]
        return self._decode(raw)

    def _readline(self) -> bytes:
        if self.cr_only:
            return self._cr_line()
        raw = self.stream.readline(MAX_LINE_BYTES + 1)
        if self.line_number == 0 and _ends_lines_in_cr(raw):
            self.cr_only, self.pending = True, raw
            return self._cr_line()
        return raw

    def _cr_line(self) -> bytes:
        """The next line of a file whose lines end in CR alone, ended in LF instead."""
        while b"\r" not in self.pending and len(self.pending) <= MAX_LINE_BYTES:
            chunk = self.stream.read(BUFFER_BYTES)
            if not chunk:
                break
            self.pending += chunk
        line, cr, self.pending = self.pending.partition(b"\r")
        return line + b"\n" if cr else line

    def _decode(self, raw: bytes) -> str:
        if raw.isascii():
            return raw.decode("ascii")
        utf8 = _try_decode(raw, "utf-8")
        self.encoding = self.encoding or ("utf-8" if utf8 is not None else "cp1252")
        if self.encoding == "utf-8" and utf8 is not None:
            return utf8
        # A line in a Windows-1252 file that is valid UTF-8 with non-ASCII is UTF-8.
        cp1252 = _try_decode(raw, "cp1252") if utf8 is None else None
        if self.encoding == "cp1252" and cp1252 is not None:
            return cp1252
        self.mixed = True
        return raw.decode(self.encoding, errors="replace")


def _ends_lines_in_cr(first: bytes) -> bool:
    """Whether the file's first "line" (up to an LF) is in fact several lines ended in
    CR alone; an LF in it is then a line break inside a cell (Excel writes those so)."""
    lone_crs = first.count(b"\r") - first.count(b"\r\n")
    return lone_crs > first.count(b"\n")


def _try_decode(raw: bytes, encoding: str) -> str | None:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None
