"""A creditor's own wording of its sequence steps: save, revert to the default, and replace
the characters that force UCS-2 with their GSM-7 look-alikes.

Every save is checked like a new template: only the allowed placeholders (app.services.texts),
and the tone guard, whose findings refuse the wording unless a supervisor allowed firm tone
for the step. A refused save changes nothing; every change is audited. No Flask: the
creditor pages call these with a session and the signed-in user, and commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.models import Creditor, Sequence, Step, StepText, User
from app.models.enums import Language, StepAction
from app.services.audit import record_audit
from app.services.texts import (
    LANGUAGES,
    WordingProblem,
    check_wording,
    default_wording,
    normalise_wording,
)
from reminders.editing import may_allow_firm_tone
from reminders.segments import to_gsm
from reminders.tone import ToneFinding, check_tone


class TextRefused(DomainError):
    """The wording was not saved: `problems` with its placeholders, `findings` of the
    tone guard (refused for want of a supervisor's allowance)."""

    code = "step_text_refused"

    def __init__(
        self,
        problems: Iterable[WordingProblem] = (),
        findings: Iterable[ToneFinding] = (),
    ) -> None:
        self.problems = tuple(problems)
        self.findings = tuple(findings)
        reasons = [p.issue.value for p in self.problems]
        reasons += [f.rule for f in self.findings]
        super().__init__(", ".join(reasons))


def find_step_text(session: Session, step: Step, language: str) -> StepText | None:
    if language not in LANGUAGES:
        return None
    return session.scalar(
        select(StepText).where(
            StepText.step_id == step.id, StepText.language == Language(language)
        )
    )


def current_wording(
    step: Step, language: str, own: str | None, *, show_amount: bool
) -> str | None:
    """What the creditor edits: its own wording, else the default text as a wording."""
    if own is not None:
        return own
    return default_wording(step.template_key, language, show_amount=show_amount)


def save_step_text(
    session: Session,
    step: Step,
    language: str,
    wording: str,
    *,
    actor: User,
    now: datetime,
    request_id: str | None = None,
    allow_firm_tone: bool = False,
) -> StepText | None:
    """Save the creditor's own wording of `step` in `language`; None when it is the
    wording already in use (nothing to save).

    Whitespace is collapsed first, as it would be when sent. `allow_firm_tone` gives the
    step a supervisor's allowance for the tone guard's findings on this wording.

    :raises NotFound: no such language.
    :raises Conflict: the step is removed or sends no text.
    :raises Forbidden: an allowance by someone who may not give one.
    :raises TextRefused: the wording breaks a rule; nothing is saved.
    """
    return _save(
        session,
        step,
        language,
        wording,
        actor=actor,
        now=now,
        request_id=request_id,
        allow_firm_tone=allow_firm_tone,
        action="step_text_saved",
    )


def replace_look_alikes(
    session: Session,
    step: Step,
    language: str,
    *,
    actor: User,
    now: datetime,
    request_id: str | None = None,
) -> StepText | None:
    """Replace the characters of the step's wording that force UCS-2 and have a GSM-7
    look-alike, saving it as the creditor's own (from the default if it has none yet);
    None when there is nothing to replace.

    :raises NotFound: no such language.
    :raises Conflict: the step is removed or sends no text.
    :raises TextRefused: the wording breaks a rule; nothing is saved.
    """
    _require_text_step(step, language)
    creditor = _creditor_of(session, step)
    own = find_step_text(session, step, language)
    wording = current_wording(
        step,
        language,
        own.body if own else None,
        show_amount=creditor.show_amount_in_sms,
    )
    if wording is None or to_gsm(wording) == wording:
        return None
    return _save(
        session,
        step,
        language,
        to_gsm(wording),
        actor=actor,
        now=now,
        request_id=request_id,
        allow_firm_tone=False,
        action="step_text_replaced",
    )


def revert_step_text(
    session: Session,
    step: Step,
    language: str,
    *,
    actor: User,
    now: datetime,
    request_id: str | None = None,
) -> bool:
    """Drop the creditor's own wording: the default text is sent again. False when
    there was none.

    :raises NotFound: no such language.
    :raises Conflict: the step is removed.
    """
    _require_live(step, language)
    own = find_step_text(session, step, language)
    if own is None:
        return False
    session.delete(own)
    _audit(session, actor, "step_text_reverted", step, language, now, request_id)
    session.flush()
    return True


def _save(
    session: Session,
    step: Step,
    language: str,
    wording: str,
    *,
    actor: User,
    now: datetime,
    request_id: str | None,
    allow_firm_tone: bool,
    action: str,
) -> StepText | None:
    _require_text_step(step, language)
    if allow_firm_tone and not may_allow_firm_tone(actor):
        raise Forbidden("Only a supervisor may allow a firm tone")
    creditor = _creditor_of(session, step)
    wording = normalise_wording(wording)
    problems = check_wording(wording, show_amount=creditor.show_amount_in_sms)
    findings = check_tone(wording, language)
    own = find_step_text(session, step, language)
    show_amount = creditor.show_amount_in_sms
    in_use = current_wording(
        step, language, own.body if own else None, show_amount=show_amount
    )
    unallowed = _beyond_allowance(step, language, findings, in_use)
    if problems or (unallowed and not allow_firm_tone):
        raise TextRefused(problems, findings)
    if wording == in_use:
        return None
    if findings and allow_firm_tone:
        step.firm_tone_allowed_by_id = actor.id
    if own is None:
        own = StepText(step_id=step.id, language=Language(language))
        session.add(own)
    own.body, own.saved_by_id, own.saved_at = wording, actor.id, now
    detail = wording
    if findings:
        detail += f" (firm tone allowed by user {step.firm_tone_allowed_by_id})"
    _audit(session, actor, action, step, language, now, request_id, detail)
    session.flush()
    return own


def _beyond_allowance(
    step: Step, language: str, findings: list[ToneFinding], in_use: str | None
) -> list[ToneFinding]:
    """The firm passages a supervisor has not seen: a standing allowance covers only those
    already in the wording in use, so new firm words need a new allowance."""
    if step.firm_tone_allowed_by_id is None or in_use is None:
        return findings
    seen = {(finding.rule, finding.excerpt) for finding in check_tone(in_use, language)}
    return [f for f in findings if (f.rule, f.excerpt) not in seen]


def _require_live(step: Step, language: str) -> None:
    if language not in LANGUAGES:
        raise NotFound(f"No language {language!r}")
    if step.retired_at is not None:
        raise Conflict("A removed step cannot be changed")


def _require_text_step(step: Step, language: str) -> None:
    _require_live(step, language)
    if step.action is not StepAction.SEND:
        raise Conflict("This step sends no text: it hands the account to an agent")


def _creditor_of(session: Session, step: Step) -> Creditor:
    sequence = session.get_one(Sequence, step.sequence_id)
    return session.get_one(Creditor, sequence.creditor_id)


def _audit(
    session: Session,
    actor: User,
    action: str,
    step: Step,
    language: str,
    now: datetime,
    request_id: str | None,
    wording: str = "",
) -> None:
    record_audit(
        session,
        actor,
        action,
        object_type="step",
        object_id=step.id,
        creditor_id=_creditor_of(session, step).id,
        now=now,
        request_id=request_id,
        detail=f"{language}: {wording}" if wording else language,
    )
