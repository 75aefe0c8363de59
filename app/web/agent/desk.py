"""The supervisor's desk (live figures, every open chat, reassignment) and canned responses."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.chat.assignment import (
    agents_and_placements,
    served_creditor_ids,
    set_placements,
)
from app.chat.canned import PLACEHOLDERS, all_responses, get_response, save_response
from app.chat.console import desk_stats, queue_for
from app.clock import utcnow
from app.errors import DomainError, NotFound
from app.models import CannedResponse, Creditor
from app.models.enums import Language, Role
from app.services.access import visible_creditors
from app.services.audit import record_audit
from app.web.agent import forms
from app.web.agent.views import bp
from app.web.auth.login import current_staff, roles_required
from app.web.db import get_session
from app.web.i18n import error_text

OVERSEERS = (Role.SUPERVISOR, Role.ADMIN)


@bp.get("/desk")
@roles_required(*OVERSEERS)
def desk() -> ResponseReturnValue:
    db, user, now = get_session(), current_staff(), utcnow()
    return render_template(
        "agent/desk.html",
        stats=desk_stats(db, user, now=now),
        rows=queue_for(db, user, now=now),
        me=user,
        one_decimal=_one_decimal,
    )


def _one_decimal(value: float) -> str:
    """0.5 as the page's locale writes it: 0,5 in Danish and Norwegian."""
    return format_decimal(value, format="#,##0.0")


@bp.get("/canned")
@roles_required(*OVERSEERS)
def canned() -> ResponseReturnValue:
    db = get_session()
    creditors = {c.id: c.name for c in visible_creditors(db, current_staff())}
    return render_template(
        "agent/canned.html",
        responses=all_responses(db, served_creditor_ids(db, current_staff())),
        creditors=creditors,
    )


@bp.get("/canned/new")
@roles_required(*OVERSEERS)
def canned_new() -> ResponseReturnValue:
    return _canned_form(forms.CannedForm(), None)


@bp.get("/canned/<int:response_id>")
@roles_required(*OVERSEERS)
def canned_edit(response_id: int) -> ResponseReturnValue:
    response = _editable(response_id)
    form = forms.CannedForm(obj=response)
    form.language.data = response.language.value
    form.creditor_id.data = response.creditor_id or 0
    return _canned_form(form, response)


@bp.post("/canned/new")
@roles_required(*OVERSEERS)
def canned_create() -> ResponseReturnValue:
    return _canned_save(None)


@bp.post("/canned/<int:response_id>")
@roles_required(*OVERSEERS)
def canned_update(response_id: int) -> ResponseReturnValue:
    return _canned_save(_editable(response_id))


def _editable(response_id: int) -> CannedResponse:
    response = get_response(get_session(), response_id)
    served = served_creditor_ids(get_session(), current_staff())
    if (
        response.creditor_id is not None
        and served is not None
        and response.creditor_id not in served
    ):
        raise NotFound("No such canned response")
    return response


def _canned_save(response: CannedResponse | None) -> ResponseReturnValue:
    form = _with_creditors(forms.CannedForm())
    if not form.validate_on_submit():
        return _canned_form(form, response), 400
    db, now = get_session(), utcnow()
    creditor_id = form.creditor_id.data or None
    if creditor_id is not None and creditor_id not in {
        c.id for c in visible_creditors(db, current_staff())
    }:
        raise NotFound("No such creditor")
    try:
        saved = save_response(
            db,
            current_staff(),
            title=form.title.data or "",
            body=form.body.data or "",
            language=Language(form.language.data),
            creditor_id=creditor_id,
            is_active=bool(form.is_active.data),
            now=now,
            response=response,
        )
    except DomainError as error:
        db.rollback()
        form.body.errors = [*form.body.errors, error_text(error)]
        return _canned_form(form, response), 400
    record_audit(
        db,
        current_staff(),
        "chat.canned_saved",
        object_type="canned_response",
        object_id=saved.id,
        creditor_id=creditor_id,
        now=now,
    )
    db.commit()
    flash(_("The canned response is saved."), "info")
    return redirect(url_for("agent.canned"), 303)


def _with_creditors(form: forms.CannedForm) -> forms.CannedForm:
    creditors: list[Creditor] = visible_creditors(get_session(), current_staff())
    form.creditor_id.choices = [
        SelectChoice("0", _("Every creditor")),
        *(SelectChoice(str(c.id), c.name) for c in creditors),
    ]
    return form


def _canned_form(
    form: forms.CannedForm, response: CannedResponse | None
) -> ResponseReturnValue:
    return render_template(
        "agent/canned_form.html",
        form=_with_creditors(form),
        response=response,
        placeholders=", ".join("{" + name + "}" for name in PLACEHOLDERS),
    )


@bp.get("/team")
@roles_required(*OVERSEERS)
def team() -> ResponseReturnValue:
    db = get_session()
    agents, placed = agents_and_placements(db)
    return render_template(
        "agent/team.html",
        agents=agents,
        placed=placed,
        creditors=visible_creditors(db, current_staff()),
    )


@bp.post("/team")
@roles_required(*OVERSEERS)
def team_save() -> ResponseReturnValue:
    db, user = get_session(), current_staff()
    if not forms.TeamForm().validate_on_submit():
        abort(400)
    creditor_ids = {c.id for c in visible_creditors(db, user)}
    wanted = {
        (int(agent), int(creditor))
        for agent, _sep, creditor in (
            value.partition(":") for value in request.form.getlist("placed")
        )
        if agent.isdigit() and creditor.isdigit()
    }
    added, removed = set_placements(db, wanted, creditor_ids)
    record_audit(
        db,
        user,
        "chat_team.update",
        object_type="chat_team",
        object_id=None,
        creditor_id=None,
        now=utcnow(),
        detail=f"{added} placed, {removed} removed",
    )
    db.commit()
    flash(_("The team is saved."))
    return redirect(url_for("agent.team"), 303)
