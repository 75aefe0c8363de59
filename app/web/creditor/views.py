"""The creditor portal's reminder pages: the sequence editor and the creditor's settings.

A creditor's users edit their own creditor; agency admins and supervisors pick the creditor
on the page (`?creditor=ID`). Every change is audited; a refused change changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
from decimal import Decimal
from typing import Any, Literal

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask import render_template as render
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from app.chat.hours import DeskChoice, desk_choice_of, save_desk
from app.clock import utcnow
from app.errors import NotFound, ValidationFailed
from app.models import Creditor, Debtor, Sequence, Step, StepText, User
from app.models.enums import (
    Channel,
    Role,
    StepAction,
    StepOffsetFrom,
    VerificationFactor,
)
from app.providers import portal_link_for
from app.services import access, audit, creditor_settings
from app.services.formatting import minor_unit_exponent
from app.services.texts import LANGUAGES
from app.web.auth.login import current_staff, roles_required
from app.web.codes import SEQUENCE_TEXT_LABELS, worded
from app.web.creditor.forms import (
    ACTION_LABELS,
    CHANNEL_LABELS,
    OFFSET_LABELS,
    ActionForm,
    DeskForm,
    SettingsForm,
    StepForm,
    StepTextForm,
    field_error,
)
from app.web.creditor.wordings import (
    TONE_LABELS,
    placeholder_hint,
    refusal_texts,
    set_aside_text,
    text_form,
    text_slots,
)
from app.web.db import get_session, writes_on_read
from app.web.i18n import LANGUAGE_NAMES
from reminders import editing, step_texts
from reminders.editing import Issue, Problem, SequenceInvalid, StepDraft
from reminders.sequences import ensure_default_sequence
from reminders.step_texts import TextRefused

bp = Blueprint("creditor", __name__, url_prefix="/creditor")

EDITORS = (Role.ADMIN, Role.SUPERVISOR, Role.CREDITOR)
PREVIEW_DEBTORS = 100  # the debtors offered for the preview, by name
SETTINGS_ERRORS = {
    "out_of_range": _l("This is outside what we accept."),
    "none_allowed": _l("Allow at least one frequency."),
    "invalid": _l("This is not valid."),
}


@bp.context_processor
def _labels() -> dict[str, object]:
    return {
        "template_label": lambda key: worded(SEQUENCE_TEXT_LABELS, key),
        "offset_label": lambda value: OFFSET_LABELS[StepOffsetFrom(value)],
        "channel_label": lambda value: CHANNEL_LABELS[Channel(value)],
        "action_label": lambda value: ACTION_LABELS[StepAction(value)],
        "tone_label": lambda rule: TONE_LABELS.get(rule, rule),
        "language_list": _language_list,
        "when_label": _when,
    }


def _when(step: Step) -> str:
    if step.offset_from is StepOffsetFrom.PREVIOUS_STEP:
        return ngettext(
            "%(num)d day after the step before",
            "%(num)d days after the step before",
            step.day_offset,
        )
    return ngettext(
        "%(num)d day after the due date",
        "%(num)d days after the due date",
        step.day_offset,
    )


# The sequence editor


@bp.get("/sequence")
@writes_on_read  # previewing a real debtor's texts is audited
@roles_required(*EDITORS)
def sequence() -> ResponseReturnValue:
    creditor = _chosen_creditor(request.args.get("creditor", type=int))
    if creditor is None:
        return _choose("creditor.sequence")
    return _sequence_page(creditor, debtor_id=request.args.get("debtor", type=int))


@bp.post("/sequence/steps")
@roles_required(*EDITORS)
def add_step() -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    creditor = _chosen_creditor(request.args.get("creditor", type=int))
    if creditor is None:
        raise NotFound("No such creditor")
    form = _step_form(staff, prefix="new")
    if not form.validate_on_submit():
        return _sequence_page(creditor, add_form=form, status=400)
    sequence = ensure_default_sequence(db, creditor, now=utcnow())
    try:
        step = editing.add_step(
            db, sequence, _draft(form), actor=staff, allow_firm_tone=_allow(form)
        )
    except SequenceInvalid as refused:
        db.rollback()
        _attach(form, refused.problems)
        return _sequence_page(
            creditor, add_form=form, problems=refused.problems, status=400
        )
    _audit(staff, "sequence_step_added", step, creditor, _describe(step))
    db.commit()
    flash(_("Step added."))
    return _back(creditor)


@bp.post("/sequence/steps/<int:step_id>")
@roles_required(*EDITORS)
def update_step(step_id: int) -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    step, creditor = _step(step_id)
    form = _step_form(staff, prefix=f"step-{step.id}")
    forms = {step.id: form}
    if not form.validate_on_submit():
        return _sequence_page(creditor, edit_forms=forms, status=400)
    allow = _allow(form) if _may_allow(staff) else None
    try:
        editing.update_step(db, step, _draft(form), actor=staff, allow_firm_tone=allow)
    except SequenceInvalid as refused:
        db.rollback()
        _attach(form, refused.problems)
        return _sequence_page(
            creditor, edit_forms=forms, problems=refused.problems, status=400
        )
    _audit(staff, "sequence_step_changed", step, creditor, _describe(step))
    db.commit()
    flash(_("Step saved."))
    return _back(creditor)


@bp.post("/sequence/steps/<int:step_id>/move")
@roles_required(*EDITORS)
def move_step(step_id: int) -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    step, creditor = _step(step_id)
    direction = request.form.get("direction")
    if not ActionForm().validate_on_submit() or direction not in ("up", "down"):
        abort(400)
    way: Literal["up", "down"] = "up" if direction == "up" else "down"
    try:
        moved = editing.move_step(db, step, way)
    except SequenceInvalid as refused:
        db.rollback()
        return _sequence_page(creditor, problems=refused.problems, status=400)
    if moved:
        _audit(staff, "sequence_step_moved", step, creditor, way)
        db.commit()
        flash(_("Step moved."))
    return _back(creditor, anchor=f"step-{step.id}")


@bp.post("/sequence/steps/<int:step_id>/remove")
@roles_required(*EDITORS)
def remove_step(step_id: int) -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    step, creditor = _step(step_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    described = _describe(step)
    try:
        removal = editing.remove_step(db, step, now=utcnow())
    except SequenceInvalid as refused:
        db.rollback()
        return _sequence_page(creditor, problems=refused.problems, status=400)
    _audit(staff, f"sequence_step_{removal.value}", step, creditor, described)
    db.commit()
    if removal is editing.Removal.RETIRED:
        flash(
            _("Step removed. The texts it already sent stay in each debtor's history.")
        )
    else:
        flash(_("Step removed."))
    return _back(creditor)


# A step's own texts


@bp.post("/sequence/steps/<int:step_id>/texts/<language>")
@roles_required(*EDITORS)
def save_text(step_id: int, language: str) -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    step, creditor = _text_step(step_id, language)
    form = text_form(staff, step, language)
    if not form.validate_on_submit():
        abort(400)
    try:
        saved = step_texts.save_step_text(
            db,
            step,
            language,
            form.wording.data or "",
            actor=staff,
            now=utcnow(),
            request_id=g.request_id,
            allow_firm_tone=_allow(form),
        )
    except TextRefused as refused:
        db.rollback()
        return _text_refused(creditor, step, language, form, refused)
    db.commit()
    flash(_("Text saved.") if saved else _("Nothing was changed."))
    return _back(creditor, anchor=f"step-{step.id}")


@bp.post("/sequence/steps/<int:step_id>/texts/<language>/revert")
@roles_required(*EDITORS)
def revert_text(step_id: int, language: str) -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    step, creditor = _text_step(step_id, language)
    if not ActionForm().validate_on_submit():
        abort(400)
    reverted = step_texts.revert_step_text(
        db, step, language, actor=staff, now=utcnow(), request_id=g.request_id
    )
    db.commit()
    flash(
        _("The default text is used again.") if reverted else _("Nothing was changed.")
    )
    return _back(creditor, anchor=f"step-{step.id}")


@bp.post("/sequence/steps/<int:step_id>/texts/<language>/gsm")
@roles_required(*EDITORS)
def replace_look_alikes(step_id: int, language: str) -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    step, creditor = _text_step(step_id, language)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        saved = step_texts.replace_look_alikes(
            db, step, language, actor=staff, now=utcnow(), request_id=g.request_id
        )
    except TextRefused as refused:
        db.rollback()
        return _text_refused(creditor, step, language, None, refused)
    db.commit()
    flash(_replaced_message(creditor, step, language, saved))
    return _back(creditor, anchor=f"step-{step.id}")


def _text_step(step_id: int, language: str) -> tuple[Step, Creditor]:
    """:raises NotFound: no such live step of the creditor, or no such language."""
    if language not in LANGUAGES:
        raise NotFound("No such language")
    return _step(step_id)


def _text_refused(
    creditor: Creditor,
    step: Step,
    language: str,
    form: StepTextForm | None,
    refused: TextRefused,
) -> ResponseReturnValue:
    """The page again with the wording and why it was refused next to it."""
    staff = current_staff()
    if form is None:
        own = step_texts.find_step_text(get_session(), step, language)
        wording = step_texts.current_wording(
            step,
            language,
            own.body if own else None,
            show_amount=creditor.show_amount_in_sms,
        )
        form = text_form(staff, step, language, wording or "")
    reasons = refusal_texts(
        refused,
        show_amount=creditor.show_amount_in_sms,
        may_allow=_may_allow(staff),
    )
    form.wording.errors = reasons
    sequence = get_session().get_one(Sequence, step.sequence_id)
    where = _(
        "Step %(number)s, %(language)s:",
        number=editing.live_steps(sequence).index(step) + 1,
        language=LANGUAGE_NAMES[language],
    )
    return _sequence_page(
        creditor,
        text_forms={(step.id, language): form},
        text_problems=[f"{where} {reason}" for reason in reasons],
        status=400,
    )


def _replaced_message(
    creditor: Creditor, step: Step, language: str, saved: StepText | None
) -> str:
    if saved is None:
        return _("This text has no characters to replace.")
    _debtors, _debtor, context = _preview_setup(creditor, None)
    shown = editing.preview(step, language, context, saved.body)
    assert shown is not None  # a step with an own wording sends a text
    return ngettext(
        "Characters replaced: the %(language)s text now needs %(num)d segment "
        "(%(encoding)s).",
        "Characters replaced: the %(language)s text now needs %(num)d segments "
        "(%(encoding)s).",
        shown.segments,
        language=LANGUAGE_NAMES[language],
        encoding=shown.encoding,
    )


def _sequence_page(
    creditor: Creditor,
    *,
    debtor_id: int | None = None,
    add_form: StepForm | None = None,
    edit_forms: Mapping[int, StepForm] | None = None,
    text_forms: Mapping[tuple[int, str], StepTextForm] | None = None,
    problems: Iterable[Problem] = (),
    text_problems: Iterable[str] = (),
    status: int = 200,
) -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    sequence = ensure_default_sequence(db, creditor, now=utcnow())
    steps = editing.live_steps(sequence)
    debtors, debtor, context = _preview_setup(creditor, debtor_id)
    if debtor is not None:
        _audit_preview(staff, debtor)
    edit_forms = dict(edit_forms or {})
    open_step = next(iter(edit_forms), None)
    for step in steps:
        if step.id not in edit_forms:
            edit_forms[step.id] = _step_form(staff, step=step)
    wordings = editing.own_wordings(db, steps)
    tone = {
        s.id: editing.tone_findings(s.template_key, wordings.get(s.id))
        for s in steps
        if s.action is StepAction.SEND
    }
    show_amount = creditor.show_amount_in_sms
    problem_texts = [*(_problem_text(p) for p in problems), *text_problems]
    page = render(
        "creditor/sequence.html",
        creditor=creditor,
        staff_picks=staff.is_agency_staff,
        creditors=access.visible_creditors(db, staff),
        steps=steps,
        days=editing.step_days(steps),
        texts=text_slots(
            steps,
            context,
            wordings,
            tone,
            text_forms or {},
            staff=staff,
            show_amount=show_amount,
        ),
        open_text=next(iter(text_forms or {}), None),
        placeholder_hint=placeholder_hint(show_amount),
        set_aside_text=lambda problems: set_aside_text(
            problems, show_amount=show_amount
        ),
        tone=tone,
        allowed_by=_allowers(steps),
        debtors=debtors,
        debtor=debtor,
        context=context,
        edit_forms=edit_forms,
        open_step=open_step,
        add_form=add_form or _step_form(staff, prefix="new", new_day=_next_day(steps)),
        problems=problem_texts,
        current=[_problem_text(p) for p in editing.validate(db, sequence)]
        if not problem_texts
        else [],
        may_allow=_may_allow(staff),
        languages=LANGUAGES,
    )
    db.commit()  # the default sequence, if new, and the audited preview
    return page, status


def _preview_setup(
    creditor: Creditor, debtor_id: int | None
) -> tuple[list[Debtor], Debtor | None, editing.PreviewContext]:
    """The debtors offered for the preview, the one chosen, and the texts' filling."""
    debtor_id = debtor_id or request.form.get("debtor", type=int)
    debtors = _preview_debtors(creditor)
    debtor = _preview_debtor(creditor, debtors, debtor_id)
    link = portal_link_for(current_app)(editing.PREVIEW_TOKEN)
    return (
        debtors,
        debtor,
        editing.preview_context(get_session(), creditor, debtor, link=link),
    )


def _step_form(
    staff: User,
    *,
    step: Step | None = None,
    prefix: str = "",
    new_day: int | None = None,
) -> StepForm:
    """The submitted form (no `step`), or one filled from a step or for a new one."""
    if step is not None:
        data = {
            "day_offset": step.day_offset,
            "offset_from": step.offset_from.value,
            "channel": step.channel.value,
            "action": step.action.value,
            "template_key": step.template_key,
            "allow_firm_tone": step.firm_tone_allowed_by_id is not None,
        }
        form = StepForm(formdata=None, prefix=f"step-{step.id}", data=data)
    elif new_day is not None:
        data = {"template_key": "reminder", "day_offset": new_day}
        form = StepForm(formdata=None, prefix=prefix, data=data)
    else:
        form = StepForm(prefix=prefix)
    if not _may_allow(staff):
        del form.allow_firm_tone
    return form


def _next_day(steps: list[Step]) -> int:
    """A sensible day for a new last step: a week after the last one."""
    days = editing.step_days(steps)
    return min(editing.MAX_DAY_OFFSET, days[-1] + 7) if days else 3


def _draft(form: StepForm) -> StepDraft:
    return StepDraft(
        day_offset=form.day_offset.data,
        template_key=form.template_key.data or "",
        offset_from=StepOffsetFrom(form.offset_from.data),
        channel=Channel(form.channel.data),
        action=StepAction(form.action.data),
    )


def _allow(form: StepForm) -> bool:
    return bool(getattr(form, "allow_firm_tone", None) and form.allow_firm_tone.data)


def _may_allow(staff: User) -> bool:
    return editing.may_allow_firm_tone(staff)


def _attach(form: StepForm, problems: Iterable[Problem]) -> None:
    """Show each problem next to the field the creditor can change to solve it."""
    for problem in problems:
        if problem.issue in (Issue.OFFSET_ORDER, Issue.OFFSET_RANGE):
            form.day_offset.errors = [*form.day_offset.errors, _problem_text(problem)]
        elif problem.issue in (Issue.TEMPLATE_MISSING, Issue.FIRM_TONE):
            form.template_key.errors = [
                *form.template_key.errors,
                _problem_text(problem),
            ]


def _problem_text(problem: Problem) -> str:
    number, languages = problem.number, _language_list(problem.languages)
    if problem.issue is Issue.NO_STEPS:
        return _("A sequence needs at least one step.")
    if problem.issue is Issue.OFFSET_RANGE:
        return _(
            "Step %(number)s: enter 0 to %(max)s days.",
            number=number,
            max=editing.MAX_DAY_OFFSET,
        )
    if problem.issue is Issue.OFFSET_ORDER:
        return _(
            "Step %(number)s would come on day %(day)s after the due date, but the step "
            "before it comes on day %(previous)s. Each step must come later than the "
            "one before.",
            number=number,
            day=problem.day,
            previous=problem.previous_day,
        )
    if problem.issue is Issue.TEMPLATE_MISSING:
        return _(
            "Step %(number)s: this text does not exist in %(languages)s.",
            number=number,
            languages=languages,
        )
    if _may_allow(current_staff()):
        return _(
            "Step %(number)s: the tone guard found firm wording (%(languages)s). Read "
            "it, and tick the box to allow it if you accept it.",
            number=number,
            languages=languages,
        )
    return _(
        "Step %(number)s: the tone guard found firm wording (%(languages)s). A "
        "supervisor must read and allow it before it can be used; choose a friendlier "
        "text or ask your contact at Venlig.",
        number=number,
        languages=languages,
    )


def _language_list(languages: Iterable[str]) -> str:
    return ", ".join(LANGUAGE_NAMES.get(code, code) for code in languages)


def _preview_debtors(creditor: Creditor) -> list[Debtor]:
    return list(
        get_session().scalars(
            select(Debtor)
            .where(Debtor.creditor_id == creditor.id)
            .order_by(Debtor.name, Debtor.id)
            .limit(PREVIEW_DEBTORS)
        )
    )


def _preview_debtor(
    creditor: Creditor, debtors: list[Debtor], wanted: int | None
) -> Debtor | None:
    """The chosen debtor of this creditor, else the first; None if it has none."""
    if wanted is not None:
        found = get_session().get(Debtor, wanted)
        if found is not None and found.creditor_id == creditor.id:
            return found
    return debtors[0] if debtors else None


def _allowers(steps: Iterable[Step]) -> dict[int, str]:
    db, names = get_session(), {}
    for step in steps:
        if step.firm_tone_allowed_by_id is not None:
            user = db.get(User, step.firm_tone_allowed_by_id)
            names[step.id] = user.name if user else "?"
    return names


def _step(step_id: int) -> tuple[Step, Creditor]:
    """:raises NotFound: no such live step, or one of another creditor."""
    db = get_session()
    step = db.get(Step, step_id)
    if step is None or step.retired_at is not None:
        raise NotFound("No such step")
    sequence = db.get_one(Sequence, step.sequence_id)
    creditor = _chosen_creditor(sequence.creditor_id)
    assert creditor is not None
    return step, creditor


def _describe(step: Step) -> str:
    allowed = " firm tone allowed" if step.firm_tone_allowed_by_id else ""
    return (
        f"day {step.day_offset} after {step.offset_from.value}, {step.channel.value}, "
        f"{step.action.value}, text {step.template_key or '-'}{allowed}"
    )


def _audit(
    staff: User, action: str, step: Step, creditor: Creditor, detail: str
) -> None:
    audit.record_audit(
        get_session(),
        staff,
        action,
        object_type="step",
        object_id=step.id,
        creditor_id=creditor.id,
        now=utcnow(),
        request_id=g.request_id,
        detail=detail,
    )


def _audit_preview(staff: User, debtor: Debtor) -> None:
    audit.record_audit(
        get_session(),
        staff,
        "viewed",
        object_type="debtor",
        object_id=debtor.id,
        creditor_id=debtor.creditor_id,
        now=utcnow(),
        request_id=g.request_id,
        detail="sequence preview",
    )


def _back(creditor: Creditor, anchor: str | None = None) -> ResponseReturnValue:
    return redirect(
        url_for(
            "creditor.sequence",
            creditor=creditor.id if current_staff().is_agency_staff else None,
            debtor=request.form.get("debtor", type=int),
            _anchor=anchor,
        )
    )


# Settings


@bp.get("/settings")
@roles_required(*EDITORS)
def settings() -> ResponseReturnValue:
    creditor = _chosen_creditor(request.args.get("creditor", type=int))
    if creditor is None:
        return _choose("creditor.settings")
    current = creditor_settings.settings_of(get_session(), creditor)
    form = SettingsForm(formdata=None, data=_settings_data(current, creditor))
    return _settings_page(creditor, form)


@bp.post("/settings")
@roles_required(*EDITORS)
def save_settings() -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    creditor = _chosen_creditor(request.args.get("creditor", type=int))
    if creditor is None:
        raise NotFound("No such creditor")
    form = SettingsForm()
    if not form.validate_on_submit():
        return _settings_page(creditor, form, 400)
    exponent = minor_unit_exponent(creditor.currency)
    minor = Decimal(form.min_instalment.data).scaleb(exponent)
    if minor != minor.to_integral_value():
        form.min_instalment.errors = [
            _("Use at most %(digits)s decimals.", digits=exponent)
        ]
        return _settings_page(creditor, form, 400)
    try:
        checked = creditor_settings.normalise_settings(
            _settings_from(form, int(minor)),
            country=creditor.country,
            minor_exponent=exponent,
        )
    except ValidationFailed as refused:
        _attach_settings_errors(form, refused.errors)
        return _settings_page(creditor, form, 400)
    changed = creditor_settings.update_settings(
        db, creditor, checked, actor=staff, now=utcnow(), request_id=g.request_id
    )
    db.commit()
    flash(_("Settings saved.") if changed else _("Nothing was changed."))
    return redirect(
        url_for(
            "creditor.settings",
            creditor=creditor.id if staff.is_agency_staff else None,
        )
    )


def _settings_page(
    creditor: Creditor, form: SettingsForm, status: int = 200
) -> ResponseReturnValue:
    staff = current_staff()
    errors = [f for f in form if f.errors]
    page = render(
        "creditor/settings.html",
        creditor=creditor,
        form=form,
        errors=errors,
        staff_picks=staff.is_agency_staff,
        creditors=access.visible_creditors(get_session(), staff),
        currency=creditor.currency,
    )
    return page, status


def _settings_data(
    current: creditor_settings.CreditorSettings, creditor: Creditor
) -> dict[str, Any]:
    exponent = minor_unit_exponent(creditor.currency)
    data: dict[str, Any] = {
        name: getattr(current, name)
        for name in current.__dataclass_fields__
        if name not in ("min_instalment_minor", "verification_factor")
    }
    data["verification_factor"] = current.verification_factor.value
    data["min_instalment"] = Decimal(current.min_instalment_minor).scaleb(-exponent)
    return data


def _settings_from(
    form: SettingsForm, min_instalment_minor: int
) -> creditor_settings.CreditorSettings:
    return creditor_settings.CreditorSettings(
        show_amount_in_sms=bool(form.show_amount_in_sms.data),
        sms_sender_name=form.sms_sender_name.data or None,
        verification_factor=VerificationFactor(form.verification_factor.data),
        support_phone=form.support_phone.data or None,
        support_email=form.support_email.data or None,
        max_instalments=form.max_instalments.data,
        min_instalment_minor=min_instalment_minor,
        first_payment_within_days=form.first_payment_within_days.data,
        allow_weekly=bool(form.allow_weekly.data),
        allow_fortnightly=bool(form.allow_fortnightly.data),
        allow_monthly=bool(form.allow_monthly.data),
        payday_day_of_month=form.payday_day_of_month.data,
        promise_max_days=form.promise_max_days.data,
        grace_moves_missed_instalment=bool(form.grace_moves_missed_instalment.data),
        breathing_space_days=form.breathing_space_days.data,
    )


def _attach_settings_errors(
    form: SettingsForm, errors: Mapping[str, list[str]]
) -> None:
    for name, codes in errors.items():
        target = "min_instalment" if name == "min_instalment_minor" else name
        message = field_error(name, codes[0]) or SETTINGS_ERRORS.get(codes[0], codes[0])
        if name == "frequencies":
            form.frequency_errors = [str(message)]
            continue
        field = form[target]
        field.errors = [*field.errors, str(message)]


# Which creditor


def _chosen_creditor(creditor_id: int | None) -> Creditor | None:
    """A creditor user's own creditor; for agency staff the one chosen, or None.

    :raises NotFound: no such creditor, or not the user's own.
    """
    staff, db = current_staff(), get_session()
    wanted = creditor_id if staff.is_agency_staff else staff.creditor_id
    if creditor_id is not None and creditor_id != wanted:
        raise NotFound("No such creditor")
    if wanted is None:
        return None
    creditor = db.get(Creditor, wanted)
    if creditor is None:
        raise NotFound("No such creditor")
    return creditor


def _choose(endpoint: str) -> ResponseReturnValue:
    creditors = access.visible_creditors(get_session(), current_staff())
    return render("creditor/choose.html", creditors=creditors, endpoint=endpoint)


@bp.get("/desk")
@roles_required(*EDITORS)
def desk() -> ResponseReturnValue:
    creditor = _chosen_creditor(request.args.get("creditor", type=int))
    if creditor is None:
        return _choose("creditor.desk")
    current = desk_choice_of(get_session(), creditor)
    form = DeskForm(
        formdata=None,
        data={
            "opens": time(*divmod(current.opens_minute, 60)),
            # 24:00 is shown as 23:59, the last minute a time field can hold.
            "closes": time(*divmod(min(current.closes_minute, 24 * 60 - 1), 60)),
            "closed_on_holidays": current.closed_on_holidays,
            "target_wait_minutes": current.target_wait_minutes,
            **{f"day_{n}": n in current.weekdays for n in range(7)},
        },
    )
    return _desk_page(creditor, form)


@bp.post("/desk")
@roles_required(*EDITORS)
def save_desk_hours() -> ResponseReturnValue:
    creditor = _chosen_creditor(request.args.get("creditor", type=int))
    if creditor is None:
        raise NotFound("No such creditor")
    form = DeskForm()
    if (
        not form.validate_on_submit()
        or form.opens.data is None
        or form.closes.data is None
    ):
        return _desk_page(creditor, form, 400)
    choice = DeskChoice(
        opens_minute=form.opens.data.hour * 60 + form.opens.data.minute,
        closes_minute=form.closes.data.hour * 60 + form.closes.data.minute,
        weekdays=frozenset(n for n, day in enumerate(form.days()) if day.data),
        closed_on_holidays=bool(form.closed_on_holidays.data),
        target_wait_minutes=int(form.target_wait_minutes.data or 0),
    )
    db = get_session()
    try:
        save_desk(db, creditor, choice)
    except ValidationFailed as refused:
        db.rollback()
        form.closes.errors = [str(refused)]
        return _desk_page(creditor, form, 400)
    audit.record_audit(
        db,
        current_staff(),
        "chat_desk.update",
        object_type="creditor",
        object_id=creditor.id,
        creditor_id=creditor.id,
        now=utcnow(),
        request_id=g.request_id,
        detail=f"{form.opens.data:%H:%M}-{form.closes.data:%H:%M} days "
        f"{''.join(str(d) for d in sorted(choice.weekdays))} target {choice.target_wait_minutes}",
    )
    db.commit()
    flash(_("Chat hours saved."))
    picked = creditor.id if current_staff().is_agency_staff else None
    return redirect(url_for("creditor.desk", creditor=picked), 303)


def _desk_page(
    creditor: Creditor, form: DeskForm, status: int = 200
) -> ResponseReturnValue:
    return render(
        "creditor/desk.html",
        creditor=creditor,
        form=form,
        staff_picks=current_staff().is_agency_staff,
    ), status
