"""The debtor's chat with a person: the whole thread, live, and a plain form without JavaScript.

Before an agent joins the debtor sees the honest wait and the opening hours; outside them
they can leave a message and have the answer announced by SMS.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import get_day_names
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.chat.access import get_conversation_for_debtor
from app.chat.actions import debtor_writes
from app.chat.console import WaitEstimate, expected_wait
from app.chat.conversations import (
    MAX_LENGTH,
    debtor_thread,
    find_open_conversation,
    latest_conversation,
    mark_debtor_seen,
    record_csat,
)
from app.chat.hours import OpeningHours
from app.clock import utcnow
from app.errors import DomainError, NotFound
from app.models import Conversation, Debtor, User
from app.models.enums import ConversationStatus
from app.services.notices import may_text
from app.web.db import get_session, get_sessionmaker, writes_on_read
from app.web.extensions import limiter
from app.web.live.lines import stream_payload, template_helpers, when_open
from app.web.live.stream import event_stream, resume_after
from app.web.live.wiring import chat_adapters
from app.web.portal import session as portal
from app.web.portal.views import bp, verified

CSAT_WITHIN = timedelta(days=7)  # a closed conversation asks for a rating this long
bp.context_processor(template_helpers)


class ChatForm(FlaskForm):
    body = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(_l("Write a message first.")),
            Length(
                max=MAX_LENGTH, message=_l("Please keep it under 2,000 characters.")
            ),
        ],
        render_kw={"rows": 3, "maxlength": MAX_LENGTH},
    )
    reply_by_sms = BooleanField(
        _l("If I leave this page, send me a text message when there is an answer"),
        default=True,
    )


class CsatForm(FlaskForm):
    score = RadioField(
        _l("How well did we help you?"),
        choices=[
            SelectChoice("5", _l("5 - Very well")),
            SelectChoice("4", _l("4 - Well")),
            SelectChoice("3", _l("3 - Neither well nor badly")),
            SelectChoice("2", _l("2 - Badly")),
            SelectChoice("1", _l("1 - Very badly")),
        ],
        validators=[InputRequired(_l("Choose a number from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Anything you want to add? (optional)"),
        validators=[Optional(), Length(max=MAX_LENGTH)],
    )


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


@bp.get("/help")
@writes_on_read  # marks what the debtor has now seen
@verified
def talk_to_person(debtor: Debtor) -> ResponseReturnValue:
    return _chat_page(debtor, ChatForm(), CsatForm())


@bp.post("/help/messages")
@verified
@limiter.limit("30 per minute")
def chat_post(debtor: Debtor) -> ResponseReturnValue:
    form = ChatForm()
    if not form.validate_on_submit():
        return _refused(debtor, form, " ".join(_errors(form)))
    db = get_session()
    was_open = find_open_conversation(db, debtor.id)
    try:
        message = debtor_writes(
            db,
            debtor,
            form.body.data or "",
            now=utcnow(),
            adapters=chat_adapters(current_app),
            reply_by_sms=bool(form.reply_by_sms.data) and may_text(debtor),
        )
    except DomainError:
        db.rollback()
        return _refused(debtor, form, _("Write a message first."))
    db.commit()
    if _wants_json():
        # A new conversation changes the page (the wait, the live stream): reload it.
        return jsonify(seq=message.seq, reload=was_open is None), 201
    return redirect(url_for("portal.talk_to_person", _anchor="compose"), 303)


def _errors(form: FlaskForm) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


def _refused(debtor: Debtor, form: ChatForm, message: str) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(message=message), 400
    return _chat_page(debtor, form, CsatForm()), 400


@bp.get("/help/<int:conversation_id>/events")
@verified
def chat_events(debtor: Debtor, conversation_id: int) -> ResponseReturnValue:
    conversation = _own(debtor, conversation_id)
    zone, sessions = debtor.timezone, get_sessionmaker()

    def seen(last_seq: int) -> None:
        with sessions.begin() as db:
            mark_debtor_seen(db, conversation.id, read_seq=last_seq, now=utcnow())

    return event_stream(
        conversation.id,
        resume_after(conversation.last_seq),
        lambda line: stream_payload(line, "debtor", zone),
        on_progress=seen,
    )


@bp.post("/help/<int:conversation_id>/rating")
@verified
def chat_rating(debtor: Debtor, conversation_id: int) -> ResponseReturnValue:
    conversation = _own(debtor, conversation_id)
    form = CsatForm()
    if not form.validate_on_submit():
        return _chat_page(debtor, ChatForm(), form), 400
    db = get_session()
    try:
        record_csat(
            db,
            conversation,
            int(form.score.data or 0),
            form.comment.data or "",
            now=utcnow(),
        )
    except DomainError:
        db.rollback()
        flash(_("Thank you, we already have your answer."), "info")
        return redirect(url_for("portal.talk_to_person"), 303)
    db.commit()
    flash(_("Thank you for your answer."), "info")
    return redirect(url_for("portal.talk_to_person"), 303)


def _own(debtor: Debtor, conversation_id: int) -> Conversation:
    try:
        return get_conversation_for_debtor(get_session(), debtor, conversation_id)
    except NotFound:
        abort(404)


def _chat_page(
    debtor: Debtor, form: ChatForm, csat_form: CsatForm
) -> ResponseReturnValue:
    db, now = get_session(), utcnow()
    creditor = portal.creditor_of(debtor)
    conversation = find_open_conversation(db, debtor.id)
    latest = conversation or latest_conversation(db, debtor.id)
    if conversation is not None:
        mark_debtor_seen(db, conversation.id, read_seq=conversation.last_seq, now=now)
        db.commit()
    waiting = conversation is None or conversation.status is ConversationStatus.WAITING
    wait = expected_wait(db, creditor, conversation, now=now) if waiting else None
    handler = (
        db.get(User, conversation.assigned_user_id)
        if conversation is not None and conversation.assigned_user_id
        else None
    )
    return render_template(
        "portal/chat.html",
        debtor=debtor,
        creditor=creditor,
        conversation=conversation,
        thread=debtor_thread(db, debtor),
        wait=wait,
        wait_text=_wait_text(wait, debtor) if wait else "",
        hours_text=_hours_text(
            wait.hours if wait else expected_wait(db, creditor, None, now=now).hours
        ),
        handler_name=handler.name if handler else None,
        csat=_csat_due(latest, now),
        form=form,
        csat_form=csat_form,
        may_text=may_text(debtor),
        viewer="debtor",
        time_zone=debtor.timezone,
    )


def _csat_due(latest: Conversation | None, now: datetime) -> Conversation | None:
    if (
        latest is None
        or latest.status is not ConversationStatus.CLOSED
        or latest.csat_score is not None
        or latest.closed_at is None
        or latest.closed_at < now - CSAT_WITHIN
    ):
        return None
    return latest


def _wait_text(wait: WaitEstimate, debtor: Debtor) -> str:
    if not wait.open_now:
        if wait.next_opening is None:
            return _("We are closed now. Leave a message and we answer when we open.")
        return _(
            "We are closed now and open again %(when)s. Leave a message, and we answer "
            "then.",
            when=when_open(wait.next_opening, debtor.timezone, utcnow()),
        )
    if wait.minutes is None:
        return _(
            "Nobody is at the desk right now. Leave a message, and we answer as soon "
            "as someone is back."
        )
    ahead = (
        _("%(count)s people are ahead of you.", count=wait.ahead) if wait.ahead else ""
    )
    return " ".join(
        filter(
            None,
            [
                _("Expected wait: about %(minutes)s minutes.", minutes=wait.minutes),
                ahead,
            ],
        )
    )


def _hours_text(hours: OpeningHours) -> str:
    names = get_day_names("wide", locale=str(get_locale() or "en"))
    days = sorted(hours.weekdays)
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        day_text = f"{names[days[0]]}–{names[days[-1]]}"
    else:
        day_text = ", ".join(names[d] for d in days)
    return _(
        "Opening hours: %(days)s, %(opens)s–%(closes)s.",
        days=day_text[:1].upper() + day_text[1:],
        opens=_clock(hours.opens_minute),
        closes=_clock(hours.closes_minute),
    )


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
