"""Which language a page is shown in, and locale-aware formatting for templates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from flask import Flask, current_app, request, session
from flask_babel import format_date, format_datetime, get_locale, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app.errors import DomainError
from app.services.formatting import format_money

LANGUAGE_NAMES = {"en": "English", "da": "Dansk", "nb": "Norsk bokmål"}
STATUS_LABELS = {
    "open": _l("Open"),
    "promised": _l("Promised"),
    "plan": _l("On a plan"),
    "paid": _l("Paid"),
    "disputed": _l("Disputed"),
    "paused": _l("Paused"),
    "closed": _l("Closed"),
}
LEDGER_LABELS = {
    "charge": _l("Invoice amount"),
    "fee": _l("Fee"),
    "refund": _l("Refund"),
    "payment": _l("Payment"),
    "credit": _l("Credit"),
}

# The same statuses, as the debtor should read them.
PORTAL_STATUS_LABELS = {
    "open": _l("Waiting for payment"),
    "promised": _l("You chose a date to pay"),
    "plan": _l("On an instalment plan"),
    "paid": _l("Paid, thank you"),
    "disputed": _l("Being looked at"),
    "paused": _l("Paused"),
}
INSTALMENT_LABELS = {
    "scheduled": _l("Planned"),
    "processing": _l("Being paid"),
    "paid": _l("Paid"),
    "requires_action": _l("Needs your confirmation"),
    "failed": _l("Not paid yet"),
    "missed": _l("Missed"),
    "moved": _l("Moved to the end"),
}
HAPPENING_LABELS = {
    "reminder": _l("Reminder sent"),
    "charge": _l("Invoice"),
    "fee": _l("Fee"),
    "refund": _l("Refund"),
    "payment": _l("Payment received"),
    "credit": _l("Credit"),
}

RISK_CATEGORY_LABELS = {
    "cease_contact": _l("Asked us to stop contact"),
    "dispute_not_owed": _l("Says the debt is not theirs"),
    "dispute_amount": _l("Disputes the amount"),
    "dispute_quality": _l("Unhappy with goods or service"),
    "dispute_other": _l("Dispute, other reason"),
    "already_paid": _l("Says it is already paid"),
    "legal_threat": _l("Lawyer or court"),
    "regulator": _l("Complaint to an authority"),
    "harassment_claim": _l("Feels harassed"),
    "hardship": _l("Financial hardship"),
    "vulnerability": _l("Vulnerable situation"),
    "bankruptcy": _l("Bankruptcy or debt relief"),
    "deceased": _l("Debtor has died"),
    "wrong_person": _l("Wrong person"),
    "wrong_number": _l("Wrong number"),
    "abusive_language": _l("Abusive language"),
    "public_complaint": _l("Public complaint"),
    "chargeback": _l("Card payment disputed"),
    "stop_after_start": _l("STOP again after START"),
    "no_reaction": _l("No reaction to three reminders"),
    "deferred_repeatedly": _l("Held back by quiet hours again and again"),
    "frequency_cap_hit": _l("Would have broken the frequency cap"),
    "instalments_failing": _l("Instalments keep failing"),
}
SEVERITY_LABELS = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}
SIGNAL_STATUS_LABELS = {
    "open": _l("waiting for review"),
    "confirmed": _l("confirmed"),
    "dismissed": _l("dismissed as a false alarm"),
    "resolved": _l("resolved"),
}


def select_locale() -> str:
    """The language chosen on the page, else the staff user's, else the browser's."""
    offered: list[str] = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in offered:
        return str(chosen)
    if current_user.is_authenticated and current_user.user.language in offered:
        return str(current_user.user.language)
    return request.accept_languages.best_match(offered) or offered[0]


def error_text(error: DomainError) -> str:
    """Why a use case was refused, in the reader's language when the domain marked it so."""
    return str(get_translations().ugettext(error.message))


def money(amount_minor: int, currency: str) -> str:
    """Format minor units in the page's locale."""
    return format_money(amount_minor, currency, str(get_locale() or "en"))


def phone_link(e164: str | None) -> Markup:
    """A tappable, readable phone number: <a href="tel:+4570201030">+45 70 20 10 30</a>."""
    if not e164:
        return Markup("")
    return Markup('<a href="tel:{}">{}</a>').format(e164, readable_phone(e164))


def readable_phone(address: str) -> str:
    """+4570201030 as +45 70 20 10 30; anything that is not a phone number as it is."""
    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException:
        return address
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def local_datetime(value: datetime | None, tz_name: str | None = None) -> str:
    if value is None:
        return ""
    if tz_name:
        value = value.astimezone(ZoneInfo(tz_name))
        return format_datetime(value.replace(tzinfo=None), "medium", rebase=False)
    return format_datetime(value, "medium")


def local_day(value: datetime | None, tz_name: str) -> str:
    """The day `value` falls on in the time zone, as a date: for debtors, who need no seconds."""
    return local_date(value.astimezone(ZoneInfo(tz_name)).date()) if value else ""


def local_date(value: date | None) -> str:
    return format_date(value, "medium") if value else ""


def short_date(value: date | None) -> str:
    """Numeric, for narrow table columns: 23.11.2026 in Danish."""
    return format_date(value, "short") if value else ""


def register_i18n(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money,
        local_datetime=local_datetime,
        local_date=local_date,
        local_day=local_day,
        short_date=short_date,
        phone_link=phone_link,
    )
    app.context_processor(_page_translations)
    app.jinja_env.globals.update(
        _=page_gettext,
        gettext=page_gettext,
        ngettext=page_ngettext,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        get_locale=get_locale,
        status_label=lambda status: STATUS_LABELS.get(str(status), str(status)),
        ledger_label=lambda kind: LEDGER_LABELS.get(str(kind), str(kind)),
        portal_status=lambda status: _label(PORTAL_STATUS_LABELS, status),
        instalment_label=lambda status: _label(INSTALMENT_LABELS, status),
        happening_label=lambda kind: _label(HAPPENING_LABELS, kind),
        risk_category=lambda category: _label(RISK_CATEGORY_LABELS, category),
        severity_label=lambda severity: _label(SEVERITY_LABELS, severity),
        signal_status=lambda status: _label(SIGNAL_STATUS_LABELS, status),
    )


# The page's translations, looked up once per rendered page instead of once per string: a
# page has dozens of strings, and each Flask-Babel lookup walks the request context anew.
_PAGE_TRANSLATIONS = "_page_translations"


def _page_translations() -> dict[str, Any]:
    return {_PAGE_TRANSLATIONS: get_translations()}


def _translations(context: Context) -> Any:
    return context.get(_PAGE_TRANSLATIONS) or get_translations()


def _as_template_text(context: Context, text: str, variables: dict[str, Any]) -> str:
    # As Jinja's "newstyle" gettext: the catalog's text is trusted like template text (it is
    # ours), the values are escaped, and it is always %-formatted.
    shown = Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704
    return shown % variables


@pass_context
def page_gettext(context: Context, message: str, /, **variables: Any) -> str:
    return _as_template_text(
        context, _translations(context).ugettext(message), variables
    )


@pass_context
def page_ngettext(
    context: Context, singular: str, plural: str, count: int, /, **variables: Any
) -> str:
    variables.setdefault("num", count)
    text = _translations(context).ungettext(singular, plural, count)
    return _as_template_text(context, text, variables)


def _label(labels: dict[str, Any], key: object) -> str:
    value = getattr(key, "value", key)
    return str(labels.get(str(value), value))
