"""Accounts: create or update them in batches, list them, get one by its reference."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.errors import Conflict
from app.ingest.batch import import_batch
from app.services import api_queries, idempotency
from app.web.api import present
from app.web.api.auth import api_creditor
from app.web.api.schemas import (
    AccountPageSchema,
    AccountSchema,
    AccountsQuerySchema,
    BatchQuerySchema,
    BatchRequestSchema,
    BatchResultSchema,
    ErrorSchema,
    IdempotencyHeaderSchema,
    encode_cursor,
)
from app.web.db import get_session, writes_on_read

# Every API request, GETs too, records when its key was last used.
bp = writes_on_read(Blueprint("api_accounts", __name__, url_prefix="/api/v1"))
TAGS = ["Accounts"]
REPLAYED = "Idempotent-Replayed"


@bp.route("/accounts:batch", methods=["POST"], tags=TAGS)
@bp.arguments(BatchQuerySchema, location="query")
@bp.arguments(IdempotencyHeaderSchema, location="headers")
@bp.arguments(BatchRequestSchema)
@bp.response(200, BatchResultSchema)
@bp.alt_response(
    409,
    schema=ErrorSchema,
    description="The Idempotency-Key was used for another request, or the accounts "
    "changed meanwhile",
)
def batch(
    query: dict[str, Any], headers: dict[str, Any], body: dict[str, Any]
) -> ResponseReturnValue:
    """Create or update up to 1,000 accounts.

    Each item is checked and matched exactly like a row of an uploaded file: a debtor
    by customer number, else phone and name; an account by its reference. A changed
    amount becomes a ledger adjustment; a credit note reduces its invoice. Items that
    cannot be imported are reported with their reasons and the others are imported.
    """
    db, creditor, now = get_session(), api_creditor(), utcnow()
    key = headers.get("idempotency_key")
    digest = idempotency.fingerprint(
        {"body": request.get_json(silent=True), "dry_run": query["dry_run"]}
    )
    if key is not None:
        answer = idempotency.find_answer(db, creditor.id, key, digest)
        if answer is not None:
            return _send(answer, replayed=True)
    try:
        result = import_batch(
            db, creditor, body["items"], now=now, dry_run=query["dry_run"]
        )
        payload = BatchResultSchema().dump(present.batch_result(result))
        answer = idempotency.StoredAnswer(200, json.dumps(payload, sort_keys=True))
        if key is not None:
            idempotency.store_answer(db, creditor.id, key, digest, answer, now=now)
        db.commit()
    except IntegrityError:
        db.rollback()
        # A twin request (the same key, or the same new accounts) committed first.
        earlier = idempotency.find_answer(db, creditor.id, key, digest) if key else None
        if earlier is not None:
            return _send(earlier, replayed=True)
        raise Conflict(
            "Another request changed the same accounts at the same time; send it again"
        ) from None
    return _send(answer, replayed=False)


def _send(answer: idempotency.StoredAnswer, *, replayed: bool) -> ResponseReturnValue:
    response = current_app.response_class(
        answer.body, status=answer.status_code, mimetype="application/json"
    )
    if replayed:
        response.headers[REPLAYED] = "true"
    return response


@bp.route("/accounts", methods=["GET"], tags=TAGS)
@bp.arguments(AccountsQuerySchema, location="query")
@bp.response(200, AccountPageSchema)
def list_accounts(query: dict[str, Any]) -> dict[str, Any]:
    """Your accounts with their balance and status, oldest first, a page at a time."""
    page = api_queries.list_accounts(
        get_session(),
        api_creditor().id,
        after_id=query.get("cursor"),
        limit=query["limit"],
    )
    return {
        "items": [present.account(view) for view in page.items],
        "next_cursor": encode_cursor("accounts", page.last_id)
        if page.has_more
        else None,
        "has_more": page.has_more,
    }


@bp.route("/accounts/<path:external_reference>", methods=["GET"], tags=TAGS)
@bp.response(200, AccountSchema)
def get_account(external_reference: str) -> dict[str, Any]:
    """One of your accounts by its invoice number."""
    view = api_queries.get_account(get_session(), api_creditor().id, external_reference)
    return present.account(view)
