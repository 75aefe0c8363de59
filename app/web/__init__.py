"""The web layer: extensions, request ids, blueprints and error pages."""

from __future__ import annotations

import re
import secrets

from flask import Flask, g, request
from flask.typing import ResponseReturnValue
from werkzeug.middleware.proxy_fix import ProxyFix

from app.web import errors
from app.web.agent import bp as agent_bp
from app.web.api import register_api
from app.web.auth import bp as auth_bp
from app.web.auth.login import init_login
from app.web.codes import register_codes
from app.web.creditor import bp as creditor_bp
from app.web.devphone import bp as devphone_bp
from app.web.extensions import babel, csrf, limiter
from app.web.i18n import register_i18n, select_locale
from app.web.main import bp as main_bp
from app.web.portal import bp as portal_bp
from app.web.records import bp as records_bp
from app.web.risk import bp as risk_bp
from app.web.sandbox import bp as sandbox_bp
from app.web.uploads import bp as uploads_bp
from app.web.webhooks import bp as webhooks_bp

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def register_web(app: Flask) -> None:
    """Bind extensions, blueprints and error handlers to `app`."""
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    # First, so that even requests refused by CSRF or rate limits carry an id.
    app.before_request(_assign_request_id)
    app.after_request(_send_request_id)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
    csrf.init_app(app)
    limiter.init_app(app)
    init_login(app)
    register_i18n(app)
    register_codes(app)
    for blueprint in (
        main_bp,
        auth_bp,
        records_bp,
        risk_bp,
        uploads_bp,
        creditor_bp,
        portal_bp,
        agent_bp,
        webhooks_bp,
    ):
        app.register_blueprint(blueprint)
    if app.config["DEV_TOOLS"]:
        app.register_blueprint(devphone_bp)
    if app.config["PAYMENTS_BACKEND"] == "sandbox":
        app.register_blueprint(sandbox_bp)
    register_api(app)
    errors.register(app)


def _assign_request_id() -> None:
    """Keep the proxy's request id when it looks like one, else mint our own."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)


def _send_request_id(response: ResponseReturnValue) -> ResponseReturnValue:
    response.headers["X-Request-ID"] = g.request_id
    return response
