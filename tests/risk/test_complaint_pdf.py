"""The complaint file as a PDF: every word as written, in order, on numbered A4 pages."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pypdf

from app.risk.complaint_file import FileEntry
from app.risk.complaint_pdf import FileHeader, PdfWords, complaint_file_pdf, showable

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
WORDS = PdfWords(
    title="Klagesag",
    creditor="Kreditor",
    account="Faktura",
    debtor="Skyldner",
    exported_at="Eksporteret",
    exported_by="Eksporteret af",
    time_zone="Tidszone",
    local_time="Lokal tid",
    kind="Hvad",
    channel="Kanal",
    status="Status",
    nothing_yet="Intet endnu.",
    page_of="Side %(page)s af %(pages)s",
    markers="Tegn som skriften ikke kan vise, står som [U+kodepunkt].",
)
HEADER = FileHeader(
    creditor_name="Fjordkraft Østerbro A/S",
    account_reference="INV-2026-17",
    debtor_name="Søren Æbelø",
    time_zone="Europe/Oslo",
    exported_at=NOW,
    exported_by="Åse Supervisor <aase@venlig.test>",
)


def _text(pdf: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def _entry(minutes: int, detail: str, kind: str = "text_received") -> FileEntry:
    return FileEntry(
        NOW - timedelta(minutes=minutes),
        kind,
        "from +4520000001",
        detail,
        channel="sms",
        status="received",
    )


def test_the_pdf_holds_the_header_and_every_text_as_written() -> None:
    entries = [
        _entry(90, "Jeg har allerede betalt, lad mig være! Æ Ø Å æ ø å"),
        _entry(60, "Slutt å kontakte meg – jeg går til Forbrukertilsynet 🦊"),
        FileEntry(
            NOW - timedelta(minutes=30),
            "policy_deferred",
            "quiet_hours until 2026-11-20T07:00:00+00:00",
            "Outside 08:00–21:00",
            channel="sms",
            status="deferred",
        ),
    ]
    pdf = complaint_file_pdf(entries, HEADER, WORDS)
    assert pdf.startswith(b"%PDF-")
    pages, text = _text(pdf)
    assert pages == 1
    for expected in (
        "Klagesag INV-2026-17",
        "Fjordkraft Østerbro A/S",
        "Søren Æbelø",
        "Åse Supervisor <aase@venlig.test>",
        "Jeg har allerede betalt, lad mig være! Æ Ø Å æ ø å",
        "Slutt å kontakte meg – jeg går til Forbrukertilsynet [U+1F98A]",
        "Outside 08:00–21:00",
        "Kanal: sms",
        "Status: deferred",
        "Side 1 af 1",
        "[U+kodepunkt]",
    ):
        assert expected in text
    # The debtor's local time (Oslo) beside UTC, in time order.
    assert "2026-11-20 08:00:00 CET" in text
    assert "2026-11-20 07:00:00 UTC" in text
    assert text.index("allerede betalt") < text.index("Slutt å") < text.index("Outside")


def test_many_events_make_more_numbered_pages_and_long_words_wrap() -> None:
    few = complaint_file_pdf([_entry(1, "kort")], HEADER, WORDS)
    many_entries = [
        _entry(minutes, f"besked {minutes} " + "langtordudenmellemrum" * 12)
        for minutes in range(80, 0, -1)
    ]
    pages, text = _text(complaint_file_pdf(many_entries, HEADER, WORDS))
    assert _text(few)[0] == 1
    assert pages > 3
    assert f"Side {pages} af {pages}" in text
    assert set(re.findall(r"besked\s+(\d+)\s", text)) == {str(m) for m in range(1, 81)}


def test_an_empty_file_says_so() -> None:
    assert "Intet endnu." in _text(complaint_file_pdf([], HEADER, WORDS))[1]


def test_only_characters_the_font_lacks_become_markers() -> None:
    glyphs = {ord(char) for char in "abæøå "}
    assert showable("æ 🦊\tø\r\nå", glyphs) == "æ [U+1F98A]    ø\nå"


def test_codes_are_worded_for_the_reader_and_keep_the_code_beside() -> None:
    words = replace(WORDS, worded={"text_sent": "SMS sendt"})
    assert words.of_code("text_sent") == "SMS sendt (text_sent)"
    assert words.of_code("something_new") == "something_new"
