"""The complaint file as an A4 PDF, for answering a regulator.

It holds what the CSV holds. A debtor's words are shown as written: DejaVu Sans covers Danish,
Norwegian and most other European scripts, and any character it has no glyph for (an emoji, a
rare script) is written as a visible marker such as [U+1F600] instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from app.risk.complaint_file import FileEntry

FONT_DIR = Path(__file__).parent / "fonts"
_FAMILY = "dejavu"
# Line breaks are layout, not glyphs; a tab is shown as the space it makes.
_LAYOUT = {"\n": "\n", "\t": "    "}


@dataclass(frozen=True)
class PdfWords:
    """The staff member's words for the PDF's titles, already translated.

    `page_of` keeps the placeholders %(page)s and %(pages)s.
    """

    title: str
    creditor: str
    account: str
    debtor: str
    exported_at: str
    exported_by: str
    time_zone: str
    local_time: str
    kind: str
    channel: str
    status: str
    nothing_yet: str
    page_of: str
    markers: str
    # The reader's words for the codes of kinds, channels and statuses; a code without words
    # is shown as it is.
    worded: Mapping[str, str] = field(default_factory=dict)
    # What an entry says, and its detail, in the reader's words; in English by default.
    facts_of: Callable[[FileEntry], str] = FileEntry.english_facts
    detail_of: Callable[[FileEntry], str] = FileEntry.raw_detail

    def of_code(self, code: str) -> str:
        worded = self.worded.get(code)
        return f"{worded} ({code})" if worded else code


@dataclass(frozen=True)
class FileHeader:
    creditor_name: str
    account_reference: str
    debtor_name: str
    time_zone: str
    exported_at: datetime
    exported_by: str


def complaint_file_pdf(
    entries: Iterable[FileEntry], header: FileHeader, words: PdfWords
) -> bytes:
    pdf = _ComplaintPdf(header, words)
    pdf.write_header()
    zone = ZoneInfo(header.time_zone)
    written = 0
    for entry in entries:
        pdf.write_entry(entry, zone)
        written += 1
    if not written:
        pdf.paragraph(words.nothing_yet)
    return bytes(pdf.output())


def showable(text: str, glyphs: Container[int]) -> str:
    """`text` with every character the font cannot draw written as [U+XXXX]."""
    return "".join(
        _LAYOUT.get(char) or (char if ord(char) in glyphs else f"[U+{ord(char):04X}]")
        for char in text.replace("\r\n", "\n")
    )


class _ComplaintPdf(FPDF):
    def __init__(self, header: FileHeader, words: PdfWords) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.file_header, self.words = header, words
        self.add_font(_FAMILY, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(_FAMILY, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        font = self.fonts[_FAMILY]
        assert isinstance(font, TTFFont)
        self.glyphs = frozenset(font.cmap)
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=20)
        self.set_title(f"{words.title} {header.account_reference}")
        self.set_creator("Venlig")
        self.set_creation_date(header.exported_at)
        self.add_page()

    def header(self) -> None:
        if self.page_no() > 1:
            self._font(8)
            self.set_text_color(90)
            self._line(f"{self.words.title} · {self.file_header.account_reference}")
            self.set_text_color(0)
            self.ln(2)

    def footer(self) -> None:
        self.set_y(-14)
        self._font(7)
        self.set_text_color(90)
        width = self.epw * 0.7
        self.cell(width, 4, self._text(self.words.markers))
        page = self.words.page_of % {"page": self.page_no(), "pages": "{nb}"}
        self.cell(self.epw - width, 4, self._text(page), align="R")
        self.set_text_color(0)

    def write_header(self) -> None:
        header, words = self.file_header, self.words
        self._font(16, bold=True)
        self._line(f"{words.title} {header.account_reference}", height=9)
        self.ln(2)
        zone = ZoneInfo(header.time_zone)
        for label, value in (
            (words.creditor, header.creditor_name),
            (words.account, header.account_reference),
            (words.debtor, header.debtor_name),
            (words.time_zone, header.time_zone),
            (words.exported_at, _both_times(header.exported_at, zone)),
            (words.exported_by, header.exported_by),
        ):
            self._font(9, bold=True)
            self.cell(38, 5, self._text(label))
            self._font(9)
            self.multi_cell(
                0, 5, self._text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        self.ln(3)
        self._rule()

    def write_entry(self, entry: FileEntry, zone: ZoneInfo) -> None:
        words = self.words
        # An entry's time line never stands alone at the foot of a page.
        if self.will_page_break(20):
            self.add_page()
        self._font(9, bold=True)
        self._wrapped(
            f"{words.local_time}: {_local(entry.at, zone)}   {_utc(entry.at)}"
        )
        labelled = [(words.kind, words.of_code(entry.kind))]
        labelled += (
            [(words.channel, words.of_code(entry.channel))] if entry.channel else []
        )
        labelled += (
            [(words.status, words.of_code(entry.status))] if entry.status else []
        )
        self._font(9)
        self._wrapped("   ".join(f"{label}: {value}" for label, value in labelled))
        facts, detail = words.facts_of(entry), words.detail_of(entry)
        if facts:
            self._wrapped(facts)
        if detail:
            self.ln(1)
            self.set_x(self.l_margin + 3)
            self.set_draw_color(150)
            self.multi_cell(
                0,
                5,
                self._text(detail),
                border="L",
                padding=(0, 0, 0, 2),
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.set_draw_color(0)
        self.ln(2)
        self._rule()

    def paragraph(self, text: str) -> None:
        self._font(10)
        self._wrapped(text)

    def _wrapped(self, text: str) -> None:
        self.multi_cell(0, 5, self._text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _line(self, text: str, height: float = 5) -> None:
        self.cell(0, height, self._text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def _rule(self) -> None:
        self.set_draw_color(200)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_draw_color(0)
        self.ln(2)

    def _font(self, size: float, *, bold: bool = False) -> None:
        self.set_font(_FAMILY, "B" if bold else "", size)

    def _text(self, text: str) -> str:
        return showable(text, self.glyphs)


def _both_times(at: datetime, zone: ZoneInfo) -> str:
    return f"{_local(at, zone)} ({_utc(at)})"


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def _utc(at: datetime) -> str:
    return at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S UTC")
