"""The upload folder and limits from the app's settings, for the views and the worker."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask

from app.ingest.batches import IngestLimits, UploadStore


def upload_store(app: Flask) -> UploadStore:
    """UPLOAD_DIR; a relative one is relative to the project folder, like the database."""
    folder = Path(app.config["UPLOAD_DIR"])
    if not folder.is_absolute():
        folder = Path(app.root_path).parent / folder
    return UploadStore(folder.resolve())


def ingest_limits(app: Flask) -> IngestLimits:
    return IngestLimits(
        max_bytes=int(app.config["UPLOAD_MAX_BYTES"]),
        background_bytes=int(app.config["UPLOAD_BACKGROUND_BYTES"]),
        background_rows=int(app.config["UPLOAD_BACKGROUND_ROWS"]),
        chunk_rows=int(app.config["INGEST_CHUNK_ROWS"]),
        keep_for=timedelta(days=int(app.config["UPLOAD_KEEP_DAYS"])),
    )
