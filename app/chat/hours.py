"""A creditor's chat opening hours, and time counted in business seconds within them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import ChatDesk, Creditor
from reminders.profiles import public_holidays

HolidaysFor = Callable[[int], frozenset[date]]
DEFAULT_OPENS = 8 * 60
DEFAULT_CLOSES = 16 * 60
DEFAULT_TARGET_MINUTES = 5
# The zone a creditor's desk keeps its hours in, by the creditor's country.
ZONE_BY_COUNTRY = {
    "DK": "Europe/Copenhagen",
    "NO": "Europe/Oslo",
    "SE": "Europe/Stockholm",
}
_SEARCH_DAYS = 21  # long enough for any run of holidays and closed weekdays


def _no_holidays(_year: int) -> frozenset[date]:
    return frozenset()


@dataclass(frozen=True)
class OpeningHours:
    """Open on `weekdays` (Monday = 0) from `opens_minute` to `closes_minute`, local time."""

    time_zone: str
    opens_minute: int = DEFAULT_OPENS
    closes_minute: int = DEFAULT_CLOSES
    weekdays: frozenset[int] = frozenset(range(5))
    holidays: HolidaysFor = field(default=_no_holidays, compare=False)
    target_wait_minutes: int = DEFAULT_TARGET_MINUTES

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The open interval of a local calendar day, or None when closed all day."""
        if day.weekday() not in self.weekdays or day in self.holidays(day.year):
            return None
        return self._at(day, self.opens_minute), self._at(day, self.closes_minute)

    def _at(self, day: date, minute: int) -> datetime:
        if minute >= 24 * 60:
            return datetime.combine(day + timedelta(days=1), time(0), self.zone)
        return datetime.combine(day, time(minute // 60, minute % 60), self.zone)

    def is_open(self, now: datetime) -> bool:
        window = self.window(now.astimezone(self.zone).date())
        return window is not None and window[0] <= now < window[1]

    def next_opening(self, now: datetime) -> datetime | None:
        """`now` when open; else when the desk next opens (None if not within three weeks)."""
        if self.is_open(now):
            return now
        today = now.astimezone(self.zone).date()
        for offset in range(_SEARCH_DAYS):
            window = self.window(today + timedelta(days=offset))
            if window is not None and window[0] > now:
                return window[0]
        return None

    def business_seconds(self, start: datetime, end: datetime) -> int:
        """Seconds between `start` and `end` that fall within opening hours."""
        if end <= start:
            return 0
        total = 0.0
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            window = self.window(day)
            if window is not None:
                overlap = min(end, window[1]) - max(start, window[0])
                total += max(overlap.total_seconds(), 0.0)
            day += timedelta(days=1)
        return int(total)


def hours_for(session: Session, creditor: Creditor) -> OpeningHours:
    """The creditor's desk hours, or Monday to Friday 08:00-16:00 in its country's zone."""
    desk = session.scalar(select(ChatDesk).where(ChatDesk.creditor_id == creditor.id))
    country = creditor.country

    def holidays(year: int) -> frozenset[date]:
        return public_holidays(country, year)

    if desk is None:
        return OpeningHours(
            time_zone=ZONE_BY_COUNTRY.get(country, "UTC"), holidays=holidays
        )
    return OpeningHours(
        time_zone=desk.time_zone,
        opens_minute=desk.opens_minute,
        closes_minute=desk.closes_minute,
        weekdays=frozenset(int(d) for d in desk.weekdays),
        holidays=holidays if desk.closed_on_holidays else _no_holidays,
        target_wait_minutes=desk.target_wait_minutes,
    )


@dataclass(frozen=True)
class DeskChoice:
    """What a creditor chooses for its chat desk; checked by `save_desk`."""

    opens_minute: int
    closes_minute: int
    weekdays: frozenset[int]
    closed_on_holidays: bool
    target_wait_minutes: int


def save_desk(session: Session, creditor: Creditor, choice: DeskChoice) -> ChatDesk:
    """Store the creditor's opening hours and wait target (in its country's zone).

    :raises ValidationFailed: closing before opening, no open day, or a target outside 1-240.
    """
    problems = []
    if not 0 <= choice.opens_minute < choice.closes_minute <= 24 * 60:
        problems.append("Closing time must be after opening time on the same day")
    if not choice.weekdays or not choice.weekdays <= set(range(7)):
        problems.append("Choose at least one open day")
    if not 1 <= choice.target_wait_minutes <= 240:
        problems.append("The wait target must be between 1 and 240 minutes")
    if problems:
        raise ValidationFailed("; ".join(problems))
    desk = session.scalar(select(ChatDesk).where(ChatDesk.creditor_id == creditor.id))
    if desk is None:
        desk = ChatDesk(
            creditor_id=creditor.id,
            time_zone=ZONE_BY_COUNTRY.get(creditor.country, "UTC"),
        )
        session.add(desk)
    desk.opens_minute, desk.closes_minute = choice.opens_minute, choice.closes_minute
    desk.weekdays = "".join(str(day) for day in sorted(choice.weekdays))
    desk.closed_on_holidays = choice.closed_on_holidays
    desk.target_wait_minutes = choice.target_wait_minutes
    session.flush()
    return desk


def desk_choice_of(session: Session, creditor: Creditor) -> DeskChoice:
    """The creditor's current desk settings, the defaults when it never chose."""
    desk = session.scalar(select(ChatDesk).where(ChatDesk.creditor_id == creditor.id))
    if desk is None:
        return DeskChoice(
            DEFAULT_OPENS,
            DEFAULT_CLOSES,
            frozenset(range(5)),
            True,
            DEFAULT_TARGET_MINUTES,
        )
    return DeskChoice(
        desk.opens_minute,
        desk.closes_minute,
        frozenset(int(day) for day in desk.weekdays),
        desk.closed_on_holidays,
        desk.target_wait_minutes,
    )
