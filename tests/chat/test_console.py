"""The console: queue, context, figures, canned responses and audited account actions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.account_actions import (
    Staff,
    add_note,
    close_with_outcome,
    pause_reminders,
    record_promise,
    resume_reminders,
    start_breathing_space,
    start_dispute,
)
from app.chat.actions import ChatAdapters, agent_replies, debtor_writes, offer_plan
from app.chat.assignment import take
from app.chat.canned import fill, save_response, values_for
from app.chat.console import (
    SlaLevel,
    context_panel,
    desk_stats,
    expected_wait,
    queue_for,
)
from app.chat.conversations import find_open_conversation, lines_after, record_csat
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import (
    Account,
    AuditEvent,
    Conversation,
    Creditor,
    Debtor,
    RiskSignal,
    User,
)
from app.models.enums import (
    AccountStatus,
    ConversationOutcome,
    Language,
    PlanFrequency,
    Severity,
    SignalSource,
)
from app.risk.complaint_file import complaint_file
from app.risk.requests import DisputeReason, HardshipReason
from tests.chat.conftest import make_agent
from tests.factories import make_account, make_creditor, make_debtor


def _open(
    session: Session,
    debtor: Debtor,
    agent: User | None,
    now: datetime,
    adapters: ChatAdapters,
) -> Conversation:
    debtor_writes(session, debtor, "Hej", now=now, adapters=adapters)
    conversation = find_open_conversation(session, debtor.id)
    assert conversation is not None
    if agent is not None:
        take(session, conversation, agent, now=now, notifier=adapters.notifier)
    return conversation


def test_the_queue_is_oldest_first_with_sla_colours_and_risk(
    session: Session,
    creditor: Creditor,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    old = make_debtor(session, creditor, now, name="Old")
    new = make_debtor(session, creditor, now, name="New")
    _open(session, new, None, now - timedelta(minutes=2), adapters)
    _open(session, old, None, now - timedelta(minutes=12), adapters)
    session.add(
        RiskSignal(
            debtor_id=old.id,
            category="legal_threat",
            severity=Severity.HIGH,
            source=SignalSource.SMS,
            evidence="lawyer",
            confidence=0.9,
            created_at=now,
        )
    )
    elsewhere = make_debtor(session, make_creditor(session, now), now)
    _open(session, elsewhere, None, now - timedelta(hours=1), adapters)
    rows = queue_for(session, agent, now=now)
    assert [row.debtor.name for row in rows] == ["Old", "New"]
    assert [row.level for row in rows] == [SlaLevel.RED, SlaLevel.OK]
    assert [row.high_risk for row in rows] == [True, False]
    assert rows[0].waited_seconds == 12 * 60


def test_the_context_panel_knows_the_whole_story(
    session: Session,
    debtor: Debtor,
    account: Account,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _open(session, debtor, agent, now, adapters)
    add_note(session, Staff(agent), conversation, "Ringer efter kl. 16", now=now)
    panel = context_panel(session, conversation, now=now)
    assert panel.debtor.id == debtor.id
    assert [v.balance_minor for v in panel.accounts] == [120_000]
    assert panel.offers[account.id]
    assert panel.timelines[account.id]
    assert [n.body for n in panel.notes] == ["Ringer efter kl. 16"]
    assert panel.handled_by == "Anja Holm"
    assert panel.local_time.utcoffset() == timedelta(hours=1)


def test_account_actions_reuse_the_portal_rules_and_are_audited(
    session: Session,
    debtor: Debtor,
    account: Account,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _open(session, debtor, agent, now, adapters)
    staff, notifier = Staff(agent, "req-1"), adapters.notifier
    pause_reminders(
        session, staff, conversation, account.id, 7, now=now, notifier=notifier
    )
    assert account.pause_reason == "agent_pause"
    resume_reminders(
        session, staff, conversation, account.id, now=now, notifier=notifier
    )
    assert account.paused_until is None
    with pytest.raises(Conflict):
        resume_reminders(
            session, staff, conversation, account.id, now=now, notifier=notifier
        )
    record_promise(
        session,
        staff,
        conversation,
        account.id,
        now.date() + timedelta(days=5),
        now=now,
        notifier=notifier,
    )
    assert account.status is AccountStatus.PROMISED
    start_dispute(
        session,
        staff,
        conversation,
        account.id,
        DisputeReason.WRONG_AMOUNT,
        "",
        now=now,
        notifier=notifier,
    )
    assert account.status is AccountStatus.DISPUTED
    start_breathing_space(
        session,
        staff,
        conversation,
        HardshipReason.ILLNESS,
        "",
        now=now,
        notifier=notifier,
    )
    actions = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "account", AuditEvent.object_id == account.id
        )
    ).all()
    assert actions == ["chat.pause", "chat.resume", "chat.promise", "chat.dispute"]
    staff_facts = [
        (e.fact("staff_action"), e.fact("by"))
        for e in complaint_file(session, account)
        if e.kind == "staff"
    ]
    assert ("chat.promise", agent.email) in staff_facts
    events = [line.event for line in lines_after(session, conversation.id, 0)]
    assert events[-5:] == ["paused", "resumed", "promise", "dispute", "breathing_space"]


def test_actions_on_another_debtors_account_are_refused(
    session: Session,
    creditor: Creditor,
    debtor: Debtor,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _open(session, debtor, agent, now, adapters)
    other = make_debtor(session, creditor, now)
    their_account = make_account(session, other, now)
    with pytest.raises(NotFound):
        pause_reminders(
            session,
            Staff(agent),
            conversation,
            their_account.id,
            7,
            now=now,
            notifier=adapters.notifier,
        )
    colleague = make_agent(session, creditor, now, name="Colleague")
    with pytest.raises(Forbidden):
        close_with_outcome(
            session,
            Staff(colleague),
            conversation,
            ConversationOutcome.RESOLVED,
            now=now,
            notifier=adapters.notifier,
        )


def test_a_plan_offer_must_be_on_offer(
    session: Session,
    debtor: Debtor,
    account: Account,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _open(session, debtor, agent, now, adapters)
    with pytest.raises(ValidationFailed):
        offer_plan(
            session,
            conversation,
            agent,
            account,
            PlanFrequency.WEEKLY,
            40,
            now=now,
            adapters=adapters,
        )
    message = offer_plan(
        session,
        conversation,
        agent,
        account,
        PlanFrequency.MONTHLY,
        3,
        now=now,
        adapters=adapters,
    )
    line = lines_after(session, conversation.id, message.seq - 1)[0]
    assert line.event == "plan_offer"
    assert line.payload["choice"] == "monthly:3"
    assert line.payload["first_minor"] + 2 * line.payload["rest_minor"] == 120_000


def test_canned_placeholders_fill_or_block(
    session: Session,
    debtor: Debtor,
    account: Account,
    agent: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    values = values_for(session, debtor, link="https://venlig.test/p/")
    filled = fill("Hej {first_name}, du skylder {balance}: {link}", values)
    assert filled.complete
    assert (
        filled.text == "Hej Mette, du skylder 1.200,00\xa0kr.: https://venlig.test/p/"
    )
    # A sentence ending on an amount that ends in "kr." gets one full stop, not two.
    ended = fill("Du skylder {balance}. Tak, {first_name}.", values)
    assert ended.text == "Du skylder 1.200,00\xa0kr. Tak, Mette."
    no_link = fill("Se {link}", {**values, "link": None})
    assert no_link.missing == ("link",)
    conversation = _open(session, debtor, agent, now, adapters)
    with pytest.raises(ValidationFailed, match="balance"):
        agent_replies(
            session,
            conversation,
            agent,
            "Du skylder {balance}",
            now=now,
            adapters=adapters,
        )
    with pytest.raises(ValidationFailed, match="Unknown placeholder"):
        save_response(
            session,
            agent,
            title="x",
            body="Hej {navn}",
            language=Language.DA,
            creditor_id=None,
            is_active=True,
            now=now,
        )


def test_figures_for_the_supervisor(
    session: Session,
    creditor: Creditor,
    agent: User,
    supervisor: User,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    for minutes, score in ((2, 5), (4, 3), (10, None)):
        debtor = make_debtor(session, creditor, now)
        conversation = _open(
            session, debtor, agent, now - timedelta(minutes=minutes), adapters
        )
        agent_replies(session, conversation, agent, "Hej", now=now, adapters=adapters)
        if score:
            close_with_outcome(
                session,
                Staff(agent),
                conversation,
                ConversationOutcome.RESOLVED,
                now=now,
                notifier=adapters.notifier,
            )
            record_csat(session, conversation, score, "", now=now)
    _open(session, make_debtor(session, creditor, now), None, now, adapters)
    stats = desk_stats(session, supervisor, now=now)
    assert stats.waiting == 1
    assert stats.active == 1
    assert stats.median_first_response_seconds == 4 * 60
    assert (stats.csat_average, stats.csat_count, stats.closed_today) == (4.0, 2, 2)


def test_the_debtor_is_told_an_honest_wait(
    session: Session,
    creditor: Creditor,
    debtor: Debtor,
    now: datetime,
    adapters: ChatAdapters,
) -> None:
    conversation = _open(session, debtor, None, now, adapters)
    nobody = expected_wait(session, creditor, conversation, now=now)
    assert nobody.open_now
    assert (nobody.agents_online, nobody.minutes) == (0, None)
    make_agent(session, creditor, now, available=False)
    someone = expected_wait(session, creditor, conversation, now=now)
    assert someone.minutes == 2
    saturday = datetime.fromisoformat("2026-11-21T12:00:00+00:00")
    closed = expected_wait(session, creditor, conversation, now=saturday)
    assert not closed.open_now
    assert closed.minutes is None
    assert closed.next_opening == datetime.fromisoformat("2026-11-23T07:00:00+00:00")
    assert date(2026, 11, 23) == closed.next_opening.date()
