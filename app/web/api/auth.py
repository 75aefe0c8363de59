"""API authentication: `Authorization: Bearer <key>`, and the rate limit per key."""

from __future__ import annotations

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_smorest import abort

from app.clock import utcnow
from app.models import Creditor
from app.services import api_keys
from app.web.db import get_session
from app.web.extensions import limiter

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="Venlig API"'}
_UNSET = object()


def _presented_key() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def current_creditor() -> Creditor | None:
    """The creditor whose valid key this request carries; looked up once per request."""
    found = g.get("api_creditor", _UNSET)
    if found is _UNSET:
        token = _presented_key()
        found = None
        if token is not None:
            found = api_keys.authenticate(get_session(), token, now=utcnow())
        g.api_creditor = found
        g.api_key_hash = api_keys.hash_key(token) if found and token else None
    return found


def api_creditor() -> Creditor:
    """The authenticated creditor (views behind `require_key` only)."""
    creditor: Creditor = g.api_creditor
    return creditor


def require_key() -> None:
    """Before every API request: refuse it without a live key."""
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]
    if current_creditor() is None:
        message = (
            "Send a valid API key as Authorization: Bearer <key>"
            if _presented_key() is None
            else "The API key is not valid, or it was revoked"
        )
        abort(401, code="unauthorized", message=message, headers=CHALLENGE)
    get_session().commit()  # the key's last use (flushed, maybe, by the lookup)


def rate_limit_key() -> str:
    """Counted per key; requests without a valid key are counted per address."""
    if current_creditor() is not None and g.api_key_hash:
        return f"api-key:{g.api_key_hash}"
    return f"api-ip:{get_remote_address()}"


def _rate_limit() -> str:
    return str(current_app.config["API_RATE_LIMIT"])


# One budget per key across every API endpoint.
api_rate_limit = limiter.shared_limit(_rate_limit, scope="api", key_func=rate_limit_key)
