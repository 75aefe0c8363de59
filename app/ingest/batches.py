"""Uploaded invoice files as import batches: stored, checked (the dry run), confirmed, imported.

A batch goes uploaded -> planned -> importing -> imported, or ends failed or cancelled
(by the creditor, or expired: see `expire_batches`):

- `receive_upload` keeps the file in the upload folder, refusing an empty, oversized or
  unreadable file before anything is kept, and settles its columns: UBL and recognised
  layouts need nothing, a layout the creditor mapped before gets that mapping again, and
  any other waits for `choose_mapping`.
- `check_batch` is the dry run: counts, the first problem rows, and the full reports
  (reasons as codes, worded when downloaded) beside the upload, with the rows it read and
  checked, which the worker's import reads instead of the file (app.ingest.kept_rows).
  `check_or_queue` checks a small file at once and leaves a large one (`is_large`) to
  the worker.
- `confirm_batch` imports a small file at once in the caller's transaction, once it has
  made sure the dry run still holds; a large one is queued, and the worker (`work_batches`)
  imports it in chunks, a transaction each, resumable after a crash without duplicates
  because every write is keyed by invoice number and ledger external id.
- `cancel_batch` stops a batch at any point before it is imported. One a worker holds
  (PostgreSQL row lock) gets a cancel request, honoured at the worker's next checkpoint
  of a dry run (which then writes nothing) or before its next chunk (chunks already
  committed stay, and the page says how far it got; uploading the file again imports the
  rest, finding the imported rows unchanged).
- Files do not stay: `release_files` deletes a closed batch's upload after the commit
  that closed it, and the worker's `expire_batches` closes uploads left unconfirmed for
  IngestLimits.keep_for and deletes whatever files remain of batches closed that long ago.

The caller hands in its session, clock and folder, and commits; only the worker owns its
transactions. A batch's storage_path is relative to the upload folder, and empty once
its files are gone.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.ingest.errors import FileRejected
from app.ingest.headers import ColumnMapping, Layout, normalise_header
from app.ingest.importer import (
    ImportPlan,
    apply_import,
    import_chunk,
    plan_import,
)
from app.ingest.kept_rows import keep_rows, kept_items, partial_paths
from app.ingest.readers import (
    SNIFF_BYTES,
    FileFormat,
    read_invoices,
    read_layout,
    sniff_format,
)
from app.ingest.reasons import Code, Reason
from app.ingest.rows import Field, ImportItem, InvoiceRow, RowError
from app.models import Account, AuditEvent, Creditor, ImportBatch, SavedMapping, User
from app.models.enums import AccountStatus, ImportStatus
from app.services.audit import record_audit

logger = logging.getLogger(__name__)

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xml")
# Taken only when it reads as a table of two columns or more: a .txt may be any text.
TEXT_SUFFIX = ".txt"
PREVIEW_ROWS = 20  # problem rows shown on the dry run page; the reports have them all
SAMPLE_REFERENCES = 10  # invoice numbers kept to link the result page to the accounts
COPY_BYTES = 1 << 20
CHECKPOINT_ITEMS = 1000
OBJECT_TYPE = "import_batch"
CANCEL_REQUESTED = "upload_cancel_requested"
# A cancelled batch's error: None when the creditor cancelled it, this when it expired.
EXPIRED = "expired"
_UNSAFE_NAME = re.compile(r"[^\w.\- ()]+")


class Refusal(enum.StrEnum):
    """Why an upload was not kept."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    WRONG_TYPE = "wrong_type"
    UNREADABLE = "unreadable"


class UploadRefused(DomainError):
    """The file was not kept; `reason` says why, `cause` what the reader found."""

    status = 400
    code = "upload_refused"

    def __init__(self, reason: Refusal, cause: Reason | None = None) -> None:
        super().__init__(cause.english() if cause else reason.value)
        self.reason = reason
        self.cause = cause


class ReportKind(enum.StrEnum):
    REJECTED = "rejected"
    FLAGGED = "flagged"


@dataclass(frozen=True)
class IngestLimits:
    """How large a file may be, and from what size it is checked and imported in the background."""

    max_bytes: int = 100_000_000
    background_bytes: int = 2_000_000
    background_rows: int = 5_000
    chunk_rows: int = 2_000
    # An upload not imported this long after it arrived expires, and its files go.
    keep_for: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class UploadStore:
    """The folder that keeps uploaded files and their reports."""

    root: Path

    def file(self, batch: ImportBatch) -> Path:
        return self.root / batch.storage_path

    def report(self, batch: ImportBatch, kind: ReportKind) -> Path:
        """The batch's problem rows, a JSON object a line (`read_report` reads them)."""
        return self.root / f"{batch.storage_path}.{kind.value}.jsonl"

    def kept_rows(self, batch: ImportBatch) -> Path:
        """The rows its dry run read and checked, for the import (app.ingest.kept_rows)."""
        return self.root / f"{batch.storage_path}.rows.jsonl"

    def discard(self, batch: ImportBatch) -> None:
        """Delete the file, the rows kept from it and its reports."""
        for path in self.paths(batch):
            path.unlink(missing_ok=True)

    def paths(self, batch: ImportBatch) -> list[Path]:
        """Every file kept for the batch: the upload, its rows and its reports."""
        if not batch.storage_path:
            return []
        return [
            *self.import_paths(batch),
            *(self.report(batch, kind) for kind in ReportKind),
        ]

    def import_paths(self, batch: ImportBatch) -> list[Path]:
        """What the import reads: the upload and the rows kept from it."""
        if not batch.storage_path:
            return []
        rows = self.kept_rows(batch)
        return [self.file(batch), rows, *partial_paths(rows)]

    def discard_file(self, batch: ImportBatch) -> None:
        """Delete the uploaded file and its kept rows, keeping the reports."""
        for path in self.import_paths(batch):
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class ProblemRow:
    """A rejected or flagged row as the dry run page shows it."""

    rows: tuple[int, ...]
    reference: str | None
    value: str
    reason: Reason

    @classmethod
    def of(cls, error: RowError) -> ProblemRow:
        return cls(error.rows, error.reference, error.raw_value, error.reason)


@dataclass(frozen=True)
class Counts:
    """What an import does (or did), by kind of outcome."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    flagged: int = 0
    new_debtors: int = 0

    @property
    def items(self) -> int:
        """Every invoice, credit note and unreadable row lands in exactly one of these."""
        return self.created + self.updated + self.unchanged + self.rejected

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            *(a + b for a, b in zip(_fields(self), _fields(other), strict=True))
        )

    @classmethod
    def of(cls, plan: ImportPlan) -> Counts:
        return cls(
            created=plan.created,
            updated=plan.updated,
            unchanged=plan.unchanged,
            rejected=len(plan.rejected),
            flagged=len(plan.flagged),
            new_debtors=plan.new_debtors,
        )


def _fields(counts: Counts) -> tuple[int, ...]:
    return (
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.rejected,
        counts.flagged,
        counts.new_debtors,
    )


@dataclass(frozen=True)
class PlanSummary:
    """The dry run as the creditor saw it (stored in plan_json), and later what was done."""

    counts: Counts
    rejected: tuple[ProblemRow, ...]
    flagged: tuple[ProblemRow, ...]
    today: (
        date  # the date the rows were checked against; the import reads them the same
    )
    planned_at: datetime
    references: tuple[str, ...] = ()
    result: Counts | None = None
    # Open invoices at Venlig that the file does not list: reported, never deleted.
    missing: tuple[str, ...] = ()
    missing_count: int = 0
    # What the creditor should check that is no row's problem: the order assumed for a
    # date column's slash dates when no value showed it (dates.py).
    notices: tuple[Reason, ...] = ()

    @classmethod
    def of(
        cls,
        plan: ImportPlan,
        *,
        today: date,
        now: datetime,
        references: list[str],
        missing: set[str] | None = None,
        notices: list[Reason] | None = None,
    ) -> PlanSummary:
        return cls(
            counts=Counts.of(plan),
            rejected=tuple(ProblemRow.of(e) for e in plan.rejected[:PREVIEW_ROWS]),
            flagged=tuple(ProblemRow.of(e) for e in plan.flagged[:PREVIEW_ROWS]),
            today=today,
            planned_at=now,
            references=tuple(references),
            missing=tuple(sorted(missing or ())[:PREVIEW_ROWS]),
            missing_count=len(missing or ()),
            notices=tuple(notices or ()),
        )

    def same_plan(self, other: PlanSummary) -> bool:
        """Whether the import would do what the creditor saw."""
        return (self.counts, self.rejected, self.flagged) == (
            other.counts,
            other.rejected,
            other.flagged,
        )

    @property
    def differs(self) -> bool:
        """The import did something other than the dry run said (chunked imports only)."""
        return self.result is not None and self.result != self.counts

    def to_json(self) -> str:
        return json.dumps(
            {
                "counts": _counts_dict(self.counts),
                "rejected": [_problem_dict(p) for p in self.rejected],
                "flagged": [_problem_dict(p) for p in self.flagged],
                "today": self.today.isoformat(),
                "planned_at": self.planned_at.isoformat(),
                "references": list(self.references),
                "result": _counts_dict(self.result) if self.result else None,
                "missing": list(self.missing),
                "missing_count": self.missing_count,
                "notices": [notice.to_dict() for notice in self.notices],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> PlanSummary:
        data = json.loads(text)
        return cls(
            counts=Counts(**data["counts"]),
            rejected=tuple(_problem(p) for p in data["rejected"]),
            flagged=tuple(_problem(p) for p in data["flagged"]),
            today=date.fromisoformat(data["today"]),
            planned_at=datetime.fromisoformat(data["planned_at"]),
            references=tuple(data.get("references", ())),
            result=Counts(**data["result"]) if data.get("result") else None,
            missing=tuple(data.get("missing", ())),
            missing_count=int(data.get("missing_count", 0)),
            notices=tuple(Reason.from_dict(n) for n in data.get("notices", ())),
        )


def _counts_dict(counts: Counts) -> dict[str, int]:
    return {
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "rejected": counts.rejected,
        "flagged": counts.flagged,
        "new_debtors": counts.new_debtors,
    }


def _problem_dict(problem: ProblemRow) -> dict[str, Any]:
    return {
        "rows": list(problem.rows),
        "reference": problem.reference,
        "value": problem.value,
        "reason": problem.reason.to_dict(),
    }


def _problem(data: dict[str, Any]) -> ProblemRow:
    return ProblemRow(
        tuple(data["rows"]), data["reference"], data["value"], _reason_of(data)
    )


def _reason_of(data: dict[str, Any]) -> Reason:
    """The stored reason; a dry run kept before reasons were codes has English words."""
    if "reason" in data:
        return Reason.from_dict(data["reason"])
    return Reason.worded(data["message"])


def summary_of(batch: ImportBatch) -> PlanSummary | None:
    """The batch's dry run, once it has one."""
    return PlanSummary.from_json(batch.plan_json) if batch.plan_json else None


# --- Who sees which batch ---------------------------------------------------------------


def get_batch_for_user(session: Session, user: User, batch_id: int) -> ImportBatch:
    """:raises NotFound: no such upload, or another creditor's."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None or not (
        user.is_agency_staff or batch.creditor_id == user.creditor_id
    ):
        raise NotFound("No such upload")
    return batch


def batches_for_user(
    session: Session, user: User, *, limit: int = 50
) -> list[ImportBatch]:
    """The latest uploads this user may see, newest first."""
    statement = select(ImportBatch)
    if not user.is_agency_staff:
        statement = statement.where(ImportBatch.creditor_id == user.creditor_id)
    return list(
        session.scalars(
            statement.order_by(
                ImportBatch.created_at.desc(), ImportBatch.id.desc()
            ).limit(limit)
        )
    )


def accounts_of_batch(session: Session, batch: ImportBatch) -> list[Account]:
    """Some of the file's accounts, to link the result page to them."""
    summary = summary_of(batch)
    if summary is None or not summary.references:
        return []
    return list(
        session.scalars(
            select(Account)
            .where(
                Account.creditor_id == batch.creditor_id,
                Account.external_reference.in_(summary.references),
            )
            .order_by(Account.external_reference)
        )
    )


# --- Receiving a file -------------------------------------------------------------------


def receive_upload(
    session: Session,
    store: UploadStore,
    creditor: Creditor,
    user: User | None,
    *,
    filename: str,
    stream: BinaryIO,
    limits: IngestLimits,
    now: datetime,
    request_id: str | None = None,
) -> ImportBatch:
    """Keep the file and add its batch (flushed, not committed).

    :raises UploadRefused: empty, too large, not a .csv/.tsv/.xlsx/.xml (nor a .txt holding
        delimited text), or unreadable; the file is not kept and nothing is added.
    """
    name = _clean_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadRefused(Refusal.WRONG_TYPE)
    relative = f"{creditor.id}/{secrets.token_hex(16)}{suffix}"
    path = store.root / relative
    size, digest = _copy(stream, path, limits.max_bytes)
    try:
        if size == 0:
            raise UploadRefused(Refusal.EMPTY)
        file_format, layout = _inspect(path, name, limits.max_bytes)
        if suffix == TEXT_SUFFIX and not _is_table(file_format, layout):
            raise UploadRefused(Refusal.WRONG_TYPE)
    except FileRejected as exc:
        path.unlink(missing_ok=True)
        if suffix == TEXT_SUFFIX:
            raise UploadRefused(Refusal.WRONG_TYPE) from exc
        raise UploadRefused(Refusal.UNREADABLE, exc.reason) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    batch = ImportBatch(
        creditor_id=creditor.id,
        uploaded_by_id=user.id if user else None,
        filename=name,
        file_format=file_format,
        size_bytes=size,
        sha256=digest,
        storage_path=relative,
        status=ImportStatus.UPLOADED,
        mapping_json=_settled_mapping(session, creditor, layout),
        rows_done=0,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    _audit(session, user, batch, "upload_received", now, request_id, detail=name)
    return batch


def _clean_name(filename: str) -> str:
    """The file's own name, without folders or characters that mean trouble elsewhere."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .") or "upload"
    return cleaned[-255:]


def _copy(stream: BinaryIO, path: Path, max_bytes: int) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("xb") as out:
            while chunk := stream.read(COPY_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused(Refusal.TOO_LARGE)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


def _inspect(path: Path, name: str, max_bytes: int) -> tuple[str, Layout | None]:
    """The file's format and, for a table, its layout.

    :raises FileRejected: a format we do not read, or unusable content.
    """
    with path.open("rb") as stream:
        file_format = sniff_format(stream.read(SNIFF_BYTES), name)
        stream.seek(0)
        layout = read_layout(stream, filename=name, max_bytes=max_bytes)
    return file_format.value, layout


def _is_table(file_format: str, layout: Layout | None) -> bool:
    """Whether a text file read as delimited text: CSV with two columns or more."""
    return (
        file_format == FileFormat.CSV and layout is not None and len(layout.headers) > 1
    )


def _settled_mapping(
    session: Session, creditor: Creditor, layout: Layout | None
) -> str | None:
    """The batch's mapping_json: None while the creditor still has to map the columns.

    "columns" null lets the reader use its own mapping (UBL, or a layout it knows, which
    may also pick rows); a mapping the creditor chose is stored column by column.
    """
    if layout is None:
        return _mapping_json(None, None, "ubl")
    saved = session.scalar(
        select(SavedMapping).where(
            SavedMapping.creditor_id == creditor.id,
            SavedMapping.fingerprint == layout.fingerprint,
        )
    )
    if saved is not None:
        columns = json.loads(saved.mapping_json)
        with contextlib.suppress(ValidationFailed):  # a field we no longer have
            if not mapping_problems(layout.headers, _fields_of(columns)).any:
                return _mapping_json(layout.fingerprint, columns, "saved")
    if not layout.missing:
        return _mapping_json(layout.fingerprint, None, "recognised")
    return None


def _mapping_json(
    fingerprint: str | None, columns: Mapping[str, str] | None, source: str
) -> str:
    return json.dumps(
        {
            "fingerprint": fingerprint,
            "columns": dict(columns) if columns is not None else None,
            "source": source,
        }
    )


def _fields_of(columns: Mapping[str, str]) -> dict[Field, str]:
    return dict(ColumnMapping.from_dict(columns).columns)


# --- Columns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MappingProblems:
    """Why a chosen mapping cannot be used."""

    missing: tuple[Field, ...] = ()  # required fields without a column
    repeated: tuple[str, ...] = ()  # columns chosen for more than one field
    unknown: tuple[str, ...] = ()  # columns the file does not have

    @property
    def any(self) -> bool:
        return bool(self.missing or self.repeated or self.unknown)


def mapping_problems(
    headers: tuple[str, ...] | list[str], columns: Mapping[Field, str]
) -> MappingProblems:
    known = {normalise_header(h) for h in headers}
    chosen = [normalise_header(text) for text in columns.values()]
    repeated = sorted(
        {text for text in columns.values() if chosen.count(normalise_header(text)) > 1}
    )
    unknown = sorted(
        text for text in columns.values() if normalise_header(text) not in known
    )
    return MappingProblems(
        ColumnMapping(columns).missing, tuple(repeated), tuple(unknown)
    )


def needs_mapping(batch: ImportBatch) -> bool:
    return batch.status is ImportStatus.UPLOADED and batch.mapping_json is None


def waiting_for_check(batch: ImportBatch) -> bool:
    """Queued for the worker's dry run, or being checked by it."""
    return batch.status is ImportStatus.UPLOADED and batch.mapping_json is not None


def can_remap(batch: ImportBatch) -> bool:
    """A table whose columns the creditor may (still) choose."""
    return batch.file_format != "ubl" and (
        needs_mapping(batch) or batch.status is ImportStatus.PLANNED
    )


def layout_of(store: UploadStore, batch: ImportBatch, max_bytes: int) -> Layout | None:
    """The file's headers and suggested mapping; None for UBL.

    :raises FileRejected: the file can no longer be read.
    """
    with _open(store, batch) as stream:
        return read_layout(stream, filename=batch.filename, max_bytes=max_bytes)


def current_columns(batch: ImportBatch, layout: Layout) -> dict[Field, str]:
    """The columns the mapping page starts from: the batch's own, else our suggestion."""
    data = json.loads(batch.mapping_json) if batch.mapping_json else {}
    if data.get("columns"):
        return _fields_of(data["columns"])
    return dict(layout.suggested.columns)


def choose_mapping(
    session: Session,
    store: UploadStore,
    batch: ImportBatch,
    columns: Mapping[Field, str],
    *,
    max_bytes: int,
) -> None:
    """Use the creditor's columns; the dry run has to be done again.

    :raises Conflict: the batch is past its dry run, or has no columns (UBL).
    :raises ValidationFailed: a required field has no column, a column is used twice, or
        the file has no such column.
    """
    if not can_remap(batch):
        raise Conflict("the columns of this upload can no longer be changed")
    layout = layout_of(store, batch, max_bytes)
    if layout is None:
        raise Conflict("an XML invoice has no columns to map")
    problems = mapping_problems(layout.headers, columns)
    if problems.any:
        raise ValidationFailed(
            "the mapping cannot be used",
            {
                "missing": [f.value for f in problems.missing],
                "repeated": list(problems.repeated),
                "unknown": list(problems.unknown),
            },
        )
    stored = ColumnMapping(dict(columns)).to_dict()
    batch.mapping_json = _mapping_json(layout.fingerprint, stored, "chosen")
    _reset(store, batch)
    session.flush()


def _reset(store: UploadStore, batch: ImportBatch) -> None:
    batch.status = ImportStatus.UPLOADED
    batch.plan_json = None
    batch.rows_total = None
    batch.rows_done = 0
    batch.error = None
    for kind in ReportKind:
        store.report(batch, kind).unlink(missing_ok=True)
    store.kept_rows(batch).unlink(missing_ok=True)


def _mapping_of(batch: ImportBatch) -> ColumnMapping | None:
    data = json.loads(batch.mapping_json) if batch.mapping_json else {}
    columns = data.get("columns")
    return ColumnMapping.from_dict(columns) if columns else None


def _remember_mapping(session: Session, batch: ImportBatch, now: datetime) -> None:
    """Keep the creditor's own mapping for the next file with the same headers."""
    data = json.loads(batch.mapping_json) if batch.mapping_json else {}
    if data.get("source") != "chosen" or not data.get("columns"):
        return
    saved = session.scalar(
        select(SavedMapping).where(
            SavedMapping.creditor_id == batch.creditor_id,
            SavedMapping.fingerprint == data["fingerprint"],
        )
    )
    text = json.dumps(data["columns"], sort_keys=True)
    if saved is None:
        session.add(
            SavedMapping(
                creditor_id=batch.creditor_id,
                fingerprint=data["fingerprint"],
                mapping_json=text,
                updated_at=now,
            )
        )
    else:
        saved.mapping_json = text
        saved.updated_at = now


# --- Reading the rows -------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """What it takes to read a batch's items, copied out of the ORM objects."""

    path: Path
    kept: Path  # the rows a dry run read from it
    filename: str
    country: str
    currency: str
    today: date
    mapping: ColumnMapping | None
    max_bytes: int

    @classmethod
    def of(
        cls,
        store: UploadStore,
        batch: ImportBatch,
        creditor: Creditor,
        *,
        today: date,
        max_bytes: int,
    ) -> _Source:
        return cls(
            store.file(batch),
            store.kept_rows(batch),
            batch.filename,
            creditor.country,
            creditor.currency,
            today,
            _mapping_of(batch),
            max_bytes,
        )

    def items(
        self, notices: list[Reason] | None = None
    ) -> Generator[ImportItem, None, None]:
        """`notices` receives the file's notices (see read_invoices).

        :raises FileRejected: the file is gone or unusable.
        """
        if not self.path.is_file():
            raise FileRejected(Reason.of(Code.FILE_GONE))
        with self.path.open("rb") as stream:
            yield from read_invoices(
                stream,
                filename=self.filename,
                default_country=self.country,
                default_currency=self.currency,
                today=self.today,
                max_bytes=self.max_bytes,
                mapping=self.mapping,
                notices=notices,
            )

    def keeping(
        self, notices: list[Reason] | None = None
    ) -> Generator[ImportItem, None, None]:
        """The items, kept beside the upload once all are read (`checked_items`)."""
        return keep_rows(self.items(notices), self.kept, self.terms)

    def checked_items(self) -> Generator[ImportItem, None, None]:
        """The items as a dry run under the same terms read them, else read again.

        :raises FileRejected: the file is gone or unusable.
        """
        if not self.path.is_file():
            raise FileRejected(Reason.of(Code.FILE_GONE))
        kept = kept_items(self.kept, self.terms)
        yield from self.items() if kept is None else kept

    @property
    def terms(self) -> dict[str, Any]:
        """Everything but the file that the items depend on."""
        return {
            "filename": self.filename,
            "country": self.country,
            "currency": self.currency,
            "today": self.today.isoformat(),
            "mapping": self.mapping.to_dict() if self.mapping else None,
            "max_bytes": self.max_bytes,
        }


@contextlib.contextmanager
def _open(store: UploadStore, batch: ImportBatch) -> Iterator[BinaryIO]:
    path = store.file(batch)
    if not path.is_file():
        raise FileRejected(Reason.of(Code.FILE_GONE))
    with path.open("rb") as stream:
        yield stream


def is_large(
    store: UploadStore,
    batch: ImportBatch,
    creditor: Creditor,
    *,
    limits: IngestLimits,
    today: date,
) -> bool:
    """Whether the worker checks and imports the file, rather than the request.

    :raises FileRejected: the file cannot be read.
    """
    if batch.size_bytes >= limits.background_bytes:
        return True
    if batch.rows_total is not None:
        return batch.rows_total >= limits.background_rows
    source = _Source.of(store, batch, creditor, today=today, max_bytes=limits.max_bytes)
    with contextlib.closing(source.items()) as items:
        counted = sum(1 for _ in itertools.islice(items, limits.background_rows))
    return counted >= limits.background_rows


# --- The dry run ------------------------------------------------------------------------


def check_batch(
    session: Session,
    store: UploadStore,
    batch: ImportBatch,
    creditor: Creditor,
    *,
    max_bytes: int,
    now: datetime,
    checkpoint: Callable[[int], None] | None = None,
) -> PlanSummary:
    """The dry run: what importing the file would do, kept on the batch. Writes no accounts.

    `checkpoint(n)` is called after every CHECKPOINT_ITEMS items and once more before the
    dry run is kept (the worker reports progress there, and stops if it was cancelled).

    :raises FileRejected: the file cannot be read (UnknownLayout: its columns need mapping).
    """
    today = now.date()
    source = _Source.of(store, batch, creditor, today=today, max_bytes=max_bytes)
    references: list[str] = []
    # Held in memory per open account at Venlig, not per row of the file.
    unseen = _open_references(session, creditor)
    notices: list[Reason] = []
    items = _watched(source.keeping(notices), references, checkpoint, unseen)
    with contextlib.closing(items):
        plan = plan_import(session, creditor, items, now=now)
    summary = PlanSummary.of(
        plan,
        today=today,
        now=now,
        references=references,
        missing=unseen,
        notices=notices,
    )
    if checkpoint is not None:
        checkpoint(summary.counts.items)
    _keep_plan(store, batch, plan, summary)
    return summary


def _keep_plan(
    store: UploadStore, batch: ImportBatch, plan: ImportPlan, summary: PlanSummary
) -> None:
    for kind, rows in (
        (ReportKind.REJECTED, plan.rejected),
        (ReportKind.FLAGGED, plan.flagged),
    ):
        path = store.report(batch, kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(_report_entry(row)) + "\n")
    batch.plan_json = summary.to_json()
    batch.rows_total = summary.counts.items
    batch.rows_done = 0
    batch.status = ImportStatus.PLANNED
    batch.error = None


def _report_entry(error: RowError) -> dict[str, Any]:
    return {
        "rows": list(error.rows),
        "field": error.field.value if error.field else None,
        "reason": error.reason.to_dict(),
        "value": error.raw_value,
        "reference": error.reference,
    }


def read_report(
    store: UploadStore, batch: ImportBatch, kind: ReportKind
) -> Iterator[RowError]:
    """The batch's rejected (or flagged) rows, one at a time, as its dry run found them.

    :raises NotFound: the batch has no such report (not checked yet, or no longer kept).
    """
    path = store.report(batch, kind)
    if not path.is_file():
        raise NotFound("No such report")
    return _report_entries(path)


def _report_entries(path: Path) -> Iterator[RowError]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            data = json.loads(line)
            yield RowError(
                tuple(data["rows"]),
                Field(data["field"]) if data["field"] else None,
                Reason.from_dict(data["reason"]),
                data["value"],
                data["reference"],
            )


def _open_references(session: Session, creditor: Creditor) -> set[str]:
    return set(
        session.scalars(
            select(Account.external_reference).where(
                Account.creditor_id == creditor.id,
                Account.status.not_in((AccountStatus.PAID, AccountStatus.CLOSED)),
            )
        )
    )


def _watched(
    items: Iterator[ImportItem],
    references: list[str],
    checkpoint: Callable[[int], None] | None,
    unseen: set[str] | None = None,
) -> Generator[ImportItem, None, None]:
    """The items, noting the first invoice numbers and calling `checkpoint` now and then.

    Every invoice number met is struck from `unseen`, which ends as the open invoices the
    file does not list.
    """
    try:
        for count, item in enumerate(items, 1):
            if isinstance(item, InvoiceRow) and unseen is not None:
                unseen.discard(item.external_reference)
            if isinstance(item, InvoiceRow) and len(references) < SAMPLE_REFERENCES:
                references.append(item.external_reference)
            yield item
            if checkpoint is not None and count % CHECKPOINT_ITEMS == 0:
                checkpoint(count)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def check_or_queue(
    session: Session,
    store: UploadStore,
    batch: ImportBatch,
    creditor: Creditor,
    *,
    limits: IngestLimits,
    now: datetime,
) -> bool:
    """Check a small file now; leave a large one to the worker. True when checked.

    :raises FileRejected: the file cannot be read.
    """
    if needs_mapping(batch):
        return False
    if is_large(store, batch, creditor, limits=limits, today=now.date()):
        batch.rows_done = 0
        return False
    check_batch(session, store, batch, creditor, max_bytes=limits.max_bytes, now=now)
    return True


# --- Confirming, cancelling -------------------------------------------------------------


class Confirmed(enum.StrEnum):
    IMPORTED = "imported"  # done, in the caller's transaction
    QUEUED = "queued"  # the worker imports it
    CHECKED_AGAIN = "checked_again"  # the dry run no longer held; confirm the new one


def confirm_batch(
    session: Session,
    store: UploadStore,
    batch: ImportBatch,
    creditor: Creditor,
    user: User | None,
    *,
    limits: IngestLimits,
    now: datetime,
    request_id: str | None = None,
) -> Confirmed:
    """The creditor confirmed the dry run: import the file, or queue it for the worker.

    A small file is imported in the caller's transaction, and only if a fresh dry run still
    gives what the creditor saw; otherwise the fresh one is kept and shown instead. A large
    one is queued, unless another upload was imported since its dry run: then it is queued
    to be checked again.

    :raises Conflict: the batch is not waiting for confirmation (e.g. confirmed twice).
    :raises FileRejected: the file cannot be read.
    """
    _lock(session, batch)
    summary = summary_of(batch)
    if batch.status is not ImportStatus.PLANNED or summary is None:
        raise Conflict("this upload is not waiting for confirmation")
    if is_large(store, batch, creditor, limits=limits, today=now.date()):
        if _imported_since(session, batch, summary.planned_at):
            _reset(store, batch)
            return Confirmed.CHECKED_AGAIN
        batch.status = ImportStatus.IMPORTING
        batch.confirmed_at = now
        batch.rows_done = 0
        _audit(session, user, batch, "import_confirmed", now, request_id)
        return Confirmed.QUEUED
    today = now.date()
    source = _Source.of(store, batch, creditor, today=today, max_bytes=limits.max_bytes)
    references: list[str] = []
    with contextlib.closing(_watched(source.items(), references, None)) as items:
        fresh = plan_import(session, creditor, items, now=now)
    fresh_summary = PlanSummary.of(fresh, today=today, now=now, references=references)
    if not fresh_summary.same_plan(summary):
        _keep_plan(store, batch, fresh, fresh_summary)
        return Confirmed.CHECKED_AGAIN
    with contextlib.closing(source.items()) as items:
        done = apply_import(session, creditor, items, now=now, confirmed=fresh)
    batch.confirmed_at = now
    _audit(session, user, batch, "import_confirmed", now, request_id)
    _finish(session, batch, replace(fresh_summary, result=Counts.of(done)), now)
    return Confirmed.IMPORTED


def _lock(session: Session, batch: ImportBatch) -> None:
    """Wait for any other confirmation of the same batch, then see what it left."""
    session.execute(
        select(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _imported_since(session: Session, batch: ImportBatch, since: datetime) -> bool:
    """Another upload of the creditor's was imported after this one's dry run."""
    found = session.scalar(
        select(ImportBatch.id)
        .where(
            ImportBatch.creditor_id == batch.creditor_id,
            ImportBatch.id != batch.id,
            ImportBatch.status == ImportStatus.IMPORTED,
            ImportBatch.finished_at > since,
        )
        .limit(1)
    )
    return found is not None


def _finish(
    session: Session, batch: ImportBatch, summary: PlanSummary, now: datetime
) -> None:
    batch.plan_json = summary.to_json()
    batch.status = ImportStatus.IMPORTED
    batch.rows_done = batch.rows_total or 0
    batch.finished_at = now
    batch.error = None
    _remember_mapping(session, batch, now)
    detail = json.dumps(_counts_dict(summary.result or Counts()))
    _audit(session, None, batch, "import_finished", now, None, detail=detail)


class Cancelled(enum.StrEnum):
    NOW = "now"  # closed: nothing more is checked or imported
    REQUESTED = "requested"  # a worker is on it; it stops at its next step


def cancel_batch(
    session: Session,
    batch: ImportBatch,
    user: User | None,
    *,
    now: datetime,
    request_id: str | None = None,
) -> Cancelled:
    """Stop an upload: before its import, while the worker checks it, or between chunks.

    A batch a worker holds right now (PostgreSQL row lock: a dry run, or a chunk being
    imported) gets a cancel request instead, which the worker honours at its next
    checkpoint or chunk; on SQLite this waits for the worker's transaction instead. Chunks
    already imported stay imported (each was committed whole). The caller commits, then
    calls `release_files`.

    :raises Conflict: it is already imported, failed or cancelled.
    """
    held = _try_lock(session, batch)
    if not can_cancel(batch):
        raise Conflict("this upload can no longer be cancelled")
    if not held:
        if not cancel_requested(session, batch):
            _audit(session, user, batch, CANCEL_REQUESTED, now, request_id)
        return Cancelled.REQUESTED
    _close_cancelled(session, batch, user, now, request_id)
    return Cancelled.NOW


def can_cancel(batch: ImportBatch) -> bool:
    return batch.status in (
        ImportStatus.UPLOADED,
        ImportStatus.PLANNED,
        ImportStatus.IMPORTING,
    )


def cancel_requested(session: Session, batch: ImportBatch) -> bool:
    """The creditor asked to cancel while a worker was holding the batch."""
    found = session.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.creditor_id == batch.creditor_id,
            AuditEvent.object_type == OBJECT_TYPE,
            AuditEvent.object_id == batch.id,
            AuditEvent.action == CANCEL_REQUESTED,
        )
        .limit(1)
    )
    return found is not None


def _try_lock(session: Session, batch: ImportBatch) -> bool:
    """Lock the batch unless a worker holds it; False when one does (PostgreSQL)."""
    found = session.scalar(
        select(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return found is not None


def _close_cancelled(
    session: Session,
    batch: ImportBatch,
    user: User | None,
    now: datetime,
    request_id: str | None,
) -> None:
    detail = (
        f"{batch.rows_done} of {batch.rows_total} rows imported"
        if batch.rows_done and batch.status is ImportStatus.IMPORTING
        else ""
    )
    if batch.status is not ImportStatus.IMPORTING:
        batch.rows_done = 0
    batch.status = ImportStatus.CANCELLED
    batch.finished_at = now
    _audit(session, user, batch, "upload_cancelled", now, request_id, detail=detail)


def release_files(store: UploadStore, batch: ImportBatch) -> None:
    """After the commit that closed the batch: delete what it no longer needs.

    An imported batch keeps its reports (the rows to correct) until it expires; any other
    closed batch keeps nothing.
    """
    if batch.status is ImportStatus.IMPORTED:
        store.discard_file(batch)
    elif batch.status in (ImportStatus.CANCELLED, ImportStatus.FAILED):
        store.discard(batch)


def has_expired(batch: ImportBatch) -> bool:
    """Closed by the worker because it waited too long for the creditor."""
    return batch.status is ImportStatus.CANCELLED and batch.error == EXPIRED


def expire_batches(
    session: Session, store: UploadStore, *, keep_for: timedelta, now: datetime
) -> int:
    """Close uploads left waiting for the creditor longer than `keep_for` and delete the
    files of batches closed that long ago; how many uploads expired.

    A batch whose files are gone has an empty storage_path, so each is swept once. A batch
    a worker holds is left for the next sweep. Commits per batch, then deletes its files.
    """
    cutoff = now - keep_for
    waiting = select(ImportBatch).where(
        ImportBatch.storage_path != "",
        ImportBatch.created_at < cutoff,
        or_(
            ImportBatch.status == ImportStatus.PLANNED,
            (ImportBatch.status == ImportStatus.UPLOADED)
            & ImportBatch.mapping_json.is_(None),
        ),
    )
    closed = select(ImportBatch).where(
        ImportBatch.storage_path != "",
        ImportBatch.finished_at < cutoff,
        ImportBatch.status.in_(
            (ImportStatus.IMPORTED, ImportStatus.FAILED, ImportStatus.CANCELLED)
        ),
    )
    expired = 0
    for statement, expire in ((waiting, True), (closed, False)):
        while True:
            batch = session.scalar(
                statement.order_by(ImportBatch.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if batch is None:
                session.rollback()
                break
            if expire:
                batch.status = ImportStatus.CANCELLED
                batch.error = EXPIRED
                batch.finished_at = now
                _audit(session, None, batch, "upload_expired", now, None)
                expired += 1
            paths = store.paths(batch)
            batch.storage_path = ""
            session.commit()
            for path in paths:
                path.unlink(missing_ok=True)
    return expired


def mark_failed(batch: ImportBatch, reason: Reason, *, now: datetime) -> None:
    """The batch cannot go on; `reason` is kept as data, worded when shown."""
    batch.status = ImportStatus.FAILED
    batch.error = json.dumps(reason.to_dict())
    batch.finished_at = now


def failure_of(batch: ImportBatch) -> Reason | None:
    """Why a failed batch stopped (a batch failed before reasons were data: its words)."""
    if batch.status is not ImportStatus.FAILED or not batch.error:
        return None
    try:
        return Reason.from_dict(json.loads(batch.error))
    except (ValueError, KeyError, TypeError):
        return Reason.worded(batch.error)


def _audit(
    session: Session,
    user: User | None,
    batch: ImportBatch,
    action: str,
    now: datetime,
    request_id: str | None,
    detail: str = "",
) -> None:
    record_audit(
        session,
        user,
        action,
        object_type=OBJECT_TYPE,
        object_id=batch.id,
        creditor_id=batch.creditor_id,
        now=now,
        request_id=request_id,
        detail=detail,
    )


# --- The worker -------------------------------------------------------------------------


@dataclass
class WorkDone:
    """What one run of the worker did."""

    checked: int = 0
    chunks: int = 0
    imported: int = 0
    failed: int = 0
    cancelled: int = 0
    expired: int = 0


def work_batches(
    sessions: sessionmaker[Session],
    store: UploadStore,
    *,
    limits: IngestLimits,
    clock: Callable[[], datetime],
    budget_seconds: float = 240.0,
    monotonic: Callable[[], float] = time.monotonic,
) -> WorkDone:
    """Check queued uploads, then import confirmed ones chunk by chunk, until out of time.

    Workers may be many: each claims a batch with SELECT ... FOR UPDATE SKIP LOCKED (on
    PostgreSQL; SQLite runs one writer at a time anyway). A chunk's transaction re-reads
    rows_done under that lock and writes the chunk with its new rows_done, so a chunk is
    imported once however the workers interleave or die. A dry run holds its lock to the
    end on PostgreSQL; on SQLite it commits every CHECKPOINT_ITEMS items (showing progress),
    so the web process is not locked out meanwhile.
    """
    deadline = monotonic() + budget_seconds
    done = WorkDone()
    with sessions() as session:
        done.expired = expire_batches(
            session, store, keep_for=limits.keep_for, now=clock()
        )
    while monotonic() < deadline:
        if _check_next(sessions, store, limits, clock, done):
            continue
        if not _import_next(sessions, store, limits, clock, done, deadline, monotonic):
            break
    return done


def _check_next(
    sessions: sessionmaker[Session],
    store: UploadStore,
    limits: IngestLimits,
    clock: Callable[[], datetime],
    done: WorkDone,
) -> bool:
    with sessions() as session:
        batch = session.scalar(
            select(ImportBatch)
            .where(
                ImportBatch.status == ImportStatus.UPLOADED,
                ImportBatch.mapping_json.is_not(None),
            )
            .order_by(ImportBatch.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if batch is None:
            session.rollback()
            return False
        creditor = session.get_one(Creditor, batch.creditor_id)
        commits = session.get_bind().dialect.name == "sqlite"

        def checkpoint(count: int) -> None:
            if commits:
                batch.rows_done = count
                session.commit()  # the next statement waits for the web's cancel
                session.refresh(batch, ["status"])
            if batch.status is not ImportStatus.UPLOADED or cancel_requested(
                session, batch
            ):
                raise _CheckCancelled

        try:
            check_batch(
                session,
                store,
                batch,
                creditor,
                max_bytes=limits.max_bytes,
                now=clock(),
                checkpoint=checkpoint,
            )
            done.checked += 1
        except _CheckCancelled:
            session.rollback()
            _cancel_held(session, batch, clock())
            done.cancelled += 1
        except Exception as exc:
            session.rollback()
            if not isinstance(exc, FileRejected):
                logger.exception("checking upload %s failed", batch.id)
            mark_failed(batch, _reason(exc, Code.CHECK_STOPPED), now=clock())
            done.failed += 1
        session.commit()
        release_files(store, batch)
    return True


class _CheckCancelled(Exception):
    """The creditor cancelled the upload while the worker was checking it."""


def _cancel_held(session: Session, batch: ImportBatch, now: datetime) -> None:
    """Close a batch the worker holds once the creditor asked; the web may have already."""
    session.refresh(batch, with_for_update=True)
    if can_cancel(batch):
        _close_cancelled(session, batch, None, now, None)


def _reason(exc: Exception, otherwise: Code) -> Reason:
    return exc.reason if isinstance(exc, FileRejected) else Reason.of(otherwise)


class _Run:
    """The items of one batch being imported, read on from where the last chunk ended."""

    def __init__(self, batch_id: int, source: _Source) -> None:
        self.batch_id = batch_id
        self.source = source
        self.items: Iterator[ImportItem] = iter(())
        self.position: int | None = None
        self.pending: list[ImportItem] = []

    def seek(self, position: int) -> None:
        """Continue at item `position`; re-read the file when another worker moved it on."""
        if self.position == position:
            return
        self.close()
        self.items = self.source.checked_items()
        self.pending = []
        for _ in itertools.islice(self.items, position):
            pass
        self.position = position

    def take(self, count: int) -> tuple[list[ImportItem], bool]:
        """The next `count` items, and whether they were the last."""
        chunk = self.pending + list(
            itertools.islice(self.items, count - len(self.pending))
        )
        self.pending = list(itertools.islice(self.items, 1))
        self.position = (self.position or 0) + len(chunk)
        return chunk, not self.pending

    def close(self) -> None:
        closing = getattr(self.items, "close", None)
        if closing is not None:
            closing()


def _import_next(
    sessions: sessionmaker[Session],
    store: UploadStore,
    limits: IngestLimits,
    clock: Callable[[], datetime],
    done: WorkDone,
    deadline: float,
    monotonic: Callable[[], float],
) -> bool:
    """Import the oldest confirmed batch chunk by chunk; False when none is waiting."""
    run: _Run | None = None
    closed: ImportBatch | None = None  # imported or cancelled: its files can go
    try:
        while True:
            with sessions.begin() as session:
                query = select(ImportBatch).where(
                    ImportBatch.status == ImportStatus.IMPORTING
                )
                if run is not None:
                    query = query.where(ImportBatch.id == run.batch_id)
                batch = session.scalar(
                    query.order_by(ImportBatch.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                    .execution_options(populate_existing=True)
                )
                if batch is None:
                    return run is not None
                if cancel_requested(session, batch):
                    # Chunks before this one stay imported; none is taken after it.
                    _close_cancelled(session, batch, None, clock(), None)
                    closed = batch
                    done.cancelled += 1
                    return True
                summary = summary_of(batch)
                assert summary is not None, "a confirmed batch has its dry run"
                creditor = session.get_one(Creditor, batch.creditor_id)
                if run is None:
                    source = _Source.of(
                        store,
                        batch,
                        creditor,
                        today=summary.today,
                        max_bytes=limits.max_bytes,
                    )
                    run = _Run(batch.id, source)
                run.seek(batch.rows_done)
                chunk, last = run.take(limits.chunk_rows)
                now = clock()
                counts = Counts.of(import_chunk(session, creditor, chunk, now=now))
                batch.rows_done += len(chunk)
                summary = replace(summary, result=(summary.result or Counts()) + counts)
                batch.plan_json = summary.to_json()
                done.chunks += 1
                if last:
                    batch.rows_total = batch.rows_done
                    _finish(session, batch, summary, now)
                    closed = batch
                    done.imported += 1
            if last or monotonic() >= deadline:
                return True
    except (IntegrityError, OperationalError):
        # Another writer got there first, or the database went away: the chunk was rolled
        # back whole, and the next run takes it again.
        logger.exception("importing upload %s: chunk rolled back, will retry", _id(run))
        return False
    except Exception as exc:
        if not isinstance(exc, FileRejected):
            logger.exception("importing upload %s failed", _id(run))
        if run is not None:
            _fail_import(sessions, store, run.batch_id, exc, clock())
            done.failed += 1
        return True
    finally:
        if run is not None:
            run.close()
        if closed is not None:
            release_files(store, closed)


def _id(run: _Run | None) -> int | None:
    return run.batch_id if run else None


def _fail_import(
    sessions: sessionmaker[Session],
    store: UploadStore,
    batch_id: int,
    exc: Exception,
    now: datetime,
) -> None:
    with sessions.begin() as session:
        batch = session.get_one(ImportBatch, batch_id)
        if batch.status is not ImportStatus.IMPORTING:
            return
        # The page says how many rows were imported before it stopped.
        mark_failed(batch, _reason(exc, Code.IMPORT_STOPPED), now=now)
    release_files(store, batch)


@dataclass(frozen=True)
class Progress:
    """How far a batch has come, for the progress bar."""

    status: ImportStatus
    # mapping, checking, planned, importing, cancelling, imported, failed, cancelled,
    # expired
    phase: str
    done: int
    total: int | None


def progress_of(batch: ImportBatch, *, cancelling: bool = False) -> Progress:
    """`cancelling`: the creditor asked a worker holding the batch to stop
    (`cancel_requested`)."""
    if needs_mapping(batch):
        phase = "mapping"
    elif cancelling and can_cancel(batch):
        phase = "cancelling"
    elif waiting_for_check(batch):
        phase = "checking"
    elif has_expired(batch):
        phase = "expired"
    else:
        phase = batch.status.value
    total = batch.rows_total if batch.status is not ImportStatus.UPLOADED else None
    return Progress(batch.status, phase, batch.rows_done, total)
