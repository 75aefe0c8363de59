"""The sequence editor's texts: each step's wording per language, its form, and the words
that explain a refused wording, a tone finding or a wording set aside."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields.core import Label

from app.models import Step, User
from app.models.enums import StepAction
from app.services.texts import (
    AMOUNT_PLACEHOLDER,
    LANGUAGES,
    REQUIRED_PLACEHOLDER,
    STEP_PLACEHOLDERS,
    WordingIssue,
    WordingProblem,
)
from app.web.creditor.forms import StepTextForm
from app.web.i18n import LANGUAGE_NAMES
from reminders import editing
from reminders.editing import Preview, PreviewContext
from reminders.segments import gsm_replacements
from reminders.step_texts import TextRefused, current_wording
from reminders.tone import ToneFinding

TONE_LABELS = {
    "all-caps": _l("Capitals read as shouting; write the words in normal case."),
    "exclamation": _l("Repeated ! or ?! reads as alarm; use one ! at most."),
    "threat": _l(
        "Naming courts, bailiffs, police or legal steps reads as a threat; "
        "link to the facts instead."
    ),
    "consequence": _l(
        "“We will” plus a consequence reads as a threat; say neutrally what may "
        "happen and by when."
    ),
    "pressure": _l(
        "Pressure to act at once makes people stop reading; give a date and the "
        "options instead."
    ),
    "shaming": _l(
        "Judging the reader makes people stop engaging; describe the debt, not the "
        "person."
    ),
    "exposure": _l(
        "Mentioning visits or the reader's home, work, family or neighbours reads as "
        "a threat to expose them; keep to the debt and the options."
    ),
    "register": _l(
        "Naming bad-debtor registers or harm to a credit rating reads as a threat; "
        "say neutrally what may happen and by when."
    ),
}


@dataclass(frozen=True)
class TextSlot:
    """One step's text in one language, as the editor shows and edits it."""

    language: str
    preview: Preview | None
    form: StepTextForm
    own: bool  # the creditor has its own wording in this language
    replaceable: bool  # the wording has characters with a GSM-7 look-alike
    findings: tuple[ToneFinding, ...]


def text_slots(
    steps: Iterable[Step],
    context: PreviewContext,
    wordings: Mapping[int, Mapping[str, str]],
    tone: Mapping[int, Mapping[str, list[ToneFinding]]],
    submitted: Mapping[tuple[int, str], StepTextForm],
    *,
    staff: User,
    show_amount: bool,
) -> dict[int, list[TextSlot]]:
    """Each sending step's texts in every language, with the form to change each."""
    slots: dict[int, list[TextSlot]] = {}
    for step in steps:
        if step.action is not StepAction.SEND:
            continue
        own = wordings.get(step.id, {})
        slots[step.id] = []
        for language in LANGUAGES:
            wording = current_wording(
                step, language, own.get(language), show_amount=show_amount
            )
            form = submitted.get((step.id, language)) or text_form(
                staff, step, language, wording
            )
            slots[step.id].append(
                TextSlot(
                    language=language,
                    preview=editing.preview(step, language, context, own.get(language)),
                    form=form,
                    own=language in own,
                    replaceable=bool(wording and gsm_replacements(wording)),
                    findings=tuple(tone.get(step.id, {}).get(language, [])),
                )
            )
    return slots


def text_form(
    staff: User, step: Step, language: str, wording: str | None = None
) -> StepTextForm:
    """The submitted form (no `wording`), or one filled with the wording in use."""
    prefix = f"text-{step.id}-{language}"
    if wording is None:
        form = StepTextForm(prefix=prefix)
    else:
        form = StepTextForm(formdata=None, prefix=prefix, data={"wording": wording})
    form.wording.label = Label(
        form.wording.id,
        _("Your text (%(language)s)", language=LANGUAGE_NAMES[language]),
    )
    if not editing.may_allow_firm_tone(staff):
        del form.allow_firm_tone
    return form


def placeholder_hint(show_amount: bool) -> str:
    return _(
        "You can use %(names)s; %(link)s is required. Each becomes the debtor's own "
        "details when the text is sent.",
        names=_placeholder_list(show_amount),
        link=_placeholder(REQUIRED_PLACEHOLDER),
    )


def refusal_texts(
    refused: TextRefused, *, show_amount: bool, may_allow: bool
) -> list[str]:
    """Why a wording was refused, in the editor's words."""
    texts = [wording_problem_text(p, show_amount=show_amount) for p in refused.problems]
    if refused.findings:
        if may_allow:
            texts.append(
                _(
                    "The tone guard found firm wording. Rewrite it, or tick the box to "
                    "allow it if you accept it."
                )
            )
        else:
            texts.append(
                _(
                    "The tone guard found firm wording. Rewrite it: a supervisor must "
                    "allow firm tone for this step before such a text can be used."
                )
            )
        texts.extend(finding_text(finding) for finding in refused.findings)
    return texts


def finding_text(finding: ToneFinding) -> str:
    return _(
        "“%(excerpt)s”: %(advice)s",
        excerpt=finding.excerpt,
        advice=TONE_LABELS.get(finding.rule, finding.rule),
    )


def wording_problem_text(problem: WordingProblem, *, show_amount: bool) -> str:
    issue, detail = problem.issue, problem.detail
    if issue is WordingIssue.EMPTY:
        return _("Write the text: it cannot be empty.")
    if issue is WordingIssue.TOO_LONG:
        return _("Use at most %(max)s characters.", max=detail)
    if issue is WordingIssue.CONTROL_CHARACTER:
        return _(
            "The text contains an invisible control character (%(char)s). Remove it, "
            "for instance by typing that part again instead of pasting it.",
            char=detail,
        )
    if issue is WordingIssue.SYNTAX:
        return _(
            "Line %(line)s: a placeholder is not written correctly (%(error)s). Write "
            "placeholders like %(example)s.",
            line=problem.line,
            error=detail,
            example=_placeholder(STEP_PLACEHOLDERS[0]),
        )
    if issue is WordingIssue.NOT_A_PLACEHOLDER:
        return _(
            "%(piece)s is not allowed: use only plain placeholders like %(example)s, "
            "without tags, filters or calculations.",
            piece=detail,
            example=_placeholder(STEP_PLACEHOLDERS[0]),
        )
    if issue is WordingIssue.UNKNOWN_PLACEHOLDER:
        return _(
            "%(placeholder)s is not a placeholder you can use. You can use %(names)s.",
            placeholder=_placeholder(detail),
            names=_placeholder_list(show_amount),
        )
    if issue is WordingIssue.AMOUNT_NOT_SHOWN:
        return _(
            "%(amount)s can only be used when your texts show the amount owed; you can "
            "change that in the settings.",
            amount=_placeholder(AMOUNT_PLACEHOLDER),
        )
    return _(
        "The text must contain %(link)s: it is how the debtor sees the details, pays "
        "or reaches a person.",
        link=_placeholder(REQUIRED_PLACEHOLDER),
    )


def set_aside_text(problems: Iterable[WordingProblem], *, show_amount: bool) -> str:
    reasons = " ".join(
        wording_problem_text(p, show_amount=show_amount) for p in problems
    )
    return _(
        "Your own text cannot be used for this debtor now, so the default text is "
        "sent: %(reasons)s",
        reasons=reasons,
    )


def _placeholder(name: str) -> str:
    return "{{ " + name + " }}"


def _placeholder_list(show_amount: bool) -> str:
    names = [*STEP_PLACEHOLDERS, *([AMOUNT_PLACEHOLDER] if show_amount else [])]
    return ", ".join(_placeholder(name) for name in names)
