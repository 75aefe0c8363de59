"""Contact policy: windows, calendars, caps and stops, at frozen instants."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.policy import (
    AccountStatus,
    Allow,
    Channel,
    ContactKind,
    DebtorContactState,
    Decision,
    Defer,
    ProposedContact,
    Reason,
    Suppress,
    decide_contact,
)
from reminders.profiles import (
    DEFAULT,
    DK,
    NO,
    ContactRules,
    ContactSettings,
    ContactWindow,
    Weekday,
    effective_rules,
)

CPH = "Europe/Copenhagen"
OSLO = "Europe/Oslo"
NEW_YORK = "America/New_York"
DK_RULES = effective_rules(DK)
NO_RULES = effective_rules(NO)
DEFAULT_RULES = effective_rules(DEFAULT)
SMS = ProposedContact(Channel.SMS)
EMAIL = ProposedContact(Channel.EMAIL)
MONDAY_10 = "2026-11-16 10:00"  # an ordinary Monday morning


def at(zone: str, local: str) -> datetime:
    """A local wall time (first reading if ambiguous) as an aware UTC datetime."""
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def debtor(zone: str = CPH, country: str = "DK", **changes: Any) -> DebtorContactState:
    base = DebtorContactState(
        time_zone=zone,
        country_code=country,
        account_status=AccountStatus.OPEN,
        account_due_on=date(2026, 1, 5),
    )
    return replace(base, **changes)


def defer(zone: str, local: str, reason: Reason) -> Defer:
    return Defer(at(zone, local), reason)


def every_day(start: time, end: time) -> ContactRules:
    """Rules with the same window on all seven days and no holidays."""
    return replace(
        DK_RULES,
        windows=(ContactWindow(start, end),) * 7,
        closed_dates=(),
        public_holidays_block=False,
    )


SEVEN_DAYS = every_day(time(8), time(21))


def check(decision: Decision, expected: Decision) -> None:
    assert decision == expected
    if isinstance(decision, Defer):
        assert decision.until.tzinfo is UTC


def test_reasons_are_short_and_unique() -> None:
    values = [reason.value for reason in Reason]
    assert len(set(values)) == len(values)
    assert all(len(value) <= 32 for value in values)


# The Mondays after the 2026 DST changes: the window follows local time.
@pytest.mark.parametrize("zone", [CPH, OSLO])
@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-03-30 07:59", ("2026-03-30 08:00", Reason.QUIET_HOURS)),
        ("2026-03-30 08:00", None),
        ("2026-03-30 20:59", None),
        ("2026-03-30 21:00", ("2026-03-31 08:00", Reason.QUIET_HOURS)),
        ("2026-10-26 07:59", ("2026-10-26 08:00", Reason.QUIET_HOURS)),
        ("2026-10-26 08:00", None),
        ("2026-10-26 20:59", None),
        ("2026-10-26 21:00", ("2026-10-27 08:00", Reason.QUIET_HOURS)),
        # Both change days are Sundays: no contact at all.
        ("2026-03-29 07:59", ("2026-03-30 08:00", Reason.SUNDAY)),
        ("2026-03-29 08:00", ("2026-03-30 08:00", Reason.SUNDAY)),
        ("2026-03-29 20:59", ("2026-03-30 08:00", Reason.SUNDAY)),
        ("2026-10-25 21:00", ("2026-10-26 08:00", Reason.SUNDAY)),
    ],
)
def test_quiet_hour_edges_around_dst(
    zone: str, local: str, expected: tuple[str, Reason] | None
) -> None:
    rules = DK_RULES if zone == CPH else NO_RULES
    country = "DK" if zone == CPH else "NO"
    decision = decide_contact(debtor(zone, country), SMS, rules, at(zone, local))
    check(decision, Allow() if expected is None else defer(zone, *expected))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 08:00 local is 06:00 UTC in summer time and 07:00 UTC in winter time.
        (utc("2026-03-30 05:59"), Defer(utc("2026-03-30 06:00"), Reason.QUIET_HOURS)),
        (utc("2026-03-30 06:00"), Allow()),
        (utc("2026-10-26 06:59"), Defer(utc("2026-10-26 07:00"), Reason.QUIET_HOURS)),
        (utc("2026-10-26 07:00"), Allow()),
    ],
)
def test_window_opening_in_utc_after_dst(now: datetime, expected: Decision) -> None:
    check(decide_contact(debtor(), SMS, DK_RULES, now), expected)


# The DST days themselves, with a rule set that allows Sundays.
@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc("2026-03-29 05:59"), Defer(utc("2026-03-29 06:00"), Reason.QUIET_HOURS)),
        (utc("2026-03-29 06:00"), Allow()),
        (utc("2026-03-29 18:59"), Allow()),
        (utc("2026-03-29 19:00"), Defer(utc("2026-03-30 06:00"), Reason.QUIET_HOURS)),
        (utc("2026-10-25 06:59"), Defer(utc("2026-10-25 07:00"), Reason.QUIET_HOURS)),
        (utc("2026-10-25 07:00"), Allow()),
        (utc("2026-10-25 19:59"), Allow()),
        (utc("2026-10-25 20:00"), Defer(utc("2026-10-26 07:00"), Reason.QUIET_HOURS)),
    ],
)
def test_window_on_the_dst_change_days(now: datetime, expected: Decision) -> None:
    check(decide_contact(debtor(), SMS, SEVEN_DAYS, now), expected)


# A window edge at a wall time that does not exist (29 March, 02:00-03:00 is
# skipped) or exists twice (25 October, 02:00-03:00 is repeated) takes the
# stricter reading: the later for an opening, the earlier for a closing.
@pytest.mark.parametrize(
    ("rules", "now", "expected"),
    [
        (
            every_day(time(2, 30), time(21)),
            utc("2026-03-29 01:00"),
            Defer(utc("2026-03-29 01:30"), Reason.QUIET_HOURS),
        ),
        (every_day(time(2, 30), time(21)), utc("2026-03-29 01:30"), Allow()),
        (every_day(time(0, 30), time(2, 30)), utc("2026-03-29 00:29"), Allow()),
        (
            every_day(time(0, 30), time(2, 30)),
            utc("2026-03-29 00:30"),
            Defer(utc("2026-03-29 22:30"), Reason.QUIET_HOURS),
        ),
        (
            every_day(time(2, 30), time(21)),
            utc("2026-10-25 00:45"),
            Defer(utc("2026-10-25 01:30"), Reason.QUIET_HOURS),
        ),
        (every_day(time(2, 30), time(21)), utc("2026-10-25 01:30"), Allow()),
        (every_day(time(0, 30), time(2, 30)), utc("2026-10-25 00:29"), Allow()),
        (
            every_day(time(0, 30), time(2, 30)),
            utc("2026-10-25 01:15"),
            Defer(utc("2026-10-25 23:30"), Reason.QUIET_HOURS),
        ),
    ],
)
def test_nonexistent_and_ambiguous_window_edges(
    rules: ContactRules, now: datetime, expected: Decision
) -> None:
    check(decide_contact(debtor(), SMS, rules, now), expected)


# A Danish creditor's debtor who lives in New York: the window is the debtor's.
@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-11-16 07:59", ("2026-11-16 08:00", Reason.QUIET_HOURS)),
        ("2026-11-16 08:00", None),  # 14:00 in Copenhagen
        ("2026-11-16 20:30", None),  # 02:30 in Copenhagen
        ("2026-11-16 22:00", ("2026-11-17 08:00", Reason.QUIET_HOURS)),
        ("2026-03-09 07:59", ("2026-03-09 08:00", Reason.QUIET_HOURS)),  # US DST
        ("2026-11-26 10:00", ("2026-11-27 08:00", Reason.HOLIDAY)),  # Thanksgiving
        ("2026-12-24 10:00", ("2026-12-26 08:00", Reason.HOLIDAY)),  # DK closed date
    ],
)
def test_debtor_abroad_gets_the_window_in_their_own_zone(
    local: str, expected: tuple[str, Reason] | None
) -> None:
    state = debtor(NEW_YORK, "US")
    decision = decide_contact(state, SMS, DK_RULES, at(NEW_YORK, local))
    check(decision, Allow() if expected is None else defer(NEW_YORK, *expected))


@pytest.mark.parametrize(
    ("rules", "local", "expected"),
    [
        (DK_RULES, "2026-11-15 12:00", ("2026-11-16 08:00", Reason.SUNDAY)),
        (DK_RULES, "2026-11-14 15:59", None),
        (DK_RULES, "2026-11-14 16:00", ("2026-11-16 08:00", Reason.QUIET_HOURS)),
        (NO_RULES, "2026-11-14 14:59", None),
        (NO_RULES, "2026-11-14 15:00", ("2026-11-16 08:00", Reason.QUIET_HOURS)),
        (DEFAULT_RULES, "2026-11-14 09:59", ("2026-11-14 10:00", Reason.QUIET_HOURS)),
        (DEFAULT_RULES, "2026-11-16 20:00", ("2026-11-17 09:00", Reason.QUIET_HOURS)),
    ],
)
def test_weekends(
    rules: ContactRules, local: str, expected: tuple[str, Reason] | None
) -> None:
    decision = decide_contact(debtor(), SMS, rules, at(CPH, local))
    check(decision, Allow() if expected is None else defer(CPH, *expected))


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-12-24 10:00", ("2026-12-28 08:00", Reason.HOLIDAY)),  # juleaftensdag
        ("2026-12-25 10:00", ("2026-12-28 08:00", Reason.HOLIDAY)),
        ("2026-12-26 10:00", ("2026-12-28 08:00", Reason.HOLIDAY)),  # a Saturday
        ("2026-12-31 10:00", ("2027-01-02 08:00", Reason.HOLIDAY)),  # nytårsaftensdag
        ("2026-04-02 10:00", ("2026-04-04 08:00", Reason.HOLIDAY)),  # Skærtorsdag
        ("2026-05-14 10:00", ("2026-05-15 08:00", Reason.HOLIDAY)),  # Kr. himmelfart
        ("2026-06-05 10:00", ("2026-06-06 08:00", Reason.HOLIDAY)),  # Grundlovsdag
        ("2026-05-01 10:00", None),  # no Store Bededag since 2024
    ],
)
def test_danish_holidays(local: str, expected: tuple[str, Reason] | None) -> None:
    decision = decide_contact(debtor(), SMS, DK_RULES, at(CPH, local))
    check(decision, Allow() if expected is None else defer(CPH, *expected))


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-05-01 10:00", ("2026-05-02 08:00", Reason.HOLIDAY)),
        ("2026-05-14 10:00", ("2026-05-15 08:00", Reason.HOLIDAY)),
        ("2026-05-17 10:00", ("2026-05-18 08:00", Reason.HOLIDAY)),  # also a Sunday
        ("2027-05-17 10:00", ("2027-05-18 08:00", Reason.HOLIDAY)),  # a Monday
        ("2026-12-24 10:00", ("2026-12-28 08:00", Reason.HOLIDAY)),  # Venlig policy
        ("2026-06-05 10:00", None),
    ],
)
def test_norwegian_holidays(local: str, expected: tuple[str, Reason] | None) -> None:
    state = debtor(OSLO, "NO")
    decision = decide_contact(state, SMS, NO_RULES, at(OSLO, local))
    check(decision, Allow() if expected is None else defer(OSLO, *expected))


# Contacts about two accounts (A and B) of one debtor count together.
ACROSS_ACCOUNTS = (
    at(CPH, "2026-11-09 10:00"),  # account A
    at(CPH, "2026-11-11 10:00"),  # account B
    at(CPH, "2026-11-13 10:00"),  # account A
)


@pytest.mark.parametrize(
    ("contacts", "local", "expected"),
    [
        (
            ACROSS_ACCOUNTS,
            "2026-11-16 09:00",
            ("2026-11-16 10:00", Reason.FREQUENCY_CAP),
        ),
        (ACROSS_ACCOUNTS, "2026-11-16 10:00", None),
        (ACROSS_ACCOUNTS[1:], "2026-11-16 09:00", None),
        # The oldest leaves the period at 22:30, after the window: next morning.
        (
            (at(CPH, "2026-11-09 22:30"), *ACROSS_ACCOUNTS[1:]),
            "2026-11-16 20:00",
            ("2026-11-17 08:00", Reason.FREQUENCY_CAP),
        ),
        (
            (at(CPH, "2026-11-16 08:30"),),
            "2026-11-16 14:00",
            ("2026-11-17 08:00", Reason.SAME_DAY),
        ),
        (
            (at(CPH, "2026-11-14 08:30"),),
            "2026-11-14 14:00",
            ("2026-11-16 08:00", Reason.SAME_DAY),
        ),
        ((at(CPH, "2026-11-15 23:30"),), "2026-11-16 08:00", None),
    ],
)
def test_frequency_cap_and_same_day(
    contacts: tuple[datetime, ...], local: str, expected: tuple[str, Reason] | None
) -> None:
    state = debtor(recent_contacts=contacts)
    decision = decide_contact(state, SMS, DK_RULES, at(CPH, local))
    check(decision, Allow() if expected is None else defer(CPH, *expected))


def test_same_day_is_the_debtors_local_day_not_utc() -> None:
    # 18:30 and 19:30 in New York are on different UTC dates.
    state = debtor(NEW_YORK, "US", recent_contacts=(utc("2026-11-16 23:30"),))
    decision = decide_contact(state, SMS, DK_RULES, utc("2026-11-17 00:30"))
    check(decision, defer(NEW_YORK, "2026-11-17 08:00", Reason.SAME_DAY))


def test_the_default_cap_is_two() -> None:
    contacts = (at(CPH, "2026-11-10 10:00"), at(CPH, "2026-11-12 10:00"))
    state = debtor(recent_contacts=contacts)
    decision = decide_contact(state, SMS, DEFAULT_RULES, at(CPH, MONDAY_10))
    check(decision, defer(CPH, "2026-11-17 10:00", Reason.FREQUENCY_CAP))


@pytest.mark.parametrize(
    ("changes", "contact", "expected"),
    [
        ({"account_status": AccountStatus.PAID}, SMS, Suppress(Reason.ACCOUNT_PAID)),
        (
            {"account_status": AccountStatus.CLOSED},
            SMS,
            Suppress(Reason.ACCOUNT_CLOSED),
        ),
        ({"cease_contact": True}, SMS, Suppress(Reason.CEASE_CONTACT)),
        ({"opted_out": frozenset({Channel.SMS})}, SMS, Suppress(Reason.OPTED_OUT)),
        ({"opted_out": frozenset({Channel.SMS})}, EMAIL, Allow()),
        ({"opted_out": frozenset({Channel.EMAIL})}, EMAIL, Suppress(Reason.OPTED_OUT)),
        ({"phone_unusable": True}, SMS, Suppress(Reason.BAD_NUMBER)),
        ({"phone_unusable": True}, EMAIL, Allow()),
        ({"dispute_open": True}, SMS, Suppress(Reason.DISPUTE_OPEN)),
        (
            {"account_status": AccountStatus.DISPUTED},
            SMS,
            Suppress(Reason.DISPUTE_OPEN),
        ),
        ({"risk_pending": True}, SMS, Suppress(Reason.RISK_PENDING)),
        ({"plan_in_good_standing": True}, SMS, Suppress(Reason.PLAN_CURRENT)),
        ({"account_status": AccountStatus.PLAN}, SMS, Allow()),  # plan missed
        ({"account_status": AccountStatus.PAUSED}, SMS, Suppress(Reason.PAUSED)),
        (
            {"paused_until": utc("2026-11-18 03:00")},
            SMS,
            defer(CPH, "2026-11-18 08:00", Reason.PAUSED),
        ),
        ({"paused_until": utc("2026-11-16 08:00")}, SMS, Allow()),  # pause over
        (
            {"breathing_space_until": utc("2026-12-01 00:00")},
            SMS,
            defer(CPH, "2026-12-01 08:00", Reason.BREATHING_SPACE),
        ),
        # Promised for Thursday: wait for the promised day and two banking days.
        (
            {"promise_to_pay_on": date(2026, 11, 19)},
            SMS,
            defer(CPH, "2026-11-23 08:00", Reason.PROMISE_PENDING),
        ),
        ({"promise_to_pay_on": date(2026, 11, 13)}, SMS, Allow()),  # promise broken
        # Due on Saturday: the first reminder waits three days, then the window.
        (
            {"account_due_on": date(2026, 11, 14)},
            SMS,
            defer(CPH, "2026-11-17 08:00", Reason.TOO_EARLY),
        ),
        ({"account_due_on": date(2026, 11, 13)}, SMS, Allow()),
        # Suppressions come before time-bounded stops ...
        (
            {"dispute_open": True, "breathing_space_until": utc("2026-12-01 00:00")},
            SMS,
            Suppress(Reason.DISPUTE_OPEN),
        ),
        # ... and several time-bounded stops wait for the last one to end.
        (
            {
                "breathing_space_until": utc("2026-11-18 12:00"),
                "account_due_on": date(2026, 11, 20),
            },
            SMS,
            defer(CPH, "2026-11-23 08:00", Reason.BREATHING_SPACE),
        ),
    ],
)
def test_stop_conditions(
    changes: dict[str, Any], contact: ProposedContact, expected: Decision
) -> None:
    decision = decide_contact(debtor(**changes), contact, DK_RULES, at(CPH, MONDAY_10))
    check(decision, expected)


SUNDAY_NIGHT = at(CPH, "2026-11-15 23:30")
JUST_NOW = SUNDAY_NIGHT - timedelta(minutes=2)
HELP_REPLY = ProposedContact(Channel.SMS, ContactKind.REPLY, JUST_NOW)
STOP_REPLY = ProposedContact(Channel.SMS, ContactKind.STOP_CONFIRMATION, JUST_NOW)
LATE_REPLY = replace(HELP_REPLY, replying_to_at=SUNDAY_NIGHT - timedelta(hours=2))
EVERYTHING_STOPPED = {
    "cease_contact": True,
    "dispute_open": True,
    "risk_pending": True,
    "account_status": AccountStatus.CLOSED,
    "recent_contacts": (SUNDAY_NIGHT - timedelta(hours=3),),
}


@pytest.mark.parametrize(
    ("changes", "contact", "expected"),
    [
        ({}, HELP_REPLY, Allow()),
        (EVERYTHING_STOPPED, HELP_REPLY, Allow()),
        (
            {"opted_out": frozenset({Channel.SMS})},
            HELP_REPLY,
            Suppress(Reason.OPTED_OUT),
        ),
        ({"opted_out": frozenset({Channel.SMS})}, STOP_REPLY, Allow()),
        ({"phone_unusable": True}, STOP_REPLY, Suppress(Reason.BAD_NUMBER)),
        ({}, LATE_REPLY, defer(CPH, "2026-11-16 08:00", Reason.SUNDAY)),
    ],
)
def test_replies_the_debtor_asked_for(
    changes: dict[str, Any], contact: ProposedContact, expected: Decision
) -> None:
    check(decide_contact(debtor(**changes), contact, DK_RULES, SUNDAY_NIGHT), expected)


def test_a_late_reply_waits_for_the_window_but_not_for_the_cap() -> None:
    now = at(CPH, MONDAY_10)
    contacts = (now - timedelta(hours=1), *ACROSS_ACCOUNTS)
    reply = replace(HELP_REPLY, replying_to_at=now - timedelta(hours=12))
    check(
        decide_contact(debtor(recent_contacts=contacts), reply, DK_RULES, now), Allow()
    )


@pytest.mark.parametrize(
    ("settings", "local", "expected"),
    [
        (
            ContactSettings(
                windows={Weekday.SATURDAY: ContactWindow(time(9), time(14))}
            ),
            "2026-11-14 14:00",
            ("2026-11-16 08:00", Reason.QUIET_HOURS),
        ),
        (
            ContactSettings(windows={Weekday.FRIDAY: None}),
            "2026-11-13 10:00",
            ("2026-11-14 08:00", Reason.QUIET_HOURS),
        ),
        (
            ContactSettings(max_messages=1),
            MONDAY_10,
            ("2026-11-20 10:00", Reason.FREQUENCY_CAP),
        ),
        (
            ContactSettings(min_days_after_due=10),
            MONDAY_10,
            ("2026-11-19 08:00", Reason.TOO_EARLY),
        ),
    ],
)
def test_creditor_settings_tighten_the_policy(
    settings: ContactSettings, local: str, expected: tuple[str, Reason]
) -> None:
    state = debtor(
        recent_contacts=(at(CPH, "2026-11-13 10:00"),), account_due_on=date(2026, 11, 9)
    )
    rules = effective_rules(DK, settings)
    check(decide_contact(state, SMS, rules, at(CPH, local)), defer(CPH, *expected))


def test_time_bounded_stops_are_enforced_in_the_debtors_zone() -> None:
    # Due 13 November: reminders may go from 16 November, which has begun in
    # Copenhagen (05:00) but not yet in New York (23:00 on the 15th).
    state = debtor(NEW_YORK, "US", account_due_on=date(2026, 11, 13))
    decision = decide_contact(state, SMS, DK_RULES, utc("2026-11-16 04:00"))
    check(decision, defer(NEW_YORK, "2026-11-16 08:00", Reason.TOO_EARLY))


@pytest.mark.parametrize(
    "build",
    [
        lambda: ProposedContact(Channel.SMS, ContactKind.REMINDER, JUST_NOW),
        lambda: ProposedContact(Channel.SMS, ContactKind.REPLY),
        lambda: ProposedContact(Channel.SMS, ContactKind.REPLY, datetime(2026, 1, 1)),
        lambda: debtor(recent_contacts=(datetime(2026, 11, 16, 10),)),
        lambda: decide_contact(debtor(), SMS, DK_RULES, datetime(2026, 11, 16, 10)),
    ],
    ids=[
        "reminder-with-reply",
        "reply-without",
        "naive-reply",
        "naive-contact",
        "naive-now",
    ],
)
def test_bad_input_is_refused(build: Any) -> None:
    with pytest.raises(ValueError, match=r"replying_to_at|timezone-aware"):
        build()


CASES = st.sampled_from(
    [
        (CPH, "DK", DK_RULES),
        (OSLO, "NO", NO_RULES),
        (NEW_YORK, "US", DK_RULES),
        ("Europe/London", "GB", DEFAULT_RULES),
        ("Australia/Lord_Howe", "AU", every_day(time(1, 45), time(2, 15))),
    ]
)
MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.just(UTC),
)
AGES = st.lists(st.timedeltas(timedelta(0), timedelta(days=10)), max_size=6)


@settings(max_examples=200, deadline=None, database=None)
@given(
    case=CASES,
    now=MOMENTS,
    ages=AGES,
    days_since_due=st.integers(-20, 20),
    probe=st.floats(0, 1, exclude_max=True),
)
def test_a_deferral_lands_on_the_earliest_allowed_instant(
    case: tuple[str, str, ContactRules],
    now: datetime,
    ages: list[timedelta],
    days_since_due: int,
    probe: float,
) -> None:
    zone, country, rules = case
    state = debtor(
        zone,
        country,
        recent_contacts=tuple(now - age for age in ages),
        account_due_on=now.date() - timedelta(days=days_since_due),
    )
    decision = decide_contact(state, SMS, rules, now)
    if not isinstance(decision, Defer):
        assert decision == Allow()
        return
    assert decision.until > now
    assert decision.until.tzinfo is UTC
    assert decide_contact(state, SMS, rules, decision.until) == Allow()
    earlier = now + (decision.until - now) * probe
    if earlier < decision.until:
        assert decide_contact(state, SMS, rules, earlier) != Allow()


NOTICE = ProposedContact(Channel.SMS, ContactKind.NOTICE)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"opted_out": frozenset({Channel.SMS})}, Reason.OPTED_OUT),
        ({"cease_contact": True}, Reason.CEASE_CONTACT),
        ({"phone_unusable": True}, Reason.BAD_NUMBER),
    ],
)
def test_a_notice_is_stopped_by_opt_out_cease_and_bad_numbers(
    changes: dict[str, Any], expected: Reason
) -> None:
    decision = decide_contact(
        debtor(**changes), NOTICE, DK_RULES, at(CPH, "2026-11-17 11:00")
    )
    check(decision, Suppress(expected))


def test_a_notice_waits_for_the_window_but_not_for_the_caps() -> None:
    night = decide_contact(debtor(), NOTICE, DK_RULES, at(CPH, "2026-11-17 03:00"))
    check(night, defer(CPH, "2026-11-17 08:00", Reason.QUIET_HOURS))
    busy = debtor(recent_contacts=tuple(at(CPH, f"2026-11-17 0{h}:00") for h in (8, 9)))
    check(decide_contact(busy, NOTICE, DK_RULES, at(CPH, "2026-11-17 11:00")), Allow())
    # A notice does not answer anything, so it carries no reply time.
    with pytest.raises(ValueError, match="replying_to_at"):
        ProposedContact(Channel.SMS, ContactKind.NOTICE, at(CPH, "2026-11-17 11:00"))
