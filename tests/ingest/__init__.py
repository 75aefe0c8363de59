"""Tests of invoice import; the helpers run the importer as the upload page will."""

from __future__ import annotations

import io
from datetime import date
from typing import Any, BinaryIO

from app.ingest.readers import read_invoices
from app.ingest.rows import ImportItem

TODAY = date(2026, 11, 16)


def read_stream(stream: BinaryIO, **options: Any) -> list[ImportItem]:
    """Every item the importer yields for `stream`, with Danish defaults."""
    settings: dict[str, Any] = {
        "filename": "upload.csv",
        "default_country": "DK",
        "default_currency": "DKK",
        "today": TODAY,
        "max_bytes": 1_000_000,
    }
    settings.update(options)
    return list(read_invoices(stream, **settings))


def read_bytes(data: bytes, **options: Any) -> list[ImportItem]:
    """Every item the importer yields for a file holding `data`."""
    return read_stream(io.BytesIO(data), **options)
