"""Checked invoice rows into debtors, accounts and ledger entries: a dry run, then the import.

`plan_import` is the dry run the creditor sees: what would be created, updated, left
unchanged or rejected, and nothing is written. `apply_import` takes the plan the creditor
confirmed, imports the valid rows (rejected rows stay out; they are in the report) and
refuses with PlanChanged when the result differs from that plan, e.g. because another
upload changed the same accounts in between. It writes through the caller's session and
never commits: the caller commits, or rolls back on any error, so a failed import leaves
the database as it was.

Money only ever moves through the ledger. A new account gets its opening balance (what
the file says is still owed) as a charge; a later file with a different balance adds a
charge or credit for the difference. The difference is taken against what earlier
imports claimed (opening balance and adjustments), not against the ledger's balance,
so payments collected since do not look like changes. Credit notes are kept out of
that comparison: re-uploading an invoice after its credit note must not undo the credit.
A debtor is matched by the creditor's customer number, else by phone and name, and an
account by its invoice number. Matched debtors and accounts keep their details (name,
phone, due date): an agent's corrections are not overwritten by an old export.
"""

from __future__ import annotations

import csv
import enum
import functools
import io
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.errors import Conflict
from app.ingest import values
from app.ingest.reasons import Code, Money, Reason
from app.ingest.rows import (
    DebtorDetails,
    ImportItem,
    InvoiceRow,
    Kind,
    PhoneFlag,
    RowError,
    where_in_file,
)
from app.models import Account, Creditor, Debtor, LedgerEntry
from app.models.enums import AccountStatus, Language, LedgerKind
from app.services.ledger import balances_of

# The languages we write to debtors, by the country whose language it is.
COUNTRY_LANGUAGES = {
    "DK": Language.DA,
    "FO": Language.DA,
    "GL": Language.DA,
    "NO": Language.NB,
}
PLANNED_DEBTOR = -1  # the id a dry run gives a debtor it would add
WINDOW = 500  # items whose accounts and debtors are looked up (and written) together
SCRATCH_PARAMETERS = 500  # values per IN (...) on the dry run's scratch file
# Ledger entries of an import: import:<creditor id>:<invoice number>:<one of these>.
OPENING = "opening"
ADJUSTMENT = "adjustment:"
CREDIT_NOTE = "credit-note:"
IMPORT_PREFIX = "import:"
ENTRY_NOTE = "Imported from the creditor's file"
REPORT_HEADER = ("Where", "Invoice number", "Value", "Reason")
# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ImportPlan:
    """What an import does, row by row; the dry run's answer and the import's receipt."""

    created: int
    updated: int
    unchanged: int
    new_debtors: int
    rejected: tuple[RowError, ...]
    # Created rows with a value left out or flagged (a landline, an invalid phone).
    flagged: tuple[RowError, ...]


class Outcome(enum.StrEnum):
    """What the import did with one item."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


# Told each item and its outcome as the import goes (the API reports per item).
Observer = Callable[[ImportItem, Outcome], None]


class PlanChanged(Conflict):
    """The import would not do what the creditor confirmed; nothing may be kept."""

    code = "import_plan_changed"


def plan_import(
    session: Session,
    creditor: Creditor,
    items: Iterable[ImportItem],
    *,
    now: datetime,
    observe: Observer | None = None,
) -> ImportPlan:
    """The dry run: what importing `items` would do. Writes nothing."""
    return _Import(session, creditor, now, write=False).run(items, observe)


def apply_import(
    session: Session,
    creditor: Creditor,
    items: Iterable[ImportItem],
    *,
    now: datetime,
    confirmed: ImportPlan,
    observe: Observer | None = None,
) -> ImportPlan:
    """Import the valid rows of `items`, which the creditor saw as `confirmed`.

    Writes through `session` without committing; roll back on any exception.

    :raises PlanChanged: the import came out differently from the confirmed plan.
    """
    done = _Import(session, creditor, now, write=True).run(items, observe)
    if done != confirmed:
        raise PlanChanged(
            "the accounts changed since the dry run; run it again and confirm anew"
        )
    return done


def import_chunk(
    session: Session,
    creditor: Creditor,
    items: Iterable[ImportItem],
    *,
    now: datetime,
) -> ImportPlan:
    """Import one chunk of a confirmed file too large for one transaction.

    No plan is compared: the creditor confirmed the whole file's dry run, and each chunk is
    committed on its own. Everything a chunk writes is keyed by invoice number (accounts) and
    by ledger external id, so running items again that were already imported finds them
    unchanged: a chunk cut short, or run twice, adds nothing twice. Writes through `session`
    without committing.
    """
    return _Import(session, creditor, now, write=True).run(items)


@dataclass(frozen=True)
class Wording:
    """How a report words its header, where each problem is, and its reason."""

    header: tuple[str, str, str, str]
    where: Callable[[tuple[int, ...], str | None], str]
    reason: Callable[[Reason], str]


ENGLISH = Wording(REPORT_HEADER, where_in_file, Reason.english)


def report_lines(
    problems: Iterable[RowError], wording: Wording = ENGLISH
) -> Iterator[str]:
    """The problem rows as CSV lines, one at a time, that a spreadsheet opens without
    running anything."""
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(wording.header)
    for error in problems:
        where = wording.where(error.rows, error.reference)
        cells = (
            where,
            error.reference or "",
            error.raw_value,
            wording.reason(error.reason),
        )
        writer.writerow([_inert(cell) for cell in cells])
        yield output.getvalue()
        output.seek(0)
        output.truncate()
    yield output.getvalue()


def rejection_report(rejected: Iterable[RowError], wording: Wording = ENGLISH) -> str:
    """The rejected rows as CSV text (the whole report at once)."""
    return "".join(report_lines(rejected, wording))


def _inert(cell: str) -> str:
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


@dataclass(slots=True)
class _AccountState:
    """An account as the import sees it.

    `account_id` is None for an account this run adds: for good in a dry run, until its
    window is written otherwise.
    """

    reference: str
    currency: str
    # What imports said is owed (opening balance and adjustments); None when the
    # account was not added by an import, so there is nothing to compare with.
    claimed_minor: int | None
    balance_minor: int  # the whole ledger, with payments collected since
    account_id: int | None = None
    adjustments: int = 0
    credit_notes: dict[str, int] | None = None  # number -> amount; most have none

    def credit_note(self, number: str) -> int | None:
        return self.credit_notes.get(number) if self.credit_notes else None


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    flagged: list[RowError] = field(default_factory=list)

    def counts(self) -> tuple[int, int, int, int]:
        return self.created, self.updated, self.unchanged, len(self.rejected)

    def plan(self, new_debtors: int) -> ImportPlan:
        return ImportPlan(
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
            new_debtors=new_debtors,
            rejected=tuple(self.rejected),
            flagged=tuple(self.flagged),
        )


@dataclass
class _Entry:
    """A ledger entry to write once its window is written (its account may be new)."""

    state: _AccountState
    kind: LedgerKind
    amount_minor: int
    key: str


class _Import:
    """One pass over the rows, a window of WINDOW items at a time.

    Each window's accounts and debtors are looked up with a few IN queries before its rows
    are weighed, and an import that writes inserts the window's new debtors, accounts and
    ledger entries with one executemany each after them. A dry run writes nothing: what
    it would add (invoice numbers with balances, its would-be debtors' customer numbers
    and phones) goes from window to window through its _Scratch file, and only the few
    accounts it would change stay in memory.
    """

    def __init__(
        self, session: Session, creditor: Creditor, now: datetime, *, write: bool
    ) -> None:
        self.session = session
        self.creditor = creditor
        self.now = now
        self.write = write
        _plan_each_query(session)
        self.tally = _Tally()
        self.scratch = None if write else _Scratch()
        self.debtors = _Debtors(session, creditor, now, self.scratch)
        # The accounts met in this window, by invoice number (looked up, or added when
        # writing); the database has them once the window is written.
        self.window: dict[str, _AccountState] = {}
        # A dry run's accounts it would add and not (yet) change: invoice number ->
        # balance and currency, for this window (the scratch file has the rest); and
        # those it would change, for the whole run (few: repeats and credit notes).
        self.planned: dict[str, tuple[int, str]] = {}
        self.fresh: list[tuple[str, int, str]] = []
        self.changed: dict[str, _AccountState] = {}
        # What a writing window adds.
        self.new_accounts: list[tuple[_AccountState, InvoiceRow, _DebtorRef]] = []
        self.entries: list[_Entry] = []
        self.touched: set[int] = set()

    def run(
        self, items: Iterable[ImportItem], observe: Observer | None = None
    ) -> ImportPlan:
        try:
            return self._run(iter(items), observe)
        finally:
            if self.scratch is not None:
                self.scratch.close()

    def _run(
        self, iterator: Iterator[ImportItem], observe: Observer | None
    ) -> ImportPlan:
        while window := list(itertools.islice(iterator, WINDOW)):
            self._look_up(window)
            for item in window:
                before = self.tally.counts()
                if isinstance(item, RowError):
                    self.tally.rejected.append(item)
                elif item.kind is Kind.CREDIT_NOTE:
                    self._credit_note(item)
                else:
                    self._invoice(item)
                if observe is not None:
                    observe(item, _outcome(before, self.tally.counts()))
            self._write_window()
        return self.tally.plan(self.debtors.created)

    def _look_up(self, window: list[ImportItem]) -> None:
        references: set[str] = set()
        for item in window:
            if not isinstance(item, InvoiceRow):
                continue
            if item.kind is Kind.INVOICE:
                references.add(item.external_reference)
            elif item.credited_reference:
                references.add(item.credited_reference)
        references.difference_update(self.changed)
        if self.scratch is not None:
            self.planned = self.scratch.accounts(references)
            references.difference_update(self.planned)
        self.window = self._existing(references)
        self.debtors.look_up(
            item.debtor
            for item in window
            if isinstance(item, InvoiceRow)
            and item.kind is Kind.INVOICE
            and item.external_reference not in self.window
        )

    def _existing(self, references: set[str]) -> dict[str, _AccountState]:
        """The creditor's accounts with these numbers, with what imports said of them."""
        if not references:
            return {}
        found = _with_keys(
            self.session,
            (Account.id, Account.external_reference, Account.currency),
            Account.creditor_id == self.creditor.id,
            Account.external_reference,
            references,
        )
        by_id = {
            account_id: _AccountState(reference, currency, None, 0, account_id)
            for account_id, reference, currency in found
        }
        states = {state.reference: state for state in by_id.values()}
        if not states:
            return states
        for account_id, balance in balances_of(self.session, by_id).items():
            by_id[account_id].balance_minor = balance
        entries = self.session.execute(
            select(
                LedgerEntry.account_id,
                LedgerEntry.external_id,
                LedgerEntry.kind,
                LedgerEntry.amount_minor,
            )
            .where(
                LedgerEntry.account_id.in_(by_id),
                LedgerEntry.external_id.startswith(
                    f"{IMPORT_PREFIX}{self.creditor.id}:", autoescape=True
                ),
            )
            .order_by(LedgerEntry.id)
        )
        for account_id, external_id, kind, amount in entries:
            state = by_id[account_id]
            prefix = _entry_prefix(self.creditor.id, state.reference)
            if str(external_id).startswith(prefix):
                _count_entry(state, str(external_id).removeprefix(prefix), kind, amount)
        return states

    def _invoice(self, row: InvoiceRow) -> None:
        state = self._account(row.external_reference)
        if state is None:
            self._create(row)
        elif state.claimed_minor is None:
            self._reject(row, Reason.of(Code.ACCOUNT_NOT_IMPORTED))
        elif state.currency != row.currency:
            self._reject(row, _other_currency(row, state))
        elif row.balance_minor == state.claimed_minor:
            self.tally.unchanged += 1
        elif state.balance_minor + row.balance_minor - state.claimed_minor < 0:
            self._reject(
                row, _below_zero(row, state.claimed_minor - state.balance_minor)
            )
        else:
            self._adjust(row.balance_minor - state.claimed_minor, state)

    def _credit_note(self, row: InvoiceRow) -> None:
        invoice = row.credited_reference
        state = self._account(invoice) if invoice else None
        applied = state.credit_note(row.external_reference) if state else None
        if not invoice:
            self._reject(row, Reason.of(Code.CREDIT_WITHOUT_INVOICE))
        elif state is None:
            self._reject(row, Reason.of(Code.CREDIT_UNKNOWN_INVOICE, invoice=invoice))
        elif state.currency != row.currency:
            self._reject(row, _other_currency(row, state))
        elif applied == row.amount_minor:
            self.tally.unchanged += 1
        elif applied is not None:
            self._reject(row, _credit_changed(row, applied))
        elif row.amount_minor > state.balance_minor:
            self._reject(row, _credit_too_large(row, invoice, state.balance_minor))
        else:
            self._credit(row, state)

    def _create(self, row: InvoiceRow) -> None:
        debtor = self.debtors.find_or_add(row.debtor)
        balance = row.balance_minor
        if self.write:
            state = _AccountState(
                row.external_reference, row.currency, balance, balance
            )
            self.window[row.external_reference] = state
            self.new_accounts.append((state, row, debtor))
            self._post(state, LedgerKind.CHARGE, balance, OPENING)
        else:
            self.planned[row.external_reference] = (balance, row.currency)
            self.fresh.append((row.external_reference, balance, row.currency))
        self.tally.created += 1
        if row.warnings:
            self.tally.flagged.extend(
                RowError(
                    row.rows, w.field, w.reason, w.raw_value, row.external_reference
                )
                for w in row.warnings
            )

    def _adjust(self, difference: int, state: _AccountState) -> None:
        state.adjustments += 1
        state.claimed_minor = (state.claimed_minor or 0) + difference
        state.balance_minor += difference
        kind = LedgerKind.CHARGE if difference > 0 else LedgerKind.CREDIT
        self._post(state, kind, abs(difference), f"{ADJUSTMENT}{state.adjustments}")
        self.tally.updated += 1

    def _credit(self, row: InvoiceRow, state: _AccountState) -> None:
        if state.credit_notes is None:
            state.credit_notes = {}
        state.credit_notes[row.external_reference] = row.amount_minor
        state.balance_minor -= row.amount_minor
        key = f"{CREDIT_NOTE}{row.external_reference}"
        self._post(state, LedgerKind.CREDIT, row.amount_minor, key)
        self.tally.updated += 1

    def _post(
        self, state: _AccountState, kind: LedgerKind, amount: int, key: str
    ) -> None:
        if not self.write:
            self.changed[state.reference] = state  # a dry run remembers what it changed
            return
        if amount <= 0:
            raise ValueError(f"a ledger entry of {amount} minor units")
        self.entries.append(_Entry(state, kind, amount, key))
        if state.account_id is not None:
            self.touched.add(state.account_id)

    def _account(self, reference: str) -> _AccountState | None:
        state = self.window.get(reference) or self.changed.get(reference)
        if state is None and reference in self.planned:
            balance, currency = self.planned.pop(reference)
            state = _AccountState(reference, currency, balance, balance)
            self.changed[reference] = state
        return state

    def _reject(self, row: InvoiceRow, reason: Reason) -> None:
        reference = row.external_reference
        self.tally.rejected.append(RowError(row.rows, None, reason, "", reference))

    def _write_window(self) -> None:
        """Insert the window's new debtors, accounts and entries; touch changed accounts.

        A dry run instead puts what it would add into its scratch file.
        """
        if self.scratch is not None:
            self.scratch.add_accounts(self.fresh)
            self.debtors.keep_planned()
            self.planned, self.fresh = {}, []
            return
        self.debtors.insert_new()
        if self.new_accounts:
            ids = _insert(
                self.session,
                Account,
                [
                    self._account_values(row, debtor)
                    for _, row, debtor in self.new_accounts
                ],
            )
            for (state, _, _), account_id in zip(self.new_accounts, ids, strict=True):
                state.account_id = account_id
        if self.entries:
            _insert_rows(
                self.session,
                cast(Table, LedgerEntry.__table__),
                [self._entry_values(e) for e in self.entries],
            )
        if self.touched:
            self.session.execute(
                update(Account)
                .where(Account.id.in_(self.touched))
                .values(updated_at=self.now)
                .execution_options(synchronize_session=False)
            )
        self.new_accounts, self.entries, self.touched = [], [], set()
        self.window = {}

    def _account_values(self, row: InvoiceRow, debtor: _DebtorRef) -> dict[str, object]:
        return {
            "creditor_id": self.creditor.id,
            "debtor_id": self.debtors.id_of(debtor),
            # Left empty like the demo's: the creditor's default sequence then applies,
            # and keeps applying when the creditor picks another default.
            "sequence_id": None,
            "external_reference": row.external_reference,
            "description": row.description,
            "original_amount_minor": row.amount_minor,
            "currency": row.currency,
            "issued_on": row.issued_on,
            # No due date in the file: the invoice fell due when it was issued, or now.
            "due_on": row.due_on or row.issued_on or self.now.date(),
            "status": AccountStatus.OPEN,
            "created_at": self.now,
            "updated_at": self.now,
        }

    def _entry_values(self, entry: _Entry) -> dict[str, object]:
        state = entry.state
        return {
            "account_id": state.account_id,
            "kind": entry.kind,
            "amount_minor": entry.amount_minor,
            "currency": state.currency,
            "external_id": _entry_prefix(self.creditor.id, state.reference) + entry.key,
            "note": ENTRY_NOTE,
            "occurred_at": self.now,
            "created_at": self.now,
        }


def _plan_each_query(session: Session) -> None:
    """Have PostgreSQL plan each of this transaction's queries when it runs.

    The driver prepares a statement it has sent five times, and PostgreSQL may then keep
    one generic plan for it. An import fills the tables it looks up, window after window,
    and a plan made while a table was nearly empty (read it all rather than use an
    index) soon reads tens of thousands of rows for every key. Planned at each run, a
    query is planned for the table's size at the time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _outcome(
    before: tuple[int, int, int, int], after: tuple[int, int, int, int]
) -> Outcome:
    """The one count an item moved: created, updated, unchanged or rejected."""
    moved = [after[i] - before[i] for i in range(4)]
    return list(Outcome)[moved.index(1)]


def _entry_prefix(creditor_id: int, reference: str) -> str:
    return f"{IMPORT_PREFIX}{creditor_id}:{reference}:"


def _count_entry(
    state: _AccountState, key: str, kind: LedgerKind, amount_minor: int
) -> None:
    if key.startswith(CREDIT_NOTE):
        if state.credit_notes is None:
            state.credit_notes = {}
        state.credit_notes[key.removeprefix(CREDIT_NOTE)] = amount_minor
        return
    signed = amount_minor
    if kind is LedgerKind.CREDIT:
        signed = -signed
    if key == OPENING or key.startswith(ADJUSTMENT):
        state.claimed_minor = (state.claimed_minor or 0) + signed
    if key.startswith(ADJUSTMENT):
        state.adjustments += 1


def _other_currency(row: InvoiceRow, state: _AccountState) -> Reason:
    return Reason.of(
        Code.ACCOUNT_OTHER_CURRENCY,
        currency=row.currency,
        account_currency=state.currency,
    )


def _below_zero(row: InvoiceRow, taken: int) -> Reason:
    return Reason.of(
        Code.BELOW_ZERO,
        owed=Money(row.balance_minor, row.currency),
        taken=Money(taken, row.currency),
    )


def _credit_changed(row: InvoiceRow, applied: int) -> Reason:
    return Reason.of(
        Code.CREDIT_CHANGED,
        reference=row.external_reference,
        amount=Money(applied, row.currency),
    )


def _credit_too_large(row: InvoiceRow, invoice: str, left: int) -> Reason:
    return Reason.of(
        Code.CREDIT_TOO_LARGE,
        credit=Money(row.amount_minor, row.currency),
        invoice=invoice,
        left=Money(left, row.currency),
    )


class _Scratch:
    """What a dry run would add, kept in a private temporary SQLite file, not in memory.

    A million-row file would otherwise hold millions of keys (invoice numbers with their
    balances, customer numbers, phones with names); here each window looks up only its
    own. SQLite deletes the file when the connection closes.
    """

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "": a private on-disk database
        self.db.executescript(
            """
            CREATE TABLE accounts (
                reference TEXT PRIMARY KEY, balance INTEGER NOT NULL, currency TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE TABLE numbers (number TEXT PRIMARY KEY) WITHOUT ROWID;
            CREATE TABLE phones (
                key TEXT PRIMARY KEY, without_number INTEGER NOT NULL
            ) WITHOUT ROWID;
            """
        )

    def accounts(self, references: Iterable[str]) -> dict[str, tuple[int, str]]:
        sql = "SELECT reference, balance, currency FROM accounts WHERE reference IN"
        return {
            reference: (balance, currency)
            for reference, balance, currency in self._select(sql, references)
        }

    def numbers(self, numbers: Iterable[str]) -> set[str]:
        sql = "SELECT number FROM numbers WHERE number IN"
        return {number for (number,) in self._select(sql, numbers)}

    def phones(self, keys: Iterable[str]) -> dict[str, bool]:
        sql = "SELECT key, without_number FROM phones WHERE key IN"
        return {key: bool(without) for key, without in self._select(sql, keys)}

    def add_accounts(self, accounts: list[tuple[str, int, str]]) -> None:
        self.db.executemany("INSERT INTO accounts VALUES (?, ?, ?)", accounts)

    def add_debtors(self, numbers: list[str], phones: dict[str, bool]) -> None:
        self.db.executemany(
            "INSERT OR IGNORE INTO numbers VALUES (?)", [(n,) for n in numbers]
        )
        self.db.executemany(
            "INSERT INTO phones VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
            "without_number = max(without_number, excluded.without_number)",
            list(phones.items()),
        )

    def close(self) -> None:
        self.db.close()

    def _select(self, sql: str, values: Iterable[str]) -> Iterator[tuple[Any, ...]]:
        wanted = list(values)
        for start in range(0, len(wanted), SCRATCH_PARAMETERS):
            part = wanted[start : start + SCRATCH_PARAMETERS]
            marks = ", ".join("?" * len(part))
            yield from self.db.execute(f"{sql} ({marks})", part)


class _NewDebtor:
    """A debtor this run adds; `id` once its window is written."""

    __slots__ = ("details", "id")

    def __init__(self, details: DebtorDetails) -> None:
        self.details = details
        self.id: int | None = None


# A row's debtor: an existing one's id, one being added, or PLANNED_DEBTOR in a dry run.
_DebtorRef = int | _NewDebtor


class _Debtors:
    """Finds a row's debtor by customer number, else by phone and name, or adds one.

    The window's candidates are looked up together first (`look_up`). A dry run remembers
    the debtors it would add as compact keys for the whole run; an import that writes
    keeps its new ones until `write`, after which the database finds them.
    """

    def __init__(
        self,
        session: Session,
        creditor: Creditor,
        now: datetime,
        scratch: _Scratch | None,
    ) -> None:
        self.session = session
        self.creditor = creditor
        self.now = now
        self.scratch = scratch  # a dry run's; None when writing
        # Worked out once, not for every debtor written.
        self.timezone = _creditor_timezone(creditor)
        self.languages: dict[str, Language] = {}
        self.created = 0
        self.by_number: dict[str, int] = {}
        self.by_phone: dict[str, list[tuple[int, str, str | None]]] = {}
        # A dry run's would-be debtors met in this window (the scratch file has the
        # rest): their customer numbers, and per phone and name whether one of them came
        # without a customer number; and those it added in this window.
        self.planned_numbers: set[str] = set()
        self.planned_phones: dict[str, bool] = {}
        self.fresh_numbers: list[str] = []
        self.fresh_phones: dict[str, bool] = {}
        # The debtors a writing window adds, in order, found by number and by phone.
        self.new: list[_NewDebtor] = []
        self.new_numbers: dict[str, _NewDebtor] = {}
        self.new_phones: dict[str, list[_NewDebtor]] = {}

    def look_up(self, candidates: Iterable[DebtorDetails]) -> None:
        numbers: set[str] = set()
        phones: set[str] = set()
        phone_keys: set[str] = set()
        for details in candidates:
            if details.customer_number is not None:
                numbers.add(details.customer_number)
            if details.phone is not None:
                phones.add(details.phone)
                phone_keys.add(_phone_key(details.phone, details.name.casefold()))
        if self.scratch is not None:
            self.planned_numbers = self.scratch.numbers(numbers)
            self.planned_phones = self.scratch.phones(phone_keys)
        self.by_number, self.by_phone = {}, {}
        # Neither lookup is ordered in SQL: SQLite would then walk all the creditor's
        # debtors in id order instead of using the index on number or phone, at every
        # window of a file that is adding them.
        if numbers:
            found = _with_keys(
                self.session,
                (Debtor.customer_number, Debtor.id),
                Debtor.creditor_id == self.creditor.id,
                Debtor.customer_number,  # unique per creditor
                numbers,
            )
            self.by_number = {str(number): int(id_) for number, id_ in found}
        if phones:
            # The creditor is picked here, not in SQL, for the same reason: without
            # statistics (or with some taken before this import) SQLite and PostgreSQL
            # prefer the index on the creditor to the one on phones.
            found_phones = self.session.execute(
                select(
                    Debtor.creditor_id,
                    Debtor.id,
                    Debtor.phone_e164,
                    Debtor.name,
                    Debtor.customer_number,
                ).where(Debtor.phone_e164.in_(phones))
            )
            for creditor_id, id_, phone, name, number in sorted(found_phones):
                if creditor_id == self.creditor.id:
                    self.by_phone.setdefault(str(phone), []).append(
                        (int(id_), name, number)
                    )

    def find_or_add(self, details: DebtorDetails) -> _DebtorRef:
        """The debtor; PLANNED_DEBTOR for one a dry run would add."""
        found = self._by_number(details)
        if found is None:
            found = self._by_phone_and_name(details)
        if found is not None:
            return found
        self.created += 1
        if self.scratch is None:
            return self._add(details)
        self._remember(details)
        return PLANNED_DEBTOR

    def _by_number(self, details: DebtorDetails) -> _DebtorRef | None:
        number = details.customer_number
        if number is None:
            return None
        if number in self.planned_numbers:
            return PLANNED_DEBTOR
        return self.by_number.get(number) or self.new_numbers.get(number)

    def _by_phone_and_name(self, details: DebtorDetails) -> _DebtorRef | None:
        """Someone with the same phone and name, unless the customer numbers differ."""
        if details.phone is None:
            return None
        number, name = details.customer_number, details.name.casefold()
        for debtor_id, debtor_name, debtor_number in self.by_phone.get(
            details.phone, ()
        ):
            if debtor_name.casefold() == name and None in (number, debtor_number):
                return debtor_id
        for new in self.new_phones.get(details.phone, ()):
            same_name = new.details.name.casefold() == name
            if same_name and None in (number, new.details.customer_number):
                return new
        planned = self.planned_phones.get(_phone_key(details.phone, name))
        if planned is not None and (number is None or planned):
            return PLANNED_DEBTOR
        return None

    def _remember(self, details: DebtorDetails) -> None:
        if details.customer_number is not None:
            self.planned_numbers.add(details.customer_number)
            self.fresh_numbers.append(details.customer_number)
        if details.phone is not None:
            key = _phone_key(details.phone, details.name.casefold())
            without_number = details.customer_number is None
            self.planned_phones[key] = (
                self.planned_phones.get(key, False) or without_number
            )
            self.fresh_phones[key] = self.planned_phones[key]

    def keep_planned(self) -> None:
        """A dry run's window is done: what it would add goes to the scratch file."""
        assert self.scratch is not None, "only a dry run plans debtors"
        self.scratch.add_debtors(self.fresh_numbers, self.fresh_phones)
        self.planned_numbers, self.planned_phones = set(), {}
        self.fresh_numbers, self.fresh_phones = [], {}

    def _add(self, details: DebtorDetails) -> _NewDebtor:
        new = _NewDebtor(details)
        self.new.append(new)
        if details.customer_number is not None:
            self.new_numbers.setdefault(details.customer_number, new)
        if details.phone is not None:
            self.new_phones.setdefault(details.phone, []).append(new)
        return new

    def id_of(self, debtor: _DebtorRef) -> int:
        if isinstance(debtor, _NewDebtor):
            assert debtor.id is not None, "the window's debtors are written first"
            return debtor.id
        return debtor

    def insert_new(self) -> None:
        """Insert the window's new debtors; the next window finds them in the database."""
        if self.new:
            ids = _insert(
                self.session, Debtor, [self._values(n.details) for n in self.new]
            )
            for new, debtor_id in zip(self.new, ids, strict=True):
                new.id = debtor_id
        self.new, self.new_numbers, self.new_phones = [], {}, {}

    def _language(self, country: str) -> Language:
        if country not in self.languages:
            self.languages[country] = _language(country, self.creditor)
        return self.languages[country]

    def _values(self, details: DebtorDetails) -> dict[str, object]:
        return {
            "creditor_id": self.creditor.id,
            "customer_number": details.customer_number,
            "name": details.name,
            "phone_e164": details.phone,
            "email": details.email,
            "language": self._language(details.country),
            "timezone": details.timezone or self.timezone,
            "country": details.country,
            "birth_date": details.birth_date,
            "postcode": details.postcode,
            "phone_unusable_reason": (
                "landline" if details.phone_flag is PhoneFlag.LANDLINE else None
            ),
            "created_at": self.now,
        }


def _phone_key(phone: str, folded_name: str) -> str:
    return f"{phone}\x1f{folded_name}"


def _insert(
    session: Session, model: type[Debtor] | type[Account], rows: list[dict[str, object]]
) -> list[int]:
    """Insert the rows with one statement; their new ids, in the rows' order.

    PostgreSQL hands out the ids from the table's sequence first (one query, safe beside
    other writers). SQLite would send a statement per row to return ids, so there they
    are counted on from the largest: an integer primary key takes the largest plus one,
    and the import's transaction (BEGIN IMMEDIATE) is the only writer.
    """
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name != "sqlite":
        sequence = func.pg_get_serial_sequence(table.name, table.c.id.name)
        numbers = func.generate_series(1, len(rows))
        ids = list(session.scalars(select(func.nextval(sequence)).select_from(numbers)))
        _insert_rows(
            session,
            table,
            [row | {"id": id_} for row, id_ in zip(rows, ids, strict=True)],
        )
        return ids
    largest = select(func.coalesce(func.max(table.c.id), 0))
    before = int(session.scalar(largest) or 0)
    _insert_rows(session, table, rows)
    after = int(session.scalar(largest) or 0)
    if after != before + len(rows):
        name = model.__tablename__
        raise RuntimeError(f"{name}: ids {before + 1}..{after} for {len(rows)} rows")
    return list(range(before + 1, after + 1))


def _insert_rows(session: Session, table: Table, rows: list[dict[str, object]]) -> None:
    """Insert the rows (dicts with the same keys) in bulk, as the driver takes them best.

    Each value is first bound by its column's type, once, as an insert of the rows would
    bind it; the rows then go to the driver whole, without SQLAlchemy's work per row and
    parameter. SQLite takes them as one executemany. PostgreSQL takes them as one COPY:
    an executemany there runs the insert once per row, a multi-row VALUES list is a
    statement so long that the driver and the server spend more time parsing it than
    inserting, and arrays for an INSERT ... SELECT FROM unnest(...) are built element by
    element in Python. The driver's errors are raised as SQLAlchemy's either way (a
    unique key another writer took meanwhile is an IntegrityError, as from an insert).
    """
    dialect = session.get_bind().dialect
    names = [column.name for column in table.columns if column.name in rows[0]]
    binders = [
        (
            name,
            _binder(table.c[name].type.dialect_impl(dialect).bind_processor(dialect)),
        )
        for name in names
    ]
    values = [
        [row[name] if bind is None else bind(row[name]) for name, bind in binders]
        for row in rows
    ]
    if dialect.name == "sqlite":
        # Positional parameters, in the table's column order, as `names` are.
        inserting = insert(table).compile(dialect=dialect, column_keys=names)
        session.connection().exec_driver_sql(str(inserting), [tuple(v) for v in values])
        return
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    driver: Any = session.connection().connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row_values in values:
                copy.write_row(row_values)
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            statement, None, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error


def _binder(
    process: Callable[[Any], Any] | None,
) -> Callable[[Any], Any] | None:
    """The column's bind processing, done once per distinct value of an insert: most
    repeat from row to row (the time of the import, the creditor, currency, dates)."""
    return None if process is None else functools.cache(process)


def _with_keys(
    session: Session,
    columns: tuple[InstrumentedAttribute[Any], ...],
    of_creditor: ColumnElement[bool],
    key: InstrumentedAttribute[Any],
    keys: set[str],
) -> Iterable[Any]:
    """The creditor's rows whose `key` is one of `keys`, found in the unique index on
    (creditor, key).

    Asked with IN (...), PostgreSQL goes by its statistics, which lag far behind tables an
    import is filling (autovacuum analyzes them a minute or more later): it then reads
    all of the creditor's rows at every window, ever more as the import goes on. One
    probe per key, a lateral subquery that OFFSET 0 keeps from being folded into a join,
    uses the unique index once the table has any statistics (before that, PostgreSQL
    rates the index on the creditor alone as good). SQLite picks that index by itself.
    """
    if session.get_bind().dialect.name == "sqlite":
        return session.execute(select(*columns).where(of_creditor, key.in_(keys)))
    wanted = (
        func.unnest(bindparam("keys", sorted(keys), type_=ARRAY(key.type)))
        .table_valued("key")
        .render_derived()
    )
    probe = select(*columns).where(of_creditor, key == wanted.c.key).offset(0).lateral()
    found = select(*probe.c).select_from(wanted).join(probe, true())
    return session.execute(found)


def _language(country: str, creditor: Creditor) -> Language:
    """The country's language where we write it; else the creditor's, or English abroad."""
    if country in COUNTRY_LANGUAGES:
        return COUNTRY_LANGUAGES[country]
    return creditor.default_language if country == creditor.country else Language.EN


def _creditor_timezone(creditor: Creditor) -> str:
    return values.country_timezone(creditor.country) or "UTC"
