"""Country contact profiles as data, each rule with its legal reference."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from enum import IntEnum
from typing import Generic, TypeVar

import holidays

T = TypeVar("T")


class Weekday(IntEnum):
    """Days of the week, numbered like `date.weekday()`."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


@dataclass(frozen=True)
class ContactWindow:
    """Local wall-clock times between which contact is allowed: [start, end)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"contact window must start before it ends: {self}")

    def covers(self, other: ContactWindow) -> bool:
        """Whether `other` lies entirely inside this window."""
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


# Monday..Sunday; None means no contact at all on that weekday.
WeekWindows = tuple[ContactWindow | None, ...]


@dataclass(frozen=True)
class Rule(Generic[T]):
    """A rule's value and the legal reference (or policy note) it comes from."""

    value: T
    ref: str


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units of an ISO 4217 currency."""

    amount_minor: int
    currency: str


@dataclass(frozen=True)
class ReminderFees:
    """What may be charged for reminders, and since when the fee amount applies."""

    max_fee: Money
    max_fee_bearing: int
    min_days_between: int
    first_min_days_after_due: int
    amount_valid_from: date | None  # None: a fixed amount in the act, not indexed


@dataclass(frozen=True)
class FrequencyCap:
    """At most `max_messages` per rolling `period`, optionally one per local day."""

    max_messages: int
    period: timedelta
    one_per_local_day: bool


@dataclass(frozen=True)
class CountryProfile:
    """The contact rules the law (or our stricter policy) sets for one country."""

    code: str
    windows: Rule[WeekWindows]
    closed_dates: Rule[tuple[tuple[int, int], ...]]  # (month, day), every year
    public_holidays_block: Rule[bool]
    min_days_after_due: Rule[int]
    reminder_fees: Rule[ReminderFees | None]  # None: no reminder fee may be charged
    collection_warning_min_days: Rule[int]
    frequency_cap: Rule[FrequencyCap]
    dispute_stops_reminders: Rule[bool]

    def __post_init__(self) -> None:
        _check_week(self.windows.value)


@dataclass(frozen=True)
class ContactSettings:
    """A creditor's own contact settings; they may only tighten the profile."""

    windows: Mapping[Weekday, ContactWindow | None] = field(default_factory=dict)
    max_messages: int | None = None
    min_days_after_due: int | None = None


@dataclass(frozen=True)
class ContactRules:
    """The rules the contact policy applies: a profile after a creditor's settings."""

    code: str
    windows: WeekWindows
    closed_dates: tuple[tuple[int, int], ...]
    public_holidays_block: bool
    min_days_after_due: int
    frequency_cap: FrequencyCap
    dispute_stops_reminders: bool

    def __post_init__(self) -> None:
        _check_week(self.windows)


def _check_week(windows: WeekWindows) -> None:
    if len(windows) != len(Weekday):
        raise ValueError(f"need one contact window per weekday, got {len(windows)}")


def _week(
    weekdays: ContactWindow, saturday: ContactWindow | None, sunday: None = None
) -> WeekWindows:
    return (weekdays,) * 5 + (saturday, sunday)


def _window(start: int, end: int) -> ContactWindow:
    return ContactWindow(time(start), time(end))


_SEVEN_DAYS = timedelta(days=7)
_SETTLEMENT_NOTE = (
    "Venlig policy: a payment made on the due date can take two banking days "
    "to be booked, and a reminder to someone who has paid is the surest way "
    "to a 'debt not owed' complaint"
)
_CAP_NOTE = (
    "Venlig policy (DESIGN invariant 1): at most 3 messages per rolling 7 days "
    "per debtor across all accounts, never two on one local day"
)

DK = CountryProfile(
    code="DK",
    # § 12, stk. 2 sets these hours for personal contact; we hold SMS and
    # e-mail to them too, since a message also reaches the debtor at home.
    windows=Rule(
        _week(_window(8, 21), saturday=_window(8, 16)),
        "Inkassoloven § 12, stk. 2 (hverdage 8-21, lørdage 8-16; ikke søn- og "
        "helligdage), applied to messages under § 9 (god inkassoskik)",
    ),
    closed_dates=Rule(
        ((12, 24), (12, 31), (6, 5)),
        "Inkassoloven § 12, stk. 2 (ikke juleaftensdag, nytårsaftensdag og "
        "grundlovsdag)",
    ),
    public_holidays_block=Rule(True, "Inkassoloven § 12, stk. 2 (helligdage)"),
    min_days_after_due=Rule(3, _SETTLEMENT_NOTE),
    reminder_fees=Rule(
        ReminderFees(
            max_fee=Money(10_000, "DKK"),
            max_fee_bearing=3,
            min_days_between=10,
            first_min_days_after_due=1,
            amount_valid_from=None,
        ),
        "Renteloven § 9 b, stk. 1-2 (rykkergebyr efter forfald, højst 3 à "
        "100 kr., mindst 10 dage mellem rykkerskrivelserne)",
    ),
    collection_warning_min_days=Rule(
        10, "Inkassoloven § 10, stk. 3 (frist mindst 10 dage fra afsendelsen)"
    ),
    frequency_cap=Rule(
        FrequencyCap(3, _SEVEN_DAYS, one_per_local_day=True),
        f"{_CAP_NOTE}; Inkassoloven § 9 (ingen urimelig pression)",
    ),
    dispute_stops_reminders=Rule(
        True,
        "Inkassoloven § 9 (god inkassoskik: en indsigelse behandles, før "
        "inddrivelsen fortsætter)",
    ),
)

NO = CountryProfile(
    code="NO",
    windows=Rule(
        _week(_window(8, 21), saturday=_window(8, 15)),
        "Inkassoloven § 8 (god inkassoskikk); Finanstilsynet rundskriv 5/2022 "
        "(telefoninkasso: hverdager 08-21, lørdager 08-15, ikke søn- og "
        "helligdager), applied to messages",
    ),
    # Not required by Norwegian law: by analogy with the Danish rule, a
    # reminder on these de facto days off is exactly the badly timed contact
    # that makes debtors hold back a payment.
    closed_dates=Rule(
        ((12, 24), (12, 31)),
        "Venlig policy, stricter than Finanstilsynet rundskriv 5/2022: "
        "julaften og nyttårsaften",
    ),
    public_holidays_block=Rule(
        True, "Finanstilsynet rundskriv 5/2022 (ikke helligdager)"
    ),
    min_days_after_due=Rule(3, _SETTLEMENT_NOTE),
    # Purregebyr = 1/10 of inkassosatsen, which is set each year (700 kr since
    # 1 January 2017): check the rate every January and add the new amount.
    reminder_fees=Rule(
        ReminderFees(
            max_fee=Money(7_000, "NOK"),
            max_fee_bearing=2,
            min_days_between=14,
            first_min_days_after_due=14,
            amount_valid_from=date(2017, 1, 1),
        ),
        "Forsinkelsesrenteloven / inkassoforskriften § 1-2 (purregebyr 1/10 av "
        "inkassosatsen, tidligst 14 dager etter forfall) og § 1-3 (høyst 2; "
        "det andre først når en 14-dagers frist i det første er oversittet)",
    ),
    collection_warning_min_days=Rule(14, "Inkassoloven § 9 (inkassovarsel, 14 dager)"),
    frequency_cap=Rule(
        FrequencyCap(3, _SEVEN_DAYS, one_per_local_day=True),
        f"{_CAP_NOTE}; stricter than Finanstilsynet rundskriv 5/2022 (telefon: "
        "høyst 1 per dag og 5 per uke, uavhengig av antall saker)",
    ),
    dispute_stops_reminders=Rule(
        True,
        "Inkassoloven § 8 (god inkassoskikk: bestridt krav inndrives ikke "
        "videre før innsigelsen er vurdert)",
    ),
)

# For countries whose law we have not encoded: narrower than any profile above,
# so an unknown jurisdiction can only make us more careful.
DEFAULT = CountryProfile(
    code="DEFAULT",
    windows=Rule(
        _week(_window(9, 20), saturday=_window(10, 16)),
        "Venlig policy: strict default for countries without a profile",
    ),
    closed_dates=Rule(
        ((1, 1), (12, 24), (12, 25), (12, 26), (12, 31)),
        "Venlig policy: year-end days, also where the holiday calendar is unknown",
    ),
    public_holidays_block=Rule(True, "Venlig policy (DESIGN invariant 1)"),
    min_days_after_due=Rule(14, "Venlig policy: strict default"),
    reminder_fees=Rule(None, "Venlig policy: no fee without a known legal basis"),
    collection_warning_min_days=Rule(
        30, "Venlig policy: the 30 days that the UK and US give debtors to respond"
    ),
    frequency_cap=Rule(
        FrequencyCap(2, _SEVEN_DAYS, one_per_local_day=True),
        "Venlig policy: strict default",
    ),
    dispute_stops_reminders=Rule(True, "Venlig policy (DESIGN invariant 2)"),
)

_PROFILES = {profile.code: profile for profile in (DK, NO)}


def profile_for(country_code: str) -> CountryProfile:
    """The profile for a country (ISO 3166-1 alpha-2), or the strict default."""
    return _PROFILES.get(country_code.upper(), DEFAULT)


@functools.cache
def public_holidays(country_code: str, year: int) -> frozenset[date]:
    """The public holidays of a country in a year; empty if the package lacks it."""
    try:
        calendar = holidays.country_holidays(
            country_code.upper(), years=year, language="en_US"
        )
    except NotImplementedError:
        return frozenset()
    return frozenset(calendar)


def effective_rules(
    profile: CountryProfile, settings: ContactSettings | None = None
) -> ContactRules:
    """Apply a creditor's settings to a profile; raise ValueError if they loosen it."""
    settings = settings or ContactSettings()
    return ContactRules(
        code=profile.code,
        windows=_tightened_windows(profile, settings.windows),
        closed_dates=profile.closed_dates.value,
        public_holidays_block=profile.public_holidays_block.value,
        min_days_after_due=_tightened_min_days(profile, settings.min_days_after_due),
        frequency_cap=_tightened_cap(profile, settings.max_messages),
        dispute_stops_reminders=profile.dispute_stops_reminders.value,
    )


def _tightened_windows(
    profile: CountryProfile, overrides: Mapping[Weekday, ContactWindow | None]
) -> WeekWindows:
    windows = list(profile.windows.value)
    for weekday, window in overrides.items():
        bound = windows[Weekday(weekday)]
        if window is not None and (bound is None or not bound.covers(window)):
            raise ValueError(
                f"contact window {window} on {Weekday(weekday).name.lower()} is "
                f"looser than the {profile.code} bound {bound or 'no contact'} "
                f"({profile.windows.ref})"
            )
        windows[weekday] = window
    return tuple(windows)


def _tightened_min_days(profile: CountryProfile, days: int | None) -> int:
    bound = profile.min_days_after_due
    if days is None:
        return bound.value
    if days < bound.value:
        raise ValueError(
            f"first reminder {days} days after due is earlier than the "
            f"{profile.code} bound of at least {bound.value} days ({bound.ref})"
        )
    return days


def _tightened_cap(profile: CountryProfile, max_messages: int | None) -> FrequencyCap:
    bound = profile.frequency_cap
    if max_messages is None:
        return bound.value
    if not 1 <= max_messages <= bound.value.max_messages:
        raise ValueError(
            f"frequency cap of {max_messages} messages per {bound.value.period.days}"
            f" days must be between 1 and the {profile.code} bound of "
            f"{bound.value.max_messages} ({bound.ref})"
        )
    return FrequencyCap(max_messages, bound.value.period, bound.value.one_per_local_day)
