"""When the chat desk opens again, said as a person would: today, tomorrow, or the date."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from app.web.live.lines import when_open

# Monday 23 November 2026, 05:00 in Copenhagen.
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
ZONE = "Europe/Copenhagen"


def test_the_opening_is_today_tomorrow_or_a_date(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "da"}):
        today = when_open(datetime(2026, 11, 23, 7, 0, tzinfo=UTC), ZONE, NOW)
        tomorrow = when_open(datetime(2026, 11, 24, 7, 0, tzinfo=UTC), ZONE, NOW)
        later = when_open(datetime(2026, 11, 30, 7, 0, tzinfo=UTC), ZONE, NOW)
    assert today == "i dag kl. 08.00"
    assert tomorrow == "i morgen kl. 08.00"
    assert later.startswith("mandag den 30. november 2026")
