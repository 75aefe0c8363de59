"""Sign-in starts a fresh session (no fixation); sign-out invalidates the login everywhere."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.clock import utcnow
from app.services.users import authenticate, sign_out_everywhere
from app.web.auth.forms import LoginForm
from app.web.auth.login import StaffLogin, current_staff
from app.web.db import get_session
from app.web.extensions import limiter
from app.web.urls import safe_next_url

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.get("/login")
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return render_template("auth/login.html", form=LoginForm())


@bp.post("/login")
@limiter.limit(_login_limit, methods=["POST"])
def login_submit() -> ResponseReturnValue:
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400
    db = get_session()
    user = authenticate(
        db, form.email.data or "", form.password.data or "", now=utcnow()
    )
    if user is None:
        flash(_("That e-mail and password do not match an active account."), "error")
        return render_template("auth/login.html", form=form), 401
    db.commit()
    next_url = safe_next_url(request.args.get("next"))
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    login_user(StaffLogin(user))
    return redirect(next_url or url_for("main.home"))


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    sign_out_everywhere(current_staff())
    get_session().commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
