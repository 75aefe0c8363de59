"""Idempotency keys for API writes: the same key and request get the first answer again.

A key is scoped to one creditor. Reusing it with a different request is a conflict, not
a silent replay of an answer to another question. The answer is stored in the same
transaction as the write it describes, so either both exist or neither does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.models import ApiIdempotency

MAX_KEY = 255


class KeyReused(Conflict):
    """The idempotency key was already used for a different request."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: str  # JSON text, as first sent


def fingerprint(request: object) -> str:
    """SHA-256 of the request in canonical JSON: key order and spacing do not matter."""
    canonical = json.dumps(
        request, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def find_answer(
    session: Session, creditor_id: int, key: str, request_sha256: str
) -> StoredAnswer | None:
    """The stored answer for this key, or None when the key is new.

    :raises KeyReused: the key was used with a different request.
    """
    stored = session.scalar(
        select(ApiIdempotency).where(
            ApiIdempotency.creditor_id == creditor_id, ApiIdempotency.key == key
        )
    )
    if stored is None:
        return None
    if stored.request_sha256 != request_sha256:
        raise KeyReused(
            "This Idempotency-Key was already used with a different request; "
            "use a new key for a new request"
        )
    return StoredAnswer(stored.status_code, stored.response_json)


def store_answer(
    session: Session,
    creditor_id: int,
    key: str,
    request_sha256: str,
    answer: StoredAnswer,
    *,
    now: datetime,
) -> None:
    """Remember the answer; flushed, so a concurrent twin fails on the unique key."""
    session.add(
        ApiIdempotency(
            creditor_id=creditor_id,
            key=key,
            request_sha256=request_sha256,
            status_code=answer.status_code,
            response_json=answer.body,
            created_at=now,
        )
    )
    session.flush()
