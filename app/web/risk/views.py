"""The supervisor's risk queue, the weekly rates and each account's complaint file."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _

from app.clock import utcnow
from app.errors import Conflict, NotFound
from app.models import Creditor
from app.models.enums import Role, SignalStatus
from app.risk.complaint_file import complaint_file, complaint_file_csv
from app.risk.complaint_pdf import FileHeader, PdfWords, complaint_file_pdf
from app.risk.queue import (
    QueueFilter,
    Review,
    categories_in_use,
    review_signal,
    risk_queue,
    weekly_rates,
)
from app.services import access, audit
from app.web.auth.login import current_staff, roles_required
from app.web.codes import COMPLAINT_FILE_WORDS, entry_detail, entry_facts
from app.web.db import get_session, writes_on_read
from app.web.urls import safe_next_url

bp = Blueprint("risk", __name__, url_prefix="/risk")

REVIEWERS = (Role.SUPERVISOR, Role.ADMIN)


def _creditor_ids() -> tuple[int, ...]:
    return tuple(c.id for c in access.visible_creditors(get_session(), current_staff()))


@bp.get("/")
@roles_required(*REVIEWERS)
def queue() -> ResponseReturnValue:
    show_closed = request.args.get("show") == "all"
    wanted = QueueFilter(
        creditor_ids=_creditor_ids(),
        category=request.args.get("category") or None,
        creditor_id=request.args.get("creditor", type=int),
        statuses=tuple(SignalStatus) if show_closed else QueueFilter.statuses,
    )
    db = get_session()
    return render_template(
        "risk/queue.html",
        rows=risk_queue(db, wanted, page=request.args.get("page", 1, type=int) or 1),
        wanted=wanted,
        show_closed=show_closed,
        categories=categories_in_use(db),
        creditors=access.visible_creditors(db, current_staff()),
    )


@bp.post("/<int:signal_id>/review")
@roles_required(*REVIEWERS)
def review(signal_id: int) -> ResponseReturnValue:
    try:
        decision = Review(request.form.get("decision", ""))
    except ValueError:
        abort(400)
    db = get_session()
    try:
        review_signal(
            db,
            signal_id,
            decision,
            current_staff(),
            _creditor_ids(),
            note=request.form.get("note", "")[:500],
            now=utcnow(),
        )
    except NotFound:
        abort(404)
    except Conflict:
        db.rollback()
        flash(_("Someone has already reviewed this signal."), "error")
        return redirect(url_for("risk.queue"), 303)
    db.commit()
    flash(_("Review saved."), "info")
    return redirect(
        safe_next_url(request.form.get("back")) or url_for("risk.queue"), 303
    )


@bp.get("/rates")
@roles_required(*REVIEWERS)
def rates() -> ResponseReturnValue:
    rows = weekly_rates(get_session(), _creditor_ids(), today=utcnow().date())
    peak = max((row.per_thousand for row in rows), default=0.0) or 1.0
    return render_template(
        "risk/rates.html", rows=rows, peak=peak, one_decimal=_one_decimal
    )


def _one_decimal(value: float) -> str:
    """235.3 as the page's locale writes it: 235,3 in Danish and Norwegian."""
    return format_decimal(value, format="#,##0.0")


@bp.get("/accounts/<int:account_id>/file")
@writes_on_read  # opening the file is audited
@roles_required(*REVIEWERS)
def account_file(account_id: int) -> ResponseReturnValue:
    wanted = request.args.get("format", "page")
    if wanted not in ("page", "csv", "pdf"):
        abort(400, description=_("The complaint file comes as a page, CSV or PDF."))
    db, staff = get_session(), current_staff()
    account = access.get_account_for_user(db, staff, account_id)
    debtor = access.get_debtor_for_user(db, staff, account.debtor_id)
    entries = complaint_file(db, account)
    now = utcnow()
    _audit(account.id, account.creditor_id, _AUDIT_ACTIONS[wanted])
    if wanted == "page":
        return render_template(
            "risk/file.html", account=account, debtor=debtor, entries=entries
        )
    filename = f"complaint-file-{_filename_safe(account.external_reference)}"
    if wanted == "csv":
        return _download(
            complaint_file_csv(entries, debtor.timezone), "text/csv", f"{filename}.csv"
        )
    creditor = db.get(Creditor, account.creditor_id)
    header = FileHeader(
        creditor_name=creditor.name,
        account_reference=account.external_reference,
        debtor_name=debtor.name,
        time_zone=debtor.timezone,
        exported_at=now,
        exported_by=f"{staff.name} <{staff.email}>",
    )
    body = complaint_file_pdf(entries, header, _pdf_words(debtor.timezone))
    return _download(body, "application/pdf", f"{filename}.pdf")


_AUDIT_ACTIONS = {
    "page": "complaint_file.view",
    "csv": "complaint_file.export_csv",
    "pdf": "complaint_file.export_pdf",
}


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _filename_safe(reference: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", reference).strip("._") or "account"


def _pdf_words(time_zone: str) -> PdfWords:
    return PdfWords(
        title=_("Complaint file"),
        creditor=_("Creditor"),
        account=_("Invoice"),
        debtor=_("Debtor"),
        exported_at=_("Exported"),
        exported_by=_("Exported by"),
        time_zone=_("Time zone"),
        local_time=_("Local time"),
        kind=_("What"),
        channel=_("Channel"),
        status=_("Status"),
        nothing_yet=_("Nothing has happened on this account yet."),
        page_of=_("Page %(page)s of %(pages)s"),
        markers=_(
            "Characters the font cannot show are written as [U+code point], "
            "e.g. [U+1F98A]; nothing is left out."
        ),
        worded={code: str(words) for code, words in COMPLAINT_FILE_WORDS.items()},
        facts_of=lambda entry: entry_facts(entry, time_zone),
        detail_of=entry_detail,
    )


def _audit(account_id: int, creditor_id: int, action: str) -> None:
    db = get_session()
    audit.record_audit(
        db,
        current_staff(),
        action,
        object_type="account",
        object_id=account_id,
        creditor_id=creditor_id,
        now=utcnow(),
        request_id=g.get("request_id"),
    )
    db.commit()
