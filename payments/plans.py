"""Instalment plans: the offers a debtor may choose from and the schedule each one makes.

Pure domain code: dates and integer minor units in, frozen values out. No database, no clock.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import holidays

from app.models.enums import PlanFrequency

# Monthly first because most people are paid monthly; then the longer interval.
FREQUENCY_ORDER = (
    PlanFrequency.MONTHLY,
    PlanFrequency.FORTNIGHTLY,
    PlanFrequency.WEEKLY,
)

# Danish and Norwegian banks are closed on Christmas Eve and New Year's Eve, which are not
# public holidays. `holidays` has no "bank" category for DK or NO (DK's "optional" category
# is not one: it also holds 1 May and 5 June), so the two days are added here by hand.
_EXTRA_CLOSED_MONTH_DAYS: dict[str, tuple[tuple[int, int], ...]] = {
    "DK": ((12, 24), (12, 31)),
    "NO": ((12, 24), (12, 31)),
}


@dataclass(frozen=True, kw_only=True)
class PlanTerms:
    """A creditor's rules for instalment plans (mirrors the PlanRules row)."""

    max_instalments: int
    min_instalment_minor: int
    first_payment_within_days: int
    allow_weekly: bool
    allow_fortnightly: bool
    allow_monthly: bool
    country: str  # ISO 3166-1 alpha-2: decides the banking days
    payday_day_of_month: int | None = None  # monthly instalments on this day, clamped

    def __post_init__(self) -> None:
        if self.max_instalments < 1:
            raise ValueError(
                f"max_instalments must be >= 1, got {self.max_instalments}"
            )
        if self.min_instalment_minor < 0:
            raise ValueError(
                f"min_instalment_minor must be >= 0, got {self.min_instalment_minor}"
            )
        if self.first_payment_within_days < 0:
            raise ValueError(
                "first_payment_within_days must be >= 0, "
                f"got {self.first_payment_within_days}"
            )
        if (
            self.payday_day_of_month is not None
            and not 1 <= self.payday_day_of_month <= 31
        ):
            raise ValueError(
                f"payday_day_of_month must be 1..31 or None, got {self.payday_day_of_month}"
            )
        if not (
            len(self.country) == 2 and self.country.isascii() and self.country.isalpha()
        ):
            raise ValueError(
                f"country must be ISO 3166-1 alpha-2, got {self.country!r}"
            )

    @property
    def allowed_frequencies(self) -> tuple[PlanFrequency, ...]:
        """The frequencies this creditor accepts, in offer order."""
        allowed = {
            PlanFrequency.MONTHLY: self.allow_monthly,
            PlanFrequency.FORTNIGHTLY: self.allow_fortnightly,
            PlanFrequency.WEEKLY: self.allow_weekly,
        }
        return tuple(frequency for frequency in FREQUENCY_ORDER if allowed[frequency])


@dataclass(frozen=True)
class ScheduledInstalment:
    seq_no: int  # 1-based
    due_on: date
    amount_minor: int


@dataclass(frozen=True)
class PlanOffer:
    frequency: PlanFrequency
    count: int
    instalments: tuple[ScheduledInstalment, ...]

    @property
    def first_amount_minor(self) -> int:
        return self.instalments[0].amount_minor

    @property
    def last_on(self) -> date:
        return self.instalments[-1].due_on


# --- banking days -------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _closed_days(country: str, year: int) -> frozenset[date]:
    """Public holidays (plus bank-only closures) of a country; empty if `holidays` lacks it."""
    try:
        calendar_ = holidays.country_holidays(country, years=year, language="en_US")
    except NotImplementedError:
        return frozenset()
    extra = {
        date(year, month, day)
        for month, day in _EXTRA_CLOSED_MONTH_DAYS.get(country, ())
    }
    return frozenset(calendar_) | extra


def is_banking_day(day: date, country: str) -> bool:
    """Not a Saturday, Sunday or closing day of the country's banks."""
    return day.weekday() < 5 and day not in _closed_days(country.upper(), day.year)


def banking_day_on_or_after(day: date, country: str) -> date:
    while not is_banking_day(day, country):
        day += timedelta(days=1)
    return day


# --- schedules ----------------------------------------------------------------------------


def split_amounts(balance_minor: int, count: int) -> list[int]:
    """Split exactly: equal instalments, the first carrying the rounding (less than one minor
    unit per instalment), so a plan reads "441,39 kr. now, then 3 × 441,37 kr." and is so."""
    base, remainder = divmod(balance_minor, count)
    return [base + remainder] + [base] * (count - 1)


def _clamped_date(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    years, month_index = divmod(month - 1 + months, 12)
    return year + years, month_index + 1


def _first_payday_month(first_on: date, payday: int) -> tuple[int, int]:
    if _clamped_date(first_on.year, first_on.month, payday) >= first_on:
        return first_on.year, first_on.month
    return _add_months(first_on.year, first_on.month, 1)


def _monthly_nominal_dates(
    first_on: date, count: int, payday: int | None
) -> list[date]:
    # Each date is computed from the anchor, not from the previous one, so that 31 Jan ->
    # 28 Feb -> 31 Mar instead of drifting to the 28th for ever.
    if payday is None:
        year, month, day = first_on.year, first_on.month, first_on.day
    else:
        (year, month), day = _first_payday_month(first_on, payday), payday
    return [_clamped_date(*_add_months(year, month, k), day) for k in range(count)]


def _nominal_dates(
    first_on: date, count: int, frequency: PlanFrequency, payday: int | None
) -> list[date]:
    if frequency is PlanFrequency.MONTHLY:
        return _monthly_nominal_dates(first_on, count, payday)
    step = timedelta(weeks=1 if frequency is PlanFrequency.WEEKLY else 2)
    return [first_on + k * step for k in range(count)]


def _banking_dates(nominal: list[date], country: str) -> list[date]:
    """Move each date to a banking day, never on or before the previous instalment."""
    moved: list[date] = []
    for day in nominal:
        earliest = max(day, moved[-1] + timedelta(days=1)) if moved else day
        moved.append(banking_day_on_or_after(earliest, country))
    return moved


def schedule(
    balance_minor: int,
    count: int,
    frequency: PlanFrequency,
    first_on: date,
    terms: PlanTerms,
) -> list[ScheduledInstalment]:
    """The instalments of one plan; terms give the country and payday.

    The creditor's limits (max_instalments, min_instalment_minor) are checked by `offers`, not
    here: choose a plan through `offers` + `find_offer`.
    """
    if balance_minor <= 0:
        raise ValueError(f"balance_minor must be positive, got {balance_minor}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if count > balance_minor:
        raise ValueError(
            f"cannot split {balance_minor} minor units into {count} instalments"
        )
    nominal = _nominal_dates(first_on, count, frequency, terms.payday_day_of_month)
    dates = _banking_dates(nominal, terms.country)
    amounts = split_amounts(balance_minor, count)
    return [
        ScheduledInstalment(seq_no=seq_no, due_on=due_on, amount_minor=amount)
        for seq_no, (due_on, amount) in enumerate(
            zip(dates, amounts, strict=True), start=1
        )
    ]


def due_after(last_on: date, frequency: PlanFrequency, terms: PlanTerms) -> date:
    """The banking day one plan interval after `last_on`: where a moved instalment goes."""
    nominal = _nominal_dates(last_on, 2, frequency, terms.payday_day_of_month)[1]
    return banking_day_on_or_after(
        max(nominal, last_on + timedelta(days=1)), terms.country
    )


# --- offers -------------------------------------------------------------------------------


def latest_first_payment(today: date, terms: PlanTerms) -> date:
    """The latest first payment date the creditor accepts."""
    limit = today + timedelta(days=terms.first_payment_within_days)
    return banking_day_on_or_after(limit, terms.country)


def _check_first_on(first_on: date, today: date, terms: PlanTerms) -> None:
    latest = latest_first_payment(today, terms)
    if not today <= first_on <= latest:
        raise ValueError(
            f"first payment {first_on} must be between {today} and {latest}"
        )


def _counts_allowed(balance_minor: int, terms: PlanTerms) -> range:
    # The smallest instalment of the exact split is balance // count; it must reach the
    # creditor's minimum and be at least one minor unit, so a balance under twice the minimum
    # gets no offers at all.
    smallest_allowed = max(terms.min_instalment_minor, 1)
    most = min(terms.max_instalments, balance_minor // smallest_allowed)
    return range(2, most + 1)


def offers(
    balance_minor: int,
    terms: PlanTerms,
    today: date,
    first_on: date | None = None,
) -> list[PlanOffer]:
    """Every plan the creditor's terms allow for this balance, monthly plans first.

    By default the first instalment is dated today (moved to the next banking day): the debtor
    pays it at checkout. A debtor may instead pick `first_on` up to `latest_first_payment`.
    With a payday, monthly plans start on the first payday on or after `first_on`, which may
    be later than `latest_first_payment`: aligning with the salary is the creditor's choice.
    An empty list means: pay in full only.
    """
    if balance_minor <= 0:
        raise ValueError(f"balance_minor must be positive, got {balance_minor}")
    first_on = today if first_on is None else first_on
    _check_first_on(first_on, today, terms)
    return [
        PlanOffer(
            frequency,
            count,
            tuple(schedule(balance_minor, count, frequency, first_on, terms)),
        )
        for frequency in terms.allowed_frequencies
        for count in _counts_allowed(balance_minor, terms)
    ]


def find_offer(
    available: Iterable[PlanOffer], frequency: PlanFrequency, count: int
) -> PlanOffer | None:
    """The offer the debtor chose, or None if it is not (or no longer) on offer."""
    chosen = (o for o in available if o.frequency == frequency and o.count == count)
    return next(chosen, None)
