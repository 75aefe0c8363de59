"""The agent's queue and conversations. Each view: load (tenant-checked), one domain call,
commit, back to the page; every opening of a conversation and every action is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import SelectChoice

from app.chat import account_actions as acts
from app.chat.access import get_conversation_for_staff
from app.chat.actions import agent_replies, offer_plan
from app.chat.assignment import (
    assign_waiting,
    heartbeat,
    presence_of,
    set_available,
)
from app.chat.canned import fill, get_response, responses_for, values_for
from app.chat.console import ContextPanel, context_panel, queue_for
from app.chat.conversations import debtor_thread
from app.clock import utcnow
from app.errors import DomainError, NotFound
from app.models import Account, Conversation, Debtor, User
from app.models.enums import ConversationOutcome, PlanFrequency, Role
from app.risk.requests import DisputeReason, HardshipReason
from app.web.agent import forms
from app.web.auth.login import current_staff, roles_required
from app.web.db import get_session, get_sessionmaker, writes_on_read
from app.web.i18n import error_text, local_date
from app.web.live.lines import offer_terms, stream_payload, template_helpers
from app.web.live.stream import event_stream, resume_after
from app.web.live.wiring import chat_adapters, chat_notifier
from payments.plans import PlanOffer

bp = Blueprint("agent", __name__, url_prefix="/agent")
bp.context_processor(template_helpers)
CHAT_STAFF = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


@bp.context_processor
def _labels() -> dict[str, object]:
    def outcome_label(outcome: object) -> str:
        value = str(getattr(outcome, "value", outcome) or "")
        return str(forms.OUTCOME_LABELS.get(value, value))

    return {"outcome_label": outcome_label}


def _staff() -> acts.Staff:
    return acts.Staff(current_staff(), g.get("request_id"))


def _conversation(conversation_id: int) -> Conversation:
    """:raises NotFound: not a conversation of a creditor this user answers."""
    return get_conversation_for_staff(get_session(), current_staff(), conversation_id)


def _present(db: Session, user: User, now: datetime) -> None:
    """The console is open: the agent is online, and waiting chats find agents."""
    heartbeat(db, user, now=now)
    assign_waiting(db, now=now, notifier=chat_notifier(current_app))
    db.commit()


def _fetch() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


# --- the queue -------------------------------------------------------------------------------


@bp.get("/")
@writes_on_read  # the agent is present
@roles_required(*CHAT_STAFF)
def queue() -> ResponseReturnValue:
    db, user, now = get_session(), current_staff(), utcnow()
    _present(db, user, now)
    return render_template(
        "agent/queue.html",
        rows=queue_for(db, user, now=now),
        presence=presence_of(db, user, now=now),
        availability=forms.AvailabilityForm(prefix="presence"),
        me=user,
    )


@bp.get("/queue/rows")
@writes_on_read  # the agent is present
@roles_required(*CHAT_STAFF)
def queue_rows() -> ResponseReturnValue:
    """The queue's rows, refreshed by the page every few seconds (also the heartbeat)."""
    db, user, now = get_session(), current_staff(), utcnow()
    _present(db, user, now)
    return render_template(
        "agent/_queue_rows.html", rows=queue_for(db, user, now=now), me=user
    )


@bp.post("/presence")
@roles_required(*CHAT_STAFF)
def presence() -> ResponseReturnValue:
    form = forms.AvailabilityForm(prefix="presence")
    if form.validate_on_submit():
        db, now = get_session(), utcnow()
        set_available(db, current_staff(), form.available.data == "1", now=now)
        assign_waiting(db, now=now, notifier=chat_notifier(current_app))
        db.commit()
    return redirect(url_for("agent.queue"), 303)


@bp.post("/c/<int:conversation_id>/take")
@roles_required(*CHAT_STAFF)
def take(conversation_id: int) -> ResponseReturnValue:
    return _act(
        conversation_id,
        FlaskForm(),
        lambda db, c: acts.take_conversation(
            db, _staff(), c, now=utcnow(), notifier=chat_notifier(current_app)
        ),
        done=None,
    )


# --- one conversation ------------------------------------------------------------------------


@bp.get("/c/<int:conversation_id>")
@writes_on_read
@roles_required(*CHAT_STAFF)
def conversation(conversation_id: int) -> ResponseReturnValue:
    db, now = get_session(), utcnow()
    chat = _conversation(conversation_id)
    acts.record_view(db, _staff(), chat, now=now)
    heartbeat(db, current_staff(), now=now)
    db.commit()
    panel = context_panel(db, chat, now=now)
    return render_template(
        "agent/conversation.html",
        conversation=chat,
        panel=panel,
        thread=debtor_thread(db, panel.debtor),
        creditor=panel.creditor,
        viewer="agent",
        time_zone=panel.debtor.timezone,
        me=current_staff(),
        **_forms(db, chat, panel),
    )


def _forms(db: Session, chat: Conversation, panel: ContextPanel) -> dict[str, object]:
    accounts = [
        SelectChoice(str(v.account.id), v.account.external_reference)
        for v in panel.accounts
    ]
    reply = forms.ReplyForm(prefix="reply")
    canned = responses_for(db, chat.creditor_id, chat.language)
    canned_problem = _prefill(db, reply, panel, request.args.get("canned", type=int))
    built: dict[str, object] = {
        "reply_form": reply,
        "canned": canned,
        "canned_problem": canned_problem,
        "offer_form": forms.OfferForm(prefix="offer"),
        "promise_form": forms.PromiseForm(prefix="promise"),
        "dispute_form": forms.DisputeForm(prefix="dispute"),
        "breathing_form": forms.BreathingForm(prefix="breathing"),
        "pause_form": forms.PauseForm(prefix="pause"),
        "resume_form": forms.AccountForm(prefix="resume"),
        "note_form": forms.NoteForm(prefix="note"),
        "close_form": forms.CloseForm(prefix="close"),
        "reassign_form": forms.ReassignForm(prefix="reassign"),
        "take_form": FlaskForm(),
    }
    for name in ("promise_form", "dispute_form", "pause_form", "resume_form"):
        built[name].account_id.choices = accounts
    built["note_form"].account_id.choices = [
        SelectChoice("0", _("The debtor")),
        *accounts,
    ]
    built["offer_form"].offer.choices = [
        SelectChoice(
            f"{view.account.id}|{o.frequency.value}:{o.count}",
            _offer_label(o, view.account.currency),
            optgroup=_("Invoice %(ref)s", ref=view.account.external_reference),
        )
        for view in panel.accounts
        for o in panel.offers.get(view.account.id, [])
    ]
    built["reassign_form"].user_id.choices = [
        SelectChoice(str(a.id), a.name) for a in panel.agents
    ]
    return built


def _offer_label(offer: PlanOffer, currency: str) -> str:
    terms = offer_terms(
        offer.first_amount_minor,
        offer.instalments[-1].amount_minor,
        offer.count,
        offer.frequency.value,
        currency,
    )
    return _("%(terms)s, last on %(date)s", terms=terms, date=local_date(offer.last_on))


def _prefill(
    db: Session, reply: forms.ReplyForm, panel: ContextPanel, canned_id: int | None
) -> list[str]:
    """Put a canned response in the reply box; the placeholders it could not fill."""
    if not canned_id:
        return []
    try:
        response = get_response(db, canned_id)
    except NotFound:
        return []
    link = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(
        "portal.overview"
    )
    filled = fill(response.body, values_for(db, panel.debtor, link=link))
    reply.body.data = filled.text
    return list(filled.missing)


@bp.get("/c/<int:conversation_id>/events")
@roles_required(*CHAT_STAFF)
def events(conversation_id: int) -> ResponseReturnValue:
    chat = _conversation(conversation_id)
    user_id, sessions = current_staff().id, get_sessionmaker()
    zone = _debtor_zone(chat)

    def online(_last_seq: int) -> None:
        with sessions.begin() as db:
            user = db.get(User, user_id)
            if user is not None:
                heartbeat(db, user, now=utcnow())

    return event_stream(
        chat.id,
        resume_after(chat.last_seq),
        lambda line: stream_payload(line, "agent", zone),
        on_progress=online,
    )


def _debtor_zone(chat: Conversation) -> str:
    debtor = get_session().get(Debtor, chat.debtor_id)
    return debtor.timezone if debtor else "UTC"


@bp.post("/c/<int:conversation_id>/reply")
@roles_required(*CHAT_STAFF)
def reply(conversation_id: int) -> ResponseReturnValue:
    form = forms.ReplyForm(prefix="reply")
    db = get_session()
    chat = _conversation(conversation_id)
    if not form.validate_on_submit():
        return _refused(chat, _("Write a reply first."))
    try:
        message = agent_replies(
            db,
            chat,
            current_staff(),
            form.body.data or "",
            now=utcnow(),
            adapters=chat_adapters(current_app),
        )
    except DomainError as error:
        db.rollback()
        return _refused(chat, _failed(error))
    db.commit()
    if _fetch():
        return jsonify(seq=message.seq, reload=False), 201
    return redirect(
        url_for("agent.conversation", conversation_id=chat.id, _anchor="compose"), 303
    )


def _refused(chat: Conversation, message: str) -> ResponseReturnValue:
    if _fetch():
        return jsonify(message=message), 400
    flash(message, "error")
    return redirect(
        url_for("agent.conversation", conversation_id=chat.id, _anchor="compose"), 303
    )


def _failed(error: DomainError) -> str:
    return _("That did not work: %(reason)s", reason=error_text(error))


# --- actions ---------------------------------------------------------------------------------

Action = Callable[[Session, Conversation], object]


def _act(
    conversation_id: int, form: FlaskForm, action: Action, *, done: str | None
) -> ResponseReturnValue:
    """Validate the form, run the action, commit; say what happened either way."""
    chat = _conversation(conversation_id)
    db = get_session()
    if not form.validate_on_submit():
        flash(_("Please check the form: %(errors)s", errors=_errors(form)), "error")
    else:
        try:
            action(db, chat)
        except DomainError as error:
            db.rollback()
            flash(_failed(error), "error")
        else:
            db.commit()
            if done:
                flash(done, "info")
    return redirect(url_for("agent.conversation", conversation_id=chat.id), 303)


def _errors(form: FlaskForm) -> str:
    return "; ".join(
        f"{name}: {' '.join(map(str, e))}" for name, e in form.errors.items()
    )


def _account(db: Session, chat: Conversation, account_id: int) -> Account:
    account = db.get(Account, account_id)
    if account is None or account.debtor_id != chat.debtor_id:
        raise NotFound("No such account")
    return account


@bp.post("/c/<int:conversation_id>/offer")
@roles_required(*CHAT_STAFF)
def offer(conversation_id: int) -> ResponseReturnValue:
    form = forms.OfferForm(prefix="offer")
    account_part, _sep, choice = (form.offer.data or "").partition("|")
    frequency, _sep, count = choice.partition(":")
    if not account_part.isdigit() or frequency not in PlanFrequency._value2member_map_:
        flash(_("Choose one of the plans."), "error")
        return redirect(
            url_for("agent.conversation", conversation_id=conversation_id), 303
        )
    return _act(
        conversation_id,
        form,
        lambda db, c: offer_plan(
            db,
            c,
            current_staff(),
            _account(db, c, int(account_part)),
            PlanFrequency(frequency),
            int(count or 0),
            now=utcnow(),
            adapters=chat_adapters(current_app),
        ),
        done=_("The plan offer is sent."),
    )


@bp.post("/c/<int:conversation_id>/promise")
@roles_required(*CHAT_STAFF)
def promise(conversation_id: int) -> ResponseReturnValue:
    form = forms.PromiseForm(prefix="promise")
    return _act(
        conversation_id,
        form,
        lambda db, c: acts.record_promise(
            db,
            _staff(),
            c,
            int(form.account_id.data or 0),
            form.promised_on.data,
            now=utcnow(),
            notifier=chat_notifier(current_app),
        ),
        done=_("The promise to pay is recorded."),
    )


@bp.post("/c/<int:conversation_id>/dispute")
@roles_required(*CHAT_STAFF)
def dispute(conversation_id: int) -> ResponseReturnValue:
    form = forms.DisputeForm(prefix="dispute")
    return _act(
        conversation_id,
        form,
        lambda db, c: acts.start_dispute(
            db,
            _staff(),
            c,
            int(form.account_id.data or 0),
            DisputeReason(form.reason.data),
            form.details.data or "",
            now=utcnow(),
            notifier=chat_notifier(current_app),
        ),
        done=_("The dispute is open; reminders on the invoice are paused."),
    )


@bp.post("/c/<int:conversation_id>/breathing-space")
@roles_required(*CHAT_STAFF)
def breathing_space(conversation_id: int) -> ResponseReturnValue:
    form = forms.BreathingForm(prefix="breathing")
    return _act(
        conversation_id,
        form,
        lambda db, c: acts.start_breathing_space(
            db,
            _staff(),
            c,
            HardshipReason(form.reason.data),
            form.details.data or "",
            now=utcnow(),
            notifier=chat_notifier(current_app),
        ),
        done=_("Breathing space started; reminders are paused."),
    )


@bp.post("/c/<int:conversation_id>/pause")
@roles_required(*CHAT_STAFF)
def pause(conversation_id: int) -> ResponseReturnValue:
    form = forms.PauseForm(prefix="pause")
    return _act(
        conversation_id,
        form,
        lambda db, c: acts.pause_reminders(
            db,
            _staff(),
            c,
            int(form.account_id.data or 0),
            int(form.days.data or 0),
            now=utcnow(),
            notifier=chat_notifier(current_app),
        ),
        done=_("Reminders are paused."),
    )


@bp.post("/c/<int:conversation_id>/resume")
@roles_required(*CHAT_STAFF)
def resume(conversation_id: int) -> ResponseReturnValue:
    form = forms.AccountForm(prefix="resume")
    return _act(
        conversation_id,
        form,
        lambda db, c: acts.resume_reminders(
            db,
            _staff(),
            c,
            int(form.account_id.data or 0),
            now=utcnow(),
            notifier=chat_notifier(current_app),
        ),
        done=_("Reminders are on again."),
    )


@bp.post("/c/<int:conversation_id>/note")
@roles_required(*CHAT_STAFF)
def note(conversation_id: int) -> ResponseReturnValue:
    form = forms.NoteForm(prefix="note")
    return _act(
        conversation_id,
        form,
        lambda db, c: acts.add_note(
            db,
            _staff(),
            c,
            form.body.data or "",
            now=utcnow(),
            account_id=int(form.account_id.data or 0) or None,
        ),
        done=_("The note is saved."),
    )


@bp.post("/c/<int:conversation_id>/close")
@roles_required(*CHAT_STAFF)
def close(conversation_id: int) -> ResponseReturnValue:
    form = forms.CloseForm(prefix="close")
    return _act(
        conversation_id,
        form,
        lambda db, c: acts.close_with_outcome(
            db,
            _staff(),
            c,
            ConversationOutcome(form.outcome.data),
            now=utcnow(),
            notifier=chat_notifier(current_app),
        ),
        done=_("The conversation is closed."),
    )


@bp.post("/c/<int:conversation_id>/reassign")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def reassign(conversation_id: int) -> ResponseReturnValue:
    form = forms.ReassignForm(prefix="reassign")

    def hand_over(db: Session, chat: Conversation) -> None:
        agent = db.get(User, int(form.user_id.data or 0))
        if agent is None:
            raise NotFound("No such agent")
        acts.hand_over(
            db, _staff(), chat, agent, now=utcnow(), notifier=chat_notifier(current_app)
        )

    return _act(
        conversation_id, form, hand_over, done=_("The conversation is handed over.")
    )
