"""Home, health check and the language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.models.enums import Role
from app.web.db import get_session
from app.web.urls import safe_next_url

bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    # An agent's work is the chat queue; everyone else starts from the debtors.
    if current_user.user.role is Role.AGENT:
        return redirect(url_for("agent.queue"))
    return redirect(url_for("records.debtors"))


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers, 503 otherwise; never cached."""
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200, {"Cache-Control": "no-store"}


@bp.get("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """Remember the chosen language for this browser and go back where the user was."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(safe_next_url(request.args.get("next")) or url_for("main.home"))
