"""The REST API (flask-smorest): per-creditor keys, JSON in and out, one error shape.

Also the staff pages where creditors make and revoke their keys, and the docs page.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from app.web.api import accounts, docs, feeds, keys_views
from app.web.api.auth import api_rate_limit, require_key
from app.web.api.schemas import ErrorSchema
from app.web.errors import handle_http
from app.web.extensions import csrf

API_BLUEPRINTS = (accounts.bp, feeds.payments_bp, feeds.plans_bp)
SPEC = {
    "info": {
        "description": (
            "Hand over overdue invoices and follow what happens to them. "
            "Authenticate with an API key of your creditor account as "
            "`Authorization: Bearer <key>`. Every error answer is JSON with a "
            "machine-readable `code`, a `message` in plain words and, where useful, "
            "`errors` with details. Requests are rate limited per key; beyond the "
            "limit the answer is 429 with the code `too_many_requests`. Lists are "
            "paged with cursors: pass `next_cursor` back to continue."
        )
    },
    "security": [{"bearerAuth": []}],
}
TAGS = (
    ("Accounts", "Invoices handed over for collection, with balance and status."),
    ("Payments", "Payments and refunds booked on your accounts."),
    ("Plans", "Instalment plans agreed with your debtors."),
)

for _blueprint in API_BLUEPRINTS:
    _blueprint.before_request(require_key)
    api_rate_limit(_blueprint)
    csrf.exempt(_blueprint)


class VenligApi(Api):
    """flask-smorest, answering errors in the app's one JSON shape (app.web.errors)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        """app.web.errors handles every HTTP error already, JSON under /api/."""

    def handle_http_exception(self, error: HTTPException) -> ResponseReturnValue:
        return handle_http(error)

    def register_blueprint(
        self, blp: Any, *, parameters: Any = None, **options: Any
    ) -> None:
        """As flask-smorest's, without a tag per blueprint: operations name their tags."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(
            self, self._app, self.spec, name=name, parameters=parameters
        )


def register_api(app: Flask) -> None:
    """The API, its OpenAPI document at /api/openapi.json and its docs at /api/docs."""
    api = VenligApi(app, spec_kwargs=dict(SPEC))
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "An API key: vk_live_…"},
    )
    for name, description in TAGS:
        api.spec.tag({"name": name, "description": description})
    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    app.register_blueprint(keys_views.bp)
