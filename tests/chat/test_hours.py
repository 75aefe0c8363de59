"""Opening hours and business time: pure, in the desk's local time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.chat.console import SlaLevel, estimate_minutes, sla_level
from app.chat.hours import OpeningHours

CPH = OpeningHours(
    time_zone="Europe/Copenhagen",
    holidays=lambda year: frozenset({date(year, 12, 25)}),
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (utc(2026, 11, 16, 7, 0), True),  # Monday 08:00 in Copenhagen
        (utc(2026, 11, 16, 6, 59), False),
        (utc(2026, 11, 16, 14, 59), True),
        (utc(2026, 11, 16, 15, 0), False),  # 16:00: closed
        (utc(2026, 11, 21, 10, 0), False),  # Saturday
        (utc(2026, 12, 25, 10, 0), False),  # a holiday on a Friday
    ],
)
def test_open_mondays_to_fridays_eight_to_four_local(
    moment: datetime, is_open: bool
) -> None:
    assert CPH.is_open(moment) is is_open


def test_next_opening_after_a_friday_evening_is_monday_morning() -> None:
    friday_evening = utc(2026, 11, 20, 21, 0)
    assert CPH.next_opening(friday_evening) == utc(2026, 11, 23, 7, 0)
    assert CPH.next_opening(utc(2026, 11, 16, 9, 0)) == utc(2026, 11, 16, 9, 0)


def test_business_time_skips_nights_weekends_and_holidays() -> None:
    # Friday 15:00 local to Monday 09:00 local: one hour each side.
    assert CPH.business_seconds(utc(2026, 11, 20, 14), utc(2026, 11, 23, 8)) == 7200
    # Christmas Eve 15:00 to the 28th 09:00 local: the 25th is a holiday, 26-27 a weekend.
    assert CPH.business_seconds(utc(2026, 12, 24, 14), utc(2026, 12, 28, 8)) == 7200
    assert CPH.business_seconds(utc(2026, 11, 16, 10), utc(2026, 11, 16, 9)) == 0


def test_hours_follow_summer_time() -> None:
    # 08:00 in Copenhagen is 06:00 UTC in summer.
    assert CPH.is_open(utc(2026, 6, 15, 6, 0))
    assert not CPH.is_open(utc(2026, 6, 15, 5, 59))


@pytest.mark.parametrize(
    ("seconds", "level"),
    [
        (300, SlaLevel.OK),
        (301, SlaLevel.AMBER),
        (600, SlaLevel.AMBER),
        (601, SlaLevel.RED),
    ],
)
def test_waiting_turns_amber_past_the_target_and_red_past_twice(
    seconds: int, level: SlaLevel
) -> None:
    assert sla_level(seconds, target_minutes=5) is level


def test_expected_wait_grows_with_the_queue_and_shrinks_with_agents() -> None:
    assert estimate_minutes(0, 1, [60.0, 120.0, 180.0]) == 2
    assert estimate_minutes(4, 1, [120.0]) == 10
    assert estimate_minutes(4, 4, [120.0]) == 4
    assert estimate_minutes(0, 1, []) == 2  # no history yet: a typical two minutes
