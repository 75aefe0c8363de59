"""How a chat line reads, in the viewer's language, for the page and for the event stream.

Text is escaped by the template (autoescape); the stream sends the same rendered, escaped
HTML, so there is one way a line is shown and no markup from either side ever runs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import format_date, format_datetime, format_time
from flask_babel import gettext as _

from app.chat.conversations import ChatLine
from app.web.i18n import local_date, money

Viewer = str  # "debtor" or "agent"
# After these lines the page itself changes (a closed thread asks for CSAT): reload it.
RELOAD_ON = frozenset({"closed"})


def _date(value: Any) -> str:
    try:
        return local_date(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _opened_text(via: str, viewer: Viewer) -> str:
    if via == "sequence":
        return (
            _("A person from our team is looking at your case.")
            if viewer == "debtor"
            else _("The reminder sequence handed this case to a person.")
        )
    if viewer == "debtor":
        return _("You asked to talk to a person.")
    where = {"portal": _("on the portal"), "sms": _("by text message")}.get(via, via)
    return _("The debtor asked for a person (%(via)s).", via=where)


def event_text(line: ChatLine, viewer: Viewer) -> str:
    """The sentence a system line or a plan offer shows."""
    p = line.payload
    reference = str(p.get("reference", ""))
    texts = {
        "opened": _opened_text(str(p.get("via", "")), viewer),
        "joined": _("%(agent)s has joined the conversation.", agent=p.get("agent", "")),
        "reassigned": _("%(agent)s has taken over.", agent=p.get("agent", "")),
        "closed": _("The conversation is closed."),
        "promise": _(
            "Noted: invoice %(reference)s will be paid on %(date)s.",
            reference=reference,
            date=_date(p.get("date")),
        ),
        "dispute": _(
            "Invoice %(reference)s is marked as disputed. A person looks into it, "
            "and no reminders are sent meanwhile.",
            reference=reference,
        ),
        "breathing_space": _(
            "Reminders are paused until %(date)s.", date=_date(p.get("until"))
        ),
        "paused": _(
            "Reminders for invoice %(reference)s are paused until %(date)s.",
            reference=reference,
            date=_date(p.get("until")),
        ),
        "resumed": _(
            "Reminders for invoice %(reference)s are on again.", reference=reference
        ),
        "plan_offer": _offer_text(p),
    }
    return texts.get(line.event or "", line.body)


def _offer_text(p: dict[str, Any]) -> str:
    currency = str(p.get("currency", ""))
    if not currency:
        return ""
    terms = offer_terms(
        int(p["first_minor"]),
        int(p["rest_minor"]),
        int(p["count"]),
        str(p.get("frequency")),
        currency,
    )
    return _(
        "A plan for invoice %(reference)s: %(terms)s, last payment on %(date)s.",
        reference=p.get("reference", ""),
        terms=terms,
        date=_date(p.get("last_on")),
    )


def offer_terms(
    first: int, rest: int, count: int, frequency: str, currency: str
) -> str:
    """ "3 × 400,00 kr., monthly" or "500,00 kr. now, then 2 × 350,00 kr., monthly"."""
    how_often = {
        "monthly": _("monthly"),
        "fortnightly": _("every two weeks"),
        "weekly": _("weekly"),
    }.get(frequency, frequency)
    if first == rest:
        return _(
            "%(count)s × %(amount)s, %(frequency)s",
            count=count,
            amount=money(rest, currency),
            frequency=how_often,
        )
    return _(
        "%(first)s now, then %(count)s × %(amount)s, %(frequency)s",
        first=money(first, currency),
        count=count - 1,
        amount=money(rest, currency),
        frequency=how_often,
    )


def render_line(line: ChatLine, viewer: Viewer, time_zone: str) -> str:
    return render_template(
        "chat/_line.html", line=line, viewer=viewer, time_zone=time_zone
    )


def stream_payload(line: ChatLine, viewer: Viewer, time_zone: str) -> dict[str, object]:
    return {
        "conversation": line.conversation_id,
        "seq": line.seq,
        "html": render_line(line, viewer, time_zone),
        "event": line.event,
        "reload": line.event in RELOAD_ON,
        "status": status_text(line, viewer),
    }


def chat_time(value: datetime, time_zone: str) -> str:
    """Short, in the reader's words and the debtor's time zone: 22.11.2026 21.53."""
    local = value.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
    return format_datetime(local, "short", rebase=False)


def when_open(value: datetime, time_zone: str, now: datetime) -> str:
    """When the desk opens again: "today at 08:00", "tomorrow at 08:00", or the full date
    ("Monday, 23 November 2026 08:00") when it is further off."""
    zone = ZoneInfo(time_zone)
    local = value.astimezone(zone).replace(tzinfo=None)
    at = format_time(local, "short", rebase=False)
    days = (local.date() - now.astimezone(zone).date()).days
    if days == 0:
        return _("today at %(time)s", time=at)
    if days == 1:
        return _("tomorrow at %(time)s", time=at)
    return f"{format_date(local.date(), 'full')} {at}"


def status_text(line: ChatLine, viewer: Viewer) -> str | None:
    """The new status line after an agent joins or takes over (the page updates it)."""
    if line.event in ("joined", "reassigned") and viewer == "debtor":
        return _("%(agent)s is helping you.", agent=line.payload.get("agent", ""))
    return None


def template_helpers() -> dict[str, object]:
    return {"chat_event_text": event_text, "chat_time": chat_time}
