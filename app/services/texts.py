"""SMS texts: Jinja2 templates per language under templates/sms/, filled for one debtor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from babel.dates import format_date
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from app.errors import NotFound
from app.services.formatting import format_money

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "sms"
LANGUAGES = ("da", "nb", "en")
BABEL_LOCALE = {"da": "da_DK", "nb": "nb_NO", "en": "en_GB"}


@dataclass(frozen=True)
class TextContext:
    """Everything a text may say. The balance is only set when the creditor opted in.

    `paid_minor` (a receipt) and `on_date` (a promise or an instalment) are the debtor's own
    actions, so they may be named in any text about them.
    """

    first_name: str
    creditor: str
    link: str
    support_phone: str = ""
    amount_minor: int | None = None
    currency: str | None = None
    paid_minor: int | None = None
    on_date: date | None = None


@cache
def _environment() -> Environment:
    # SMS is plain text (no HTML escaping), and a placeholder left unfilled is an error.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
    )


def render_text(template_key: str, language: str, context: TextContext) -> str:
    """Render `template_key` in `language` (falling back to English) for one debtor.

    :raises NotFound: no such template in any language.
    """
    language = language if language in LANGUAGES else "en"
    locale = BABEL_LOCALE[language]
    try:
        template = _environment().get_template(f"{language}/{template_key}.txt")
    except TemplateNotFound as error:
        raise NotFound(f"No SMS text {template_key!r}") from error
    amounts = {
        "amount": _money(context.amount_minor, context.currency, locale),
        "paid": _money(context.paid_minor, context.currency, locale),
    }
    body = template.render(
        first_name=context.first_name,
        creditor=context.creditor,
        link=context.link,
        support_phone=context.support_phone,
        date=format_date(context.on_date, "long", locale=locale)
        if context.on_date
        else None,
        **amounts,
    )
    for money in filter(None, amounts.values()):
        # "1.250,00 kr." ends a sentence by itself: no second full stop.
        if money.endswith("."):
            body = body.replace(f"{money}.", money)
    return " ".join(body.split())


def _money(amount_minor: int | None, currency: str | None, locale: str) -> str | None:
    if amount_minor is None or not currency:
        return None
    return format_money(amount_minor, currency, locale)


def template_keys() -> list[str]:
    return sorted(p.stem for p in (TEMPLATES / "en").glob("*.txt"))


def template_source(template_key: str, language: str) -> str | None:
    """The unrendered text of `template_key` in `language`, or None when it has none."""
    if language not in LANGUAGES or not template_key.isidentifier():
        return None
    path = TEMPLATES / language / f"{template_key}.txt"
    return path.read_text(encoding="utf-8") if path.is_file() else None
