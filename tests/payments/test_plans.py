"""Instalment plans: exact splits, banking-day schedules and the offers a creditor's terms allow."""

from __future__ import annotations

import functools
import itertools
from datetime import date, timedelta
from typing import Any

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models.enums import PlanFrequency
from payments import plans
from payments.plans import (
    FREQUENCY_ORDER,
    PlanTerms,
    banking_day_on_or_after,
    find_offer,
    latest_first_payment,
    offers,
    schedule,
)

COUNTRIES = ["DK", "NO", "SE", "FI", "DE", "GB", "ZZ"]  # ZZ: unknown to `holidays`
MONTHLY, FORTNIGHTLY, WEEKLY = (
    PlanFrequency.MONTHLY,
    PlanFrequency.FORTNIGHTLY,
    PlanFrequency.WEEKLY,
)


def make_terms(**changes: Any) -> PlanTerms:
    values: dict[str, Any] = {
        "max_instalments": 6,
        "min_instalment_minor": 10000,
        "first_payment_within_days": 7,
        "allow_weekly": False,
        "allow_fortnightly": True,
        "allow_monthly": True,
        "country": "DK",
        "payday_day_of_month": None,
    }
    return PlanTerms(**(values | changes))


def due_dates(
    balance: int, count: int, frequency: PlanFrequency, first_on: date, **terms: Any
) -> list[date]:
    return [
        i.due_on
        for i in schedule(balance, count, frequency, first_on, make_terms(**terms))
    ]


# --- an oracle for banking days, built straight from `holidays` -----------------------------


@functools.cache
def closed_days(country: str, year: int) -> frozenset[date]:
    try:
        days = set(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        days = set()
    if country in {"DK", "NO"}:
        days |= {date(year, 12, 24), date(year, 12, 31)}
    return frozenset(days)


def banks_open(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in closed_days(country, day.year)


# --- strategies ---------------------------------------------------------------------------

start_dates = st.dates(date(2020, 1, 1), date(2035, 12, 31))
frequencies = st.sampled_from(list(PlanFrequency))
any_terms = st.builds(
    PlanTerms,
    max_instalments=st.integers(1, 24),
    min_instalment_minor=st.integers(0, 10**6),
    first_payment_within_days=st.integers(0, 30),
    allow_weekly=st.booleans(),
    allow_fortnightly=st.booleans(),
    allow_monthly=st.booleans(),
    country=st.sampled_from(COUNTRIES),
    payday_day_of_month=st.none() | st.integers(1, 31),
)


@st.composite
def balances_and_counts(draw: st.DrawFn) -> tuple[int, int]:
    balance = draw(st.integers(1, 10**9))
    return balance, draw(st.integers(1, min(balance, 36)))


# --- schedule: properties -----------------------------------------------------------------


@settings(deadline=None)
@given(balances_and_counts(), frequencies, any_terms, start_dates)
def test_any_schedule_splits_the_balance_exactly_and_fairly(
    balance_and_count: tuple[int, int],
    frequency: PlanFrequency,
    terms: PlanTerms,
    first_on: date,
) -> None:
    balance, count = balance_and_count
    amounts = [
        i.amount_minor for i in schedule(balance, count, frequency, first_on, terms)
    ]

    assert len(amounts) == count
    assert sum(amounts) == balance
    assert min(amounts) >= 1
    # All alike but the first, which carries the rounding: what the offer's words say.
    assert set(amounts[1:]) <= {amounts[-1]}
    assert 0 <= amounts[0] - amounts[-1] < count


@settings(deadline=None)
@given(balances_and_counts(), frequencies, any_terms, start_dates)
def test_any_schedule_falls_on_increasing_banking_days(
    balance_and_count: tuple[int, int],
    frequency: PlanFrequency,
    terms: PlanTerms,
    first_on: date,
) -> None:
    balance, count = balance_and_count
    instalments = schedule(balance, count, frequency, first_on, terms)
    dates = [i.due_on for i in instalments]

    assert [i.seq_no for i in instalments] == list(range(1, count + 1))
    assert dates[0] >= first_on
    assert all(earlier < later for earlier, later in itertools.pairwise(dates))
    assert all(banks_open(day, terms.country) for day in dates)


@settings(deadline=None)
@given(frequencies, any_terms, start_dates)
def test_without_a_payday_the_first_instalment_is_the_first_banking_day(
    frequency: PlanFrequency, terms: PlanTerms, first_on: date
) -> None:
    if frequency is MONTHLY and terms.payday_day_of_month is not None:
        return
    first = schedule(100, 1, frequency, first_on, terms)[0].due_on

    assert banks_open(first, terms.country)
    assert all(not banks_open(day, terms.country) for day in _days(first_on, first))


def _days(start: date, stop: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((stop - start).days)]


# --- schedule: examples -------------------------------------------------------------------


def test_the_first_instalment_carries_the_remainder() -> None:
    terms = make_terms()
    amounts = [
        i.amount_minor for i in schedule(10000, 3, MONTHLY, date(2026, 3, 2), terms)
    ]
    assert amounts == [3334, 3333, 3333]
    # Not 2501, 2501, 2500, 2500: "25,02 now, then 3 × 25,00" must be what is charged.
    amounts = [
        i.amount_minor for i in schedule(10002, 4, MONTHLY, date(2026, 3, 2), terms)
    ]
    assert amounts == [2502, 2500, 2500, 2500]


def test_monthly_from_the_31st_clamps_to_month_end_without_drifting() -> None:
    assert due_dates(40000, 4, MONTHLY, date(2025, 1, 31)) == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),  # back to the 31st: each date comes from the anchor day
        date(2025, 4, 30),
    ]


def test_monthly_in_a_leap_year_lands_on_29_february() -> None:
    assert due_dates(30000, 3, MONTHLY, date(2028, 1, 31)) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]


@pytest.mark.parametrize(
    ("country", "day", "expected"),
    [
        (
            "DK",
            date(2026, 12, 24),
            date(2026, 12, 28),
        ),  # Christmas Eve, Day, 2nd Day, Sunday
        ("DK", date(2026, 12, 25), date(2026, 12, 28)),
        ("DK", date(2026, 12, 26), date(2026, 12, 28)),
        ("NO", date(2026, 12, 24), date(2026, 12, 28)),
        ("DK", date(2026, 12, 31), date(2027, 1, 4)),  # New Year's Eve and Day, weekend
        ("NO", date(2026, 12, 31), date(2027, 1, 4)),
        (
            "GB",
            date(2026, 12, 24),
            date(2026, 12, 24),
        ),  # British banks open on Christmas Eve
        (
            "GB",
            date(2026, 12, 25),
            date(2026, 12, 29),
        ),  # Boxing Day observed on Monday 28th
        (
            "DK",
            date(2027, 3, 25),
            date(2027, 3, 30),
        ),  # Maundy Thursday .. Easter Monday
        ("SE", date(2027, 3, 25), date(2027, 3, 25)),  # not a holiday in Sweden
        ("NO", date(2028, 5, 17), date(2028, 5, 18)),  # Constitution Day
        ("DK", date(2028, 5, 17), date(2028, 5, 17)),
        (
            "ZZ",
            date(2026, 12, 25),
            date(2026, 12, 25),
        ),  # unknown country: weekends only
        ("ZZ", date(2026, 12, 26), date(2026, 12, 28)),
        ("dk", date(2026, 12, 24), date(2026, 12, 28)),  # case does not matter
    ],
)
def test_banking_day_on_or_after(country: str, day: date, expected: date) -> None:
    assert banking_day_on_or_after(day, country) == expected


def test_danish_christmas_moves_weekly_instalments_but_keeps_them_in_order() -> None:
    assert due_dates(40000, 4, WEEKLY, date(2026, 12, 17)) == [
        date(2026, 12, 17),
        date(2026, 12, 28),
        date(2027, 1, 4),
        date(2027, 1, 7),
    ]


def test_instalments_never_share_a_day_even_after_a_long_closure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No real calendar closes banks for over a week, so a fake one shows the guard.
    closure = frozenset(date(2026, 3, 2) + timedelta(days=n) for n in range(14))
    monkeypatch.setattr(plans, "_closed_days", lambda _country, _year: closure)

    assert due_dates(30000, 3, WEEKLY, date(2026, 3, 2)) == [
        date(2026, 3, 16),
        date(2026, 3, 17),  # nominal 9 March also moved to the 16th
        date(2026, 3, 18),  # nominal 16 March
    ]


def test_danish_easter_2027_moves_the_march_instalment() -> None:
    first_on = date(2027, 2, 25)
    assert due_dates(30000, 3, MONTHLY, first_on) == [
        date(2027, 2, 25),
        date(2027, 3, 30),
        date(2027, 4, 26),  # the 25th is a Sunday
    ]
    assert due_dates(30000, 3, MONTHLY, first_on, country="SE")[1] == date(2027, 3, 25)


def test_norwegian_constitution_day_moves_an_instalment() -> None:
    first_on = date(2028, 5, 10)
    assert due_dates(30000, 3, WEEKLY, first_on, country="NO")[1] == date(2028, 5, 18)
    assert due_dates(30000, 3, WEEKLY, first_on, country="DK")[1] == date(2028, 5, 17)


def test_payday_starts_at_the_first_payday_on_or_after_the_first_date() -> None:
    assert due_dates(30000, 3, MONTHLY, date(2026, 1, 26), payday_day_of_month=25) == [
        date(2026, 2, 25),
        date(2026, 3, 25),
        date(2026, 4, 27),  # the 25th is a Saturday
    ]
    assert due_dates(30000, 3, MONTHLY, date(2026, 1, 20), payday_day_of_month=25) == [
        date(2026, 1, 26),  # the 25th is a Sunday
        date(2026, 2, 25),
        date(2026, 3, 25),
    ]


def test_a_first_date_on_payday_is_the_first_instalment() -> None:
    first_on = date(2026, 2, 25)
    assert due_dates(20000, 2, MONTHLY, first_on, payday_day_of_month=25) == [
        first_on,
        date(2026, 3, 25),
    ]


def test_payday_on_the_31st_clamps_to_month_end() -> None:
    assert due_dates(30000, 3, MONTHLY, date(2028, 2, 1), payday_day_of_month=31) == [
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 5, 1),  # 30 April is a Sunday
    ]


def test_payday_applies_to_monthly_plans_only() -> None:
    assert due_dates(30000, 2, WEEKLY, date(2026, 3, 2), payday_day_of_month=25) == [
        date(2026, 3, 2),
        date(2026, 3, 9),
    ]


@pytest.mark.parametrize(
    ("balance", "count", "message"),
    [
        (10000, 0, "count"),
        (0, 3, "balance"),
        (-5, 1, "balance"),
        (2, 3, "cannot split"),
    ],
)
def test_schedule_refuses_impossible_plans(
    balance: int, count: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        schedule(balance, count, MONTHLY, date(2026, 3, 2), make_terms())


@pytest.mark.parametrize(
    "change",
    [
        {"max_instalments": 0},
        {"min_instalment_minor": -1},
        {"first_payment_within_days": -1},
        {"payday_day_of_month": 0},
        {"payday_day_of_month": 32},
        {"country": "DNK"},
        {"country": "D1"},
    ],
)
def test_terms_refuse_impossible_rules(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(change))):
        make_terms(**change)


# --- offers -------------------------------------------------------------------------------


@settings(deadline=None)
@given(st.integers(1, 10**9), any_terms, start_dates)
def test_offers_respect_the_creditor_terms(
    balance: int, terms: PlanTerms, today: date
) -> None:
    result = offers(balance, terms, today)

    for offer in result:
        amounts = [i.amount_minor for i in offer.instalments]
        assert 2 <= offer.count <= terms.max_instalments
        assert len(amounts) == offer.count
        assert sum(amounts) == balance
        assert min(amounts) >= max(terms.min_instalment_minor, 1)
        assert offer.first_amount_minor == amounts[0]
        assert offer.instalments[0].due_on >= today
        assert offer.last_on == offer.instalments[-1].due_on
    keys = [(FREQUENCY_ORDER.index(o.frequency), o.count) for o in result]
    assert keys == sorted(set(keys))
    expected = {
        (FREQUENCY_ORDER.index(frequency), count)
        for frequency in terms.allowed_frequencies
        for count in range(2, terms.max_instalments + 1)
        if balance // count >= max(terms.min_instalment_minor, 1)
    }
    assert set(keys) == expected
    if balance < 2 * terms.min_instalment_minor:
        assert result == []


def test_offers_list_monthly_first_then_by_count() -> None:
    result = offers(35000, make_terms(allow_weekly=True), date(2026, 11, 16))

    assert [(o.frequency, o.count) for o in result] == [
        (MONTHLY, 2),
        (MONTHLY, 3),  # 4 would make instalments of 87.50, under the minimum
        (FORTNIGHTLY, 2),
        (FORTNIGHTLY, 3),
        (WEEKLY, 2),
        (WEEKLY, 3),
    ]


def test_offers_stop_at_max_instalments() -> None:
    result = offers(10**7, make_terms(max_instalments=4), date(2026, 11, 16))
    assert max(o.count for o in result) == 4


@pytest.mark.parametrize(
    ("balance", "counts"), [(19999, []), (20000, [2]), (30000, [2, 3])]
)
def test_a_small_balance_is_pay_in_full_only(balance: int, counts: list[int]) -> None:
    terms = make_terms(allow_fortnightly=False)
    assert [o.count for o in offers(balance, terms, date(2026, 11, 16))] == counts


def test_no_offers_when_the_creditor_allows_one_instalment() -> None:
    assert offers(10**7, make_terms(max_instalments=1), date(2026, 11, 16)) == []


def test_the_first_instalment_is_due_on_the_first_banking_day_from_today() -> None:
    saturday = date(2026, 11, 21)
    for offer in offers(50000, make_terms(), saturday):
        assert offer.instalments[0].due_on == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("within_days", "latest"),
    [(0, date(2026, 11, 16)), (5, date(2026, 11, 23)), (7, date(2026, 11, 23))],
)
def test_latest_first_payment_is_a_banking_day(within_days: int, latest: date) -> None:
    terms = make_terms(first_payment_within_days=within_days)
    assert latest_first_payment(date(2026, 11, 16), terms) == latest


def test_a_debtor_may_start_later_within_the_limit() -> None:
    today, later = date(2026, 11, 16), date(2026, 11, 23)
    result = offers(50000, make_terms(), today, first_on=later)
    assert result
    assert all(o.instalments[0].due_on == later for o in result)


@pytest.mark.parametrize("first_on", [date(2026, 11, 15), date(2026, 11, 24)])
def test_a_first_date_outside_the_limit_is_refused(first_on: date) -> None:
    with pytest.raises(ValueError, match="first payment"):
        offers(50000, make_terms(), date(2026, 11, 16), first_on=first_on)


def test_offers_refuse_a_balance_that_is_not_owed() -> None:
    with pytest.raises(ValueError, match="balance"):
        offers(0, make_terms(), date(2026, 11, 16))


def test_find_offer_returns_the_chosen_plan_or_none() -> None:
    result = offers(35000, make_terms(), date(2026, 11, 16))

    chosen = find_offer(result, FORTNIGHTLY, 3)
    assert chosen is not None
    assert (chosen.frequency, chosen.count) == (FORTNIGHTLY, 3)
    assert find_offer(result, MONTHLY, 4) is None
    assert find_offer(result, WEEKLY, 2) is None
