"""SMS texts: Jinja2 templates per language under templates/sms/, filled for one debtor."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from app.errors import NotFound
from app.services.formatting import format_money

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "sms"
LANGUAGES = ("da", "nb", "en")
BABEL_LOCALE = {"da": "da_DK", "nb": "nb_NO", "en": "en_GB"}


@dataclass(frozen=True)
class TextContext:
    """Everything a text may say. The amount is only set when the creditor opted in."""

    first_name: str
    creditor: str
    link: str
    support_phone: str = ""
    amount_minor: int | None = None
    currency: str | None = None


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
    amount = None
    if context.amount_minor is not None and context.currency:
        amount = format_money(
            context.amount_minor, context.currency, BABEL_LOCALE[language]
        )
    try:
        template = _environment().get_template(f"{language}/{template_key}.txt")
    except TemplateNotFound as error:
        raise NotFound(f"No SMS text {template_key!r}") from error
    body = template.render(
        first_name=context.first_name,
        creditor=context.creditor,
        link=context.link,
        support_phone=context.support_phone,
        amount=amount,
    )
    return " ".join(body.split())


def template_keys() -> list[str]:
    return sorted(p.stem for p in (TEMPLATES / "en").glob("*.txt"))
