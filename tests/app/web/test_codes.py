"""Every stored code a person may meet has words, and the complaint file's facts read as such."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.errors import Conflict, ValidationFailed
from app.ingest.importer import ENTRY_NOTE
from app.models.enums import (
    ConversationStatus,
    DecisionOutcome,
    InstalmentStatus,
    MessageStatus,
    PlanFrequency,
    PlanStatus,
    PromiseStatus,
    RiskAction,
    SignalSource,
)
from app.risk.complaint_file import Amount, ChatEvent, Fact, FileEntry
from app.risk.requests import (
    DisputeReason,
    HardshipReason,
    ask_for_breathing_space,
    open_dispute,
    report_wrong_number,
)
from app.web.codes import (
    AUDIT_ACTION_LABELS,
    CONVERSATION_STATUS_LABELS,
    DECISION_OUTCOME_LABELS,
    FACT_NAMES,
    FREQUENCY_LABELS,
    HOLD_REASON_LABELS,
    LEDGER_NOTE_LABELS,
    MESSAGE_STATUS_LABELS,
    PLAN_STATUS_LABELS,
    PROMISE_STATUS_LABELS,
    RISK_ACTION_LABELS,
    SIGNAL_SOURCE_LABELS,
    TEXT_LABELS,
    entry_detail,
    entry_facts,
    evidence_words,
)
from app.web.i18n import INSTALMENT_LABELS, error_text
from reminders import dispatch, planner, reconcile
from reminders.policy import Reason
from tests.factories import make_account, make_creditor, make_debtor

SMS_TEMPLATES = Path(__file__).parents[3] / "templates" / "sms" / "en"
AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("codes", "labels"),
    [
        ([m.value for m in MessageStatus], MESSAGE_STATUS_LABELS),
        ([m.value for m in DecisionOutcome], DECISION_OUTCOME_LABELS),
        ([m.value for m in PlanStatus], PLAN_STATUS_LABELS),
        ([m.value for m in PromiseStatus], PROMISE_STATUS_LABELS),
        ([m.value for m in InstalmentStatus], INSTALMENT_LABELS),
        ([m.value for m in ConversationStatus], CONVERSATION_STATUS_LABELS),
        ([m.value for m in RiskAction], RISK_ACTION_LABELS),
        ([m.value for m in SignalSource], SIGNAL_SOURCE_LABELS),
        (list(PlanFrequency), FREQUENCY_LABELS),
        (
            [r.value for r in Reason]
            + [planner.SUPERSEDED, planner.NO_ADDRESS, planner.HANDED_TO_AGENT]
            + [reconcile.NOT_AT_PROVIDER, dispatch.PROVIDER_ERROR],
            HOLD_REASON_LABELS,
        ),
        ([path.stem for path in SMS_TEMPLATES.glob("*.txt")], TEXT_LABELS),
    ],
)
def test_every_code_has_words(codes: list[str], labels: dict[str, object]) -> None:
    assert codes
    assert [code for code in codes if code not in labels] == []


def test_the_audit_actions_of_a_review_and_the_complaint_file_have_words() -> None:
    from app.risk.queue import Review
    from app.web.risk.views import _AUDIT_ACTIONS

    actions = [f"risk.{review.value}" for review in Review] + list(
        _AUDIT_ACTIONS.values()
    )
    assert [a for a in actions if a not in AUDIT_ACTION_LABELS] == []


def _entry(*facts: Fact, detail: str = "") -> FileEntry:
    return FileEntry(AT, "plan", facts, detail)


def test_an_entrys_facts_are_worded_in_the_readers_language(app: Flask) -> None:
    entry = _entry(
        Fact("to", "+4561844534"),
        Fact("sender", "anne@example.dk"),
        Fact("instalments", 3),
        Fact("frequency", "monthly"),
        Fact("plan_status", "active"),
        Fact("amount", Amount(123450, "DKK")),
        Fact("until", AT),
        Fact("promised_for", date(2026, 12, 1)),
        Fact("confidence", 0.87),
        Fact("action_taken", "paused_for_review"),
        Fact("staff_action", "a.code.without.words"),
    )
    with app.test_request_context("/", headers={"Accept-Language": "da"}):
        shown = entry_facts(entry, "Europe/Copenhagen").replace("\xa0", " ")
    assert shown.split(" · ") == [
        "Til: +45 61 84 45 34",
        "Fra: anne@example.dk",
        "Rater: 3",
        "Hvor tit: månedligt",
        "Status: i gang",
        "Beløb: 1.234,50 kr.",
        "Indtil: 23. nov. 2026 10.30.00",
        "Lovet til: 1. dec. 2026",
        "Sikkerhed: 87 %",
        "Gjort med det samme: kontakt sat på pause, til en teamleder har set på det",
        "Handling: a.code.without.words",
    ]
    # The CSV record keeps the codes, in English.
    assert entry.summary.startswith(
        "to: +4561844534; sender: anne@example.dk; instalments: 3; frequency: monthly;"
        " plan status: active; amount: 1,234.50 DKK;"
    )


def test_a_chat_system_note_is_said_in_words_not_as_its_raw_record(app: Flask) -> None:
    note = _entry(
        Fact("conversation", 7),
        Fact("chat_event", ChatEvent("resumed", {"reference": "INV-9"})),
        detail="resumed: {'reference': 'INV-9'}",
    )
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert entry_facts(note, "Europe/Oslo") == (
            "Conversation: 7 · What the agent did: "
            "Reminders for invoice INV-9 are on again."
        )
        assert entry_detail(note) == ""
    assert note.detail == "resumed: {'reference': 'INV-9'}"
    assert set(FACT_NAMES) >= {"chat_event", "conversation"}


def test_evidence_our_own_code_wrote_is_worded_and_a_debtors_words_kept(
    app: Flask, session: Session, now: datetime
) -> None:
    debtor = make_debtor(session, make_creditor(session, now), now)
    account = make_account(session, debtor, now)
    written = [
        open_dispute(
            session, account, DisputeReason.NOT_MINE, "Den er ikke min", now=now
        ).evidence,
        ask_for_breathing_space(
            session, debtor, HardshipReason.JOB_LOSS, "", days=30, now=now
        ).evidence,
        report_wrong_number(session, debtor, now=now).evidence,
    ]
    with app.test_request_context("/", headers={"Accept-Language": "da"}):
        shown = [evidence_words(evidence) for evidence in written]
        debtors_own = evidence_words("Jeg har betalt · «Jeg har betalt»")
    assert shown[0] == "Indsigelse: Ikke skyldnerens gæld · «Den er ikke min»"
    assert shown[1] == "Bad om pusterum: Mistet job eller indkomst"
    assert "not the debtor" not in shown[2]
    assert debtors_own == "Jeg har betalt · «Jeg har betalt»"


def test_a_refusal_the_domain_marked_is_said_in_the_readers_language(
    app: Flask,
) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        marked = error_text(ValidationFailed("Choose a date within the allowed period"))
        unmarked = error_text(Conflict("Something nobody marked"))
    assert marked == "Velg en dato innenfor den tillatte perioden"
    assert unmarked == "Something nobody marked"


def test_a_ledger_note_our_code_wrote_is_worded_and_others_kept(app: Flask) -> None:
    imported = FileEntry(AT, "ledger_charge", (), ENTRY_NOTE)
    creditors_own = FileEntry(AT, "ledger_payment", (), "Indbetalt i butikken")
    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        assert entry_detail(imported) == "Importert fra kreditorens fil"
        assert entry_detail(creditors_own) == "Indbetalt i butikken"
    assert ENTRY_NOTE in LEDGER_NOTE_LABELS
