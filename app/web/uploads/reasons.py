"""Row reasons in the reader's language: the dry run page and the downloaded reports.

The domain keeps each reason as a code with its values (app.ingest.reasons); it is worded
here, when shown, so a dry run checked in one language reads right in another. Amounts
follow the page's locale, countries and fields are named in its language. The REST API
does not come through here: it answers in English, with the reason's code beside it.
"""

from __future__ import annotations

from babel import Locale
from flask_babel import format_number, get_locale
from flask_babel import gettext as _

from app.ingest.importer import Wording
from app.ingest.reasons import FIELD_PHRASES, Money, Reason, Style
from app.services.formatting import format_money


def reason_text(reason: Reason) -> str:
    """The reason in the page's language."""
    return reason.words(_, _style())


def where_text(rows: tuple[int, ...] | list[int], reference: str | None) -> str:
    """Where in the file a problem is: a row, rows, or a UBL invoice's number."""
    if len(rows) == 1:
        return _("Row %(row)s", row=format_number(rows[0]))
    if rows:
        return _(
            "Rows %(first)s–%(last)s",
            first=format_number(rows[0]),
            last=format_number(rows[-1]),
        )
    if reference:
        return _("Invoice %(ref)s", ref=reference)
    return _("The document")


def report_wording() -> Wording:
    """The report's header, places and reasons in the page's language."""
    header = (_("Where"), _("Invoice number"), _("Value"), _("Reason"))
    style = _style()
    return Wording(header, where_text, lambda reason: reason.words(_, style))


def _style() -> Style:
    locale = str(get_locale() or "en")
    territories = Locale.parse(locale).territories

    def money(amount: Money) -> str:
        return format_money(amount.minor, amount.currency, locale)

    def country(code: str) -> str:
        return str(territories.get(code, code))

    def field(value: str) -> str:
        return _(FIELD_PHRASES[value])

    return Style(money, country, field, format_number)
