"""The REST API: keys, batches with per-item results, idempotency, lists, tenant isolation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.ingest import batch as batch_module
from app.ingest.importer import PlanChanged
from app.models import (
    Account,
    ApiIdempotency,
    ApiKey,
    AuditEvent,
    Creditor,
    Instalment,
    LedgerEntry,
    PaymentPlan,
)
from app.models.enums import (
    InstalmentStatus,
    LedgerKind,
    PlanFrequency,
    PlanStatus,
    Role,
)
from app.services import api_keys, idempotency
from app.services.ledger import balance_of, post_entry
from tests.app.web.helpers import csrf_token, sign_in
from tests.factories import make_account, make_creditor, make_debtor, make_user

BATCH = "/api/v1/accounts:batch"


@dataclass
class Tenant:
    creditor: Creditor
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def _tenant(session: Session, now: datetime) -> Tenant:
    creditor = make_creditor(session, now)
    made = api_keys.create_key(
        session, creditor, "Bookkeeping", created_by=None, now=now
    )
    return Tenant(creditor, made.secret)


@pytest.fixture
def tenant_a(session: Session, now: datetime) -> Tenant:
    tenant = _tenant(session, now)
    session.commit()
    return tenant


@pytest.fixture
def tenant_b(session: Session, now: datetime) -> Tenant:
    tenant = _tenant(session, now)
    session.commit()
    return tenant


def item(reference: str, amount: str = "1250.00", **fields: Any) -> dict[str, Any]:
    return {
        "external_reference": reference,
        "name": "Mette Hansen",
        "phone": "+4520123456",
        "customer_number": f"K-{reference}",
        "amount": amount,
        "currency": "DKK",
        "issued_on": "2025-08-01",
        "due_on": "2025-09-01",
        **fields,
    }


def post_batch(
    client: FlaskClient,
    tenant: Tenant,
    items: list[dict[str, Any]],
    *,
    key: str | None = None,
    query: str = "",
) -> TestResponse:
    headers = tenant.auth | ({"Idempotency-Key": key} if key else {})
    return client.post(BATCH + query, json={"items": items}, headers=headers)


def count(session: Session, model: Any, creditor: Creditor) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(model)
            .where(model.creditor_id == creditor.id)
        )
        or 0
    )


def assert_error(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.json
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert set(body) <= {"code", "status", "message", "errors"}
    return body


# --- authentication ---------------------------------------------------------------


def test_requests_without_a_live_key_are_refused(
    client: FlaskClient, session: Session, tenant_a: Tenant, now: datetime
) -> None:
    revoked = _tenant(session, now)
    key = session.scalar(
        select(ApiKey).where(ApiKey.creditor_id == revoked.creditor.id)
    )
    assert key is not None
    api_keys.revoke_key(session, revoked.creditor, key.id, now=now)
    session.commit()
    attempts: list[dict[str, str]] = [
        {},
        {"Authorization": f"Basic {tenant_a.key}"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer vk_live_not-a-real-key"},
        {"Authorization": f"Bearer {tenant_a.key}x"},
        revoked.auth,
    ]
    for headers in attempts:
        response = client.get("/api/v1/accounts", headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/accounts", headers=tenant_a.auth).status_code == 200


def test_keys_are_stored_only_as_a_hash_and_record_their_last_use(
    client: FlaskClient, session: Session, tenant_a: Tenant
) -> None:
    key = session.scalar(
        select(ApiKey).where(ApiKey.creditor_id == tenant_a.creditor.id)
    )
    assert key is not None
    assert tenant_a.key.startswith("vk_live_")
    assert len(tenant_a.key) > 40
    assert key.key_hash == api_keys.hash_key(tenant_a.key) != tenant_a.key
    assert tenant_a.key.startswith(key.prefix)
    assert len(key.prefix) < 16
    assert key.last_used_at is None
    client.get("/api/v1/accounts", headers=tenant_a.auth)
    session.expire_all()
    assert session.get(ApiKey, key.id).last_used_at is not None


# --- accounts:batch -----------------------------------------------------------------


def test_a_batch_creates_accounts_and_answers_for_each_item(
    client: FlaskClient, session: Session, tenant_a: Tenant
) -> None:
    items = [
        item("INV-1"),
        item("INV-2", "99.50", phone="20123457", customer_number=None),
        item("INV-3", currency="XYZ", phone="1234"),
    ]
    response = post_batch(client, tenant_a, items)
    assert response.status_code == 200, response.json
    body = response.json
    assert body is not None
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (
        2,
        0,
        0,
        1,
    )
    assert body["new_debtors"] == 2
    assert body["dry_run"] is False
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert [r["status"] for r in results] == ["created", "created", "rejected"]
    assert [r["external_reference"] for r in results] == ["INV-1", "INV-2", "INV-3"]
    assert results[0]["errors"] == []
    assert results[0]["kind"] == "invoice"
    (problem,) = results[2]["errors"]
    assert problem["field"] == "currency"
    assert problem["value"] == "XYZ"
    assert "ISO 4217" in problem["message"]
    session.expire_all()
    assert count(session, Account, tenant_a.creditor) == 2
    got = client.get("/api/v1/accounts/INV-2", headers=tenant_a.auth).json
    assert got is not None
    assert (got["balance"], got["balance_minor"], got["currency"]) == (
        "99.50",
        9950,
        "DKK",
    )
    assert got["status"] == "open"
    assert got["debtor"]["name"] == "Mette Hansen"
    assert got["due_on"] == "2025-09-01"


def test_the_same_batch_again_is_unchanged_and_a_new_amount_is_an_adjustment(
    client: FlaskClient, session: Session, tenant_a: Tenant
) -> None:
    post_batch(client, tenant_a, [item("INV-1"), item("INV-2")])
    again = post_batch(client, tenant_a, [item("INV-1"), item("INV-2")]).json
    assert again is not None
    assert [r["status"] for r in again["results"]] == ["unchanged", "unchanged"]
    changed = post_batch(
        client, tenant_a, [item("INV-1", "1000.00"), item("INV-2")]
    ).json
    assert changed is not None
    assert [r["status"] for r in changed["results"]] == ["updated", "unchanged"]
    assert changed["updated"] == 1
    session.expire_all()
    account = session.scalar(
        select(Account).where(
            Account.creditor_id == tenant_a.creditor.id,
            Account.external_reference == "INV-1",
        )
    )
    assert account is not None
    assert balance_of(session, account.id) == 100_000
    kinds = session.scalars(
        select(LedgerEntry.kind).where(LedgerEntry.account_id == account.id)
    )
    assert sorted(kinds) == [LedgerKind.CHARGE, LedgerKind.CREDIT]
    assert account.original_amount_minor == 125_000  # never silently overwritten


def test_a_credit_note_reduces_its_invoice(
    client: FlaskClient, session: Session, tenant_a: Tenant
) -> None:
    items = [
        item("INV-1"),
        item("CN-1", "-250.00", kind="credit_note", credited_reference="INV-1"),
    ]
    body = post_batch(client, tenant_a, items).json
    assert body is not None
    assert [r["status"] for r in body["results"]] == ["created", "updated"]
    assert body["results"][1]["kind"] == "credit_note"
    got = client.get("/api/v1/accounts/INV-1", headers=tenant_a.auth).json
    assert got is not None
    assert got["balance"] == "1000.00"


def test_rejected_items_are_explained_and_warnings_reported(
    client: FlaskClient, tenant_a: Tenant
) -> None:
    future = (date.today() + timedelta(days=60)).isoformat()
    items = [
        item("INV-1", due_on=future),
        item("INV-2", "0"),
        item("INV-3", "12.345"),
        item("INV-4", name=""),
        item("INV-1"),
        item("INV-5", phone="+47 22 22 22 22"),  # a Norwegian landline
        item("INV-6", "100.00", outstanding="200.00"),
    ]
    body = post_batch(client, tenant_a, items).json
    assert body is not None
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "created",
        "created",
        "rejected",
    ]
    fields = [{e["field"] for e in r["errors"]} for r in body["results"]]
    assert fields[:4] == [{"due_on"}, {"amount"}, {"amount"}, {"name"}]
    assert fields[6] == {"outstanding"}
    assert "more than" in body["results"][0]["errors"][0]["message"]
    (warning,) = body["results"][5]["warnings"]
    assert warning["field"] == "phone"
    assert "landline" in warning["message"]


def test_a_reference_repeated_in_one_batch_is_refused_after_its_first(
    client: FlaskClient, tenant_a: Tenant
) -> None:
    body = post_batch(client, tenant_a, [item("INV-1"), item("INV-1", "5.00")]).json
    assert body is not None
    assert [r["status"] for r in body["results"]] == ["created", "rejected"]
    assert "more than once" in body["results"][1]["errors"][0]["message"]


def test_a_dry_run_reports_and_writes_nothing(
    client: FlaskClient, session: Session, tenant_a: Tenant
) -> None:
    body = post_batch(client, tenant_a, [item("INV-1")], query="?dry_run=true").json
    assert body is not None
    assert body["dry_run"] is True
    assert body["results"][0]["status"] == "created"
    session.expire_all()
    assert count(session, Account, tenant_a.creditor) == 0


def test_more_than_1000_items_are_refused_whole(
    client: FlaskClient, session: Session, tenant_a: Tenant
) -> None:
    items = [item(f"INV-{n}") for n in range(1001)]
    response = post_batch(client, tenant_a, items)
    body = assert_error(response, 422, "validation_failed")
    assert "items" in body["errors"]["json"]
    session.expire_all()
    assert count(session, Account, tenant_a.creditor) == 0
    exactly = post_batch(client, tenant_a, items[:1000], query="?dry_run=1")
    assert exactly.status_code == 200
    assert exactly.json is not None
    assert exactly.json["created"] == 1000


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"items": [item("INV-1", "1.250,00")]}, ("items", "0", "amount")),
        ({"items": [item("INV-1", due_on="01-09-2025")]}, ("items", "0", "due_on")),
        ({"items": [item("INV-1", colour="red")]}, ("items", "0", "colour")),
        ({"items": [{"name": "No Reference", "amount": "1"}]}, ("items", "0")),
        ({"items": []}, ("items",)),
        ({"accounts": []}, ("accounts",)),
        ({"items": [item("INV\x00-1")]}, ("items", "0", "external_reference")),
    ],
)
def test_a_malformed_request_is_refused_with_the_fields_at_fault(
    client: FlaskClient, tenant_a: Tenant, body: dict[str, Any], where: tuple[str, ...]
) -> None:
    response = client.post(BATCH, json=body, headers=tenant_a.auth)
    errors = assert_error(response, 422, "validation_failed")["errors"]["json"]
    for step in where:
        errors = errors[step]


def test_a_body_that_is_not_json_is_refused_in_the_same_shape(
    client: FlaskClient, tenant_a: Tenant
) -> None:
    response = client.post(
        BATCH, data="{not json", content_type="application/json", headers=tenant_a.auth
    )
    assert_error(response, 400, "bad_request")


# --- idempotency ------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_replay_the_first_answer(
    client: FlaskClient, session: Session, tenant_a: Tenant
) -> None:
    first = post_batch(client, tenant_a, [item("INV-1")], key="sync-2025-11-01")
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    second = post_batch(client, tenant_a, [item("INV-1")], key="sync-2025-11-01")
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_data() == first.get_data()  # "created", not "unchanged"
    assert second.json is not None
    assert second.json["results"][0]["status"] == "created"
    session.expire_all()
    assert count(session, Account, tenant_a.creditor) == 1
    assert count(session, ApiIdempotency, tenant_a.creditor) == 1


def test_an_idempotency_key_reused_for_another_body_is_a_conflict(
    client: FlaskClient, session: Session, tenant_a: Tenant
) -> None:
    post_batch(client, tenant_a, [item("INV-1")], key="k-1")
    response = post_batch(client, tenant_a, [item("INV-1", "1.00")], key="k-1")
    assert_error(response, 409, "idempotency_key_reused")
    dry = post_batch(client, tenant_a, [item("INV-1")], key="k-1", query="?dry_run=1")
    assert_error(dry, 409, "idempotency_key_reused")
    session.expire_all()
    assert count(session, Account, tenant_a.creditor) == 1


def test_idempotency_keys_belong_to_one_creditor(
    client: FlaskClient, session: Session, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    post_batch(client, tenant_a, [item("INV-1")], key="shared-key")
    other = post_batch(client, tenant_b, [item("INV-9", "9.00")], key="shared-key")
    assert other.status_code == 200
    assert "Idempotent-Replayed" not in other.headers
    assert other.json is not None
    assert other.json["results"][0]["external_reference"] == "INV-9"


def test_a_twin_request_committed_first_is_replayed_not_repeated(
    client: FlaskClient,
    session: Session,
    tenant_a: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two requests with one key at once: the later one finds the key taken on insert."""
    first = post_batch(client, tenant_a, [item("INV-1")], key="twin")
    real_find = idempotency.find_answer
    calls: list[str] = []

    def find_late(*args: Any) -> idempotency.StoredAnswer | None:
        calls.append(args[2])
        return None if len(calls) == 1 else real_find(*args)  # not yet committed

    monkeypatch.setattr(idempotency, "find_answer", find_late)
    second = post_batch(client, tenant_a, [item("INV-1")], key="twin")
    assert calls == ["twin", "twin"]
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_data() == first.get_data()
    session.expire_all()
    assert count(session, Account, tenant_a.creditor) == 1


def test_accounts_changed_during_the_import_refuse_the_whole_batch(
    client: FlaskClient,
    session: Session,
    tenant_a: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def changed(*args: Any, **kwargs: Any) -> None:
        raise PlanChanged("the accounts changed since the dry run")

    monkeypatch.setattr(batch_module, "apply_import", changed)
    response = post_batch(client, tenant_a, [item("INV-1")], key="k-changed")
    assert_error(response, 409, "import_plan_changed")
    session.expire_all()
    assert count(session, Account, tenant_a.creditor) == 0
    assert count(session, ApiIdempotency, tenant_a.creditor) == 0


def test_a_malformed_idempotency_key_is_refused(
    client: FlaskClient, tenant_a: Tenant
) -> None:
    response = post_batch(client, tenant_a, [item("INV-1")], key="x" * 256)
    assert_error(response, 422, "validation_failed")


# --- reading ------------------------------------------------------------------------


def test_accounts_are_listed_a_page_at_a_time(
    client: FlaskClient, session: Session, tenant_a: Tenant, now: datetime
) -> None:
    debtor = make_debtor(session, tenant_a.creditor, now)
    made = [
        make_account(session, debtor, now, amount_minor=1000 * n) for n in range(1, 6)
    ]
    post_entry(session, made[0], LedgerKind.PAYMENT, 400, now=now)
    session.commit()
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = client.get(
            "/api/v1/accounts", query_string=query, headers=tenant_a.auth
        ).json
        assert body is not None
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        assert body["has_more"] is (cursor is not None)
        if cursor is None:
            break
    assert pages == 3
    assert [a["external_reference"] for a in seen] == [
        a.external_reference for a in made
    ]
    assert seen[0]["balance_minor"] == 600
    assert seen[0]["balance"] == "6.00"
    assert seen[0]["original_amount"] == "10.00"
    assert seen[4]["balance_minor"] == 5000


@pytest.mark.parametrize(
    "path", ["/api/v1/accounts", "/api/v1/payments", "/api/v1/plans"]
)
@pytest.mark.parametrize(
    "value",
    [
        "nonsense",
        "cGF5bWVudHM6eA",  # payments:x
        "YWNjb3VudHM6MQ",  # accounts:1
        "YWNjb3VudHM6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",  # accounts:999…, too large
        "cGxhbnM6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",  # plans:999…, too large
        "cGF5bWVudHM6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",  # payments:999…
    ],
)
def test_a_cursor_not_from_the_list_is_refused(
    client: FlaskClient, tenant_a: Tenant, path: str, value: str
) -> None:
    parameter = "cursor" if path.endswith("accounts") else "since"
    if (
        path.endswith("accounts") and value == "YWNjb3VudHM6MQ"
    ):  # accounts:1, valid there
        return
    response = client.get(path, query_string={parameter: value}, headers=tenant_a.auth)
    assert_error(response, 422, "validation_failed")


def test_payments_are_fed_since_a_cursor(
    client: FlaskClient, session: Session, tenant_a: Tenant, now: datetime
) -> None:
    debtor = make_debtor(session, tenant_a.creditor, now)
    account = make_account(session, debtor, now, amount_minor=50_000)
    post_entry(session, account, LedgerKind.PAYMENT, 10_000, now=now)
    post_entry(session, account, LedgerKind.FEE, 500, now=now)  # not a payment
    session.commit()
    first = client.get("/api/v1/payments", headers=tenant_a.auth).json
    assert first is not None
    (payment,) = first["items"]
    assert payment["kind"] == "payment"
    assert (payment["amount"], payment["amount_minor"]) == ("100.00", 10_000)
    assert payment["external_reference"] == account.external_reference
    assert first["next_cursor"]
    assert first["has_more"] is False
    since = {"since": first["next_cursor"]}
    nothing = client.get("/api/v1/payments", query_string=since, headers=tenant_a.auth)
    assert nothing.json == {
        "items": [],
        "next_cursor": first["next_cursor"],
        "has_more": False,
    }
    post_entry(session, account, LedgerKind.PAYMENT, 5_000, now=now)
    session.commit()
    later = client.get(
        "/api/v1/payments", query_string=since, headers=tenant_a.auth
    ).json
    assert later is not None
    assert [p["amount_minor"] for p in later["items"]] == [5_000]


def _plan(session: Session, account: Account, now: datetime) -> PaymentPlan:
    plan = PaymentPlan(
        account_id=account.id,
        status=PlanStatus.ACTIVE,
        frequency=PlanFrequency.MONTHLY,
        total_minor=60_000,
        currency="DKK",
        created_at=now,
    )
    plan.instalments = [
        Instalment(
            seq_no=n,
            due_on=date(2026, 12, 1) + timedelta(days=30 * (n - 1)),
            amount_minor=20_000,
            status=InstalmentStatus.SCHEDULED,
        )
        for n in (1, 2, 3)
    ]
    session.add(plan)
    session.flush()
    return plan


def test_plans_are_fed_since_a_cursor_with_their_instalments(
    client: FlaskClient, session: Session, tenant_a: Tenant, now: datetime
) -> None:
    debtor = make_debtor(session, tenant_a.creditor, now)
    account = make_account(session, debtor, now, amount_minor=60_000)
    _plan(session, account, now)
    session.commit()
    body = client.get("/api/v1/plans", headers=tenant_a.auth).json
    assert body is not None
    (plan,) = body["items"]
    assert (plan["status"], plan["frequency"], plan["total"]) == (
        "active",
        "monthly",
        "600.00",
    )
    assert [i["seq_no"] for i in plan["instalments"]] == [1, 2, 3]
    assert plan["instalments"][0]["amount"] == "200.00"
    assert plan["instalments"][0]["due_on"] == "2026-12-01"
    since = {"since": body["next_cursor"]}
    later = client.get("/api/v1/plans", query_string=since, headers=tenant_a.auth).json
    assert later is not None
    assert later["items"] == []


# --- tenant isolation -----------------------------------------------------------------


@pytest.mark.parametrize("direction", ["a_to_b", "b_to_a"])
def test_a_key_never_reads_or_writes_another_creditors_data(
    client: FlaskClient,
    session: Session,
    tenant_a: Tenant,
    tenant_b: Tenant,
    now: datetime,
    direction: str,
) -> None:
    me, other = (tenant_a, tenant_b) if direction == "a_to_b" else (tenant_b, tenant_a)
    debtor = make_debtor(session, other.creditor, now)
    theirs = make_account(session, debtor, now, amount_minor=70_000)
    post_entry(session, theirs, LedgerKind.PAYMENT, 1_000, now=now)
    _plan(session, theirs, now)
    session.commit()
    reference = theirs.external_reference

    foreign = client.get(f"/api/v1/accounts/{reference}", headers=me.auth)
    missing = client.get("/api/v1/accounts/NO-SUCH-INVOICE", headers=me.auth)
    assert_error(foreign, 404, "not_found")
    assert foreign.json == missing.json
    for path in ("/api/v1/accounts", "/api/v1/payments", "/api/v1/plans"):
        body = client.get(path, headers=me.auth).json
        assert body is not None
        assert body["items"] == [], path

    # Writing the same reference makes my own account; theirs is untouched.
    body = post_batch(client, me, [item(reference, "5.00")]).json
    assert body is not None
    assert body["results"][0]["status"] == "created"
    session.expire_all()
    assert balance_of(session, theirs.id) == 69_000
    assert count(session, Account, other.creditor) == 1
    mine = client.get(f"/api/v1/accounts/{reference}", headers=me.auth).json
    assert mine is not None
    assert mine["balance"] == "5.00"
    theirs_seen = client.get(f"/api/v1/accounts/{reference}", headers=other.auth).json
    assert theirs_seen is not None
    assert theirs_seen["balance"] == "690.00"


def test_a_cursor_of_another_creditor_reveals_nothing(
    client: FlaskClient,
    session: Session,
    tenant_a: Tenant,
    tenant_b: Tenant,
    now: datetime,
) -> None:
    account_b = make_account(session, make_debtor(session, tenant_b.creditor, now), now)
    post_entry(session, account_b, LedgerKind.PAYMENT, 100, now=now)
    session.commit()
    cursor_b = client.get("/api/v1/payments", headers=tenant_b.auth).json
    assert cursor_b is not None
    assert cursor_b["items"]
    with_b = client.get(
        "/api/v1/payments",
        query_string={"since": "cGF5bWVudHM6MA"},
        headers=tenant_a.auth,
    ).json  # payments:0, from the very start
    assert with_b is not None
    assert with_b["items"] == []


# --- errors, documents, limits --------------------------------------------------------


def test_every_api_error_has_the_same_shape(
    client: FlaskClient, tenant_a: Tenant
) -> None:
    assert_error(client.get("/api/v1/nowhere", headers=tenant_a.auth), 404, "not_found")
    wrong_method = client.delete("/api/v1/accounts", headers=tenant_a.auth)
    assert_error(wrong_method, 405, "method_not_allowed")
    assert "GET" in wrong_method.headers["Allow"]
    limit = client.get("/api/v1/accounts?limit=0", headers=tenant_a.auth)
    assert "limit" in assert_error(limit, 422, "validation_failed")["errors"]["query"]


def test_an_oversized_body_is_refused(
    make_app: Callable[..., Flask], tenant_a: Tenant
) -> None:
    client = make_app(API_MAX_BODY_BYTES=2000).test_client()
    items = [item(f"INV-{n}") for n in range(20)]
    assert_error(post_batch(client, tenant_a, items), 413, "request_entity_too_large")


def test_the_rate_limit_counts_per_key(
    make_app: Callable[..., Flask],
    session: Session,
    tenant_a: Tenant,
    tenant_b: Tenant,
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/accounts", headers=tenant_a.auth).status_code == 200
    assert_error(
        client.get("/api/v1/plans", headers=tenant_a.auth), 429, "too_many_requests"
    )
    assert client.get("/api/v1/accounts", headers=tenant_b.auth).status_code == 200


def test_the_openapi_document_describes_every_operation(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec is not None
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "Venlig API"
    operations = {
        (method.upper(), path)
        for path, item_ in spec["paths"].items()
        for method in item_
        if method != "parameters"
    }
    assert operations == {
        ("POST", "/api/v1/accounts:batch"),
        ("GET", "/api/v1/accounts"),
        ("GET", "/api/v1/accounts/{external_reference}"),
        ("GET", "/api/v1/payments"),
        ("GET", "/api/v1/plans"),
    }
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {
        "code",
        "message",
    }


def test_the_docs_page_lists_the_operations_without_outside_scripts(
    client: FlaskClient,
) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for operation in ("POST /api/v1/accounts:batch", "GET /api/v1/payments"):
        assert operation in page
    assert "AccountItem" in page
    assert "Idempotency-Key" in page
    assert "<script" not in page
    assert "cdn" not in page.lower()


# --- key pages ------------------------------------------------------------------------


def test_a_creditor_user_creates_sees_once_and_revokes_a_key(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    creditor = make_creditor(session, now)
    user = make_user(session, now, Role.CREDITOR, creditor)
    session.commit()
    sign_in(client, user.email)
    assert (
        client.get("/api-keys")
        .headers["Location"]
        .endswith(f"/creditors/{creditor.id}/api-keys")
    )
    page = f"/creditors/{creditor.id}/api-keys"
    token = csrf_token(client, page)
    created = client.post(page, data={"name": "Economic sync", "csrf_token": token})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    text = created.get_data(as_text=True)
    secret = text.split('<code id="api-key">')[1].split("</code>")[0]
    assert secret.startswith("vk_live_")
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/accounts", headers=auth).status_code == 200

    listing = client.get(page).get_data(as_text=True)
    assert "Economic sync" in listing
    assert secret[:12] in listing
    assert secret not in listing
    key = session.scalar(select(ApiKey).where(ApiKey.creditor_id == creditor.id))
    assert key is not None
    revoke = f"{page}/{key.id}/revoke"
    assert (
        client.post(revoke, data={"csrf_token": csrf_token(client, page)}).status_code
        == 302
    )
    assert client.get("/api/v1/accounts", headers=auth).status_code == 401
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "api_key")
    )
    assert sorted(actions) == ["api_key_created", "api_key_revoked"]


def test_key_pages_belong_to_their_creditor_and_to_admins(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    mine, theirs = make_creditor(session, now), make_creditor(session, now)
    user = make_user(session, now, Role.CREDITOR, mine)
    agent = make_user(session, now, Role.AGENT)
    admin = make_user(session, now, Role.ADMIN)
    session.commit()
    sign_in(client, user.email)
    assert client.get(f"/creditors/{theirs.id}/api-keys").status_code == 404
    token = csrf_token(client, f"/creditors/{mine.id}/api-keys")
    stolen = client.post(
        f"/creditors/{theirs.id}/api-keys", data={"name": "x", "csrf_token": token}
    )
    assert stolen.status_code == 404
    assert count(session, ApiKey, theirs) == 0
    client.post("/logout", data={"csrf_token": token})

    sign_in(client, agent.email)
    assert client.get("/api-keys").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/debtors")})

    sign_in(client, admin.email)
    choose = client.get("/api-keys").get_data(as_text=True)
    assert mine.name in choose
    assert theirs.name in choose
    assert client.get(f"/creditors/{theirs.id}/api-keys").status_code == 200


def test_a_key_needs_a_name(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    creditor = make_creditor(session, now)
    user = make_user(session, now, Role.CREDITOR, creditor)
    session.commit()
    sign_in(client, user.email)
    page = f"/creditors/{creditor.id}/api-keys"
    response = client.post(
        page, data={"name": "  ", "csrf_token": csrf_token(client, page)}
    )
    assert response.status_code == 400
    assert count(session, ApiKey, creditor) == 0
