"""Twilio webhooks: signatures checked against the public URL, replays harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from app.models import Debtor, EarlyStatus, InboundMessage, Message
from app.models.enums import Channel, Language, MessageStatus
from tests.factories import make_creditor, make_debtor

NOW = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
BASE = "https://venlig.example"


def signed_post(
    client: FlaskClient, path: str, params: dict[str, str], token: str
) -> object:
    signature = RequestValidator(token).compute_signature(f"{BASE}{path}", params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def debtor_with_phone(session: Session) -> Debtor:
    debtor = make_debtor(
        session, make_creditor(session, NOW), NOW, phone_e164="+4520123456"
    )
    session.commit()
    return debtor


def test_inbound_with_a_valid_signature_is_accepted(
    make_app,
    session: Session,
) -> None:
    app: Flask = make_app(PUBLIC_BASE_URL=BASE)
    debtor = debtor_with_phone(session)
    params = {
        "From": "+4520123456",
        "To": "+4570000000",
        "Body": "STOP",
        "MessageSid": "SM1",
    }
    response = signed_post(
        app.test_client(),
        "/webhooks/twilio/inbound",
        params,
        app.config["DEV_TWILIO_AUTH_TOKEN"],
    )
    assert response.status_code == 200
    session.expire_all()
    assert session.get(Debtor, debtor.id).sms_opted_out_at is not None


def test_inbound_with_a_bad_signature_is_refused_and_changes_nothing(
    make_app,
    session: Session,
) -> None:
    app: Flask = make_app(PUBLIC_BASE_URL=BASE)
    debtor = debtor_with_phone(session)
    params = {
        "From": "+4520123456",
        "To": "+4570000000",
        "Body": "STOP",
        "MessageSid": "SM1",
    }
    response = signed_post(
        app.test_client(), "/webhooks/twilio/inbound", params, "wrong"
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Debtor, debtor.id).sms_opted_out_at is None
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0


def test_a_signature_for_another_url_is_refused(
    make_app,
    session: Session,
) -> None:
    app: Flask = make_app(PUBLIC_BASE_URL=BASE)
    debtor_with_phone(session)
    params = {"From": "+4520123456", "To": "x", "Body": "hi", "MessageSid": "SM1"}
    token = app.config["DEV_TWILIO_AUTH_TOKEN"]
    signature = RequestValidator(token).compute_signature(
        "http://localhost/webhooks/twilio/inbound", params
    )
    response = app.test_client().post(
        "/webhooks/twilio/inbound",
        data=params,
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 403


def test_status_callbacks_replayed_out_of_order_end_delivered(
    make_app,
    session: Session,
) -> None:
    app: Flask = make_app(PUBLIC_BASE_URL=BASE)
    debtor = debtor_with_phone(session)
    message = Message(
        debtor_id=debtor.id,
        channel=Channel.SMS,
        template_key="help",
        language=Language.DA,
        to_address="+4520123456",
        status=MessageStatus.SENT,
        provider_message_id="SMabc",
        not_before=NOW,
        created_at=NOW,
        sent_at=NOW - timedelta(minutes=1),
    )
    session.add(message)
    session.commit()
    client, token = app.test_client(), app.config["DEV_TWILIO_AUTH_TOKEN"]
    for status in ("delivered", "sent", "delivered", "sent"):
        params = {"MessageSid": "SMabc", "MessageStatus": status}
        assert (
            signed_post(client, "/webhooks/twilio/status", params, token).status_code
            == 204
        )
    session.expire_all()
    assert session.get(Message, message.id).status is MessageStatus.DELIVERED


def test_a_status_callback_without_a_sid_is_a_clear_400(make_app) -> None:
    app: Flask = make_app(PUBLIC_BASE_URL=BASE)
    response = signed_post(
        app.test_client(),
        "/webhooks/twilio/status",
        {"MessageStatus": "sent"},
        app.config["DEV_TWILIO_AUTH_TOKEN"],
    )
    assert response.status_code == 400


def test_the_dev_phone_reply_goes_through_the_signed_inbound_path(
    make_app,
    session: Session,
) -> None:
    app: Flask = make_app(WTF_CSRF_ENABLED=False)
    debtor = debtor_with_phone(session)
    client = app.test_client()
    response = client.post(f"/dev/phone/{debtor.id}/reply", data={"body": "Stop"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Debtor, debtor.id).sms_opted_out_at is not None
    assert "Stop" in client.get(f"/dev/phone/{debtor.id}").get_data(as_text=True)


def test_the_dev_phone_is_absent_in_production_settings(make_app) -> None:
    app: Flask = make_app(DEV_TOOLS=False)
    assert app.test_client().get("/dev/phone/").status_code == 404


def test_a_cease_contact_text_is_recorded_and_stops_outreach(
    make_app,
    session: Session,
) -> None:
    from app.models import RiskSignal

    app: Flask = make_app(PUBLIC_BASE_URL=BASE)
    debtor = debtor_with_phone(session)
    params = {
        "From": "+4520123456",
        "To": "+4570000000",
        "Body": "Lad mig være, jeg vil ikke kontaktes mere",
        "MessageSid": "SMrisk",
    }
    signed_post(
        app.test_client(),
        "/webhooks/twilio/inbound",
        params,
        app.config["DEV_TWILIO_AUTH_TOKEN"],
    )
    session.expire_all()
    signal = session.scalar(select(RiskSignal).where(RiskSignal.debtor_id == debtor.id))
    assert signal is not None
    assert signal.category == "cease_contact"
    assert session.get(Debtor, debtor.id).cease_contact_at is not None


def test_a_callback_for_a_text_not_recorded_yet_is_kept_once(
    make_app, session: Session
) -> None:
    app: Flask = make_app(PUBLIC_BASE_URL=BASE)
    client, token = app.test_client(), app.config["DEV_TWILIO_AUTH_TOKEN"]
    params = {
        "MessageSid": "SMearly",
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
    }
    for _ in range(2):  # delivered twice, as providers do
        response = signed_post(client, "/webhooks/twilio/status", params, token)
        assert response.status_code == 204
    kept = session.scalars(select(EarlyStatus)).all()
    assert [(k.provider_message_id, k.provider_status, k.error_code) for k in kept] == [
        ("SMearly", "undelivered", "30003")
    ]
