"""Invoices sent as data (the REST API) instead of a file, checked and imported alike.

Each item is one summary record: the same fields a file's columns map to, validated by
the same `build_invoice` and imported by the same importer, so an item is accepted or
refused for exactly the reasons a file row would be. The answer is per item, by its
position in the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.ingest.importer import (
    ImportPlan,
    Outcome,
    apply_import,
    plan_import,
)
from app.ingest.reasons import Code, Reason
from app.ingest.rows import (
    Field,
    ImportItem,
    ImportOptions,
    InvoiceRow,
    Kind,
    Record,
    RowError,
    build_invoice,
)
from app.ingest.values import RawValue, as_text
from app.models import Creditor

MAX_ITEMS = 1000
# What an item may carry: every column of a summary file (line items come as one total).
ITEM_FIELDS = frozenset(Field) - {Field.LINE_AMOUNT, Field.MOBILE}

Item = Mapping[str, RawValue | None]


@dataclass(frozen=True)
class ItemResult:
    """What became of one item; `errors` when rejected, `warnings` for flagged values."""

    index: int
    external_reference: str | None
    kind: Kind | None
    status: Outcome
    errors: tuple[RowError, ...] = ()
    warnings: tuple[RowError, ...] = ()


@dataclass(frozen=True)
class BatchResult:
    plan: ImportPlan
    items: tuple[ItemResult, ...]
    dry_run: bool


class TooManyItems(ValueError):
    """More items than one batch may hold."""


def import_batch(
    session: Session,
    creditor: Creditor,
    items: Sequence[Item],
    *,
    now: datetime,
    dry_run: bool = False,
) -> BatchResult:
    """Check every item, then import the valid ones (unless `dry_run`); nothing commits.

    Writes through `session`; the caller commits, or rolls back on any exception.

    :raises TooManyItems: more than MAX_ITEMS items.
    :raises ValueError: an item has a key outside ITEM_FIELDS.
    :raises PlanChanged: the accounts changed while the batch was being imported.
    """
    if len(items) > MAX_ITEMS:
        raise TooManyItems(f"a batch holds at most {MAX_ITEMS:,} items")
    options = ImportOptions(creditor.country, creditor.currency, now.date())
    built = _build(items, options)
    outcomes: dict[int, Outcome] = {}

    def observe(item: ImportItem, outcome: Outcome) -> None:
        outcomes[item.rows[0]] = outcome

    plan = plan_import(session, creditor, built, now=now, observe=observe)
    if not dry_run:
        outcomes.clear()
        plan = apply_import(
            session, creditor, built, now=now, confirmed=plan, observe=observe
        )
    return BatchResult(plan, _results(items, built, plan, outcomes), dry_run)


def _build(items: Sequence[Item], options: ImportOptions) -> list[ImportItem]:
    """Every item as an invoice row or its row errors; a repeated reference is refused."""
    built: list[ImportItem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        record = Record((index,), (_values(item),))
        found = build_invoice(record, options) or [
            RowError((index,), None, Reason.of(Code.ITEM_UNREADABLE))
        ]
        for one in found:
            if isinstance(one, InvoiceRow):
                reference = one.external_reference
                if reference in seen:
                    one = RowError(
                        (index,),
                        Field.REFERENCE,
                        Reason.of(
                            Code.ITEM_REPEATED,
                            reference=reference,
                            item=seen[reference],
                        ),
                        reference,
                        reference,
                    )
                else:
                    seen[reference] = index
            built.append(one)
    return built


def _values(item: Item) -> dict[Field, RawValue]:
    values: dict[Field, RawValue] = {}
    for key, value in item.items():
        field = Field(key)
        if field not in ITEM_FIELDS:
            raise ValueError(f"{key} is not an item field")
        if value is not None:
            values[field] = value
    return values


def _results(
    items: Sequence[Item],
    built: list[ImportItem],
    plan: ImportPlan,
    outcomes: dict[int, Outcome],
) -> tuple[ItemResult, ...]:
    errors = _by_index(plan.rejected)
    warnings = _by_index(plan.flagged)
    rows = {one.rows[0]: one for one in built if isinstance(one, InvoiceRow)}
    results = []
    for index, item in enumerate(items):
        row = rows.get(index)
        found = errors.get(index, ())
        if row is not None:
            reference: str | None = row.external_reference
        else:
            raw = item.get(Field.REFERENCE.value)
            reference = (as_text(raw).strip() or None) if raw is not None else None
        results.append(
            ItemResult(
                index=index,
                external_reference=reference,
                kind=row.kind if row else None,
                status=Outcome.REJECTED if found else outcomes[index],
                errors=found,
                warnings=warnings.get(index, ()),
            )
        )
    return tuple(results)


def _by_index(errors: Sequence[RowError]) -> dict[int, tuple[RowError, ...]]:
    grouped: dict[int, list[RowError]] = {}
    for error in errors:
        grouped.setdefault(error.rows[0], []).append(error)
    return {index: tuple(found) for index, found in grouped.items()}
