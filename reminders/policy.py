"""Contact policy: whether a message may reach a debtor now, later or never."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeAlias
from zoneinfo import ZoneInfo

from reminders.profiles import ContactRules, ContactWindow, Weekday, public_holidays

# How far ahead a deferral may land; sane rules always find a slot well before.
MAX_SEARCH = timedelta(days=60)
# A reply sent this soon after the debtor's own message answers it; later it is
# just another message and waits for the contact window.
REPLY_GRACE = timedelta(minutes=15)
# A payment made on the promised day can take two banking days to be booked.
PROMISE_SETTLEMENT = timedelta(days=2)


class Reason(StrEnum):
    """Why a contact is deferred or suppressed; stable values, stored as-is."""

    QUIET_HOURS = "quiet_hours"
    SUNDAY = "sunday"
    HOLIDAY = "holiday"
    FREQUENCY_CAP = "frequency_cap"
    SAME_DAY = "same_day"
    TOO_EARLY = "too_early"
    OPTED_OUT = "opted_out"
    CEASE_CONTACT = "cease_contact"
    BAD_NUMBER = "bad_number"
    DISPUTE_OPEN = "dispute_open"
    RISK_PENDING = "risk_pending"
    BREATHING_SPACE = "breathing_space"
    PLAN_CURRENT = "plan_current"
    PROMISE_PENDING = "promise_pending"
    ACCOUNT_PAID = "account_paid"
    ACCOUNT_CLOSED = "account_closed"
    PAUSED = "paused"


class Channel(StrEnum):
    """How a message reaches the debtor."""

    SMS = "sms"
    EMAIL = "email"


# REMINDER: every rule applies.
# REPLY: a direct answer to the debtor's own message (HELP, START, a question).
#   Within REPLY_GRACE of that message only an opt-out of the channel and an
#   unusable number stop it: the debtor is waiting for it, whatever the hour or
#   the state of the account. Later it waits for the contact window, but caps
#   and the same-day rule never hold back an answer the debtor asked for.
# STOP_CONFIRMATION: the one final reply to STOP; like REPLY, except that the
#   opt-out it confirms does not stop it.
# NOTICE: a text about the debtor's own arrangement that the debtor did not just
#   ask for (a failed instalment, a promise due tomorrow): an opt-out, a request to
#   stop contact and an unusable number stop it; it waits for the contact window,
#   but the caps, kept for reminders, do not hold it back.
class ContactKind(StrEnum):
    """Whether a message is a reminder step or a reply the debtor asked for."""

    REMINDER = "reminder"
    REPLY = "reply"
    STOP_CONFIRMATION = "stop_confirmation"
    NOTICE = "notice"


class AccountStatus(StrEnum):
    """The account's status, as stored on the account."""

    OPEN = "open"
    PROMISED = "promised"
    PLAN = "plan"
    PAID = "paid"
    DISPUTED = "disputed"
    PAUSED = "paused"
    CLOSED = "closed"


class NoContactSlotError(RuntimeError):
    """No instant within MAX_SEARCH satisfies the rules; they are misconfigured."""


@dataclass(frozen=True)
class DebtorContactState:
    """What the policy needs to know about a debtor and the account at hand."""

    time_zone: str  # IANA name, e.g. "Europe/Copenhagen"
    country_code: str  # ISO 3166-1 alpha-2 of the debtor's country (holidays)
    account_status: AccountStatus
    account_due_on: date
    opted_out: frozenset[Channel] = frozenset()
    cease_contact: bool = False
    phone_unusable: bool = False
    dispute_open: bool = False
    risk_pending: bool = False  # an unreviewed high-severity risk signal
    breathing_space_until: datetime | None = None
    plan_in_good_standing: bool = False
    promise_to_pay_on: date | None = None
    paused_until: datetime | None = None
    recent_contacts: tuple[datetime, ...] = ()  # sends to this debtor, all accounts

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # an unknown zone fails here, not mid-decision
        moments = (self.breathing_space_until, self.paused_until)
        _require_aware(*(m for m in moments if m is not None), *self.recent_contacts)

    @property
    def zone(self) -> ZoneInfo:
        """The debtor's time zone."""
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class ProposedContact:
    """A message about to be sent: its channel, kind and what it answers."""

    channel: Channel
    kind: ContactKind = ContactKind.REMINDER
    replying_to_at: datetime | None = None  # when the debtor's message arrived

    def __post_init__(self) -> None:
        is_reply = self.kind in (ContactKind.REPLY, ContactKind.STOP_CONFIRMATION)
        if is_reply != (self.replying_to_at is not None):
            raise ValueError("replying_to_at is required for replies, only for them")
        if self.replying_to_at is not None:
            _require_aware(self.replying_to_at)


@dataclass(frozen=True)
class Allow:
    """Send now."""


@dataclass(frozen=True)
class Defer:
    """Do not send now; `until` (aware UTC) is the earliest instant all rules pass."""

    until: datetime
    reason: Reason


@dataclass(frozen=True)
class Suppress:
    """Do not send until the state changes."""

    reason: Reason


Decision: TypeAlias = Allow | Defer | Suppress


def decide_contact(
    state: DebtorContactState,
    contact: ProposedContact,
    rules: ContactRules,
    now: datetime,
) -> Decision:
    """Decide whether `contact` may go to the debtor at `now` (an aware datetime)."""
    _require_aware(now)
    now = now.astimezone(UTC)
    calendar = _Calendar(state, rules)
    if contact.kind is ContactKind.NOTICE:
        return _decide_notice(state, contact.channel, calendar, now)
    if contact.replying_to_at is None:  # a reminder, as ProposedContact ensures
        return _decide_reminder(state, contact.channel, calendar, now)
    return _decide_reply(state, contact, contact.replying_to_at, calendar, now)


def _decide_reminder(
    state: DebtorContactState, channel: Channel, calendar: _Calendar, now: datetime
) -> Decision:
    stop = _suppression(state, channel, calendar.rules)
    if stop is not None:
        return Suppress(stop)
    bounds = _time_bounds(state, calendar.rules, now)
    if bounds:
        latest_end = max(end for _, end in bounds)
        return Defer(calendar.next_slot(latest_end, count_contacts=True), bounds[0][0])
    return _decide_timing(calendar, now, count_contacts=True)


def _decide_notice(
    state: DebtorContactState, channel: Channel, calendar: _Calendar, now: datetime
) -> Decision:
    checks = (
        (channel in state.opted_out, Reason.OPTED_OUT),
        (state.cease_contact, Reason.CEASE_CONTACT),
        (channel is Channel.SMS and state.phone_unusable, Reason.BAD_NUMBER),
    )
    stop = next((reason for hit, reason in checks if hit), None)
    if stop is not None:
        return Suppress(stop)
    return _decide_timing(calendar, now, count_contacts=False)


def _decide_reply(
    state: DebtorContactState,
    contact: ProposedContact,
    replying_to_at: datetime,
    calendar: _Calendar,
    now: datetime,
) -> Decision:
    if contact.kind is ContactKind.REPLY and contact.channel in state.opted_out:
        return Suppress(Reason.OPTED_OUT)
    if contact.channel is Channel.SMS and state.phone_unusable:
        return Suppress(Reason.BAD_NUMBER)
    if now - replying_to_at <= REPLY_GRACE:
        return Allow()
    return _decide_timing(calendar, now, count_contacts=False)


def _decide_timing(
    calendar: _Calendar, now: datetime, *, count_contacts: bool
) -> Decision:
    reason = calendar.calendar_block(now)
    if reason is None and count_contacts:
        reason = calendar.contact_block(now)[0]
    if reason is None:
        return Allow()
    return Defer(calendar.next_slot(now, count_contacts=count_contacts), reason)


def _suppression(
    state: DebtorContactState, channel: Channel, rules: ContactRules
) -> Reason | None:
    status = state.account_status
    disputed = state.dispute_open or status is AccountStatus.DISPUTED
    checks = (
        (status is AccountStatus.PAID, Reason.ACCOUNT_PAID),
        (status is AccountStatus.CLOSED, Reason.ACCOUNT_CLOSED),
        (state.cease_contact, Reason.CEASE_CONTACT),
        (channel in state.opted_out, Reason.OPTED_OUT),
        (channel is Channel.SMS and state.phone_unusable, Reason.BAD_NUMBER),
        (rules.dispute_stops_reminders and disputed, Reason.DISPUTE_OPEN),
        (state.risk_pending, Reason.RISK_PENDING),
        (state.plan_in_good_standing, Reason.PLAN_CURRENT),
        (status is AccountStatus.PAUSED and state.paused_until is None, Reason.PAUSED),
    )
    return next((reason for hit, reason in checks if hit), None)


def _time_bounds(
    state: DebtorContactState, rules: ContactRules, now: datetime
) -> list[tuple[Reason, datetime]]:
    """The time-bounded stops still running at `now`, each with its end."""
    zone = state.zone
    promise = state.promise_to_pay_on
    promise_end = (
        _local_midnight(promise + timedelta(days=1) + PROMISE_SETTLEMENT, zone)
        if promise is not None
        else None
    )
    due = state.account_due_on + timedelta(days=rules.min_days_after_due)
    ends = (
        (Reason.BREATHING_SPACE, state.breathing_space_until),
        (Reason.PAUSED, state.paused_until),
        (Reason.PROMISE_PENDING, promise_end),
        (Reason.TOO_EARLY, _local_midnight(due, zone)),
    )
    return [(reason, end) for reason, end in ends if end is not None and end > now]


@dataclass(frozen=True)
class _Calendar:
    """The time-of-day, calendar and frequency rules for one debtor."""

    state: DebtorContactState
    rules: ContactRules

    def calendar_block(self, moment: datetime) -> Reason | None:
        """Why `moment` is outside the debtor's contact windows, if it is."""
        day = moment.astimezone(self.state.zone).date()
        if self._is_holiday(day):  # before Sunday: 17 May 2026 reports "holiday"
            return Reason.HOLIDAY
        window = self.rules.windows[day.weekday()]
        if window is None:
            return (
                Reason.SUNDAY if day.weekday() == Weekday.SUNDAY else Reason.QUIET_HOURS
            )
        opens, closes = _window_bounds(day, window, self.state.zone)
        return None if opens <= moment < closes else Reason.QUIET_HOURS

    def contact_block(self, moment: datetime) -> tuple[Reason | None, datetime]:
        """Why earlier contacts block `moment`, and the earliest time they may not."""
        cap = self.rules.frequency_cap
        zone = self.state.zone
        day = moment.astimezone(zone).date()
        sent = self.state.recent_contacts
        if cap.one_per_local_day and any(
            c.astimezone(zone).date() == day for c in sent
        ):
            return Reason.SAME_DAY, _local_midnight(day + timedelta(days=1), zone)
        in_period = sorted(c for c in sent if moment - cap.period < c <= moment)
        excess = len(in_period) - cap.max_messages
        if excess >= 0:
            # Once the (excess+1) oldest have left the rolling period, one fewer
            # than the cap remain.
            return Reason.FREQUENCY_CAP, in_period[excess] + cap.period
        return None, moment

    def next_slot(self, start: datetime, *, count_contacts: bool) -> datetime:
        """The earliest instant from `start` at which every timing rule passes."""
        limit = start + MAX_SEARCH
        moment = start
        while moment <= limit:
            opening = self._next_opening(moment, limit)
            moment = self.contact_block(opening)[1] if count_contacts else opening
            if moment == opening:
                return opening.astimezone(UTC)
        raise NoContactSlotError(f"no contact slot within {MAX_SEARCH} of {start}")

    def _next_opening(self, moment: datetime, limit: datetime) -> datetime:
        day = moment.astimezone(self.state.zone).date()
        while _local_midnight(day, self.state.zone) <= limit:
            window = (
                None if self._is_holiday(day) else self.rules.windows[day.weekday()]
            )
            if window is not None:
                opens, closes = _window_bounds(day, window, self.state.zone)
                candidate = max(moment, opens)
                if candidate < closes:
                    return candidate
            day += timedelta(days=1)
        raise NoContactSlotError(f"no contact window within {MAX_SEARCH} of {moment}")

    def _is_holiday(self, day: date) -> bool:
        if (day.month, day.day) in self.rules.closed_dates:
            return True
        return self.rules.public_holidays_block and day in public_holidays(
            self.state.country_code, day.year
        )


def _window_bounds(
    day: date, window: ContactWindow, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    opens = _instant(day, window.start, zone, latest=True)
    closes = _instant(day, window.end, zone, latest=False)
    return opens, closes


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return _instant(day, time(0), zone, latest=True)


def _instant(day: date, wall: time, zone: ZoneInfo, *, latest: bool) -> datetime:
    """A local wall time as a UTC instant.

    A wall time skipped by a DST change or met twice has two readings; take the
    stricter one: the later for an opening, the earlier for a closing.
    """
    naive = datetime.combine(day, wall)
    readings = [
        naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)
    ]
    return max(readings) if latest else min(readings)


def _require_aware(*moments: datetime) -> None:
    if any(moment.utcoffset() is None for moment in moments):
        raise ValueError("datetimes must be timezone-aware")
