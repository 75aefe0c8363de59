"""The rows a dry run read and checked, kept beside the upload for the import to use.

Reading and checking a row (amounts, dates, names, phone numbers) costs more than
inserting it, and a confirmed import would otherwise do it all again for the whole file.
What the reader yields depends only on the file and the terms it is read with (the date
the rows are checked against, the creditor's country and currency, the columns), so the
rows a dry run kept stand for reading the file again under the same terms. The file's
first line names those terms; rows kept under other terms are not used. What depends on
the database (matching debtors and accounts, repeats of earlier imports, balances) is
not in here: the import weighs it again.

One JSON array a line, written to a partial file that is renamed only once the dry run
has read the whole upload, so rows cut short never pass for the whole file.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Generator, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from app.ingest.reasons import Reason
from app.ingest.rows import (
    DebtorDetails,
    Field,
    ImportItem,
    InvoiceRow,
    Kind,
    PhoneFlag,
    RowError,
    RowWarning,
)

# The first element of a line: which kind of item it holds.
INVOICE = "i"
ERROR = "e"

Terms = Mapping[str, Any]  # JSON-safe: what the rows were read with


def partial_paths(path: Path) -> list[Path]:
    """The rows being written for `path` by dry runs that have not read everything yet."""
    return sorted(path.parent.glob(f"{path.name}.*.partial"))


def _new_partial_path(path: Path) -> Path:
    # Each writer its own: two workers checking the same upload at once (SQLite has no
    # row locks to stop them) must not write into one file; the last complete one wins,
    # and both are the same rows.
    return path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")


def keep_rows(
    items: Iterator[ImportItem], path: Path, terms: Terms
) -> Generator[ImportItem, None, None]:
    """The items, unchanged, each written down as it passes.

    The rows become `path` once the last item has passed; stopped before that (closed, or
    the reader failed), nothing is kept.
    """
    partial = _new_partial_path(path)
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        with partial.open("w", encoding="utf-8") as out:
            out.write(json.dumps(dict(terms)) + "\n")
            for item in items:
                out.write(json.dumps(_encode(item), separators=(",", ":")) + "\n")
                yield item
            out.flush()
            os.fsync(out.fileno())  # the batch that relies on them is committed next
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def kept_items(path: Path, terms: Terms) -> Iterator[ImportItem] | None:
    """The rows kept at `path` under these terms; None when there are none."""
    try:
        stream = path.open(encoding="utf-8")
    except FileNotFoundError:
        return None
    if json.loads(stream.readline() or "null") != dict(terms):
        stream.close()
        return None
    return _decoded(stream)


def _decoded(stream: TextIO) -> Generator[ImportItem, None, None]:
    with stream:
        for line in stream:
            yield _decode(json.loads(line))


def _encode(item: ImportItem) -> list[Any]:
    if isinstance(item, RowError):
        return [
            ERROR,
            item.rows,
            item.field.value if item.field else None,
            item.reason.to_dict(),
            item.raw_value,
            item.reference,
        ]
    debtor = item.debtor
    return [
        INVOICE,
        item.rows,
        item.kind.value,
        item.external_reference,
        item.credited_reference,
        [
            debtor.name,
            debtor.customer_number,
            debtor.phone,
            debtor.phone_flag.value,
            debtor.email,
            _iso(debtor.birth_date),
            debtor.postcode,
            debtor.country,
            debtor.timezone,
        ],
        item.description,
        item.amount_minor,
        item.paid_minor,
        item.currency,
        _iso(item.issued_on),
        _iso(item.due_on),
        [[w.field.value, w.reason.to_dict(), w.raw_value] for w in item.warnings],
    ]


def _decode(line: list[Any]) -> ImportItem:
    if line[0] == ERROR:
        _, rows, field, reason, raw_value, reference = line
        return RowError(
            tuple(rows),
            Field(field) if field else None,
            Reason.from_dict(reason),
            raw_value,
            reference,
        )
    (_, rows, kind, reference, credited, debtor, description) = line[:7]
    amount, paid, currency, issued_on, due_on, warnings = line[7:]
    name, number, phone, flag, email, born, postcode, country, zone = debtor
    return InvoiceRow(
        rows=tuple(rows),
        kind=Kind(kind),
        external_reference=reference,
        credited_reference=credited,
        debtor=DebtorDetails(
            name=name,
            customer_number=number,
            phone=phone,
            phone_flag=PhoneFlag(flag),
            email=email,
            birth_date=_date(born),
            postcode=postcode,
            country=country,
            timezone=zone,
        ),
        description=description,
        amount_minor=amount,
        paid_minor=paid,
        currency=currency,
        issued_on=_date(issued_on),
        due_on=_date(due_on),
        warnings=tuple(
            RowWarning(Field(field), Reason.from_dict(reason), raw)
            for field, reason, raw in warnings
        ),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
