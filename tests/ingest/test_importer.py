"""The import itself: the dry run, then debtors, accounts and ledger entries."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.ingest import importer
from app.ingest.importer import (
    WINDOW,
    ImportPlan,
    PlanChanged,
    apply_import,
    import_chunk,
    plan_import,
    rejection_report,
)
from app.ingest.reasons import Code, Reason
from app.ingest.rows import Field, ImportItem, RowError
from app.models import Account, Creditor, Debtor, LedgerEntry
from app.models.enums import Language, LedgerKind
from app.services.ledger import balance_of, entries_of, post_entry
from tests.factories import make_account, make_creditor, make_debtor
from tests.ingest import read_bytes, read_stream
from tests.ingest.test_samples import EXPECTED, SAMPLES

DANISH_HEADER = "Fakturanr;Kundenummer;Navn;Mobil;Beløb;Forfaldsdato\n"
FIRST_UPLOAD = DANISH_HEADER + (
    "F-1;K-1;JENS HANSEN;20 12 34 56;1.250,00;01.10.2026\n"
    "F-2;K-1;Jens Hansen;20 12 34 56;300,50;15.10.2026\n"
    "F-3;K-2;Mette Ærø;+47 22 22 22 22;99,95;01.11.2026\n"
    "F-4;K-3;Bo Bæk;;12,3456;01.11.2026\n"
)


def items(text: str) -> list[ImportItem]:
    return read_bytes(text.encode())


def plan(session: Session, creditor: Creditor, now: datetime, text: str) -> ImportPlan:
    return plan_import(session, creditor, items(text), now=now)


def apply(session: Session, creditor: Creditor, now: datetime, text: str) -> ImportPlan:
    """Import `text` as the upload page does: the dry run, confirmed as it is."""
    confirmed = plan(session, creditor, now, text)
    return apply_import(session, creditor, items(text), now=now, confirmed=confirmed)


def account(session: Session, creditor: Creditor, reference: str) -> Account:
    found = session.scalar(
        select(Account).where(
            Account.creditor_id == creditor.id, Account.external_reference == reference
        )
    )
    assert found is not None
    return found


def balance(session: Session, creditor: Creditor, reference: str) -> int:
    return balance_of(session, account(session, creditor, reference).id)


def count(session: Session, model: Any, creditor: Creditor) -> int:
    query = select(func.count()).select_from(model)
    if model is LedgerEntry:
        query = query.join(Account).where(Account.creditor_id == creditor.id)
    else:
        query = query.where(model.creditor_id == creditor.id)
    return int(session.scalar(query) or 0)


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    """Every SQL statement the session sends from here on."""
    sent: list[str] = []
    engine = session.get_bind()

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def test_the_dry_run_counts_every_row_and_writes_nothing(
    session: Session, creditor: Creditor, now: datetime, statements: list[str]
) -> None:
    upload = FIRST_UPLOAD + "F-5;K-4;Ib;1234;10,00;01.11.2026\nF-6;K-4;;;10,00;\n"
    result = plan(session, creditor, now, upload)
    assert (result.created, result.updated, result.unchanged) == (4, 0, 0)
    assert result.new_debtors == 3
    assert [str(error) for error in result.rejected] == [
        "row 5: amount 12,3456 has more decimals than DKK allows (2 decimals)",
        "row 7: the debtor's name is missing",
    ]
    assert [str(flag) for flag in result.flagged] == [
        "row 4: phone number +47 22 22 22 22 is a landline, so it cannot receive SMS",
        "row 6: phone number 1234 is not a valid Danish mobile number",
    ]
    writes = ("INSERT", "UPDATE", "DELETE")
    assert not [sql for sql in statements if sql.lstrip().upper().startswith(writes)]
    assert not session.new
    assert not session.dirty
    assert count(session, Account, creditor) == 0


def test_rows_are_looked_up_and_written_a_window_at_a_time(
    session: Session, creditor: Creditor, now: datetime, statements: list[str]
) -> None:
    rows = 2 * WINDOW + 7
    text = DANISH_HEADER + "".join(
        f"W-{n};K-{n % 700};Kunde {n % 700};+45 2012{n % 700:04d};10,00;01.10.2026\n"
        for n in range(rows)
    )
    planned = plan(session, creditor, now, text)
    dry_run = len(statements)
    done = apply_import(session, creditor, items(text), now=now, confirmed=planned)
    assert (done.created, done.new_debtors) == (rows, 700)
    assert count(session, Account, creditor) == rows
    assert count(session, LedgerEntry, creditor) == rows
    assert count(session, Debtor, creditor) == 700
    # A few lookups (and inserts) per window of rows, however many rows it holds, and
    # on PostgreSQL one setting per run (plan each query when it runs).
    windows, per_run = 3, 1
    assert dry_run <= 3 * windows + per_run
    assert len(statements) - dry_run <= 10 * windows + per_run


def test_apply_creates_debtors_accounts_and_opening_balances(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    result = apply(session, creditor, now, FIRST_UPLOAD)
    assert (result.created, result.new_debtors, len(result.rejected)) == (3, 2, 1)
    first, second = account(session, creditor, "F-1"), account(session, creditor, "F-2")
    assert first.debtor_id == second.debtor_id
    assert (first.original_amount_minor, first.currency) == (125000, "DKK")
    assert (first.due_on, first.sequence_id) == (date(2026, 10, 1), None)
    (opening,) = entries_of(session, first.id)
    assert (opening.kind, opening.amount_minor) == (LedgerKind.CHARGE, 125000)
    assert opening.external_id == f"import:{creditor.id}:F-1:opening"
    debtor = session.get(Debtor, first.debtor_id)
    assert debtor is not None
    assert (debtor.name, debtor.customer_number) == ("Jens Hansen", "K-1")
    assert (debtor.phone_e164, debtor.phone_unusable_reason) == ("+4520123456", None)
    assert (debtor.language, debtor.timezone) == (Language.DA, "Europe/Copenhagen")
    assert balance(session, creditor, "F-2") == 30050


def test_reimporting_the_same_file_changes_nothing(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    apply(session, creditor, now, FIRST_UPLOAD)
    entries = count(session, LedgerEntry, creditor)
    again = apply(session, creditor, now, FIRST_UPLOAD)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert again.new_debtors == 0
    assert count(session, LedgerEntry, creditor) == entries
    assert count(session, Debtor, creditor) == 2


def test_a_changed_amount_becomes_an_adjustment_never_an_overwrite(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    apply(session, creditor, now, FIRST_UPLOAD)
    raised = FIRST_UPLOAD.replace("1.250,00", "1.400,00")
    assert plan(session, creditor, now, raised).updated == 1
    apply(session, creditor, now, raised)
    lowered = FIRST_UPLOAD.replace("1.250,00", "1.000,00")
    apply(session, creditor, now, lowered)
    assert apply(session, creditor, now, lowered).unchanged == 3
    entries = entries_of(session, account(session, creditor, "F-1").id)
    assert [(e.kind, e.amount_minor, e.external_id) for e in entries] == [
        (LedgerKind.CHARGE, 125000, f"import:{creditor.id}:F-1:opening"),
        (LedgerKind.CHARGE, 15000, f"import:{creditor.id}:F-1:adjustment:1"),
        (LedgerKind.CREDIT, 40000, f"import:{creditor.id}:F-1:adjustment:2"),
    ]
    assert balance(session, creditor, "F-1") == 100000
    assert account(session, creditor, "F-1").original_amount_minor == 125000


def test_payments_collected_since_are_not_taken_for_a_change(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    apply(session, creditor, now, FIRST_UPLOAD)
    invoice = account(session, creditor, "F-1")
    post_entry(session, invoice, LedgerKind.PAYMENT, 100000, now=now)
    assert apply(session, creditor, now, FIRST_UPLOAD).unchanged == 3
    lowered = plan(session, creditor, now, FIRST_UPLOAD.replace("1.250,00", "200,00"))
    assert str(lowered.rejected[0]) == (
        "row 2: the file says 200.00 DKK is owed, but 1,000.00 DKK has already been "
        "paid or credited; an agent has to settle this invoice"
    )


def test_a_balance_column_opens_the_account_with_what_is_still_owed(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    apply(
        session, creditor, now, "Invoice number,Name,Total,Balance\nA-1,Jens,100,40\n"
    )
    invoice = account(session, creditor, "A-1")
    assert (invoice.original_amount_minor, balance_of(session, invoice.id)) == (
        10000,
        4000,
    )


CREDIT_NOTES = (
    "Invoice number;Type;Credited invoice;Name;Amount\n"
    "K-1;Kreditnota;F-1;Jens Hansen;250,00\n"
    "K-2;Kreditnota;F-9;Jens Hansen;10,00\n"
    "K-3;Kreditnota;F-2;Jens Hansen;400,00\n"
    "K-4;Kreditnota;;Jens Hansen;10,00\n"
)


def test_a_credit_note_reduces_the_balance_of_its_invoice(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    apply(session, creditor, now, FIRST_UPLOAD)
    result = apply(session, creditor, now, CREDIT_NOTES)
    assert (result.created, result.updated) == (0, 1)
    assert [str(error) for error in result.rejected] == [
        "row 3: invoice F-9 is not among your accounts",
        "row 4: the credit note takes off 400.00 DKK but invoice F-2 has only "
        "300.50 DKK left",
        "row 5: the credit note does not say which invoice it credits",
    ]
    assert balance(session, creditor, "F-1") == 100000
    *_, credit = entries_of(session, account(session, creditor, "F-1").id)
    assert (credit.kind, credit.external_id) == (
        LedgerKind.CREDIT,
        f"import:{creditor.id}:F-1:credit-note:K-1",
    )
    assert plan(session, creditor, now, CREDIT_NOTES).unchanged == 1
    # The invoice uploaded again does not undo its credit note.
    assert apply(session, creditor, now, FIRST_UPLOAD).unchanged == 3
    assert balance(session, creditor, "F-1") == 100000
    changed = plan(session, creditor, now, CREDIT_NOTES.replace("250,00", "260,00"))
    assert "K-1 was already applied for 250.00 DKK" in changed.rejected[0].message


def test_a_peppol_credit_note_cancels_its_invoice(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    for name in ("peppol_base-example.xml", "peppol_base-creditnote-correction.xml"):
        uploaded = _sample(f"ubl/{name}")
        confirmed = plan_import(session, creditor, uploaded, now=now)
        assert confirmed.rejected == ()
        apply_import(session, creditor, uploaded, now=now, confirmed=confirmed)
    invoice = account(session, creditor, "Snippet1")
    assert (invoice.currency, balance_of(session, invoice.id)) == ("EUR", 0)


def test_debtors_are_matched_by_customer_number_else_phone_and_name(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    numbered = make_debtor(session, creditor, now, customer_number="K-7")
    by_phone = make_debtor(
        session,
        creditor,
        now,
        customer_number="K-9",
        name="Jens Hansen",
        phone_e164="+4520123456",
    )
    upload = DANISH_HEADER + (
        "F-1;K-7;Someone Else;;10,00;\n"
        "F-2;;JENS HANSEN;20 12 34 56;10,00;\n"
        "F-3;K-8;Jens Hansen;20 12 34 56;10,00;\n"  # another customer of the creditor
        "F-4;;Jens Hansen;20 12 34 56;10,00;\n"
        "F-5;;Anne Hansen;20 12 34 56;10,00;\n"  # another person on the same phone
        "F-6;;Anne Hansen;20 12 34 56;10,00;\n"
    )
    assert plan(session, creditor, now, upload).new_debtors == 2
    apply(session, creditor, now, upload)
    debtors = [account(session, creditor, f"F-{n}").debtor_id for n in range(1, 7)]
    assert debtors[:2] == [numbered.id, by_phone.id]
    assert debtors[3] == by_phone.id
    assert debtors[4] == debtors[5] != debtors[2]
    assert not {debtors[2], debtors[4]} & {numbered.id, by_phone.id}


def test_debtors_new_in_the_file_are_matched_across_its_rows(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    upload = DANISH_HEADER + (
        "F-1;K-1;Jens Hansen;20 12 34 56;10,00;\n"
        "F-2;;Jens Hansen;20123456;10,00;\n"
        "F-3;K-2;Jens Hansen;20 12 34 56;10,00;\n"
        "F-4;K-2;Anyone;;10,00;\n"
    )
    assert plan(session, creditor, now, upload).new_debtors == 2
    assert apply(session, creditor, now, upload).new_debtors == 2
    assert count(session, Debtor, creditor) == 2


def test_language_and_time_zone_follow_the_phone_and_country(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    upload = (
        "Invoice number,Name,Mobile,Country,Amount\n"
        "A-1,Kari Nordmann,+47 412 34 567,,10\n"
        "A-2,Sven Svensson,+46 70 123 45 67,Sweden,10\n"
        "A-3,Matti Virtanen,,Finland,10\n"
        "A-4,Joe Bloggs,,United States,10\n"
    )
    apply(session, creditor, now, upload)
    found = {
        reference: session.get(Debtor, account(session, creditor, reference).debtor_id)
        for reference in ("A-1", "A-2", "A-3", "A-4")
    }
    settings = {
        reference: (debtor.country, debtor.language, debtor.timezone)
        for reference, debtor in found.items()
        if debtor is not None
    }
    assert settings == {
        "A-1": ("NO", Language.NB, "Europe/Oslo"),
        "A-2": ("SE", Language.EN, "Europe/Stockholm"),
        "A-3": ("FI", Language.EN, "Europe/Helsinki"),
        # Several zones in the country and no phone: the creditor's zone.
        "A-4": ("US", Language.EN, "Europe/Copenhagen"),
    }


def test_a_debtor_at_home_with_the_creditor_gets_the_creditors_language(
    session: Session, now: datetime
) -> None:
    swedish = make_creditor(
        session, now, country="SE", currency="SEK", default_language=Language.DA
    )
    upload = b"Invoice number,Name,Mobile,Amount\nA-1,Sven,070-123 45 67,10\n"
    uploaded = read_bytes(upload, default_country="SE", default_currency="SEK")
    confirmed = plan_import(session, swedish, uploaded, now=now)
    apply_import(session, swedish, uploaded, now=now, confirmed=confirmed)
    debtor = session.get(Debtor, account(session, swedish, "A-1").debtor_id)
    assert debtor is not None
    assert (debtor.country, debtor.language) == ("SE", Language.DA)


def test_a_landline_is_kept_but_marked_unusable_for_sms(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    upload = "Invoice number,Name,Phone,Amount\nA-1,Kari,+47 22 22 22 22,10\n"
    apply(session, creditor, now, upload)
    landline = session.get(Debtor, account(session, creditor, "A-1").debtor_id)
    assert landline is not None
    assert (landline.phone_e164, landline.phone_unusable_reason) == (
        "+4722222222",
        "landline",
    )


def test_a_missing_due_date_falls_back_to_the_invoice_date_then_today(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    upload = (
        "Invoice number,Name,Amount,Invoice date\nA-1,Jens,10,01.09.2026\nA-2,Ib,10,\n"
    )
    apply(session, creditor, now, upload)
    assert account(session, creditor, "A-1").due_on == date(2026, 9, 1)
    assert account(session, creditor, "A-2").due_on == now.date()


def test_apply_imports_only_the_valid_rows_of_the_confirmed_plan(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    confirmed = plan(session, creditor, now, FIRST_UPLOAD)
    assert len(confirmed.rejected) == 1
    done = apply_import(
        session, creditor, items(FIRST_UPLOAD), now=now, confirmed=confirmed
    )
    assert done == confirmed
    assert count(session, Account, creditor) == 3


def test_apply_refuses_when_the_accounts_changed_since_the_dry_run(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    confirmed = plan(session, creditor, now, FIRST_UPLOAD)
    apply(session, creditor, now, FIRST_UPLOAD.replace("F-2;", "X-2;"))  # meanwhile
    with pytest.raises(PlanChanged, match="run it again"):
        apply_import(
            session, creditor, items(FIRST_UPLOAD), now=now, confirmed=confirmed
        )


def test_an_account_added_outside_the_import_is_not_changed_by_a_file(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    debtor = make_debtor(session, creditor, now)
    make_account(session, debtor, now, external_reference="F-1")
    result = plan(session, creditor, now, FIRST_UPLOAD)
    assert result.rejected[0].message == (
        "the account was not added by an import, so a file cannot change it"
    )


def test_another_creditors_accounts_are_never_matched(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    other = make_creditor(session, now)
    apply(session, other, now, FIRST_UPLOAD)
    result = plan(session, creditor, now, FIRST_UPLOAD)
    assert (result.created, result.new_debtors) == (3, 2)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_imports_with_its_expected_balances(
    session: Session, now: datetime, name: str
) -> None:
    expected = EXPECTED[name]
    creditor = make_creditor(session, now)
    uploaded = _sample(name)
    confirmed = plan_import(session, creditor, uploaded, now=now)
    done = apply_import(session, creditor, uploaded, now=now, confirmed=confirmed)
    assert done.created == expected.invoices
    # A credit note on its own has no invoice to reduce.
    assert len(done.rejected) == expected.errors + expected.credit_notes
    balances: dict[str, int] = {}
    for imported in session.scalars(
        select(Account).where(Account.creditor_id == creditor.id)
    ):
        owed = balance_of(session, imported.id)
        balances[imported.currency] = balances.get(imported.currency, 0) + owed
    owed_per_currency = {
        currency: total - expected.paid.get(currency, 0)
        for currency, total in expected.totals.items()
    }
    assert balances == ({} if expected.credit_notes else owed_per_currency)


def test_the_rejection_report_cannot_inject_formulas() -> None:
    hostile = ["=1+1", "+4520123456", "-250", "@SUM(A1)", "\tx", "\rx", "fine"]
    errors = [
        RowError(
            (n,),
            Field.AMOUNT,
            Reason.of(Code.AMOUNT_NOT_NUMBER, value=value),
            value,
            f"=F-{n}",
        )
        for n, value in enumerate(hostile, start=2)
    ]
    errors.append(
        RowError((), None, Reason.worded("=HYPERLINK() is not a name"), "", None)
    )
    report = list(csv.reader(io.StringIO(rejection_report(errors))))
    assert report[0] == ["Where", "Invoice number", "Value", "Reason"]
    assert report[1] == ["row 2", "'=F-2", "'=1+1", "amount =1+1 is not a number"]
    assert [row[2] for row in report[1:-1]] == [
        "'=1+1", "'+4520123456", "'-250", "'@SUM(A1)", "'\tx", "'\rx", "fine",
    ]  # fmt: skip
    assert report[-1] == ["the document", "", "", "'=HYPERLINK() is not a name"]


def test_a_formula_from_a_workbook_stays_inert_in_the_report(
    session: Session, creditor: Creditor, now: datetime
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Invoice number", "Name", "Amount"])
    sheet.append(["A-1", "Jens", "=1+1"])
    sheet.append(['=HYPERLINK("http://example.com")', "Ib", 10])
    data = io.BytesIO()
    workbook.save(data)
    uploaded = read_bytes(data.getvalue(), filename="invoices.xlsx")
    result = plan_import(session, creditor, uploaded, now=now)
    assert result.created == 1
    report = list(csv.reader(io.StringIO(rejection_report(result.rejected))))
    reason = (
        "amount =1+1 is a formula, not its result; copy the column and paste it as "
        "values, then upload the file again"
    )
    assert report[1] == ["row 2", "A-1", "'=1+1", reason]


def _sample(name: str) -> list[ImportItem]:
    path: Path = SAMPLES / name
    with path.open("rb") as stream:
        return read_stream(stream, filename=path.name)


def test_an_invoice_another_writer_added_meanwhile_fails_as_an_integrity_error(
    session: Session, creditor: Creditor, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As from an insert: the worker then takes the chunk again instead of failing it."""
    debtor = make_debtor(session, creditor, now)
    make_account(session, debtor, now, external_reference="F-1")
    session.flush()
    monkeypatch.setattr(importer, "_with_keys", lambda *_args: [])  # looked up before
    with pytest.raises(IntegrityError):
        import_chunk(session, creditor, items(FIRST_UPLOAD), now=now)
