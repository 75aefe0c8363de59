"""Upload pages: the list, the form, column mapping, dry run, confirmation, progress, result.

A batch has one address (`show`) that always shows where it stands, so the creditor can
leave and come back. Small files are checked and imported in the request; large ones by
the worker, while the progress page follows them (a small script polls `status`; without
JavaScript the page refreshes itself).
"""

from __future__ import annotations

from itertools import chain
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import SelectChoice

from app.chat.hours import ZONE_BY_COUNTRY
from app.clock import utcnow
from app.errors import Conflict, NotFound
from app.ingest import batches
from app.ingest.batches import (
    Cancelled,
    Confirmed,
    Progress,
    Refusal,
    ReportKind,
    UploadRefused,
)
from app.ingest.errors import FileRejected
from app.ingest.importer import report_lines
from app.ingest.rows import Field
from app.ingest.values import country_timezone
from app.models import Creditor, ImportBatch, User
from app.models.enums import Role
from app.services import access
from app.web.auth.login import current_staff, roles_required
from app.web.db import get_session, writes_on_read
from app.web.uploads.forms import (
    FIELD_LABELS,
    REQUIRED_FIELDS,
    ActionForm,
    UploadForm,
    mapping_form,
)
from app.web.uploads.reasons import reason_text, report_wording, where_text
from app.web.uploads.wiring import ingest_limits, upload_store

bp = Blueprint("uploads", __name__, url_prefix="/uploads")

UPLOADERS = (Role.ADMIN, Role.SUPERVISOR, Role.CREDITOR)
# Room for the multipart envelope and the other fields around the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024
PHASE_LABELS = {
    "mapping": _l("Columns to choose"),
    "checking": _l("Being checked"),
    "planned": _l("Ready to confirm"),
    "importing": _l("Importing"),
    "cancelling": _l("Stopping"),
    "expired": _l("Expired"),
    "imported": _l("Imported"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
}
RUNNING = ("checking", "importing", "cancelling")  # the progress page follows these


@bp.record_once
def _limit_request_size(state: BlueprintSetupState) -> None:
    """No request body may be much larger than the largest upload."""
    config = state.app.config
    if config.get("MAX_CONTENT_LENGTH") is None:
        config["MAX_CONTENT_LENGTH"] = config["UPLOAD_MAX_BYTES"] + FORM_OVERHEAD_BYTES


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "phase_label": lambda phase: str(PHASE_LABELS.get(phase, phase)),
        "where_label": where_text,
        "reason_text": reason_text,
        "format_number": format_number,
    }


@bp.get("/")
@roles_required(*UPLOADERS)
def index() -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    found = batches.batches_for_user(db, staff)
    return render_template(
        "uploads/index.html",
        batches=[(batch, _progress(db, batch)) for batch in found],
        creditor_names=_creditor_names(staff),
        zones=_creditor_zones(staff),
        refresh=any(_running(batch) for batch in found),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*UPLOADERS)
def new() -> ResponseReturnValue:
    staff, db = current_staff(), get_session()
    form = UploadForm()
    creditors = access.visible_creditors(db, staff)
    if staff.is_agency_staff:
        form.creditor.choices = [SelectChoice(c.id, c.name) for c in creditors]
    else:
        del form.creditor
    if not form.validate_on_submit():
        return _upload_page(form, 400 if form.is_submitted() else 200)
    creditor = _chosen_creditor(form, creditors, staff)
    upload = form.file.data
    store, limits, now = upload_store(current_app), ingest_limits(current_app), utcnow()
    batch: ImportBatch | None = None
    try:
        batch = batches.receive_upload(
            db,
            store,
            creditor,
            staff,
            filename=upload.filename or "",
            stream=upload.stream,
            limits=limits,
            now=now,
            request_id=g.request_id,
        )
        batches.check_or_queue(db, store, batch, creditor, limits=limits, now=now)
    except UploadRefused as exc:
        db.rollback()
        form.file.errors = [_refusal(exc, limits.max_bytes)]
        return _upload_page(form, 400)
    except FileRejected as exc:
        _forget(batch)
        form.file.errors = [
            _("We cannot read this file: %(reason)s", reason=reason_text(exc.reason))
        ]
        return _upload_page(form, 400)
    except Exception:
        _forget(batch)
        raise
    db.commit()
    return redirect(url_for(".show", batch_id=batch.id))


def _forget(batch: ImportBatch | None) -> None:
    """Nothing of a refused upload stays: neither its file nor its batch."""
    if batch is not None:
        upload_store(current_app).discard(batch)
    get_session().rollback()


def _upload_page(form: UploadForm, status: int) -> ResponseReturnValue:
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    return render_template("uploads/new.html", form=form, limit=_size(limit)), status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body over the limit is refused before it is read; say so on the form."""
    if not current_user.is_authenticated:
        return _("The request is too large."), 413
    form = UploadForm(formdata=None)
    staff = current_staff()
    if staff.is_agency_staff:
        creditors = access.visible_creditors(get_session(), staff)
        form.creditor.choices = [SelectChoice(c.id, c.name) for c in creditors]
    else:
        del form.creditor
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    form.file.errors = [
        _("The file is larger than %(limit)s, the most we accept.", limit=_size(limit))
    ]
    return _upload_page(form, 413)


def _chosen_creditor(
    form: UploadForm, creditors: list[Creditor], staff: User
) -> Creditor:
    wanted = form.creditor.data if staff.is_agency_staff else staff.creditor_id
    found = next((c for c in creditors if c.id == wanted), None)
    if found is None:
        raise NotFound("No such creditor")
    return found


def _refusal(exc: UploadRefused, limit: int) -> str:
    if exc.reason is Refusal.EMPTY:
        return _("The file is empty. Choose the file with your invoices.")
    if exc.reason is Refusal.TOO_LARGE:
        return _(
            "The file is larger than %(limit)s, the most we accept. "
            "Split it into smaller files.",
            limit=_size(limit),
        )
    if exc.reason is Refusal.WRONG_TYPE:
        return _(
            "We accept CSV or tab-separated text (.csv, .tsv, .txt), Excel (.xlsx) "
            "and UBL invoice (.xml) files only."
        )
    return _("We cannot read this file: %(reason)s", reason=_cause(exc))


def _cause(exc: UploadRefused) -> str:
    return reason_text(exc.cause) if exc.cause else str(exc)


@bp.get("/<int:batch_id>")
@roles_required(*UPLOADERS)
def show(batch_id: int) -> ResponseReturnValue:
    db = get_session()
    batch = batches.get_batch_for_user(db, current_staff(), batch_id)
    progress = _progress(db, batch)
    creditor = db.get_one(Creditor, batch.creditor_id)
    context = {
        "batch": batch,
        "creditor": creditor,
        "progress": progress,
        "zone": _creditor_zone(creditor.country),
    }
    if progress.phase == "mapping":
        return redirect(url_for(".mapping", batch_id=batch.id))
    if progress.phase in RUNNING:
        return render_template(
            "uploads/progress.html",
            **context,
            text=_progress_text(progress),
            form=ActionForm(),
        )
    summary = batches.summary_of(batch)
    if progress.phase == "planned":
        return render_template(
            "uploads/plan.html",
            **context,
            summary=summary,
            form=ActionForm(),
            can_remap=batches.can_remap(batch),
        )
    if progress.phase == "imported":
        return render_template(
            "uploads/result.html",
            **context,
            summary=summary,
            accounts=batches.accounts_of_batch(db, batch),
            reports_kept=bool(batch.storage_path),
        )
    failure = batches.failure_of(batch)
    return render_template(
        "uploads/closed.html",
        **context,
        summary=summary,
        keep_days=ingest_limits(current_app).keep_for.days,
        failure=reason_text(failure) if failure else None,
    )


@bp.get("/<int:batch_id>/status")
@roles_required(*UPLOADERS)
def status(batch_id: int) -> ResponseReturnValue:
    """Where the batch stands, for the progress page's script."""
    db = get_session()
    batch = batches.get_batch_for_user(db, current_staff(), batch_id)
    progress = _progress(db, batch)
    body = jsonify(
        status=progress.status.value,
        phase=progress.phase,
        done=progress.done,
        total=progress.total,
        text=_progress_text(progress),
    )
    return body, 200, {"Cache-Control": "no-store"}


@bp.route("/<int:batch_id>/columns", methods=["GET", "POST"])
@writes_on_read  # a file found unreadable on the way is marked failed
@roles_required(*UPLOADERS)
def mapping(batch_id: int) -> ResponseReturnValue:
    db, staff = get_session(), current_staff()
    batch = batches.get_batch_for_user(db, staff, batch_id)
    if not batches.can_remap(batch):
        return redirect(url_for(".show", batch_id=batch.id))
    store, limits, now = upload_store(current_app), ingest_limits(current_app), utcnow()
    creditor = db.get_one(Creditor, batch.creditor_id)
    try:
        layout = batches.layout_of(store, batch, limits.max_bytes)
    except FileRejected as exc:
        return _failed(batch, exc)
    if layout is None:
        return redirect(url_for(".show", batch_id=batch.id))
    form = mapping_form(layout.headers, batches.current_columns(batch, layout))
    if form.validate_on_submit():
        columns = {
            field: str(form[field.value].data)
            for field in FIELD_LABELS
            if form[field.value].data
        }
        problems = batches.mapping_problems(layout.headers, columns)
        if not problems.any:
            batches.choose_mapping(
                db, store, batch, columns, max_bytes=limits.max_bytes
            )
            try:
                batches.check_or_queue(
                    db, store, batch, creditor, limits=limits, now=now
                )
            except FileRejected as exc:
                db.rollback()
                return _failed(batch, exc)
            db.commit()
            return redirect(url_for(".show", batch_id=batch.id))
        _attach_problems(form, problems)
    status_code = 400 if form.is_submitted() else 200
    page = render_template(
        "uploads/mapping.html",
        batch=batch,
        form=form,
        fields=list(FIELD_LABELS),
        required=REQUIRED_FIELDS,
        unknown_layout=batches.needs_mapping(batch),
    )
    return page, status_code


def _attach_problems(form: object, problems: batches.MappingProblems) -> None:
    for field in problems.missing:
        if field is Field.AMOUNT:
            message = _("Choose the column with the amount, or with the line amount.")
        else:
            message = _("Choose the column that holds this.")
        getattr(form, field.value).errors.append(message)
    for header in problems.repeated:
        for field in FIELD_LABELS:
            select = getattr(form, field.value)
            if select.data == header:
                select.errors.append(
                    _(
                        "The column “%(column)s” is chosen for more than one field.",
                        column=header,
                    )
                )
    for header in problems.unknown:  # only a tampered form gets here
        flash(_("The file has no column “%(column)s”.", column=header), "error")


def _failed(batch: ImportBatch, exc: FileRejected) -> ResponseReturnValue:
    batches.mark_failed(batch, exc.reason, now=utcnow())
    get_session().commit()
    batches.release_files(upload_store(current_app), batch)
    return redirect(url_for(".show", batch_id=batch.id))


@bp.post("/<int:batch_id>/confirm")
@roles_required(*UPLOADERS)
def confirm(batch_id: int) -> ResponseReturnValue:
    db, staff = get_session(), current_staff()
    batch = batches.get_batch_for_user(db, staff, batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    creditor = db.get_one(Creditor, batch.creditor_id)
    store, limits = upload_store(current_app), ingest_limits(current_app)
    try:
        outcome = batches.confirm_batch(
            db,
            store,
            batch,
            creditor,
            staff,
            limits=limits,
            now=utcnow(),
            request_id=g.request_id,
        )
    except Conflict:
        db.rollback()
        flash(_("This upload is no longer waiting for your confirmation."), "info")
        return redirect(url_for(".show", batch_id=batch_id))
    except FileRejected as exc:
        db.rollback()
        return _failed(batch, exc)
    db.commit()
    batches.release_files(store, batch)
    if outcome is Confirmed.CHECKED_AGAIN:
        flash(
            _(
                "Your accounts changed since this file was checked, so we checked it "
                "again. Look at the new numbers before you confirm."
            ),
            "info",
        )
    elif outcome is Confirmed.QUEUED:
        flash(_("The import has started. You can leave this page and come back."))
    return redirect(url_for(".show", batch_id=batch.id))


@bp.post("/<int:batch_id>/cancel")
@roles_required(*UPLOADERS)
def cancel(batch_id: int) -> ResponseReturnValue:
    db, staff = get_session(), current_staff()
    batch = batches.get_batch_for_user(db, staff, batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        outcome = batches.cancel_batch(
            db, batch, staff, now=utcnow(), request_id=g.request_id
        )
    except Conflict:
        db.rollback()
        flash(_("This upload can no longer be cancelled."), "info")
        return redirect(url_for(".show", batch_id=batch_id))
    db.commit()
    batches.release_files(upload_store(current_app), batch)
    if outcome is Cancelled.REQUESTED:
        flash(_("Stopping: the work stops after the step it is doing now."))
    elif batch.rows_done:
        flash(_("The import was stopped. Rows imported before it stay imported."))
    else:
        flash(_("The upload was cancelled. Nothing was imported."))
    return redirect(url_for(".show", batch_id=batch_id))


@bp.get("/<int:batch_id>/<any(rejected, flagged):kind>.csv")
@roles_required(*UPLOADERS)
def report(batch_id: int, kind: str) -> ResponseReturnValue:
    """The full list of rejected (or flagged) rows in the reader's language, safe to open
    in a spreadsheet."""
    batch = batches.get_batch_for_user(get_session(), current_staff(), batch_id)
    problems = batches.read_report(upload_store(current_app), batch, ReportKind(kind))
    lines = report_lines(problems, report_wording())
    stem = batch.filename.rsplit(".", 1)[0] or "upload"
    name = quote(f"{stem}-{kind}-rows.csv")
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
        "Cache-Control": "no-store",
    }
    # With a BOM, so spreadsheet programs read the Danish and Norwegian letters right.
    body = stream_with_context(chain(["\ufeff"], lines))
    return Response(body, mimetype="text/csv", headers=headers)


def _progress(db: Session, batch: ImportBatch) -> Progress:
    cancelling = batches.can_cancel(batch) and batches.cancel_requested(db, batch)
    return batches.progress_of(batch, cancelling=cancelling)


def _running(batch: ImportBatch) -> bool:
    return batches.progress_of(batch).phase in RUNNING


def _creditor_names(staff: User) -> dict[int, str]:
    if not staff.is_agency_staff:
        return {}
    return {c.id: c.name for c in access.visible_creditors(get_session(), staff)}


def _creditor_zones(staff: User) -> dict[int, str]:
    creditors = access.visible_creditors(get_session(), staff)
    return {c.id: _creditor_zone(c.country) for c in creditors}


def _creditor_zone(country: str) -> str:
    """The zone the creditor pages show times in: the one its chat hours are kept in."""
    return ZONE_BY_COUNTRY.get(country) or country_timezone(country) or "UTC"


def _progress_text(progress: Progress) -> str:
    if progress.phase == "checking":
        if progress.done:
            return ngettext(
                "Checking your file: %(num)d row checked so far.",
                "Checking your file: %(num)d rows checked so far.",
                progress.done,
            )
        return _("Waiting for the check to start.")
    if progress.phase == "cancelling":
        return _("Stopping after the step in progress.")
    if progress.phase == "importing" and progress.total:
        return _(
            "%(done)s of %(total)s rows imported (%(percent)d%%).",
            done=format_number(progress.done),
            total=format_number(progress.total),
            percent=100 * progress.done // progress.total,
        )
    return str(PHASE_LABELS.get(progress.phase, progress.phase))


def _size(count: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return _("%(num)d bytes", num=count)
