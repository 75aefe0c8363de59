"""Error pages in the visitor's language, and JSON errors for API and webhook clients."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from app.errors import DomainError

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


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/")) or (
        request.accept_mimetypes.best == "application/json"
    )


def _render(status: int, code: str, message: str) -> tuple[ResponseReturnValue, int]:
    if _wants_json():
        return jsonify(code=code, status=status, message=message), status
    page = render_template(
        "errors/error.html",
        status=status,
        title=TITLES.get(status, TITLES[400]),
        advice=ADVICE.get(status, ADVICE[400]),
        request_id=g.get("request_id"),
    )
    return page, status


def _handle_http(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    code = (error.name or "error").lower().replace(" ", "_")
    body, status = _render(status, code, error.description or "")
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return body, status, headers


def _handle_domain(error: DomainError) -> ResponseReturnValue:
    return _render(error.status, error.code, error.message)


def _handle_unexpected(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return _handle_http(error)
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
    current_app.logger.exception("unhandled error", exc_info=error)
    return _handle_http(InternalServerError())


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(DomainError, _handle_domain)
    app.register_error_handler(Exception, _handle_unexpected)
