"""Every real sample in ../shared/samples imports, with the counts and totals it holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from app.ingest.readers import read_invoices, read_layout
from app.ingest.rows import ImportItem, InvoiceRow, Kind, PhoneFlag, RowError
from tests.material import SAMPLES as SHARED_SAMPLES

SAMPLES = SHARED_SAMPLES
TODAY = date(2026, 11, 16)


@dataclass(frozen=True)
class Expected:
    """What a sample holds: invoices, credit notes, rejected rows, sums per currency."""

    invoices: int
    totals: dict[str, int]  # currency -> sum of amount_minor
    credit_notes: int = 0
    errors: int = 0
    paid: dict[str, int] = field(default_factory=dict)  # currency -> sum of paid_minor


EXPECTED = {
    # One row per line item; three invoices whose lines add up to each Total column.
    "csv/invoiceninja_zoho_invoices.csv": Expected(3, {"USD": 48975 + 46000 + 39000}),
    # Ledger lines; only the Accounts Receivable ones count. Invoice 3 was paid in full.
    "csv/invoiceninja_wave_invoices.csv": Expected(
        2, {"DKK": 497400 + 350041}, errors=1
    ),
    # Three line items of one invoice: 650 + 490 + 6750.
    "csv/invoiceninja_freshbooks_invoices.csv": Expected(1, {"USD": 789000}),
    # Summary rows with a BOM, in two currencies.
    "csv/invoiceninja_i2g_invoices.csv": Expected(
        4, {"ILS": 95355, "USD": 7020 + 7290 + 36720}
    ),
    # "1,020.00", dated "Jan 28 2021", no currency column: the creditor's default.
    "csv/invoiceninja_invoicely_invoices.csv": Expected(1, {"DKK": 102000}),
    "ubl/peppol_base-example.xml": Expected(1, {"EUR": 165625}),
    "ubl/peppol_base-creditnote-correction.xml": Expected(0, {"EUR": 165625}, 1),
    # 7125.00 with 1000.00 prepaid.
    "ubl/peppol_Allowance-example.xml": Expected(
        1, {"EUR": 712500}, paid={"EUR": 100000}
    ),
    "ubl/peppol_vat-category-E.xml": Expected(1, {"GBP": 120000}),
    "ubl/peppol_vat-category-O.xml": Expected(1, {"SEK": 320000}),
    # 802.00 payable (after 0.22 rounding) plus 1000.00 prepaid.
    "ubl/peppol_NO_Norwegian-example-1.xml": Expected(
        1, {"NOK": 180200}, paid={"NOK": 100000}
    ),
    "ubl/peppol_GR-base-example-correct.xml": Expected(1, {"EUR": 165625}),
    "ubl/en16931_guide-example3.xml": Expected(1, {"DKK": 112500}),
    "ubl/en16931_ubl-tc434-example2.xml": Expected(
        1, {"NOK": 180178}, paid={"NOK": 100000}
    ),
    "ubl/en16931_ubl-tc434-example5.xml": Expected(
        1, {"DKK": 467500}, paid={"DKK": 233750}
    ),
    "ubl/en16931_ubl-tc434-example8.xml": Expected(1, {"EUR": 109978}),
    "ubl/en16931_ubl-tc434-creditnote1.xml": Expected(0, {"EUR": 10011}, 1),
    "ubl/en16931_issue116.xml": Expected(1, {"SEK": 83000}),
    "ubl/en16931_BIS3_Invoice_positive.xml": Expected(1, {"DKK": 78217943}),
    "ubl/oioubl_happy-path_real.xml": Expected(1, {"DKK": 631250}),
    "ubl/oioubl_negative-rounding_real.xml": Expected(0, {"DKK": 11362}, 1),
    "ubl/oioubl_dk-bank.xml": Expected(1, {"DKK": 4117880}),
    "ubl/oioubl_excise-registration-tax_real.xml": Expected(1, {"DKK": 18000000}),
}


@pytest.fixture(scope="module")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(
            f"the sample files are missing: expected {SAMPLES} "
            "(the repository is cloned with shared/ beside it)"
        )
    return SAMPLES


def read(path: Path) -> list[ImportItem]:
    with path.open("rb") as stream:
        return list(
            read_invoices(
                stream,
                filename=path.name,
                default_country="DK",
                default_currency="DKK",
                today=TODAY,
                max_bytes=1_000_000,
            )
        )


def invoices(items: list[ImportItem]) -> dict[str, InvoiceRow]:
    return {i.external_reference: i for i in items if isinstance(i, InvoiceRow)}


def test_every_sample_has_an_expectation(samples: Path) -> None:
    files = {
        path.relative_to(samples).as_posix()
        for path in samples.glob("*/*")
        if path.suffix in (".csv", ".xml")
    }
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_imports_with_expected_counts_and_totals(
    samples: Path, name: str
) -> None:
    expected = EXPECTED[name]
    items = read(samples / name)
    rows = [item for item in items if isinstance(item, InvoiceRow)]
    kinds = Counter(row.kind for row in rows)
    totals: Counter[str] = Counter()
    paid: Counter[str] = Counter()
    for row in rows:
        totals[row.currency] += row.amount_minor
        paid[row.currency] += row.paid_minor
    assert kinds[Kind.INVOICE] == expected.invoices
    assert kinds[Kind.CREDIT_NOTE] == expected.credit_notes
    assert len(items) - len(rows) == expected.errors
    assert dict(totals) == expected.totals
    assert {currency: sum_ for currency, sum_ in paid.items() if sum_} == expected.paid


def test_zoho_line_items_become_one_invoice_each(samples: Path) -> None:
    found = invoices(read(samples / "csv/invoiceninja_zoho_invoices.csv"))
    first = found["INV-000001"]
    assert first.rows == (2, 3, 4, 5)
    assert first.debtor.name == "Highlander"
    assert first.debtor.customer_number == "2520018000000073035"
    assert (first.issued_on, first.due_on) == (date(2021, 1, 28), date(2021, 1, 28))
    assert found["INV-000003"].due_on == date(2021, 2, 27)


def test_wave_keeps_receivable_lines_and_refuses_the_paid_invoice(
    samples: Path,
) -> None:
    items = read(samples / "csv/invoiceninja_wave_invoices.csv")
    errors = [item for item in items if isinstance(item, RowError)]
    assert [str(error) for error in errors] == [
        "rows 11–12: the lines add up to 0.00 DKK, so nothing is owed"
    ]
    assert invoices(items)["2"].debtor.name == "Mark Walberg"


def test_invoicely_reads_month_names_and_thousands(samples: Path) -> None:
    row = invoices(read(samples / "csv/invoiceninja_invoicely_invoices.csv"))["INV-1"]
    assert row.amount_minor == 102000
    assert row.due_on == date(2021, 1, 28)
    assert row.debtor.name == "Bruce Wayne"


def test_i2g_reads_e_mail_and_currency_per_row(samples: Path) -> None:
    found = invoices(read(samples / "csv/invoiceninja_i2g_invoices.csv"))
    assert found["1"].currency == "ILS"
    assert found["1"].debtor.email == "barry@capitalcity.gov"
    assert found["1"].due_on is None  # no due date in the file: the creditor's terms


def test_credit_note_carries_the_invoice_it_corrects(samples: Path) -> None:
    (row,) = read(samples / "ubl/peppol_base-creditnote-correction.xml")
    assert isinstance(row, InvoiceRow)
    assert row.kind is Kind.CREDIT_NOTE
    assert row.credited_reference == "Snippet1"


def test_oioubl_debtor_gets_a_danish_mobile(samples: Path) -> None:
    (row,) = read(samples / "ubl/oioubl_happy-path_real.xml")
    assert isinstance(row, InvoiceRow)
    assert row.debtor.phone == "+4526532147"
    assert row.debtor.phone_flag is PhoneFlag.MOBILE
    assert (row.debtor.country, row.debtor.timezone) == ("DK", "Europe/Copenhagen")
    assert row.due_on == date(2005, 11, 25)  # from PaymentMeans/PaymentDueDate


def test_invalid_and_landline_phones_are_flagged_not_rejected(samples: Path) -> None:
    (norwegian,) = read(samples / "ubl/peppol_NO_Norwegian-example-1.xml")
    (swedish,) = read(samples / "ubl/peppol_base-example.xml")
    assert isinstance(norwegian, InvoiceRow)
    assert isinstance(swedish, InvoiceRow)
    assert norwegian.debtor.phone_flag is PhoneFlag.INVALID
    assert (
        "5121230 is not a valid Norwegian mobile number"
        in norwegian.warnings[0].message
    )
    assert swedish.debtor.phone_flag is PhoneFlag.LANDLINE
    assert swedish.debtor.phone == "+4623434234"


def test_greek_id_with_pipes_is_kept_whole(samples: Path) -> None:
    (row,) = read(samples / "ubl/peppol_GR-base-example-correct.xml")
    assert isinstance(row, InvoiceRow)
    assert row.external_reference == "061828591|01/10/2020|0|1.1|0|1"


def test_layout_of_a_sample_is_recognised(samples: Path) -> None:
    with (samples / "csv/invoiceninja_freshbooks_invoices.csv").open("rb") as stream:
        layout = read_layout(stream, filename="freshbooks.csv", max_bytes=1_000_000)
    assert layout is not None
    assert layout.missing == ()
    assert layout.fingerprint.startswith("v1:")
