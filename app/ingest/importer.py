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
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

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
from app.services.ledger import balance_of, post_entry

# The languages we write to debtors, by the country whose language it is.
COUNTRY_LANGUAGES = {
    "DK": Language.DA,
    "FO": Language.DA,
    "GL": Language.DA,
    "NO": Language.NB,
}
PLANNED_DEBTOR = -1  # the id a dry run gives a debtor it would add
# Ledger entries of an import: import:<creditor id>:<invoice number>:<one of these>.
OPENING = "opening"
ADJUSTMENT = "adjustment:"
CREDIT_NOTE = "credit-note:"
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


@dataclass
class _AccountState:
    """An account as the import sees it; `account` is None for one a dry run would add."""

    account: Account | None
    currency: str
    # What imports said is owed (opening balance and adjustments); None when the
    # account was not added by an import, so there is nothing to compare with.
    claimed_minor: int | None
    balance_minor: int  # the whole ledger, with payments collected since
    adjustments: int = 0
    credit_notes: dict[str, int] = field(default_factory=dict)  # number -> amount


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


class _Import:
    """One pass over the rows; a dry run only remembers what it would write."""

    def __init__(
        self, session: Session, creditor: Creditor, now: datetime, *, write: bool
    ) -> None:
        self.session = session
        self.creditor = creditor
        self.now = now
        self.write = write
        self.tally = _Tally()
        # In a dry run, every account seen, with the changes the run would make to it.
        self.seen: dict[str, _AccountState] = {}
        self.debtors = _Debtors(session, creditor, now, write=write)

    def run(
        self, items: Iterable[ImportItem], observe: Observer | None = None
    ) -> ImportPlan:
        for item in items:
            before = self.tally.counts()
            if isinstance(item, RowError):
                self.tally.rejected.append(item)
            elif item.kind is Kind.CREDIT_NOTE:
                self._credit_note(item)
            else:
                self._invoice(item)
            if observe is not None:
                observe(item, _outcome(before, self.tally.counts()))
        return self.tally.plan(self.debtors.created)

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
        applied = state.credit_notes.get(row.external_reference) if state else None
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
        debtor_id = self.debtors.find_or_add(row.debtor)
        balance = row.balance_minor
        if self.write:
            self._add_account(row, debtor_id)
        else:
            state = _AccountState(None, row.currency, balance, balance)
            self.seen[row.external_reference] = state
        self.tally.created += 1
        self.tally.flagged.extend(
            RowError(row.rows, w.field, w.reason, w.raw_value, row.external_reference)
            for w in row.warnings
        )

    def _add_account(self, row: InvoiceRow, debtor_id: int) -> None:
        account = Account(
            creditor_id=self.creditor.id,
            debtor_id=debtor_id,
            # Left empty like the demo's: the creditor's default sequence then applies,
            # and keeps applying when the creditor picks another default.
            sequence_id=None,
            external_reference=row.external_reference,
            description=row.description,
            original_amount_minor=row.amount_minor,
            currency=row.currency,
            issued_on=row.issued_on,
            # No due date in the file: the invoice fell due when it was issued, or now.
            due_on=row.due_on or row.issued_on or self.now.date(),
            status=AccountStatus.OPEN,
            created_at=self.now,
            updated_at=self.now,
        )
        self.session.add(account)
        self.session.flush()
        self._post(account, LedgerKind.CHARGE, row.balance_minor, OPENING)

    def _adjust(self, difference: int, state: _AccountState) -> None:
        state.adjustments += 1
        state.claimed_minor = (state.claimed_minor or 0) + difference
        state.balance_minor += difference
        if state.account is not None:
            kind = LedgerKind.CHARGE if difference > 0 else LedgerKind.CREDIT
            key = f"{ADJUSTMENT}{state.adjustments}"
            self._post(state.account, kind, abs(difference), key)
        self.tally.updated += 1

    def _credit(self, row: InvoiceRow, state: _AccountState) -> None:
        state.credit_notes[row.external_reference] = row.amount_minor
        state.balance_minor -= row.amount_minor
        if state.account is not None:
            key = f"{CREDIT_NOTE}{row.external_reference}"
            self._post(state.account, LedgerKind.CREDIT, row.amount_minor, key)
        self.tally.updated += 1

    def _post(self, account: Account, kind: LedgerKind, amount: int, key: str) -> None:
        if not self.write:
            return
        post_entry(
            self.session,
            account,
            kind,
            amount,
            now=self.now,
            external_id=_entry_prefix(account) + key,
            note="Imported from the creditor's file",
        )
        account.updated_at = self.now

    def _account(self, reference: str) -> _AccountState | None:
        if reference in self.seen:
            return self.seen[reference]
        account = self.session.scalar(
            select(Account).where(
                Account.creditor_id == self.creditor.id,
                Account.external_reference == reference,
            )
        )
        if account is None:
            return None
        state = self._state_of(account)
        if not self.write:  # an import that writes finds its changes in the database
            self.seen[reference] = state
        return state

    def _state_of(self, account: Account) -> _AccountState:
        prefix = _entry_prefix(account)
        entries = self.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.account_id == account.id,
                LedgerEntry.external_id.startswith(prefix, autoescape=True),
            )
        )
        balance = balance_of(self.session, account.id)
        state = _AccountState(account, account.currency, None, balance)
        for entry in entries:
            _count_entry(state, str(entry.external_id).removeprefix(prefix), entry)
        return state

    def _reject(self, row: InvoiceRow, reason: Reason) -> None:
        reference = row.external_reference
        self.tally.rejected.append(RowError(row.rows, None, reason, "", reference))


def _outcome(
    before: tuple[int, int, int, int], after: tuple[int, int, int, int]
) -> Outcome:
    """The one count an item moved: created, updated, unchanged or rejected."""
    moved = [after[i] - before[i] for i in range(4)]
    return list(Outcome)[moved.index(1)]


def _entry_prefix(account: Account) -> str:
    return f"import:{account.creditor_id}:{account.external_reference}:"


def _count_entry(state: _AccountState, key: str, entry: LedgerEntry) -> None:
    if key.startswith(CREDIT_NOTE):
        state.credit_notes[key.removeprefix(CREDIT_NOTE)] = entry.amount_minor
        return
    signed = entry.amount_minor
    if entry.kind is LedgerKind.CREDIT:
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


class _Debtors:
    """Finds a row's debtor by customer number, else by phone and name, or adds one."""

    def __init__(
        self, session: Session, creditor: Creditor, now: datetime, *, write: bool
    ) -> None:
        self.session = session
        self.creditor = creditor
        self.now = now
        self.write = write
        self.created = 0
        # What identifies the debtors a dry run would add: their customer numbers, and
        # their phone and name with the customer number (or None) that came with them.
        self.planned_numbers: set[str] = set()
        self.planned_phones: dict[tuple[str, str], set[str | None]] = {}

    def find_or_add(self, details: DebtorDetails) -> int:
        """The debtor's id; PLANNED_DEBTOR for one a dry run would add."""
        found = self._by_number(details)
        if found is None:
            found = self._by_phone_and_name(details)
        if found is not None:
            return found
        self.created += 1
        if self.write:
            return self._add(details).id
        self._remember(details)
        return PLANNED_DEBTOR

    def _by_number(self, details: DebtorDetails) -> int | None:
        number = details.customer_number
        if number is None:
            return None
        if number in self.planned_numbers:
            return PLANNED_DEBTOR
        return self.session.scalar(
            select(Debtor.id).where(
                Debtor.creditor_id == self.creditor.id,
                Debtor.customer_number == number,
            )
        )

    def _by_phone_and_name(self, details: DebtorDetails) -> int | None:
        """Someone with the same phone and name, unless the customer numbers differ."""
        if details.phone is None:
            return None
        number, name = details.customer_number, details.name.casefold()
        same_phone = self.session.execute(
            select(Debtor.id, Debtor.name, Debtor.customer_number)
            .where(
                Debtor.creditor_id == self.creditor.id,
                Debtor.phone_e164 == details.phone,
            )
            .order_by(Debtor.id)
        )
        for debtor_id, debtor_name, debtor_number in same_phone:
            if debtor_name.casefold() == name and None in (number, debtor_number):
                return int(debtor_id)
        planned = self.planned_phones.get((details.phone, name), set())
        return (
            PLANNED_DEBTOR if planned and (number is None or None in planned) else None
        )

    def _remember(self, details: DebtorDetails) -> None:
        if details.customer_number is not None:
            self.planned_numbers.add(details.customer_number)
        if details.phone is not None:
            key = (details.phone, details.name.casefold())
            self.planned_phones.setdefault(key, set()).add(details.customer_number)

    def _add(self, details: DebtorDetails) -> Debtor:
        debtor = Debtor(
            creditor_id=self.creditor.id,
            customer_number=details.customer_number,
            name=details.name,
            phone_e164=details.phone,
            email=details.email,
            language=_language(details.country, self.creditor),
            timezone=details.timezone or _creditor_timezone(self.creditor),
            country=details.country,
            birth_date=details.birth_date,
            postcode=details.postcode,
            phone_unusable_reason=(
                "landline" if details.phone_flag is PhoneFlag.LANDLINE else None
            ),
            created_at=self.now,
        )
        self.session.add(debtor)
        self.session.flush()
        return debtor


def _language(country: str, creditor: Creditor) -> Language:
    """The country's language where we write it; else the creditor's, or English abroad."""
    if country in COUNTRY_LANGUAGES:
        return COUNTRY_LANGUAGES[country]
    return creditor.default_language if country == creditor.country else Language.EN


def _creditor_timezone(creditor: Creditor) -> str:
    return values.country_timezone(creditor.country) or "UTC"
