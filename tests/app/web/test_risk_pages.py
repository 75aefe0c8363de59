"""The risk queue and complaint file over HTTP: supervisors only, reviews recorded."""

from __future__ import annotations

from datetime import datetime

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, RiskSignal
from app.models.enums import Role, SignalSource, SignalStatus
from app.risk.actions import record_risk
from tests.app.web.helpers import csrf_token, sign_in
from tests.factories import make_account, make_creditor, make_debtor, make_user


def _signal(session: Session, now: datetime) -> RiskSignal:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now)
    [signal] = record_risk(
        session,
        debtor,
        "I will report you to Finanstilsynet",
        source=SignalSource.SMS,
        now=now,
        account_id=account.id,
    )
    return signal


def test_agents_cannot_open_the_queue(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    agent = make_user(session, now, Role.AGENT)
    session.commit()
    sign_in(client, agent.email)
    assert client.get("/risk/").status_code == 403


def test_a_supervisor_reviews_a_signal_and_downloads_the_file(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    signal = _signal(session, now)
    supervisor = make_user(session, now, Role.SUPERVISOR)
    session.commit()
    sign_in(client, supervisor.email)
    page = client.get("/risk/")
    assert page.status_code == 200
    assert "Finanstilsynet" in page.get_data(as_text=True)
    response = client.post(
        f"/risk/{signal.id}/review",
        data={
            "decision": "resolve",
            "note": "called back",
            "csrf_token": csrf_token(client, "/risk/"),
        },
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(RiskSignal, signal.id).status is SignalStatus.RESOLVED
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "risk.resolve"))
    download = client.get(f"/risk/accounts/{signal.account_id}/file?format=csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "risk_signal" in download.get_data(as_text=True)
    assert client.get("/risk/rates").status_code == 200


def test_an_unknown_review_decision_is_a_clear_400(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    signal = _signal(session, now)
    supervisor = make_user(session, now, Role.SUPERVISOR)
    session.commit()
    sign_in(client, supervisor.email)
    response = client.post(
        f"/risk/{signal.id}/review",
        data={"decision": "delete", "csrf_token": csrf_token(client, "/risk/")},
    )
    assert response.status_code == 400
    session.expire_all()
    assert session.get(RiskSignal, signal.id).status is SignalStatus.OPEN
