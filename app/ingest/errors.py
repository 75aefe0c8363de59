"""Import errors: a whole file refused, or one value that cannot be used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import ValidationFailed

if TYPE_CHECKING:
    from app.ingest.headers import Layout


class FileRejected(ValidationFailed):
    """The file cannot be imported at all; the message says why in plain words."""

    code = "file_rejected"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class UnknownLayout(FileRejected):
    """The columns were not recognised; the creditor has to map them first."""

    code = "unknown_layout"

    def __init__(self, layout: Layout) -> None:
        names = ", ".join(field.label for field in layout.missing)
        super().__init__(f"we could not tell which columns hold: {names}")
        self.layout = layout


class BadValue(ValueError):
    """One value is unusable; the message is plain words meant for the creditor."""

    @property
    def message(self) -> str:
        return str(self.args[0])
