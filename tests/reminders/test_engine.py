"""The reminder engine against a real database: plan, dispatch, re-check, inbound, status."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Account, ContactDecision, Creditor, Debtor, Message
from app.models.enums import AccountStatus, MessageStatus
from app.services.portal_links import find_link
from reminders.dispatch import dispatch_due, mark_stale_sending_unknown
from reminders.inbound import receive_sms
from reminders.planner import plan_due_steps
from reminders.profiles import effective_rules, profile_for
from reminders.segments import count_segments
from reminders.sequences import ensure_default_sequence
from reminders.sms import OutgoingSms, SentSms, SmsSendError
from reminders.status import apply_status
from tests.factories import make_account, make_creditor, make_debtor
from tests.fakes import FakeSmsSender

# Tuesday 17 November 2026, 10:00 in Copenhagen: inside every contact window.
MORNING = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 17, 22, 30, tzinfo=UTC)  # 23:30 in Copenhagen


def rules_for(_account: Account, debtor: Debtor):
    return effective_rules(profile_for(debtor.country))


def link_for(token: str) -> str:
    return f"https://venlig.example/p/{token}"


@pytest.fixture
def creditor(session: Session) -> Creditor:
    creditor = make_creditor(
        session, MORNING - timedelta(days=60), name="Nordlys Energi A/S"
    )
    ensure_default_sequence(session, creditor, now=MORNING)
    return creditor


def overdue_account(
    session: Session, creditor: Creditor, days: int, **debtor: object
) -> Account:
    person = make_debtor(session, creditor, MORNING - timedelta(days=60), **debtor)
    return make_account(
        session,
        person,
        MORNING - timedelta(days=60),
        due_on=MORNING.date() - timedelta(days=days),
    )


def plan(session: Session, now: datetime = MORNING):
    return plan_due_steps(session, now=now, rules_for=rules_for)


def dispatch(
    factory: sessionmaker[Session], sender: FakeSmsSender, now: datetime = MORNING
):
    return dispatch_due(
        factory, sender, now=now, rules_for=rules_for, link_for=link_for
    )


def messages(session: Session, account: Account) -> list[Message]:
    return list(
        session.scalars(select(Message).where(Message.account_id == account.id))
    )


def test_a_due_step_is_planned_once(session: Session, creditor: Creditor) -> None:
    account = overdue_account(session, creditor, days=5)
    assert plan(session).queued == 1
    assert plan(session).queued == 0
    [message] = messages(session, account)
    assert message.template_key == "friendly"
    assert message.status is MessageStatus.QUEUED


def test_nothing_is_planned_before_the_first_step(
    session: Session, creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=1)
    plan(session)
    assert messages(session, account) == []


def test_a_late_worker_sends_only_the_latest_step(
    session: Session, creditor: Creditor
) -> None:
    debtor = make_debtor(session, creditor, MORNING - timedelta(days=60))
    account = make_account(
        session,
        debtor,
        MORNING - timedelta(days=60),
        due_on=MORNING.date() - timedelta(days=25),
    )
    result = plan(session)
    assert (result.queued, result.superseded) == (1, 2)
    by_key = {m.template_key: m for m in messages(session, account)}
    assert by_key["plan_offer"].status is MessageStatus.QUEUED
    assert by_key["friendly"].suppressed_reason == "superseded"
    assert by_key["reminder"].suppressed_reason == "superseded"


def test_an_invoice_handed_over_late_starts_with_the_friendly_step(
    session: Session, creditor: Creditor
) -> None:
    debtor = make_debtor(session, creditor, MORNING)
    account = make_account(session, debtor, MORNING, due_on=date(2026, 8, 1))
    plan(session)
    [message] = messages(session, account)
    assert message.template_key == "friendly"


def test_a_step_due_at_night_is_deferred_with_its_reason(
    session: Session, creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    assert plan(session, NIGHT).deferred == 1
    [message] = messages(session, account)
    assert message.not_before == datetime(2026, 11, 18, 7, 0, tzinfo=UTC)  # 08:00 local
    decision = session.scalar(
        select(ContactDecision).where(ContactDecision.message_id == message.id)
    )
    assert decision is not None
    assert decision.reason == "quiet_hours"


def test_dispatch_sends_each_message_once(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    session.commit()
    sender = FakeSmsSender()
    assert dispatch(session_factory, sender).sent == 1
    assert dispatch(session_factory, sender).sent == 0
    session.expire_all()
    [message] = messages(session, account)
    assert message.status is MessageStatus.SENT
    assert message.provider_message_id
    assert message.segments == count_segments(sender.sent[0].body).segments
    assert len(sender.sent) == 1


def test_the_text_names_the_creditor_and_first_name_but_not_the_amount(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5, name="Mette Hansen")
    plan(session)
    session.commit()
    sender = FakeSmsSender()
    dispatch(session_factory, sender)
    [body] = [s.body for s in sender.sent]
    assert body.startswith("Hej Mette.")
    assert "Nordlys Energi A/S" in body
    assert "1.250" not in body
    assert account.external_reference not in body
    token = body.rsplit("/p/", 1)[1]
    assert find_link(session, token, now=MORNING) is not None


def test_the_policy_is_checked_again_at_send_time(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    session.get(Debtor, account.debtor_id).sms_opted_out_at = MORNING
    session.commit()
    sender = FakeSmsSender()
    assert dispatch(session_factory, sender).suppressed == 1
    assert sender.sent == []
    session.expire_all()
    assert messages(session, account)[0].suppressed_reason == "opted_out"


def test_a_paid_account_is_not_texted(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    account.status = AccountStatus.PAID
    session.commit()
    sender = FakeSmsSender()
    dispatch(session_factory, sender)
    assert sender.sent == []


def test_two_accounts_of_one_debtor_get_one_text_a_day(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    debtor = make_debtor(session, creditor, MORNING - timedelta(days=60))
    for _ in range(2):
        make_account(
            session,
            debtor,
            MORNING - timedelta(days=60),
            due_on=MORNING.date() - timedelta(days=5),
        )
    plan(session)
    session.commit()
    sender = FakeSmsSender()
    result = dispatch(session_factory, sender)
    assert (result.sent, result.deferred) == (1, 1)


def test_a_rejected_send_before_acceptance_is_retried_later(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    session.commit()
    sender = FakeSmsSender(failures=[SmsSendError("rate limited", code="20429")])
    assert dispatch(session_factory, sender).retried == 1
    assert dispatch(session_factory, sender, MORNING + timedelta(minutes=5)).sent == 1
    session.expire_all()
    assert messages(session, account)[0].attempts == 2


def test_texts_wait_uncounted_while_the_provider_refuses_our_account(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    accounts = [overdue_account(session, creditor, days=5) for _ in range(3)]
    plan(session)
    session.commit()
    refused = SmsSendError("Authenticate", code="20003", account_refused=True)
    sender = FakeSmsSender(failures=[refused] * 20)

    for minutes in range(0, 20 * 15, 15):  # five hours of wrong credentials
        dispatch(session_factory, sender, MORNING + timedelta(minutes=minutes))

    # One try per dispatch, not one per text: the others would meet the same answer.
    assert len(sender.failures) == 0
    session.expire_all()
    waiting = [messages(session, a)[0] for a in accounts]
    assert {m.status for m in waiting} == {MessageStatus.QUEUED}
    assert {m.attempts for m in waiting} == {0}
    # Once the account works again, every text goes, once.
    later = MORNING + timedelta(hours=5, minutes=15)
    assert dispatch(session_factory, sender, later).sent == 3
    assert len(sender.sent) == 3


class FailingAtOnceSender(FakeSmsSender):
    def send(self, sms: OutgoingSms) -> SentSms:
        sent = super().send(sms)
        return SentSms(provider_id=sent.provider_id, status="failed")


def test_a_text_the_provider_answers_failed_at_once_is_failed_not_sent(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    session.commit()
    sender = FailingAtOnceSender()

    result = dispatch(session_factory, sender)

    assert (result.sent, result.failed) == (0, 1)
    session.expire_all()
    assert messages(session, account)[0].status is MessageStatus.FAILED
    assert dispatch(session_factory, sender, MORNING + timedelta(hours=1)).claimed == 0


def test_a_send_that_may_have_reached_the_provider_is_never_repeated(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    session.commit()
    sender = FakeSmsSender(failures=[SmsSendError("read timeout", accepted_maybe=True)])
    assert dispatch(session_factory, sender).unknown == 1
    assert dispatch(session_factory, sender, MORNING + timedelta(hours=1)).sent == 0
    session.expire_all()
    assert messages(session, account)[0].status is MessageStatus.UNKNOWN


def test_a_landline_marks_the_number_unusable(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    session.commit()
    failure = SmsSendError(
        "landline", code="21614", permanent=True, number_unusable=True
    )
    dispatch(session_factory, FakeSmsSender(failures=[failure]))
    session.expire_all()
    assert messages(session, account)[0].status is MessageStatus.FAILED
    assert (
        session.get(Debtor, account.debtor_id).phone_unusable_reason == "provider_21614"
    )


def test_a_message_left_sending_by_a_dead_worker_becomes_unknown(
    session: Session, creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    [message] = messages(session, account)
    message.status, message.status_updated_at = MessageStatus.SENDING, MORNING
    assert mark_stale_sending_unknown(session, now=MORNING + timedelta(minutes=30)) == 1
    session.expire_all()
    assert messages(session, account)[0].status is MessageStatus.UNKNOWN


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Stopp! ", "AFMELD", "avmeld", "Unsubscribe"]
)
def test_stop_opts_out_with_one_confirmation(
    session: Session, creditor: Creditor, word: str
) -> None:
    account = overdue_account(session, creditor, days=5)
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    assert debtor.phone_e164
    first = receive_sms(
        session,
        from_number=debtor.phone_e164,
        to_number="+4570000000",
        body=word,
        provider_message_id="SM1",
        now=MORNING,
    )
    again = receive_sms(
        session,
        from_number=debtor.phone_e164,
        to_number="+4570000000",
        body=word,
        provider_message_id="SM2",
        now=MORNING,
    )
    assert debtor.sms_opted_out_at == MORNING
    assert first.reply is not None
    assert first.reply.template_key == "stop_confirmation"
    assert again.reply is None


def test_a_replayed_inbound_sms_is_handled_once(
    session: Session, creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    phone = session.get(Debtor, account.debtor_id).phone_e164
    receive_sms(
        session,
        from_number=phone,
        to_number="x",
        body="HELP",
        provider_message_id="SMhelp",
        now=MORNING,
    )
    replay = receive_sms(
        session,
        from_number=phone,
        to_number="x",
        body="HELP",
        provider_message_id="SMhelp",
        now=MORNING,
    )
    assert replay.duplicate
    count = session.scalar(
        select(func.count()).select_from(Message).where(Message.account_id.is_(None))
    )
    assert count == 1


def test_start_resumes_texts(session: Session, creditor: Creditor) -> None:
    account = overdue_account(session, creditor, days=5)
    debtor = session.get(Debtor, account.debtor_id)
    assert debtor is not None
    debtor.sms_opted_out_at = MORNING - timedelta(days=1)
    result = receive_sms(
        session,
        from_number=debtor.phone_e164 or "",
        to_number="x",
        body="start",
        provider_message_id="SMs",
        now=MORNING,
    )
    assert debtor.sms_opted_out_at is None
    assert result.reply is not None
    assert result.reply.template_key == "start_confirmation"


def test_free_text_goes_to_the_risk_hook_and_may_ask_for_a_person(
    session: Session, creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    phone = session.get(Debtor, account.debtor_id).phone_e164
    seen: list[str] = []
    result = receive_sms(
        session,
        from_number=phone,
        to_number="x",
        body="Kan jeg tale med en person?",
        provider_message_id="SMq",
        now=MORNING,
        risk_hook=lambda _s, _d, text, _n: seen.append(text),
    )
    assert seen == ["Kan jeg tale med en person?"]
    assert result.wants_person


@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        (["sent", "delivered"], MessageStatus.DELIVERED),
        (["delivered", "sent"], MessageStatus.DELIVERED),
        (["sent", "sent", "undelivered"], MessageStatus.UNDELIVERED),
        (["failed", "delivered"], MessageStatus.FAILED),
        (["queued"], MessageStatus.SENT),
    ],
)
def test_status_only_moves_forward(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,
    sequence: list[str],
    final: MessageStatus,
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    session.commit()
    dispatch(session_factory, FakeSmsSender())
    session.expire_all()
    [message] = messages(session, account)
    for status in sequence:
        apply_status(
            session,
            message.provider_message_id or "",
            status,
            error_code=None,
            now=MORNING,
        )
    assert message.status is final


def test_error_21610_marks_the_debtor_opted_out(
    session: Session, session_factory: sessionmaker[Session], creditor: Creditor
) -> None:
    account = overdue_account(session, creditor, days=5)
    plan(session)
    session.commit()
    dispatch(session_factory, FakeSmsSender())
    session.expire_all()
    [message] = messages(session, account)
    apply_status(
        session,
        message.provider_message_id or "",
        "undelivered",
        error_code="21610",
        now=MORNING,
    )
    assert session.get(Debtor, account.debtor_id).sms_opted_out_at == MORNING


@pytest.mark.parametrize("send_threads", [1, 4])
def test_a_batch_of_texts_never_mixes_up_debtors(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,
    send_threads: int,
) -> None:
    names = [f"Person{i:03d} Jensen" for i in range(120)]
    for name in names:
        overdue_account(session, creditor, days=5, name=name)
    plan(session)
    session.commit()
    sender = FakeSmsSender()
    dispatch_due(
        session_factory,
        sender,
        now=MORNING,
        rules_for=rules_for,
        link_for=link_for,
        limit=500,
        send_threads=send_threads,
    )
    debtors = {d.phone_e164: d for d in session.scalars(select(Debtor))}
    assert len(sender.sent) == len(names)
    tokens = set()
    for sms in sender.sent:
        own = debtors[sms.to].first_name
        assert own in sms.body
        assert sum(n.split()[0] in sms.body for n in names) == 1
        tokens.add(sms.body.rsplit("/p/", 1)[1])
    assert len(tokens) == len(names)
    session.expire_all()
    stored = session.scalars(select(Message)).all()
    assert {m.status for m in stored} == {MessageStatus.SENT}
    assert len({m.provider_message_id for m in stored}) == len(names)
    for message in stored:
        assert debtors[message.to_address].first_name in (message.body or "")
