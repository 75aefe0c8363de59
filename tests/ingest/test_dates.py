"""Slash dates (Xero, QuickBooks, Sage UK): their order is decided per file and per date
column, from the column's own values, else by the creditor's convention, which the dry
run then names so the creditor can check it.

Until now every slash date was refused as ambiguous, so whole UK and US exports failed;
the product owner decided they are read by these rules instead."""

from __future__ import annotations

import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from app.ingest import values
from app.ingest.dates import decide_date_orders
from app.ingest.errors import BadValue
from app.ingest.reasons import Code, Country, FieldName, Reason
from app.ingest.rows import Field, ImportItem, InvoiceRow, RowError
from app.ingest.values import DateOrder
from tests.ingest import read_bytes, read_stream

HEADER = "Invoice number,Name,Amount,Invoice date,Due date\n"


def read(text: str, country: str = "GB", **options: object) -> list[ImportItem]:
    return read_bytes(text.encode(), default_country=country, **options)


def dates(items: list[ImportItem]) -> dict[str, tuple[date | None, date | None]]:
    return {
        i.external_reference: (i.issued_on, i.due_on)
        for i in items
        if isinstance(i, InvoiceRow)
    }


def errors(items: list[ImportItem]) -> list[str]:
    return [str(item) for item in items if isinstance(item, RowError)]


def notices_of(text: str, country: str) -> list[Reason]:
    notices: list[Reason] = []
    read(text, country, notices=notices)
    return notices


def test_a_xero_export_reads_its_dates_day_first_and_says_what_it_assumed() -> None:
    text = HEADER + "INV-1,Acme,10.00,01/10/2026,31/10/2026\n"
    text += "INV-2,Bob,20.00,02/10/2026,01/11/2026\n"
    notices: list[Reason] = []
    items = read(text, "GB", notices=notices)
    assert dates(items) == {
        "INV-1": (date(2026, 10, 1), date(2026, 10, 31)),
        "INV-2": (date(2026, 10, 2), date(2026, 11, 1)),
    }
    # The due dates prove their order (31/10); no invoice date does, so it is assumed.
    assert notices == [
        Reason.of(
            Code.DATES_READ_DAY_FIRST,
            field=FieldName("issued_on"),
            country=Country("GB"),
        )
    ]
    assert notices[0].english() == (
        "no date in the column for the invoice date shows whether the day or the month "
        "comes first, so its dates with slashes were read with the day first "
        "(dd/mm/yyyy), as is usual in United Kingdom; check a few of them before you "
        "import"
    )


def test_a_us_creditor_is_assumed_to_write_the_month_first() -> None:
    text = HEADER + "1001,Jane Doe,10.00,10/01/2026,11/02/2026\n"
    notices: list[Reason] = []
    items = read(text, "US", default_currency="USD", notices=notices)
    assert dates(items) == {"1001": (date(2026, 10, 1), date(2026, 11, 2))}
    assert [n.code for n in notices] == [Code.DATES_READ_MONTH_FIRST] * 2
    assert "month first (mm/dd/yyyy), as is usual in United States" in (
        notices[0].english()
    )


@pytest.mark.parametrize("country", ["DK", "NO", "SE", "GB", "IE", "DE"])
def test_every_other_country_is_assumed_to_write_the_day_first(country: str) -> None:
    text = HEADER + "1,Bo,10.00,01/02/2026,03/04/2026\n"
    assert dates(read(text, country)) == {"1": (date(2026, 2, 1), date(2026, 4, 3))}


def test_a_day_over_12_proves_the_order_whatever_the_creditors_country() -> None:
    month_first = HEADER + "1,Bo,10.00,01/02/2026,03/04/2026\n2,Ib,10.00,12/25/2025,\n"
    day_first = HEADER + "1,Bo,10.00,01/02/2026,03/04/2026\n2,Ib,10.00,25/12/2025,\n"
    assert dates(read(month_first, "DK"))["1"] == (date(2026, 1, 2), date(2026, 4, 3))
    assert dates(read(day_first, "US", default_currency="USD"))["1"] == (
        date(2026, 2, 1),
        date(2026, 3, 4),  # the due date column proved nothing: the US convention
    )
    assert [n.code for n in notices_of(month_first, "DK")] == [
        Code.DATES_READ_DAY_FIRST  # the due date only
    ]


def test_each_date_column_is_decided_on_its_own() -> None:
    text = (
        "Invoice number,Name,Amount,Invoice date,Due date,Date of birth\n"
        "1,Bo,10.00,10/13/2026,13/11/2026,02/03/1980\n"
        "2,Ib,10.00,10/01/2026,01/11/2026,20/03/1980\n"
    )
    items = read(text, "GB")
    assert dates(items) == {
        "1": (date(2026, 10, 13), date(2026, 11, 13)),
        "2": (date(2026, 10, 1), date(2026, 11, 1)),
    }
    births = [i.debtor.birth_date for i in items if isinstance(i, InvoiceRow)]
    assert births == [date(1980, 3, 2), date(1980, 3, 20)]
    assert notices_of(text, "GB") == []


def test_a_column_that_proves_both_orders_has_every_slash_date_refused() -> None:
    text = HEADER + (
        "1,Bo,10.00,13/10/2026,01/11/2026\n"
        "2,Ib,10.00,10/13/2026,01/11/2026\n"
        "3,Al,10.00,01/02/2026,01/11/2026\n"
        "4,Jo,10.00,01.02.2026,01/11/2026\n"  # not a slash date: read as always
    )
    items = read(text, "GB")
    mixed = "cannot be read: its column has dates with the day first"
    assert [e for e in errors(items) if mixed not in e] == []
    assert [e.split(":")[0] for e in errors(items)] == ["row 2", "row 3", "row 4"]
    assert dates(items) == {"4": (date(2026, 2, 1), date(2026, 11, 1))}
    assert errors(items)[0] == (
        "row 2: date 13/10/2026 cannot be read: its column has dates with the day "
        "first (31/10/2026) and dates with the month first (10/31/2026); write the "
        "dates as yyyy-mm-dd or dd-mm-yyyy"
    )


def test_year_first_slash_dates_are_never_ambiguous() -> None:
    text = HEADER + "1,Bo,10.00,2026/10/01,2026/11/2\n"
    assert dates(read(text, "US", default_currency="USD")) == {
        "1": (date(2026, 10, 1), date(2026, 11, 2))
    }
    assert notices_of(text, "US") == []


def test_dotted_and_dashed_dates_stay_day_first_even_in_the_us() -> None:
    text = HEADER + "1,Bo,10.00,01.10.2026,02-11-2026\n"
    assert dates(read(text, "US", default_currency="USD")) == {
        "1": (date(2026, 10, 1), date(2026, 11, 2))
    }


def test_two_digit_years_stay_refused() -> None:
    items = read(HEADER + "1,Bo,10.00,23/11/26,\n", "GB")
    assert errors(items) == [
        "row 2: date 23/11/26 has a two-digit year; write the year with four digits"
    ]


def test_slash_dates_with_the_exports_time_are_read() -> None:
    text = HEADER + "1,Bo,10.00,23/10/2026 00:00,01/11/2026 00:00:00\n"
    assert dates(read(text, "GB")) == {"1": (date(2026, 10, 23), date(2026, 11, 1))}


def test_slash_dates_in_a_workbooks_text_cells_are_decided_the_same_way() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Invoice number", "Name", "Amount", "Invoice date", "Due date"])
    sheet.append(["1", "Bo", 10, "11/30/2025", "11/02/2026"])
    data = io.BytesIO()
    book.save(data)
    items = read_bytes(data.getvalue(), filename="a.xlsx", default_country="GB")
    assert dates(items) == {"1": (date(2025, 11, 30), date(2026, 2, 11))}


def test_a_stream_that_cannot_seek_is_read_twice_from_a_copy() -> None:
    class Unseekable(io.BytesIO):
        def seekable(self) -> bool:
            return False

    text = HEADER + "1,Bo,10.00,12/25/2025,01/11/2026\n"
    items = read_stream(Unseekable(text.encode()), default_country="DK")
    assert dates(items) == {"1": (date(2025, 12, 25), date(2026, 11, 1))}


@pytest.mark.parametrize(
    ("raw", "order", "expected"),
    [
        ("01/02/2021", DateOrder.DAY_FIRST, date(2021, 2, 1)),
        ("01/02/2021", DateOrder.MONTH_FIRST, date(2021, 1, 2)),
        ("1/2/2021", DateOrder.MONTH_FIRST, date(2021, 1, 2)),
        ("2021/02/01", None, date(2021, 2, 1)),
        ("2021/2/1", DateOrder.MONTH_FIRST, date(2021, 2, 1)),
    ],
)
def test_a_slash_date_reads_in_the_order_given(
    raw: str, order: DateOrder | None, expected: date
) -> None:
    assert values.parse_date(raw, order) == expected


@pytest.mark.parametrize(
    ("raw", "order", "code"),
    [
        ("01/02/2021", None, Code.DATE_AMBIGUOUS),  # no column decided its order
        ("01/02/2021", DateOrder.MIXED, Code.DATE_ORDER_MIXED),
        ("01/02/21", DateOrder.DAY_FIRST, Code.DATE_TWO_DIGIT_YEAR),
        ("31/02/2021", DateOrder.DAY_FIRST, Code.DATE_NOT_REAL),
        ("12/25/2021", DateOrder.DAY_FIRST, Code.DATE_NOT_REAL),
        ("2021/13/01", None, Code.DATE_NOT_REAL),
    ],
)
def test_a_slash_date_that_cannot_be_read_says_why(
    raw: str, order: DateOrder | None, code: Code
) -> None:
    with pytest.raises(BadValue) as error:
        values.parse_date(raw, order)
    assert error.value.reason.code is code


# --- Properties: any dates, written either way round ----------------------------------

some_dates = st.lists(
    st.dates(min_value=date(1950, 1, 1), max_value=date(2026, 11, 16)),
    min_size=1,
    max_size=20,
)


def _written(day: date, order: DateOrder) -> str:
    if order is DateOrder.MONTH_FIRST:
        return f"{day.month:02d}/{day.day:02d}/{day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _file(days: list[date], order: DateOrder) -> str:
    lines = (f"{n},Bo,10.00,{_written(day, order)}\n" for n, day in enumerate(days))
    return "Invoice number,Name,Amount,Invoice date\n" + "".join(lines)


def _issued(items: list[ImportItem]) -> list[date | None]:
    return [item.issued_on for item in items if isinstance(item, InvoiceRow)]


@given(
    days=some_dates,
    order=st.sampled_from([DateOrder.DAY_FIRST, DateOrder.MONTH_FIRST]),
    country=st.sampled_from(["DK", "GB", "US", "NO"]),
)
def test_a_column_with_a_day_over_12_reads_back_exactly_in_any_country(
    days: list[date], order: DateOrder, country: str
) -> None:
    days = [*days, date(2026, 1, 13)]  # one day that proves the order
    items = read(_file(days, order), country)
    assert _issued(items) == days
    assert errors(items) == []


@given(
    days=st.lists(
        st.dates(min_value=date(1950, 1, 1), max_value=date(2026, 11, 16)).filter(
            lambda day: day.day <= 12
        ),
        min_size=1,
        max_size=20,
    ),
    order=st.sampled_from([DateOrder.DAY_FIRST, DateOrder.MONTH_FIRST]),
    country=st.sampled_from(["DK", "GB", "US", "NO"]),
)
def test_a_column_proving_nothing_reads_as_the_creditors_convention(
    days: list[date], order: DateOrder, country: str
) -> None:
    convention = DateOrder.MONTH_FIRST if country == "US" else DateOrder.DAY_FIRST
    swapped = [date(d.year, d.day, d.month) for d in days]
    items = read(_file(days, order), country)
    assert _issued(items) == (days if order is convention else swapped)


over_12 = st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 11, 16)).filter(
    lambda day: day.day > 12
)


@given(day_first=over_12, month_first=over_12, country=st.sampled_from(["DK", "US"]))
def test_a_column_proving_both_orders_reads_none_of_its_slash_dates(
    day_first: date, month_first: date, country: str
) -> None:
    text = "Invoice number,Name,Amount,Invoice date\n"
    text += f"1,Bo,10.00,{_written(day_first, DateOrder.DAY_FIRST)}\n"
    text += f"2,Ib,10.00,{_written(month_first, DateOrder.MONTH_FIRST)}\n"
    items = read(text, country)
    assert _issued(items) == []
    assert [e.split(":")[0] for e in errors(items)] == ["row 2", "row 3"]
    assert all("day first" in e and "month first" in e for e in errors(items))


@given(
    raws=st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(1900, 2100)),
        max_size=10,
    ),
    country=st.sampled_from(["DK", "US"]),
)
def test_the_decision_never_assumes_against_what_the_values_prove(
    raws: list[tuple[int, int, int]], country: str
) -> None:
    lines = [{Field.DUE_ON: f"{a}/{b}/{y}"} for a, b, y in raws]
    proven = {values.proven_order(line[Field.DUE_ON]) for line in lines} - {None}
    decided = decide_date_orders(lines, country).orders[Field.DUE_ON]
    if len(proven) == 2:
        assert decided is DateOrder.MIXED
    elif proven:
        assert {decided} == proven
    else:
        assert decided is (
            DateOrder.MONTH_FIRST if country == "US" else DateOrder.DAY_FIRST
        )
