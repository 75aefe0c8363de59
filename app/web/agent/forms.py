"""Forms of the agent console; each has a prefix, so many fit on one page with unique ids."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from app.chat.canned import TITLE_LIMIT
from app.chat.conversations import MAX_LENGTH
from app.web.codes import DISPUTE_REASON_LABELS, HARDSHIP_REASON_LABELS

OUTCOME_LABELS = {
    "resolved": _l("Resolved"),
    "promise": _l("Promise to pay"),
    "plan": _l("Instalment plan"),
    "dispute": _l("Dispute"),
    "callback": _l("Call back"),
    "no_answer": _l("No answer"),
}
LANGUAGE_CHOICES = [
    SelectChoice("da", "Dansk"),
    SelectChoice("nb", "Norsk bokmål"),
    SelectChoice("en", "English"),
]


def _choices(labels: dict[str, object]) -> list[SelectChoice]:
    # Lazy labels: translated when the page renders, in the viewer's language.
    return [SelectChoice(value, label) for value, label in labels.items()]


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your reply"),
        validators=[DataRequired(_l("Write a reply first.")), Length(max=MAX_LENGTH)],
        render_kw={"rows": 4, "maxlength": MAX_LENGTH},
    )


class AccountForm(FlaskForm):
    account_id = SelectField(_l("Invoice"), coerce=int, validate_choice=False)


class OfferForm(FlaskForm):
    # "account_id|monthly:3"
    offer = SelectField(_l("Plan"), validate_choice=False)


class PromiseForm(AccountForm):
    promised_on = DateField(_l("Pays on"), validators=[InputRequired()])


class DisputeForm(AccountForm):
    reason = SelectField(
        _l("Reason"), choices=_choices(DISPUTE_REASON_LABELS), validate_choice=True
    )
    details = TextAreaField(
        _l("Details (optional)"), validators=[Optional(), Length(max=MAX_LENGTH)]
    )


class BreathingForm(FlaskForm):
    reason = SelectField(
        _l("Reason"), choices=_choices(HARDSHIP_REASON_LABELS), validate_choice=True
    )
    details = TextAreaField(
        _l("Details (optional)"), validators=[Optional(), Length(max=MAX_LENGTH)]
    )


class PauseForm(AccountForm):
    days = IntegerField(
        _l("Days"), default=14, validators=[InputRequired(), NumberRange(1, 90)]
    )


class NoteForm(FlaskForm):
    account_id = SelectField(_l("About"), coerce=int, validate_choice=False)
    body = TextAreaField(
        _l("Note for colleagues"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"rows": 2},
    )


class CloseForm(FlaskForm):
    outcome = SelectField(
        _l("Outcome"), choices=_choices(OUTCOME_LABELS), validate_choice=True
    )


class ReassignForm(FlaskForm):
    user_id = SelectField(_l("Hand over to"), coerce=int, validate_choice=False)


class AvailabilityForm(FlaskForm):
    available = HiddenField()


class CannedForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(), Length(max=TITLE_LIMIT)]
    )
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    creditor_id = SelectField(_l("Creditor"), coerce=int, validate_choice=False)
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"rows": 5},
    )
    is_active = BooleanField(_l("Offered to agents"), default=True)


class TeamForm(FlaskForm):
    """Only the CSRF token: the placements are checkboxes named "placed"."""
