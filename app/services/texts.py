"""SMS texts: Jinja2 templates per language under templates/sms/, filled for one debtor.

A creditor may word a sequence step in its own way (a StepText). Such a wording is a
restricted template, plain text with the placeholders the default step texts use and nothing
else, rendered in a sandbox; it is checked again each time it is rendered, so it can never
show the amount to a debtor whose creditor does not show amounts.
"""

from __future__ import annotations

import enum
import logging
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

from babel.dates import format_date
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import StepText
from app.models.enums import Language
from app.services.formatting import format_money

logger = logging.getLogger(__name__)

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
    return _finish(body, amounts.values())


def _finish(body: str, amounts: Collection[str | None]) -> str:
    for money in filter(None, amounts):
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


# A creditor's own wording of a step

# The placeholders the default step texts use (the amount only when the creditor shows
# amounts); tests/reminders/test_step_texts.py keeps this in step with the templates.
STEP_PLACEHOLDERS = ("first_name", "creditor", "link")
AMOUNT_PLACEHOLDER = "amount"
REQUIRED_PLACEHOLDER = "link"  # the only way to the details, the payment and a person
MAX_WORDING_LENGTH = 1000  # about seven GSM-7 segments: a text, not a letter
# Line breaks and tabs are typed by people; other control characters are pasted by
# accident, print as nothing and cannot all be stored (PostgreSQL refuses U+0000).
_TYPED_CONTROLS = frozenset("\n\r\t")
_TAG_STARTS = {
    "block_begin": "block_end",
    "raw_begin": "raw_end",
    "comment_begin": "comment_end",
    "variable_begin": "variable_end",
}


class WordingIssue(enum.StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    CONTROL_CHARACTER = "control_character"
    SYNTAX = "syntax"
    NOT_A_PLACEHOLDER = "not_a_placeholder"  # a tag, filter or expression
    UNKNOWN_PLACEHOLDER = "unknown_placeholder"
    AMOUNT_NOT_SHOWN = "amount_not_shown"
    LINK_MISSING = "link_missing"


@dataclass(frozen=True)
class WordingProblem:
    """Why a wording cannot be used; `detail` names the culprit, `line` where it is."""

    issue: WordingIssue
    detail: str = ""
    line: int | None = None


@dataclass(frozen=True)
class ChosenText:
    """A step's text as rendered for one debtor, and whose wording it is."""

    text: str
    own: bool  # the creditor's own wording, not the default template
    # Why the creditor's own wording was set aside for the default, if it was.
    set_aside: tuple[WordingProblem, ...] = ()


@cache
def _sandbox() -> SandboxedEnvironment:
    # The creditor writes these: sandboxed, plain text (SMS), and strict about names.
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def normalise_wording(wording: str) -> str:
    """The wording as it will be stored: whitespace collapsed, as rendering does anyway."""
    return " ".join(wording.split())


def check_wording(wording: str, *, show_amount: bool) -> list[WordingProblem]:
    """Everything that keeps a wording from being used; empty when it may be saved."""
    return list(_wording_problems(wording, show_amount))


@lru_cache(maxsize=512)
def _wording_problems(wording: str, show_amount: bool) -> tuple[WordingProblem, ...]:
    # Cached: every text sent in a creditor's wording is checked again as it is rendered.
    if not wording.strip():
        return (WordingProblem(WordingIssue.EMPTY),)
    if len(wording) > MAX_WORDING_LENGTH:
        return (WordingProblem(WordingIssue.TOO_LONG, str(MAX_WORDING_LENGTH)),)
    control = next((c for c in wording if _is_stray_control(c)), None)
    if control is not None:
        code = f"U+{ord(control):04X}"
        return (WordingProblem(WordingIssue.CONTROL_CHARACTER, code),)
    try:
        _sandbox().parse(wording)
    except TemplateSyntaxError as error:
        return (WordingProblem(WordingIssue.SYNTAX, error.message or "", error.lineno),)
    return _placeholder_problems(wording, show_amount)


def _placeholder_problems(
    wording: str, show_amount: bool
) -> tuple[WordingProblem, ...]:
    problems: list[WordingProblem] = []
    names: set[str | None] = set()
    for line, piece, name in _pieces(wording):
        names.add(name)
        if name is None:
            issue, detail = WordingIssue.NOT_A_PLACEHOLDER, piece
        elif name == AMOUNT_PLACEHOLDER and not show_amount:
            issue, detail = WordingIssue.AMOUNT_NOT_SHOWN, name
        elif name not in STEP_PLACEHOLDERS and name != AMOUNT_PLACEHOLDER:
            issue, detail = WordingIssue.UNKNOWN_PLACEHOLDER, name
        else:
            continue
        problems.append(WordingProblem(issue, detail, line))
    if REQUIRED_PLACEHOLDER not in names:
        problems.append(WordingProblem(WordingIssue.LINK_MISSING, REQUIRED_PLACEHOLDER))
    return tuple(dict.fromkeys(problems))


def _is_stray_control(char: str) -> bool:
    category = unicodedata.category(char)
    return (category == "Cc" and char not in _TYPED_CONTROLS) or category == "Cs"


def _pieces(wording: str) -> Iterator[tuple[int, str, str | None]]:
    """Each {{ }}, {% %} or {# #} piece of a wording: its line, its source, and the name
    in it when it is a plain placeholder such as {{ first_name }}, else None."""
    tokens = iter(_sandbox().lex(wording))
    for line, kind, value in tokens:
        end = _TAG_STARTS.get(kind)
        if end is None:
            continue  # plain text
        inside: list[tuple[str, str]] = []
        for _, inner_kind, inner_value in tokens:
            inside.append((inner_kind, inner_value))
            if inner_kind == end:
                break
        source = value + "".join(inner_value for _, inner_value in inside)
        words = [(k, v) for k, v in inside if k not in ("whitespace", end)]
        plain = kind == "variable_begin" and [k for k, _ in words] == ["name"]
        yield line, source, words[0][1] if plain else None


def default_wording(
    template_key: str, language: str, *, show_amount: bool
) -> str | None:
    """The default template as a wording a creditor can start from, or None if none.

    The placeholders stay placeholders; the template's `{% if amount %}` parts are kept
    when the creditor shows amounts and dropped otherwise, as the template would do.
    """
    source = template_source(template_key, language)
    if source is None:
        return None
    placeholders = {name: f"{{{{ {name} }}}}" for name in STEP_PLACEHOLDERS}
    if show_amount:
        placeholders[AMOUNT_PLACEHOLDER] = f"{{{{ {AMOUNT_PLACEHOLDER} }}}}"
    else:
        placeholders[AMOUNT_PLACEHOLDER] = ""
    body = (
        _environment()
        .get_template(f"{language}/{template_key}.txt")
        .render(**placeholders)
    )
    return normalise_wording(body)


def render_wording(wording: str, language: str, context: TextContext) -> str:
    """Fill a creditor's wording for one debtor, exactly as the default would be filled.

    :raises WordingRefused: the wording cannot be used with this context (for instance
        it names the amount and the context has none, as the creditor shows no amounts).
    """
    language = language if language in LANGUAGES else "en"
    amount = _money(context.amount_minor, context.currency, BABEL_LOCALE[language])
    problems = check_wording(wording, show_amount=amount is not None)
    if problems:
        raise WordingRefused(problems)
    values = {
        "first_name": context.first_name,
        "creditor": context.creditor,
        "link": context.link,
    }
    if amount is not None:
        values[AMOUNT_PLACEHOLDER] = amount
    return _finish(_compiled(wording).render(values), [amount])


@lru_cache(maxsize=512)
def _compiled(wording: str) -> Template:
    # A batch sends the same few wordings to many debtors: compile each once.
    return _sandbox().from_string(wording)


class WordingRefused(ValueError):
    """The wording cannot be used; `problems` says why."""

    def __init__(self, problems: list[WordingProblem]) -> None:
        super().__init__(", ".join(problem.issue.value for problem in problems))
        self.problems = tuple(problems)


def choose_text(
    template_key: str, language: str, context: TextContext, wording: str | None
) -> ChosenText:
    """The creditor's wording filled for the debtor when it has one that can be used
    with this context, else the default template."""
    if wording is not None:
        try:
            return ChosenText(render_wording(wording, language, context), own=True)
        except WordingRefused as refused:
            default = render_text(template_key, language, context)
            return ChosenText(default, own=False, set_aside=refused.problems)
    return ChosenText(render_text(template_key, language, context), own=False)


def find_wordings(
    session: Session, step_ids: Collection[int]
) -> dict[tuple[int, str], StepText]:
    """The creditor's own wordings of these steps, by (step id, language)."""
    if not step_ids:
        return {}
    rows = session.scalars(select(StepText).where(StepText.step_id.in_(step_ids)))
    return {(row.step_id, row.language.value): row for row in rows}


# Built once: the dispatcher looks a wording up for every text it sends.
_STEP_WORDING = select(StepText.body).where(
    StepText.step_id == bindparam("step_id"),
    StepText.language == bindparam("language"),
)


def render_step_text(
    session: Session,
    step_id: int | None,
    template_key: str,
    language: str,
    context: TextContext,
) -> str:
    """A step's text for one debtor: the creditor's own wording of the step in the
    debtor's language if it has one, else the default template.

    :raises NotFound: no such template in any language.
    """
    wording = None
    if step_id is not None and language in LANGUAGES:
        wording = session.scalar(
            _STEP_WORDING, {"step_id": step_id, "language": Language(language)}
        )
    chosen = choose_text(template_key, language, context, wording)
    if chosen.set_aside:
        logger.warning(
            "step %s (%s): own wording set aside for the default: %s",
            step_id,
            language,
            ", ".join(problem.issue.value for problem in chosen.set_aside),
        )
    return chosen.text
