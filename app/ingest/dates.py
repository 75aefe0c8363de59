"""Which order a file's slash dates read in, decided per file and per date column.

"01/10/2026" is 1 October in Copenhagen and January 10 in Chicago. A column's own values
usually settle it: a first part over 12 is a day, a second part over 12 is. A column
that proves both orders has all its slash dates refused rather than half of them
misread. When no value proves anything, the creditor's convention is assumed (month
first only in the United States) and the dry run says so, so the creditor can check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.ingest.reasons import Code, Country, FieldName, Reason
from app.ingest.rows import Field
from app.ingest.values import DateOrder, RawValue, is_slash_date, proven_order

DATE_FIELDS = (Field.ISSUED_ON, Field.DUE_ON, Field.BIRTH_DATE)
MONTH_FIRST_COUNTRIES = frozenset({"US"})
_ASSUMED = {
    DateOrder.DAY_FIRST: Code.DATES_READ_DAY_FIRST,
    DateOrder.MONTH_FIRST: Code.DATES_READ_MONTH_FIRST,
}


@dataclass
class _Column:
    """What one date column's values showed."""

    proven: set[DateOrder] = field(default_factory=set)
    has_slash_dates: bool = False

    def see(self, raw: RawValue) -> None:
        if is_slash_date(raw):
            self.has_slash_dates = True
            order = proven_order(raw)
            if order is not None:
                self.proven.add(order)


@dataclass(frozen=True)
class DateOrders:
    """The order per date column, and the notices for those that were assumed."""

    orders: Mapping[Field, DateOrder]
    notices: tuple[Reason, ...] = ()


def convention(country: str) -> DateOrder:
    """How the creditor's country writes dates with slashes."""
    if country in MONTH_FIRST_COUNTRIES:
        return DateOrder.MONTH_FIRST
    return DateOrder.DAY_FIRST


def decide_date_orders(
    lines: Iterable[Mapping[Field, RawValue]], country: str
) -> DateOrders:
    """Each date column's order from all its values; `country` is the creditor's."""
    columns = {date_field: _Column() for date_field in DATE_FIELDS}
    for line in lines:
        for date_field, column in columns.items():
            raw = line.get(date_field)
            if raw is not None:
                column.see(raw)
    orders: dict[Field, DateOrder] = {}
    notices: list[Reason] = []
    for date_field, column in columns.items():
        if len(column.proven) > 1:
            orders[date_field] = DateOrder.MIXED
        elif column.proven:
            orders[date_field] = column.proven.pop()
        else:
            orders[date_field] = convention(country)
            if column.has_slash_dates:
                notices.append(_assumed(date_field, orders[date_field], country))
    return DateOrders(orders, tuple(notices))


def _assumed(date_field: Field, order: DateOrder, country: str) -> Reason:
    return Reason.of(
        _ASSUMED[order], field=FieldName(date_field.value), country=Country(country)
    )
