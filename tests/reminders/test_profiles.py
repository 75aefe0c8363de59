"""Country profiles: the legal facts they encode and how creditors may tighten them."""

from dataclasses import fields
from datetime import date, time, timedelta

import holidays
import pytest

from reminders.profiles import (
    DEFAULT,
    DK,
    NO,
    ContactRules,
    ContactSettings,
    ContactWindow,
    CountryProfile,
    FrequencyCap,
    Money,
    Rule,
    Weekday,
    effective_rules,
    profile_for,
    public_holidays,
)

PROFILES = [DK, NO, DEFAULT]


def window(start: str, end: str) -> ContactWindow:
    return ContactWindow(time.fromisoformat(start), time.fromisoformat(end))


@pytest.mark.parametrize(
    ("code", "expected"),
    [("DK", DK), ("dk", DK), ("NO", NO), ("SE", DEFAULT), ("US", DEFAULT)],
)
def test_profile_for_falls_back_to_the_strict_default(
    code: str, expected: CountryProfile
) -> None:
    assert profile_for(code) is expected


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.code)
def test_every_rule_names_its_source(profile: CountryProfile) -> None:
    rules = [getattr(profile, f.name) for f in fields(profile) if f.name != "code"]
    assert rules
    assert all(isinstance(rule, Rule) and rule.ref.strip() for rule in rules)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.code)
def test_no_profile_allows_contact_outside_8_to_21_or_on_sundays(
    profile: CountryProfile,
) -> None:
    widest = window("08:00", "21:00")
    windows = profile.windows.value
    assert windows[Weekday.SUNDAY] is None
    assert all(w is None or widest.covers(w) for w in windows)


@pytest.mark.parametrize(
    ("profile", "weekdays", "saturday"),
    [
        (DK, window("08:00", "21:00"), window("08:00", "16:00")),
        (NO, window("08:00", "21:00"), window("08:00", "15:00")),
        (DEFAULT, window("09:00", "20:00"), window("10:00", "16:00")),
    ],
    ids=["DK", "NO", "DEFAULT"],
)
def test_contact_windows(
    profile: CountryProfile, weekdays: ContactWindow, saturday: ContactWindow
) -> None:
    assert profile.windows.value == (weekdays,) * 5 + (saturday, None)


def test_danish_closed_days_beyond_public_holidays() -> None:
    # Inkassoloven § 12, stk. 2: juleaftensdag, nytårsaftensdag, grundlovsdag.
    assert set(DK.closed_dates.value) == {(12, 24), (12, 31), (6, 5)}


def test_danish_reminder_fees() -> None:
    fees = DK.reminder_fees.value
    assert fees is not None
    assert fees.max_fee == Money(10_000, "DKK")
    assert (fees.max_fee_bearing, fees.min_days_between) == (3, 10)


def test_norwegian_reminder_fees() -> None:
    fees = NO.reminder_fees.value
    assert fees is not None
    assert fees.max_fee == Money(7_000, "NOK")  # 1/10 of inkassosatsen 700 kr
    assert fees.amount_valid_from == date(2017, 1, 1)
    assert (fees.max_fee_bearing, fees.first_min_days_after_due) == (2, 14)


def test_the_default_profile_charges_no_fee() -> None:
    assert DEFAULT.reminder_fees.value is None


@pytest.mark.parametrize(
    ("profile", "days"), [(DK, 10), (NO, 14), (DEFAULT, 30)], ids=["DK", "NO", "DEF"]
)
def test_collection_warning_deadline(profile: CountryProfile, days: int) -> None:
    assert profile.collection_warning_min_days.value == days


@pytest.mark.parametrize(
    ("profile", "cap", "min_days"),
    [(DK, 3, 3), (NO, 3, 3), (DEFAULT, 2, 14)],
    ids=["DK", "NO", "DEFAULT"],
)
def test_frequency_cap_and_first_reminder(
    profile: CountryProfile, cap: int, min_days: int
) -> None:
    assert profile.frequency_cap.value == FrequencyCap(cap, timedelta(days=7), True)
    assert profile.min_days_after_due.value == min_days
    assert profile.dispute_stops_reminders.value is True


@pytest.mark.parametrize(
    ("country", "day", "is_holiday"),
    [
        ("DK", date(2026, 4, 2), True),  # Skærtorsdag
        ("DK", date(2026, 4, 3), True),  # Langfredag
        ("DK", date(2026, 5, 14), True),  # Kristi himmelfartsdag
        ("DK", date(2026, 12, 25), True),
        ("DK", date(2026, 12, 26), True),
        ("DK", date(2026, 12, 24), False),  # closed by § 12 instead, see DK profile
        ("DK", date(2026, 6, 5), False),  # Grundlovsdag: not a public holiday
        ("DK", date(2026, 5, 1), False),  # would have been Store Bededag
        ("DK", date(2023, 5, 5), True),  # the last Store Bededag
        ("DK", date(2024, 4, 26), False),  # abolished from 2024
        ("NO", date(2026, 5, 1), True),
        ("NO", date(2026, 5, 14), True),
        ("NO", date(2026, 5, 17), True),
        ("NO", date(2026, 12, 24), False),
        ("US", date(2026, 11, 26), True),  # Thanksgiving
    ],
)
def test_public_holidays_from_the_holidays_package(
    country: str, day: date, is_holiday: bool
) -> None:
    assert (day in public_holidays(country, day.year)) is is_holiday


def test_denmark_has_no_great_prayer_day_since_2024() -> None:
    names = holidays.country_holidays("DK", years=range(2024, 2028), language="en_US")
    assert "Great Prayer Day" not in names.values()


def test_unknown_country_has_no_known_holidays() -> None:
    assert public_holidays("XX", 2026) == frozenset()


def test_effective_rules_without_settings_are_the_profile() -> None:
    rules = effective_rules(DK)
    assert rules.windows == DK.windows.value
    assert rules.frequency_cap == DK.frequency_cap.value
    assert rules.min_days_after_due == DK.min_days_after_due.value
    assert rules.closed_dates == DK.closed_dates.value


def test_creditor_settings_tighten_the_profile() -> None:
    settings = ContactSettings(
        windows={Weekday.SATURDAY: window("09:00", "14:00"), Weekday.FRIDAY: None},
        max_messages=2,
        min_days_after_due=10,
    )
    rules = effective_rules(NO, settings)
    assert rules.windows[Weekday.SATURDAY] == window("09:00", "14:00")
    assert rules.windows[Weekday.FRIDAY] is None
    assert rules.windows[Weekday.MONDAY] == window("08:00", "21:00")
    assert rules.frequency_cap.max_messages == 2
    assert rules.min_days_after_due == 10


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            ContactSettings(windows={Weekday.SATURDAY: window("08:00", "18:00")}),
            "saturday is looser than the DK bound 08:00-16:00",
        ),
        (
            ContactSettings(windows={Weekday.SUNDAY: window("10:00", "12:00")}),
            "sunday is looser than the DK bound no contact",
        ),
        (
            ContactSettings(windows={Weekday.MONDAY: window("07:00", "20:00")}),
            "monday is looser than the DK bound 08:00-21:00",
        ),
        (ContactSettings(max_messages=4), "frequency cap of 4 messages"),
        (ContactSettings(max_messages=0), "between 1 and the DK bound of 3"),
        (ContactSettings(min_days_after_due=1), "at least 3 days"),
    ],
)
def test_creditor_settings_may_not_loosen_the_law(
    settings: ContactSettings, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        effective_rules(DK, settings)


def test_a_window_must_start_before_it_ends() -> None:
    with pytest.raises(ValueError, match="start before it ends"):
        window("21:00", "08:00")


def test_rules_need_seven_windows() -> None:
    with pytest.raises(ValueError, match="one contact window per weekday"):
        ContactRules(
            code="X",
            windows=(window("08:00", "21:00"),) * 6,
            closed_dates=(),
            public_holidays_block=True,
            min_days_after_due=3,
            frequency_cap=FrequencyCap(3, timedelta(days=7), True),
            dispute_stops_reminders=True,
        )
