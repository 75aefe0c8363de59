"""Debtor list, debtor record and account record; every opening of a record is audited."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from flask.typing import ResponseReturnValue

from app.clock import utcnow
from app.models import User
from app.services import access, audit, ledger
from app.web.auth.login import ALL_STAFF, current_staff, roles_required
from app.web.db import get_session, writes_on_read

bp = Blueprint("records", __name__)


@bp.get("/debtors")
@roles_required(*ALL_STAFF)
def debtors() -> ResponseReturnValue:
    query = request.args.get("q", "")[:100]
    page = request.args.get("page", 1, type=int) or 1
    result = access.search_debtors_for_user(
        get_session(), current_staff(), query=query, page=page
    )
    return render_template("records/debtors.html", result=result, query=query)


@bp.get("/debtors/<int:debtor_id>")
@writes_on_read  # opening a record is audited
@roles_required(*ALL_STAFF)
def debtor(debtor_id: int) -> ResponseReturnValue:
    db, staff = get_session(), current_staff()
    record = access.get_debtor_for_user(db, staff, debtor_id)
    accounts = access.accounts_of_debtor(db, record)
    balances = ledger.balances_of(db, (a.id for a in accounts))
    _audit_view(staff, "debtor", record.id, record.creditor_id)
    return render_template(
        "records/debtor.html", debtor=record, accounts=accounts, balances=balances
    )


@bp.get("/accounts/<int:account_id>")
@writes_on_read  # opening a record is audited
@roles_required(*ALL_STAFF)
def account(account_id: int) -> ResponseReturnValue:
    db, staff = get_session(), current_staff()
    record = access.get_account_for_user(db, staff, account_id)
    debtor_record = access.get_debtor_for_user(db, staff, record.debtor_id)
    entries = ledger.entries_of(db, record.id)
    _audit_view(staff, "account", record.id, record.creditor_id)
    return render_template(
        "records/account.html",
        account=record,
        debtor=debtor_record,
        entries=entries,
        balance=ledger.balance_of(db, record.id),
    )


def _audit_view(
    staff: User, object_type: str, object_id: int, creditor_id: int
) -> None:

    audit.record_audit(
        get_session(),
        staff,
        "viewed",
        object_type=object_type,
        object_id=object_id,
        creditor_id=creditor_id,
        now=utcnow(),
        request_id=g.request_id,
    )
    get_session().commit()
