"""The domain's stored codes in the reader's words: for staff pages and the complaint file.

Codes stay codes where they are stored and in the CSV record; a person reads them worded. A
code without words here is shown as it is, so a new one is never hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.chat.conversations import ChatLine
from app.models.enums import ChatSender, PlanFrequency
from app.risk.complaint_file import Amount, ChatEvent, FactValue, FileEntry
from app.web.i18n import (
    INSTALMENT_LABELS,
    LEDGER_LABELS,
    RISK_CATEGORY_LABELS,
    SEVERITY_LABELS,
    SIGNAL_STATUS_LABELS,
    local_date,
    local_datetime,
    money,
    readable_phone,
)
from app.web.live.lines import event_text

# The texts a creditor's sequence can send, as the creditor picks them.
SEQUENCE_TEXT_LABELS = {
    "friendly": _l("Friendly heads-up"),
    "reminder": _l("Reminder"),
    "plan_offer": _l("Offer of an instalment plan"),
    "last_notice": _l("Last friendly notice"),
    "firm_notice": _l("Firm notice: mentions debt collection"),
}
TEXT_LABELS = {
    **SEQUENCE_TEXT_LABELS,
    "help": _l("Answer to HELP"),
    "stop_confirmation": _l("Confirmation of STOP"),
    "start_confirmation": _l("Confirmation of START"),
    "cease_confirmation": _l("Confirmation that we stop contact"),
    "chat_reply": _l("Chat answer by text"),
    "receipt": _l("Receipt"),
    "instalment_confirm": _l("Instalment to confirm"),
    "instalment_due": _l("Instalment due soon"),
    "instalment_failed": _l("Instalment not paid"),
    "promise_nudge": _l("Promised payment due tomorrow"),
}
MESSAGE_STATUS_LABELS = {
    "queued": _l("waiting"),
    "sending": _l("being sent"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "failed": _l("failed"),
    "undelivered": _l("not delivered"),
    "unknown": _l("in doubt"),
    "suppressed": _l("held back"),
}
# Why a text waited or was held back: the contact policy's reasons, and the planner's.
HOLD_REASON_LABELS = {
    "quiet_hours": _l("outside the debtor's contact hours"),
    "sunday": _l("Sunday"),
    "holiday": _l("public holiday"),
    "frequency_cap": _l("too many texts in a short time"),
    "same_day": _l("already contacted today"),
    "too_early": _l("too soon after the last text"),
    "opted_out": _l("the debtor opted out"),
    "cease_contact": _l("the debtor asked us to stop contact"),
    "bad_number": _l("the number cannot be used"),
    "dispute_open": _l("a dispute is open"),
    "risk_pending": _l("a risk signal waits for review"),
    "breathing_space": _l("breathing space"),
    "plan_current": _l("the instalment plan is up to date"),
    "promise_pending": _l("a promise to pay is pending"),
    "account_paid": _l("the invoice is paid"),
    "account_closed": _l("the invoice is closed"),
    "paused": _l("reminders are paused"),
    "superseded": _l("a newer text replaced it"),
    "no_address": _l("no number or e-mail address"),
    "handed_to_agent": _l("handed to an agent"),
    "not_at_provider": _l("the SMS provider never got it"),
    "provider_error": _l("the SMS provider refused it"),
}
DECISION_OUTCOME_LABELS = {"deferred": _l("deferred"), "suppressed": _l("held back")}
PAUSE_REASON_LABELS = {
    "breathing_space": _l("breathing space"),
    "agent_pause": _l("paused by an agent"),
}
FREQUENCY_LABELS = {
    PlanFrequency.MONTHLY: _l("monthly"),
    PlanFrequency.FORTNIGHTLY: _l("every two weeks"),
    PlanFrequency.WEEKLY: _l("weekly"),
}
PLAN_STATUS_LABELS = {
    "proposed": _l("proposed"),
    "active": _l("running"),
    "completed": _l("paid in full"),
    "broken": _l("broken"),
    "cancelled": _l("cancelled"),
}
PROMISE_STATUS_LABELS = {
    "pending": _l("pending"),
    "kept": _l("kept"),
    "broken": _l("broken"),
    "cancelled": _l("cancelled"),
}
CONVERSATION_STATUS_LABELS = {
    "waiting": _l("waiting for an agent"),
    "active": _l("in progress"),
    "closed": _l("closed"),
}
RISK_ACTION_LABELS = {
    "outreach_stopped": _l("all contact stopped; the debtor was told once"),
    "number_stopped": _l("no more texts to this number"),
    "paused_for_review": _l("contact paused until a supervisor reviews it"),
    "logged_for_review": _l("logged for review"),
    "dispute_review": _l("reminders paused while an agent looks into the dispute"),
    "breathing_space": _l("reminders paused for breathing space"),
}
AUDIT_ACTION_LABELS = {
    "viewed": _l("opened the record"),
    "complaint_file.view": _l("opened the complaint file"),
    "complaint_file.export_csv": _l("downloaded the complaint file (CSV)"),
    "complaint_file.export_pdf": _l("downloaded the complaint file (PDF)"),
    "risk.confirm": _l("confirmed the signal"),
    "risk.dismiss": _l("dismissed the signal as a false alarm"),
    "risk.resolve": _l("resolved the signal"),
    "chat.viewed": _l("opened the conversation"),
    "chat.taken": _l("took the conversation"),
    "chat.reassigned": _l("handed the conversation over"),
    "chat.promise": _l("recorded a promise to pay"),
    "chat.dispute": _l("opened a dispute"),
    "chat.breathing_space": _l("started breathing space"),
    "chat.pause": _l("paused reminders"),
    "chat.resume": _l("resumed reminders"),
    "chat.note": _l("wrote a note"),
    "chat.closed": _l("closed the conversation"),
}
SIGNAL_SOURCE_LABELS = {
    "sms": _l("SMS"),
    "chat": _l("Chat"),
    "portal": _l("Self-service page"),
    "event": _l("Payment or text event"),
    "agent": _l("Agent"),
}

# The complaint file's kinds of entry, channels and statuses, as a supervisor reads them.
COMPLAINT_FILE_WORDS = {
    "text_sent": _l("Text sent"),
    "text_queued": _l("Text waiting to be sent"),
    "text_sending": _l("Text being sent"),
    "text_failed": _l("Text failed"),
    "text_undelivered": _l("Text not delivered"),
    "text_unknown": _l("Text in doubt"),
    "text_suppressed": _l("Text held back"),
    "text_received": _l("Text received"),
    "chat_debtor": _l("Chat: debtor wrote"),
    "chat_agent": _l("Chat: agent wrote"),
    "chat_system": _l("Chat: system note"),
    "policy_deferred": _l("Contact policy: text deferred"),
    "policy_suppressed": _l("Contact policy: text held back"),
    **{f"ledger_{kind}": words for kind, words in LEDGER_LABELS.items()},
    "plan": _l("Instalment plan"),
    "instalment_charge": _l("Instalment charged"),
    "promise": _l("Promise to pay"),
    "risk_signal": _l("Risk signal"),
    "risk_review": _l("Risk signal reviewed"),
    "staff": _l("Staff action"),
    "email": _l("E-mail"),
    **SIGNAL_SOURCE_LABELS,
    **MESSAGE_STATUS_LABELS,
    **DECISION_OUTCOME_LABELS,
    "received": _l("received"),
    **SIGNAL_STATUS_LABELS,
}

# The notes our own code writes on ledger entries (payments, imports, the demo); a note from
# anywhere else (a creditor's file, an API call) is shown as it is.
LEDGER_NOTE_LABELS = {
    "Card payment": _l("Card payment"),
    "Refund": _l("Refund"),
    "Bank transfer": _l("Bank transfer"),
    "Imported from the creditor's file": _l("Imported from the creditor's file"),
    "Card dispute lost: the payment went back to the card holder": _l(
        "Card dispute lost: the payment went back to the card holder"
    ),
}
DISPUTE_REASON_LABELS = {
    "not_mine": _l("Not their debt"),
    "already_paid": _l("Already paid"),
    "wrong_amount": _l("Wrong amount"),
    "quality": _l("Unhappy with goods or service"),
    "other": _l("Other"),
}
HARDSHIP_REASON_LABELS = {
    "job_loss": _l("Lost job or income"),
    "illness": _l("Illness"),
    "other": _l("Other"),
}

# What our own code writes as a signal's evidence (app/risk/requests.py, behaviour.py,
# payments/events.py), as its reader says it; anything else (a debtor's own words) is shown
# as it is. Sentences without values are looked up as they are; those with values by pattern.
EVIDENCE_LABELS = {
    "The person who opened the payment link said they are not the debtor": _l(
        "The person who opened the payment link said they are not the debtor"
    ),
    "Replied STOP again after START: our texts may be unwelcome": _l(
        "Replied STOP again after START: our texts may be unwelcome"
    ),
    "Three reminders in a row without a reply, a visit or a payment": _l(
        "Three reminders in a row without a reply, a visit or a payment"
    ),
    "A text would have broken the frequency cap and was held back": _l(
        "A text would have broken the frequency cap and was held back"
    ),
}
_EVIDENCE: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"Dispute \((\w+)\)(?:: (.*))?", re.S),
        lambda m: _with_words(
            _("Dispute: %(reason)s", reason=worded(DISPUTE_REASON_LABELS, m[1])), m[2]
        ),
    ),
    (
        re.compile(r"Breathing space asked \((\w+)\)(?:: (.*))?", re.S),
        lambda m: _with_words(
            _(
                "Asked for breathing space: %(reason)s",
                reason=worded(HARDSHIP_REASON_LABELS, m[1]),
            ),
            m[2],
        ),
    ),
    (
        re.compile(
            r"A text was held back (\d+) times by quiet hours: check the debtor's time zone"
        ),
        lambda m: _(
            "A text was held back %(count)s times by quiet hours: check the debtor's "
            "time zone",
            count=m[1],
        ),
    ),
    (
        re.compile(r"(\d+) instalments of the plan have failed: the plan may not fit"),
        lambda m: _(
            "%(count)s instalments of the plan have failed: the plan may not fit",
            count=m[1],
        ),
    ),
    (
        re.compile(r"Card dispute opened: (.*)", re.S),
        lambda m: _(
            "The card payment is disputed with the bank: %(reason)s", reason=m[1]
        ),
    ),
)


def evidence_words(evidence: str) -> str:
    """A signal's evidence in the reader's words when our own code wrote it."""
    if evidence in EVIDENCE_LABELS:
        return str(EVIDENCE_LABELS[evidence])
    for pattern, say in _EVIDENCE:
        found = pattern.fullmatch(evidence)
        if found:
            return say(found)
    return evidence


def _with_words(said: str, words: str | None) -> str:
    """Our words, then the debtor's own as they wrote them."""
    return f"{said} · «{words}»" if words else said


FACT_NAMES = {
    "text": _l("Text"),
    "to": _l("To"),
    "sender": _l("From"),
    "held_back_because": _l("Held back because"),
    "provider_error": _l("Error code from the SMS provider"),
    "keyword": _l("Keyword"),
    "conversation": _l("Conversation"),
    "chat_event": _l("What the agent did"),
    "reason": _l("Why"),
    "until": _l("Until"),
    "amount": _l("Amount"),
    "instalments": _l("Instalments"),
    "frequency": _l("How often"),
    "plan_status": _l("Status"),
    "promised_for": _l("Promised for"),
    "promise_status": _l("Status"),
    "instalment": _l("Instalment"),
    "instalment_status": _l("Status"),
    "attempts": _l("Attempts"),
    "category": _l("Category"),
    "severity": _l("Severity"),
    "confidence": _l("Confidence"),
    "action_taken": _l("Done at once"),
    "staff_action": _l("Action"),
    "by": _l("By"),
}
_FACT_VALUES: Mapping[str, Mapping[str, Any]] = {
    "text": TEXT_LABELS,
    "held_back_because": HOLD_REASON_LABELS,
    "reason": HOLD_REASON_LABELS,
    "frequency": FREQUENCY_LABELS,
    "plan_status": PLAN_STATUS_LABELS,
    "promise_status": PROMISE_STATUS_LABELS,
    "instalment_status": INSTALMENT_LABELS,
    "category": RISK_CATEGORY_LABELS,
    "severity": SEVERITY_LABELS,
    "action_taken": RISK_ACTION_LABELS,
    "staff_action": AUDIT_ACTION_LABELS,
}


_ADDRESSES = frozenset({"to", "sender"})


def worded(labels: Mapping[str, Any], code: object) -> str:
    """`code` in the reader's words, or as it is when it has none."""
    value = getattr(code, "value", code)
    return str(labels.get(str(value), value))


def entry_facts(entry: FileEntry, time_zone: str) -> str:
    """What a complaint-file entry says, in the reader's words: "Text: Reminder · To: …"."""
    return " · ".join(
        f"{FACT_NAMES.get(fact.name, fact.name)}: {_fact_value(fact.name, fact.value, time_zone)}"
        for fact in entry.facts
    )


def entry_detail(entry: FileEntry) -> str:
    """The entry's detail; a chat's system note is said in words instead of its raw record,
    and a signal's evidence in the reader's words where our own code wrote it."""
    event = entry.fact("chat_event")
    if isinstance(event, ChatEvent):
        return ""
    if entry.kind == "risk_signal":
        return evidence_words(entry.detail)
    if entry.kind.startswith("ledger_"):
        return worded(LEDGER_NOTE_LABELS, entry.detail)
    return entry.detail


def _fact_value(name: str, value: FactValue, time_zone: str) -> str:
    if isinstance(value, Amount):
        return money(value.minor, value.currency)
    if isinstance(value, ChatEvent):
        return _chat_event(value)
    if isinstance(value, datetime):
        return local_datetime(value, time_zone)
    if isinstance(value, date):
        return local_date(value)
    if isinstance(value, float):
        return str(format_percent(value))
    if name in _ADDRESSES:
        return readable_phone(str(value))
    labels = _FACT_VALUES.get(name)
    return worded(labels, value) if labels else str(value)


def _chat_event(event: ChatEvent) -> str:
    line = ChatLine(
        conversation_id=0,
        seq=0,
        sender=ChatSender.SYSTEM,
        author_name=None,
        body=event.event,
        event=event.event,
        payload=event.payload,
        via_sms=False,
        created_at=datetime.min,
    )
    return event_text(line, "agent")


def _labelled(labels: Mapping[str, Any]) -> Callable[[object], str]:
    return lambda code: worded(labels, code)


def register_codes(app: Flask) -> None:
    app.jinja_env.globals.update(
        complaint_file_word=_labelled(COMPLAINT_FILE_WORDS),
        text_label=_labelled(TEXT_LABELS),
        message_status=_labelled(MESSAGE_STATUS_LABELS),
        hold_reason=_labelled(HOLD_REASON_LABELS),
        decision_outcome=_labelled(DECISION_OUTCOME_LABELS),
        pause_reason=_labelled(PAUSE_REASON_LABELS),
        plan_status=_labelled(PLAN_STATUS_LABELS),
        conversation_status=_labelled(CONVERSATION_STATUS_LABELS),
        risk_action=_labelled(RISK_ACTION_LABELS),
        signal_source=_labelled(SIGNAL_SOURCE_LABELS),
        entry_facts=entry_facts,
        entry_detail=entry_detail,
        evidence_words=evidence_words,
        ledger_note=_labelled(LEDGER_NOTE_LABELS),
    )
