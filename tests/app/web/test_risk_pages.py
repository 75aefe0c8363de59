"""The risk queue and complaint file over HTTP: supervisors only, reviews recorded."""

from __future__ import annotations

import io
from datetime import datetime

import pypdf
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import AuditEvent, InboundMessage, Message, RiskSignal
from app.models.enums import (
    Channel,
    Language,
    MessageStatus,
    Role,
    SignalSource,
    SignalStatus,
)
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
    assert session.scalar(
        select(AuditEvent).where(AuditEvent.action == "complaint_file.export_csv")
    )
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


def _pdf_text(body: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_supervisor_downloads_the_file_as_pdf_in_her_language(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    signal = _signal(session, now)
    session.add(
        InboundMessage(
            debtor_id=signal.debtor_id,
            from_address="+4520000000",
            to_address="+4570000000",
            body="Jeg har betalt! Lad mig være 🦊",
            provider_message_id="SM-pdf-1",
            received_at=now,
        )
    )
    supervisor = make_user(session, now, Role.SUPERVISOR, language=Language.DA)
    session.commit()
    sign_in(client, supervisor.email)
    page = client.get(f"/risk/accounts/{signal.account_id}/file").get_data(as_text=True)
    assert f"/risk/accounts/{signal.account_id}/file?format=pdf" in page
    # Worded in her language, not as the file's codes.
    assert "Risikosignal" in page
    assert "SMS modtaget" in page
    assert "risk_signal" not in page
    assert "text_received" not in page
    # What each entry says is worded too: the category, the action taken, the staff action.
    assert "Kategori: Klage til en myndighed" in page
    assert "kontakt sat på pause, til en teamleder har set på det" in page
    assert "paused_for_review" not in page

    download = client.get(f"/risk/accounts/{signal.account_id}/file?format=pdf")

    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith(
        'attachment; filename="complaint-file-INV-'
    )
    assert download.headers["Content-Disposition"].endswith('.pdf"')
    assert download.data.startswith(b"%PDF-")
    text = _pdf_text(download.data)
    assert "Klagesag" in text
    assert "SMS modtaget (text_received)" in text
    assert "Jeg har betalt! Lad mig være [U+1F98A]" in text
    assert "I will report you to Finanstilsynet" in text
    assert "Handling: åbnede klagesagen" in text
    assert supervisor.email in text
    exported = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "complaint_file.export_pdf")
    )
    assert exported is not None
    assert exported.object_id == signal.account_id


def test_the_file_is_refused_to_strangers_and_other_creditors_staff(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    signal = _signal(session, now)
    # Supervisors are agency staff; a creditor's own staff never reach the complaint file,
    # whichever creditor the account belongs to.
    outsider = make_user(session, now, Role.CREDITOR, make_creditor(session, now))
    session.commit()
    path = f"/risk/accounts/{signal.account_id}/file?format=pdf"

    refused = client.get(path)
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/login")

    sign_in(client, outsider.email)
    assert client.get(path).status_code == 403
    assert not session.scalar(
        select(AuditEvent).where(AuditEvent.action.like("complaint_file.%"))
    )


def test_an_unknown_account_or_format_changes_nothing(
    client: FlaskClient, session: Session, now: datetime
) -> None:
    signal = _signal(session, now)
    supervisor = make_user(session, now, Role.SUPERVISOR)
    session.commit()
    sign_in(client, supervisor.email)
    file = f"/risk/accounts/{signal.account_id}/file"
    assert client.get(f"{file}?format=xls").status_code == 400
    assert client.get("/risk/accounts/999999/file?format=pdf").status_code == 404
    assert not session.scalar(
        select(AuditEvent).where(AuditEvent.action.like("complaint_file.%"))
    )


def test_the_weekly_rates_are_written_the_way_the_pages_language_writes_numbers(
    client: FlaskClient, session: Session
) -> None:
    now = utcnow()  # the page counts the weeks up to today
    debtor = make_debtor(session, make_creditor(session, now), now)
    for _ in range(7):
        session.add(
            Message(
                debtor_id=debtor.id,
                channel=Channel.SMS,
                template_key="friendly",
                language=Language.DA,
                to_address=debtor.phone_e164,
                status=MessageStatus.DELIVERED,
                not_before=now,
                created_at=now,
                sent_at=now,
            )
        )
    record_risk(
        session,
        debtor,
        "I will report you to Finanstilsynet",
        source=SignalSource.SMS,
        now=now,
    )
    supervisor = make_user(session, now, Role.SUPERVISOR)
    session.commit()
    sign_in(client, supervisor.email)
    client.get("/lang/da")
    assert "142,9" in client.get("/risk/rates").get_data(as_text=True)  # 1 in 7 texts
    client.get("/lang/en")
    assert "142.9" in client.get("/risk/rates").get_data(as_text=True)
