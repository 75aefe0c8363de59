"""Twilio webhooks: signed, idempotent, and quick to answer."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.web.db import get_session
from app.web.extensions import csrf
from app.web.webhooks.stripe import receive_payment_event
from app.web.webhooks.twilio import handle_inbound, public_url, signature_valid
from payments.events import InvalidEvent
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
    # SmsStatus is the older name Twilio still sends beside MessageStatus (and some mocks alone).
    status = params.get("MessageStatus") or params.get("SmsStatus")
    if "MessageSid" not in params or not status:
        abort(400)
    session = get_session()
    apply_status(
        session,
        params["MessageSid"],
        status,
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


@bp.post("/stripe")
@csrf.exempt
def stripe_event() -> ResponseReturnValue:
    try:
        outcome = receive_payment_event(
            request.get_data(), request.headers.get("Stripe-Signature")
        )
    except InvalidEvent as error:
        get_session().rollback()
        return jsonify(code="invalid_event", message=str(error)), 400
    except IntegrityError:
        # The same event delivered twice at once: the other delivery applies it; Stripe
        # retries this one later and it is then recognised as a duplicate.
        get_session().rollback()
        return jsonify(code="conflict", message="delivered concurrently; retry"), 409
    return jsonify(outcome=outcome), 200
