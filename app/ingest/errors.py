"""Import errors: a whole file refused, or one value that cannot be used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import ValidationFailed
from app.ingest.reasons import Code, FieldNames, Reason

if TYPE_CHECKING:
    from app.ingest.headers import Layout


class FileRejected(ValidationFailed):
    """The file cannot be imported at all; `reason` says why, to be worded for the reader
    (the message is its English words)."""

    code = "file_rejected"

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.english())
        self.reason = reason


class UnknownLayout(FileRejected):
    """The columns were not recognised; the creditor has to map them first."""

    code = "unknown_layout"

    def __init__(self, layout: Layout) -> None:
        fields = FieldNames(tuple(field.value for field in layout.missing))
        super().__init__(Reason.of(Code.COLUMNS_UNKNOWN, fields=fields))
        self.layout = layout


class BadValue(ValueError):
    """One value is unusable; `reason` says why, to be worded for the reader."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.english())
        self.reason = reason

    @property
    def message(self) -> str:
        return self.reason.english()
