"""Marshmallow schemas of the REST API: what requests may hold and what answers look like.

Request schemas check the shape (types, sizes, formats); what a value means (a valid
phone number, a currency in use, a due date that has passed) is checked per item by
the same code that checks uploaded files, so one bad item never refuses a batch.
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.ingest.batch import MAX_ITEMS
from app.ingest.importer import Outcome
from app.ingest.rows import Field, Kind
from app.models.enums import (
    AccountStatus,
    InstalmentStatus,
    PlanFrequency,
    PlanStatus,
)
from app.services.api_queries import PAYMENT_KINDS

DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
DECIMAL_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
MAX_DECIMAL = 40
MAX_CURSOR = 100
# Row ids are INTEGER columns; a forged cursor past them would overflow the query.
MAX_ID = 2**31 - 1
MAX_ID_DIGITS = len(str(MAX_ID))
MAX_PAGE = 200
DEFAULT_PAGE = 100


def _values(enum: Any) -> list[str]:
    return [str(member) for member in enum]


class Text(fields.String):
    """A string a database can hold: no NUL character, no unpaired surrogate."""

    default_error_messages = {  # noqa: RUF012 (marshmallow merges these per class)
        "unstorable": "Text must not contain NUL characters or unpaired surrogates."
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text):
            raise self.make_error("unstorable")
        return text


class DecimalText(Text):
    """A decimal number written as a string with a point: "1250.00", "-75.5"."""

    default_error_messages = {  # noqa: RUF012
        "decimal": 'Write the amount as a decimal string with a point, e.g. "1250.00".'
    }

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "pattern": DECIMAL_PATTERN,
            "maxLength": MAX_DECIMAL,
            "example": "1250.00",
        }
        metadata.update(kwargs.pop("metadata", {}))
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_DECIMAL or not DECIMAL.fullmatch(text):
            raise self.make_error("decimal")
        return Decimal(text)


class Cursor(Text):
    """An opaque position in one list, as handed out in `next_cursor`."""

    default_error_messages = {  # noqa: RUF012
        "cursor": "Not a cursor from this list; use a next_cursor value as given."
    }

    def __init__(self, kind: str, **kwargs: Any) -> None:
        self.kind = kind
        metadata = {"maxLength": MAX_CURSOR} | kwargs.pop("metadata", {})
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_CURSOR:
            raise self.make_error("cursor")
        try:
            decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise self.make_error("cursor") from None
        kind, _, number = decoded.partition(":")
        valid = number.isascii() and number.isdigit() and len(number) <= MAX_ID_DIGITS
        if kind != self.kind or not valid or int(number) > MAX_ID:
            raise self.make_error("cursor")
        return int(number)


def encode_cursor(kind: str, last_id: int | None) -> str | None:
    if last_id is None:
        return None
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


# --- errors -------------------------------------------------------------------------


class ErrorSchema(ma.Schema):
    """Every error answer: a stable machine-readable code and a message in plain words."""

    code = fields.String(
        required=True,
        metadata={"description": "Machine-readable, e.g. validation_failed"},
    )
    status = fields.Integer(metadata={"description": "The HTTP status code"})
    message = fields.String(required=True, metadata={"description": "Plain words"})
    errors = fields.Dict(
        metadata={"description": "Details, e.g. the invalid fields and why"}
    )


# --- accounts:batch -------------------------------------------------------------------


class AccountItemSchema(ma.Schema):
    """One invoice or credit note, with its debtor: the columns of a summary file."""

    external_reference = Text(
        required=True,
        validate=validate.Length(max=200),
        metadata={"description": "The invoice (or credit note) number"},
    )
    kind = Text(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(_values(Kind)),
        metadata={"description": "invoice (default) or credit_note"},
    )
    credited_reference = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"description": "For a credit note: the invoice it reduces"},
    )
    name = Text(
        required=True,
        validate=validate.Length(max=500),
        metadata={"description": "The debtor's name"},
    )
    customer_number = Text(
        load_default=None, allow_none=True, validate=validate.Length(max=200)
    )
    phone = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=50),
        metadata={"description": "Mobile number; without a country code, yours"},
    )
    email = Text(load_default=None, allow_none=True, validate=validate.Length(max=320))
    birth_date = fields.Date(load_default=None, allow_none=True)
    postcode = Text(
        load_default=None, allow_none=True, validate=validate.Length(max=20)
    )
    country = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100),
        metadata={"description": "ISO 3166 code or name of the address country"},
    )
    description = Text(
        load_default=None, allow_none=True, validate=validate.Length(max=2000)
    )
    amount = DecimalText(
        required=True,
        metadata={"description": "Invoice total; negative for a credit note"},
    )
    outstanding = DecimalText(
        load_default=None,
        allow_none=True,
        metadata={"description": "What is still owed, when part was paid"},
    )
    currency = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=10),
        metadata={"description": "ISO 4217 code; without it, your currency"},
    )
    issued_on = fields.Date(load_default=None, allow_none=True)
    due_on = fields.Date(load_default=None, allow_none=True)

    class Meta:
        ordered = True


assert set(AccountItemSchema().fields) <= {str(field) for field in Field}


class BatchRequestSchema(ma.Schema):
    items = fields.List(
        fields.Nested(AccountItemSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_ITEMS),
        metadata={"description": f"1 to {MAX_ITEMS:,} accounts"},
    )


class BatchQuerySchema(ma.Schema):
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "Check and report only; write nothing"},
    )


class IdempotencyHeaderSchema(ma.Schema):
    idempotency_key = Text(
        data_key="Idempotency-Key",
        validate=[validate.Length(min=1, max=255), validate.Regexp(r"^[!-~]+$")],
        metadata={
            "description": (
                "Any unique string (e.g. a UUID). The same key with the same body "
                "replays the first answer; with another body it is refused (409)."
            )
        },
    )


class RowProblemSchema(ma.Schema):
    field = fields.String(allow_none=True, metadata={"description": "The item field"})
    code = fields.String(
        required=True,
        metadata={"description": "Why, machine-readable (stable across languages)"},
    )
    message = fields.String(
        required=True,
        metadata={
            "description": "Why, in plain English (the API always answers in English)"
        },
    )
    value = fields.String(required=True)


class ItemResultSchema(ma.Schema):
    index = fields.Integer(
        required=True, metadata={"description": "Position in items, from 0"}
    )
    external_reference = fields.String(allow_none=True, required=True)
    kind = fields.String(allow_none=True, validate=validate.OneOf(_values(Kind)))
    status = fields.String(required=True, validate=validate.OneOf(_values(Outcome)))
    errors = fields.List(fields.Nested(RowProblemSchema), required=True)
    warnings = fields.List(fields.Nested(RowProblemSchema), required=True)


class BatchResultSchema(ma.Schema):
    dry_run = fields.Boolean(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    new_debtors = fields.Integer(required=True)
    results = fields.List(fields.Nested(ItemResultSchema), required=True)


# --- reading ------------------------------------------------------------------------


class PageQuerySchema(ma.Schema):
    limit = fields.Integer(
        load_default=DEFAULT_PAGE,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "How many items at most"},
    )


class AccountsQuerySchema(PageQuerySchema):
    cursor = Cursor(
        "accounts",
        metadata={"description": "next_cursor of the previous page; omit to start"},
    )


class PaymentsQuerySchema(PageQuerySchema):
    since = Cursor(
        "payments",
        metadata={"description": "next_cursor of the previous call; omit to start"},
    )


class PlansQuerySchema(PageQuerySchema):
    since = Cursor(
        "plans",
        metadata={"description": "next_cursor of the previous call; omit to start"},
    )


class DebtorSchema(ma.Schema):
    customer_number = fields.String(allow_none=True, required=True)
    name = fields.String(required=True)


class AccountSchema(ma.Schema):
    external_reference = fields.String(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(_values(AccountStatus))
    )
    currency = fields.String(required=True)
    original_amount = fields.String(required=True, metadata={"example": "1250.00"})
    original_amount_minor = fields.Integer(required=True)
    balance = fields.String(required=True, metadata={"example": "1250.00"})
    balance_minor = fields.Integer(required=True)
    description = fields.String(required=True)
    issued_on = fields.Date(allow_none=True, required=True)
    due_on = fields.Date(required=True)
    paused_until = fields.DateTime(allow_none=True, required=True)
    debtor = fields.Nested(DebtorSchema, required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class AccountPageSchema(ma.Schema):
    items = fields.List(fields.Nested(AccountSchema), required=True)
    next_cursor = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Pass as cursor for the next page; null at the end"},
    )
    has_more = fields.Boolean(required=True)


class PaymentSchema(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(
        required=True, validate=validate.OneOf([str(kind) for kind in PAYMENT_KINDS])
    )
    external_reference = fields.String(required=True)
    amount = fields.String(required=True)
    amount_minor = fields.Integer(required=True)
    currency = fields.String(required=True)
    occurred_at = fields.DateTime(required=True)
    recorded_at = fields.DateTime(required=True)


class FeedFields(ma.Schema):
    next_cursor = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": (
                "Pass as since on the next call to get what came after; null only "
                "while there is nothing yet"
            )
        },
    )
    has_more = fields.Boolean(required=True)


class PaymentPageSchema(FeedFields):
    items = fields.List(fields.Nested(PaymentSchema), required=True)


class InstalmentSchema(ma.Schema):
    seq_no = fields.Integer(required=True)
    due_on = fields.Date(required=True)
    amount = fields.String(required=True)
    amount_minor = fields.Integer(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(_values(InstalmentStatus))
    )
    paid_at = fields.DateTime(allow_none=True, required=True)


class PlanSchema(ma.Schema):
    id = fields.Integer(required=True)
    external_reference = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(_values(PlanStatus)))
    frequency = fields.String(
        required=True, validate=validate.OneOf(_values(PlanFrequency))
    )
    total = fields.String(required=True)
    total_minor = fields.Integer(required=True)
    currency = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True, required=True)
    instalments = fields.List(fields.Nested(InstalmentSchema), required=True)


class PlanPageSchema(FeedFields):
    items = fields.List(fields.Nested(PlanSchema), required=True)
