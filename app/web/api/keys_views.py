"""Staff pages for API keys: a creditor's users (and agency admins) make, see and revoke them.

A new key is shown once, on the page that answers the form; only its hash is kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.clock import utcnow
from app.errors import NotFound
from app.models import Creditor, User
from app.models.enums import Role
from app.services import access, api_keys, audit
from app.web.auth.login import current_staff, roles_required
from app.web.db import get_session

bp = Blueprint("api_keys", __name__)
KEY_ROLES = (Role.ADMIN, Role.CREDITOR)


class NewKeyForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=api_keys.MAX_NAME)],
        description=_l("Say where the key is used, e.g. “Bookkeeping sync”."),
    )


@bp.get("/api-keys")
@roles_required(*KEY_ROLES)
def choose() -> ResponseReturnValue:
    """A creditor's user goes to their keys; an admin picks the creditor first."""
    staff = current_staff()
    if staff.creditor_id is not None:
        return redirect(url_for("api_keys.index", creditor_id=staff.creditor_id))
    creditors = access.visible_creditors(get_session(), staff)
    return render_template("api_keys/choose.html", creditors=creditors)


@bp.get("/creditors/<int:creditor_id>/api-keys")
@roles_required(*KEY_ROLES)
def index(creditor_id: int) -> ResponseReturnValue:
    creditor = _creditor(current_staff(), creditor_id)
    return _index(creditor, NewKeyForm())


@bp.post("/creditors/<int:creditor_id>/api-keys")
@roles_required(*KEY_ROLES)
def create(creditor_id: int) -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    creditor = _creditor(staff, creditor_id)
    form = NewKeyForm()
    if not form.validate_on_submit():
        return _index(creditor, form), 400
    made = api_keys.create_key(
        db, creditor, form.name.data or "", created_by=staff, now=utcnow()
    )
    _audit(staff, "api_key_created", made.key.id, creditor.id, made.key.name)
    db.commit()
    page = render_template("api_keys/created.html", creditor=creditor, made=made)
    # The key is on this page only: never cached, never stored.
    return page, 201, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.post("/creditors/<int:creditor_id>/api-keys/<int:key_id>/revoke")
@roles_required(*KEY_ROLES)
def revoke(creditor_id: int, key_id: int) -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    creditor = _creditor(staff, creditor_id)
    key = api_keys.revoke_key(db, creditor, key_id, now=utcnow())
    _audit(staff, "api_key_revoked", key.id, creditor.id, key.name)
    db.commit()
    flash(
        _("The key “%(name)s” is revoked and no longer works.", name=key.name), "info"
    )
    return redirect(url_for("api_keys.index", creditor_id=creditor.id))


def _index(creditor: Creditor, form: NewKeyForm) -> str:
    keys = api_keys.list_keys(get_session(), creditor)
    return render_template(
        "api_keys/index.html", creditor=creditor, keys=keys, form=form
    )


def _creditor(staff: User, creditor_id: int) -> Creditor:
    """:raises NotFound: no such creditor, or not the staff user's own."""
    creditor = get_session().get(Creditor, creditor_id)
    if creditor is None or staff.creditor_id not in (None, creditor.id):
        raise NotFound("No such creditor")
    return creditor


def _audit(staff: User, action: str, key_id: int, creditor_id: int, name: str) -> None:
    audit.record_audit(
        get_session(),
        staff,
        action,
        object_type="api_key",
        object_id=key_id,
        creditor_id=creditor_id,
        now=utcnow(),
        request_id=g.request_id,
        detail=name,
    )
