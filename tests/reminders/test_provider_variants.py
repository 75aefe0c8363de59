"""The dispatcher and the status callback against providers that answer otherwise than ours.

Twilio's document (twilio_api_v2010.json) makes every field of a Message nullable and none
required, lists statuses our code may not know yet, and sends ErrorCode only on failures;
other mocks name texts their own way. None of that may lose an answer, send a text twice or
fail a callback delivery (which the provider would only repeat).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from app.models import Account, Creditor, EarlyStatus, Message
from app.models.enums import MessageStatus
from reminders.sequences import ensure_default_sequence
from reminders.sms import OutgoingSms, SentSms, SmsSendError
from reminders.status import apply_status
from tests.factories import make_creditor
from tests.fakes import FakeSmsSender
from tests.reminders.test_engine import (
    MORNING,
    dispatch,
    messages,
    overdue_account,
    plan,
)

BASE = "https://venlig.example"


@pytest.fixture
def creditor(session: Session) -> Creditor:
    creditor = make_creditor(session, MORNING - timedelta(days=60))
    ensure_default_sequence(session, creditor, now=MORNING)
    return creditor


def due_reminders(session: Session, creditor: Creditor, count: int) -> list[Account]:
    accounts = [
        overdue_account(session, creditor, days=5, phone_e164=f"+452012345{i}")
        for i in range(count)
    ]
    plan(session)
    session.commit()
    return accounts


@dataclass
class SurprisingSender(FakeSmsSender):
    """Takes every text, but fails unforeseeably on the ones whose number is listed."""

    crash_for: tuple[str, ...] = ()

    def send(self, sms: OutgoingSms) -> SentSms:
        sent = super().send(sms)
        if sms.to in self.crash_for:
            raise ValueError("invalid literal for int() with base 10: 'lorem'")
        return sent


@dataclass
class SameIdSender(FakeSmsSender):
    """A mock that answers every text with its document's one example sid."""

    def send(self, sms: OutgoingSms) -> SentSms:
        super().send(sms)
        return SentSms(provider_id="SM" + "0" * 32, status="accepted")


def test_an_unforeseen_sender_failure_is_unknown_and_the_other_answers_count(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    first, second = due_reminders(session, creditor, 2)
    sender = SurprisingSender(crash_for=("+4520123450",))

    result = dispatch(session_factory, sender)

    assert (result.sent, result.unknown) == (1, 1)
    session.expire_all()
    [crashed], [answered] = messages(session, first), messages(session, second)
    # It may be at the provider: never sent again blind, settled by reconciliation.
    assert crashed.status is MessageStatus.UNKNOWN
    assert crashed.provider_message_id is None
    assert answered.status is MessageStatus.SENT
    assert answered.provider_message_id
    assert dispatch(session_factory, sender, MORNING + timedelta(hours=1)).sent == 0
    assert len(sender.sent) == 2


def test_a_provider_id_given_twice_is_kept_once_and_both_texts_count_as_sent(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    accounts = due_reminders(session, creditor, 3)

    result = dispatch(session_factory, SameIdSender())

    assert result.sent == 3
    session.expire_all()
    sent = [m for a in accounts for m in messages(session, a)]
    assert {m.status for m in sent} == {MessageStatus.SENT}
    assert [m.provider_message_id for m in sent].count("SM" + "0" * 32) == 1


def test_an_error_code_longer_than_ours_is_cut_to_fit(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    [account] = due_reminders(session, creditor, 1)
    failure = SmsSendError("refused", code="E" * 80, permanent=True)

    dispatch(session_factory, FakeSmsSender(failures=[failure]))

    session.expire_all()
    [message] = messages(session, account)
    assert (message.status, message.error_code) == (MessageStatus.FAILED, "E" * 32)


# --- status callbacks ------------------------------------------------------------------------


@pytest.fixture
def sent(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> Message:
    [account] = due_reminders(session, creditor, 1)
    dispatch(session_factory, FakeSmsSender())
    session.expire_all()
    [message] = messages(session, account)
    return message


@pytest.mark.parametrize(
    "status", ["partially_delivered", "receiving", "lost_in_space", ""]
)
def test_a_status_we_do_not_know_changes_nothing_and_is_not_kept(
    session: Session, sent: Message, status: str
) -> None:
    assert sent.provider_message_id
    apply_status(
        session, sent.provider_message_id, status, error_code=None, now=MORNING
    )
    apply_status(session, "SMnot-recorded-yet", status, error_code="1", now=MORNING)

    assert sent.status is MessageStatus.SENT
    assert session.scalars(select(EarlyStatus)).all() == []


def test_a_cancelled_text_never_went_out(session: Session, sent: Message) -> None:
    assert sent.provider_message_id
    apply_status(
        session, sent.provider_message_id, "canceled", error_code=None, now=MORNING
    )

    assert sent.status is MessageStatus.FAILED


def test_a_status_in_other_case_or_padded_is_still_understood(
    session: Session, sent: Message
) -> None:
    assert sent.provider_message_id
    apply_status(
        session,
        f" {sent.provider_message_id}",
        " Delivered ",
        error_code="",
        now=MORNING,
    )

    assert (sent.status, sent.error_code) == (MessageStatus.DELIVERED, None)


def test_an_id_longer_than_any_we_record_is_not_ours(session: Session) -> None:
    assert (
        apply_status(session, "SM" + "f" * 200, "failed", error_code=None, now=MORNING)
        is None
    )
    session.flush()
    assert session.scalars(select(EarlyStatus)).all() == []


def test_a_long_error_code_is_kept_to_its_column_early_and_late(
    session: Session, sent: Message
) -> None:
    assert sent.provider_message_id
    apply_status(session, "SMearly", "undelivered", error_code="3" * 90, now=MORNING)
    apply_status(
        session, sent.provider_message_id, "failed", error_code="9" * 90, now=MORNING
    )
    session.flush()

    [early] = session.scalars(select(EarlyStatus)).all()
    assert early.error_code == "3" * 32
    assert (sent.status, sent.error_code) == (MessageStatus.FAILED, "9" * 32)


def signed_post(app: Flask, params: dict[str, str]) -> int:
    token = app.config["DEV_TWILIO_AUTH_TOKEN"]
    path = "/webhooks/twilio/status"
    signature = RequestValidator(token).compute_signature(f"{BASE}{path}", params)
    response = app.test_client().post(
        path, data=params, headers={"X-Twilio-Signature": signature}
    )
    return response.status_code


@pytest.mark.parametrize(
    ("extra", "status", "expected"),
    [
        # Everything Twilio documents for a callback, and fields newer than this code.
        (
            {
                "SmsSid": "same",
                "SmsStatus": "delivered",
                "AccountSid": "AC" + "a" * 32,
                "From": "+4520000000",
                "To": "+4520123450",
                "ApiVersion": "2010-04-01",
                "RawDlrDoneDate": "2611170901",
                "ChannelPrefix": "sms",
                "SomethingNew": "yes",
            },
            "delivered",
            MessageStatus.DELIVERED,
        ),
        ({"ErrorCode": "30003"}, "undelivered", MessageStatus.UNDELIVERED),
        ({"ErrorCode": ""}, "sent", MessageStatus.SENT),
        ({}, "partially_delivered", MessageStatus.SENT),
        (
            {"ErrorCode": "30008", "ErrorMessage": "Unknown"},
            "FAILED",
            MessageStatus.FAILED,
        ),
    ],
)
def test_a_signed_callback_with_more_or_fewer_fields_is_taken(
    make_app,
    session: Session,
    sent: Message,
    extra: dict[str, str],
    status: str,
    expected: MessageStatus,
) -> None:
    app: Flask = make_app(PUBLIC_BASE_URL=BASE)
    assert sent.provider_message_id
    params = {**extra, "MessageSid": sent.provider_message_id, "MessageStatus": status}

    assert signed_post(app, params) == 204

    session.expire_all()
    assert session.get_one(Message, sent.id).status is expected


def test_a_signed_callback_with_only_the_older_status_field_is_taken(
    make_app, session: Session, sent: Message
) -> None:
    app: Flask = make_app(PUBLIC_BASE_URL=BASE)
    assert sent.provider_message_id
    params = {"MessageSid": sent.provider_message_id, "SmsStatus": "delivered"}

    assert signed_post(app, params) == 204

    session.expire_all()
    assert session.get_one(Message, sent.id).status is MessageStatus.DELIVERED
    assert signed_post(app, {"MessageSid": sent.provider_message_id}) == 400


def test_a_signed_callback_about_a_stranger_with_an_odd_id_is_answered(
    make_app, session: Session
) -> None:
    app: Flask = make_app(PUBLIC_BASE_URL=BASE)

    params = {"MessageSid": "x" * 300, "MessageStatus": "delivered"}
    assert signed_post(app, params) == 204
    params = {
        "MessageSid": "MM" + "1" * 32,
        "MessageStatus": "read",
        "ErrorCode": "7" * 50,
    }
    assert signed_post(app, params) == 204

    session.expire_all()
    kept = session.scalars(select(EarlyStatus)).all()
    assert [(k.provider_message_id, k.error_code) for k in kept] == [
        ("MM" + "1" * 32, "7" * 32)
    ]
