"""schemathesis against /api/openapi.json: no 5xx and no answer the document does not allow.

Runs in-process on the WSGI app with a valid key: for every operation a bounded number
of valid and of invalid requests, on each database backend. Each operation's cases are
drawn with schemathesis's Hypothesis strategy inside an ordinary test, because the
fixture-based loader (`schemathesis.pytest.from_fixture`) sets `Item._nodeid`, which
pytest 9 no longer has.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.orm import Session

from app.models.enums import LedgerKind
from app.services import api_keys
from app.services.ledger import post_entry
from tests.factories import make_account, make_creditor, make_debtor

# Per operation and mode; raise it for a deeper run (400 found nothing more).
MAX_EXAMPLES = int(os.environ.get("VENLIG_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance]
KNOWN = {"external_reference": "INV-1"}
OPERATIONS = [
    ("POST", "/api/v1/accounts:batch"),
    ("GET", "/api/v1/accounts"),
    ("GET", "/api/v1/accounts/{external_reference}"),
    ("GET", "/api/v1/payments"),
    ("GET", "/api/v1/plans"),
]


@pytest.fixture
def api_key(session: Session, now: datetime) -> str:
    """A key of a creditor with an account, a payment and a reference to look up."""
    creditor = make_creditor(session, now)
    debtor = make_debtor(session, creditor, now)
    account = make_account(session, debtor, now, external_reference="INV-1")
    post_entry(session, account, LedgerKind.PAYMENT, 100, now=now)
    made = api_keys.create_key(
        session, creditor, "schemathesis", created_by=None, now=now
    )
    session.commit()
    return made.secret


def test_the_openapi_document_is_valid_and_every_operation_is_tested(
    client: FlaskClient, app: Flask
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema.validate()  # against the OpenAPI 3.0 meta-schema
    spec = client.get("/api/openapi.json").json
    assert spec is not None
    documented = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_keeps_to_its_openapi_document(
    app: Flask, api_key: str, method: str, path: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {api_key}"}
    cases = operation.as_strategy(generation_mode=mode)
    if "{external_reference}" in path:  # random references are all unknown: 404
        known = operation.as_strategy(generation_mode=mode, path_parameters=KNOWN)
        cases = cases | known

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    @given(case=cases)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
