"""Dev phone pages; replies go through the signed Twilio inbound path like a real SMS."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from app.models import Account, Creditor, Debtor
from app.models.enums import VerificationFactor
from app.services.portal_links import factor_for
from app.web.db import get_session
from app.web.webhooks.twilio import handle_inbound, public_url, sign, signature_valid
from reminders.history import phone_thread, phones

bp = Blueprint("devphone", __name__, url_prefix="/dev/phone")

DEV_NUMBER = "+4570000000"


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("devphone/index.html", phones=phones(get_session()))


@bp.get("/<int:debtor_id>")
def thread(debtor_id: int) -> ResponseReturnValue:
    debtor = _debtor(debtor_id)
    entries = phone_thread(get_session(), debtor.phone_e164 or "")
    return render_template(
        "devphone/thread.html",
        debtor=debtor,
        entries=entries,
        answer=_verification_answer(debtor),
    )


def _verification_answer(debtor: Debtor) -> str:
    """What the demo debtor would type to open their link (a development aid only)."""
    creditor = get_session().get(Creditor, debtor.creditor_id)
    assert creditor is not None
    factor = factor_for(creditor, debtor)
    if factor is VerificationFactor.BIRTH_DATE and debtor.birth_date:
        return debtor.birth_date.strftime("%d-%m-%Y")
    if factor is VerificationFactor.POSTCODE:
        return debtor.postcode or ""
    references = get_session().scalars(
        select(Account.external_reference).where(Account.debtor_id == debtor.id)
    )
    return next(iter(references), "")


@bp.post("/<int:debtor_id>/reply")
def reply(debtor_id: int) -> ResponseReturnValue:
    debtor = _debtor(debtor_id)
    body = request.form.get("body", "").strip()[:1600]
    if body:
        params = {
            "From": debtor.phone_e164 or "",
            "To": DEV_NUMBER,
            "Body": body,
            "MessageSid": f"SMdev{secrets.token_hex(15)}",
        }
        url = public_url(url_for("webhooks.twilio_inbound"))
        # Signed and checked exactly as Twilio's request would be.
        if not signature_valid(url, params, sign(url, params)):
            abort(403)
        handle_inbound(params)
    return redirect(url_for("devphone.thread", debtor_id=debtor.id))


def _debtor(debtor_id: int) -> Debtor:
    debtor = get_session().get(Debtor, debtor_id)
    if debtor is None or not debtor.phone_e164:
        abort(404)
    return debtor
