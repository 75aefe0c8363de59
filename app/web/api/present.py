"""Domain objects as the API's JSON: amounts as exact decimal strings and minor units."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.ingest.batch import BatchResult, ItemResult
from app.ingest.importer import Outcome
from app.ingest.rows import RowError
from app.models import Instalment
from app.services.api_queries import AccountView, PaymentView, PlanView
from app.services.formatting import minor_unit_exponent


def decimal_text(amount_minor: int, currency: str) -> str:
    """125000 DKK -> "1250.00": a point, no grouping, the currency's decimals."""
    exponent = minor_unit_exponent(currency)
    return f"{Decimal(amount_minor).scaleb(-exponent):.{exponent}f}"


def batch_result(result: BatchResult) -> dict[str, Any]:
    plan = result.plan
    return {
        "dry_run": result.dry_run,
        "created": plan.created,
        "updated": plan.updated,
        "unchanged": plan.unchanged,
        "rejected": sum(1 for item in result.items if item.status is Outcome.REJECTED),
        "new_debtors": plan.new_debtors,
        "results": [_item_result(item) for item in result.items],
    }


def _item_result(item: ItemResult) -> dict[str, Any]:
    return {
        "index": item.index,
        "external_reference": item.external_reference,
        "kind": str(item.kind) if item.kind else None,
        "status": str(item.status),
        "errors": [_problem(error) for error in item.errors],
        "warnings": [_problem(warning) for warning in item.warnings],
    }


def _problem(error: RowError) -> dict[str, Any]:
    return {
        "field": str(error.field) if error.field else None,
        "code": error.reason.code.value,
        "message": error.message,
        "value": error.raw_value,
    }


def account(view: AccountView) -> dict[str, Any]:
    record, currency = view.account, view.account.currency
    return {
        "external_reference": record.external_reference,
        "status": str(record.status),
        "currency": currency,
        "original_amount": decimal_text(record.original_amount_minor, currency),
        "original_amount_minor": record.original_amount_minor,
        "balance": decimal_text(view.balance_minor, currency),
        "balance_minor": view.balance_minor,
        "description": record.description,
        "issued_on": record.issued_on,
        "due_on": record.due_on,
        "paused_until": record.paused_until,
        "debtor": {
            "customer_number": view.debtor.customer_number,
            "name": view.debtor.name,
        },
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def payment(view: PaymentView) -> dict[str, Any]:
    entry = view.entry
    return {
        "id": entry.id,
        "kind": str(entry.kind),
        "external_reference": view.external_reference,
        "amount": decimal_text(entry.amount_minor, entry.currency),
        "amount_minor": entry.amount_minor,
        "currency": entry.currency,
        "occurred_at": entry.occurred_at,
        "recorded_at": entry.created_at,
    }


def plan(view: PlanView) -> dict[str, Any]:
    record = view.plan
    return {
        "id": record.id,
        "external_reference": view.external_reference,
        "status": str(record.status),
        "frequency": str(record.frequency),
        "total": decimal_text(record.total_minor, record.currency),
        "total_minor": record.total_minor,
        "currency": record.currency,
        "created_at": record.created_at,
        "ended_at": record.ended_at,
        "instalments": [
            _instalment(one, record.currency) for one in record.instalments
        ],
    }


def _instalment(instalment: Instalment, currency: str) -> dict[str, Any]:
    return {
        "seq_no": instalment.seq_no,
        "due_on": instalment.due_on,
        "amount": decimal_text(instalment.amount_minor, currency),
        "amount_minor": instalment.amount_minor,
        "status": str(instalment.status),
        "paid_at": instalment.paid_at,
    }
