"""Payments and plans since a cursor: poll with the last next_cursor to get what is new."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.services import api_queries
from app.web.api import present
from app.web.api.auth import api_creditor
from app.web.api.schemas import (
    PaymentPageSchema,
    PaymentsQuerySchema,
    PlanPageSchema,
    PlansQuerySchema,
    encode_cursor,
)
from app.web.db import get_session, writes_on_read

# Every API request, GETs too, records when its key was last used.
payments_bp = writes_on_read(Blueprint("api_payments", __name__, url_prefix="/api/v1"))
plans_bp = writes_on_read(Blueprint("api_plans", __name__, url_prefix="/api/v1"))


@payments_bp.route("/payments", methods=["GET"], tags=["Payments"])
@payments_bp.arguments(PaymentsQuerySchema, location="query")
@payments_bp.response(200, PaymentPageSchema)
def list_payments(query: dict[str, Any]) -> dict[str, Any]:
    """Payments and refunds in the order they were booked, after `since`."""
    page = api_queries.payments_since(
        get_session(),
        api_creditor().id,
        after_id=query.get("since"),
        limit=query["limit"],
    )
    return {
        "items": [present.payment(view) for view in page.items],
        "next_cursor": encode_cursor("payments", page.last_id),
        "has_more": page.has_more,
    }


@plans_bp.route("/plans", methods=["GET"], tags=["Plans"])
@plans_bp.arguments(PlansQuerySchema, location="query")
@plans_bp.response(200, PlanPageSchema)
def list_plans(query: dict[str, Any]) -> dict[str, Any]:
    """Instalment plans in the order they were agreed, after `since`, with instalments."""
    page = api_queries.plans_since(
        get_session(),
        api_creditor().id,
        after_id=query.get("since"),
        limit=query["limit"],
    )
    return {
        "items": [present.plan(view) for view in page.items],
        "next_cursor": encode_cursor("plans", page.last_id),
        "has_more": page.has_more,
    }
