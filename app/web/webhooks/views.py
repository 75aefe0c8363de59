"""Twilio webhooks: signed, idempotent, and quick to answer."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask.typing import ResponseReturnValue

from app.clock import utcnow
from app.web.db import get_session
from app.web.extensions import csrf
from app.web.webhooks.twilio import handle_inbound, public_url, signature_valid
from reminders.status import apply_status

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _verified_form() -> dict[str, str]:
    params = request.form.to_dict()
    url = public_url(request.path, request.query_string.decode())
    if not signature_valid(url, params, request.headers.get("X-Twilio-Signature", "")):
        abort(403)
    return params


@bp.post("/twilio/status")
@csrf.exempt
def twilio_status() -> ResponseReturnValue:
    params = _verified_form()
    if "MessageSid" not in params or "MessageStatus" not in params:
        abort(400)
    session = get_session()
    apply_status(
        session,
        params["MessageSid"],
        params["MessageStatus"],
        error_code=params.get("ErrorCode") or None,
        now=utcnow(),
    )
    session.commit()
    return "", 204


@bp.post("/twilio/inbound")
@csrf.exempt
def twilio_inbound() -> ResponseReturnValue:
    params = _verified_form()
    if "MessageSid" not in params or "From" not in params:
        abort(400)
    return handle_inbound(params), 200, {"Content-Type": "text/xml"}
