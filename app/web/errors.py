"""Error pages in the visitor's language, and JSON errors for API and webhook clients."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from app.errors import DomainError, ValidationFailed

TITLES = {
    400: _l("That request could not be understood"),
    401: _l("Please sign in"),
    403: _l("You do not have access to this page"),
    404: _l("We could not find that page"),
    405: _l("That action is not possible here"),
    409: _l("That clashes with a change made meanwhile"),
    422: _l("Some of the information is not valid"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
}
ADVICE = {
    400: _l("Please go back and try again. If it keeps happening, contact us."),
    403: _l("If you think you should have access, ask your administrator."),
    404: _l("The link may be old or mistyped. Check it, or start from the front page."),
    429: _l("Please wait a little and try again. This protects your information."),
    500: _l(
        "We have been told and are looking into it. Please try again in a few minutes."
    ),
}

# Machine-readable codes where the HTTP reason phrase is not the best name.
CODES = {422: "validation_failed"}
INVALID_REQUEST = "The request is not valid; see errors for each field"


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/")) or (
        request.accept_mimetypes.best == "application/json"
    )


def json_error(
    status: int, code: str, message: str, errors: object = None
) -> tuple[ResponseReturnValue, int]:
    """The one shape of every JSON error: a stable code, plain words, optional details."""
    body: dict[str, object] = {"code": code, "status": status, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def _render(
    status: int, code: str, message: str, errors: object = None
) -> tuple[ResponseReturnValue, int]:
    if _wants_json():
        return json_error(status, code, message, errors)
    page = render_template(
        "errors/error.html",
        status=status,
        title=TITLES.get(status, TITLES[400]),
        advice=ADVICE.get(status, ADVICE[400]),
        request_id=g.get("request_id"),
    )
    return page, status


def handle_http(error: HTTPException) -> ResponseReturnValue:
    """Any HTTP error; `abort(status, code=..., message=..., errors=..., headers=...)`
    from webargs (flask-smorest's parser) fills in the details, e.g. which fields of a
    request body are invalid."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    code = data.get("code") or CODES.get(status)
    code = code or (error.name or "error").lower().replace(" ", "_")
    errors = data.get("errors") or data.get("messages")
    message = data.get("message") or (errors and INVALID_REQUEST) or error.description
    body, status = _render(status, code, message or "", errors)
    headers = dict(data.get("headers") or {})
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return body, status, headers


def _handle_domain(error: DomainError) -> ResponseReturnValue:
    details = error.errors if isinstance(error, ValidationFailed) else None
    return _render(error.status, error.code, error.message, details)


def _handle_unexpected(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return handle_http(error)
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
    current_app.logger.exception("unhandled error", exc_info=error)
    return handle_http(InternalServerError())


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(DomainError, _handle_domain)
    app.register_error_handler(Exception, _handle_unexpected)
