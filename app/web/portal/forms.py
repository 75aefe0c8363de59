"""Forms of the debtor portal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.risk.requests import MAX_TEXT


class VerifyForm(FlaskForm):
    answer = StringField(validators=[DataRequired(), Length(max=64)])


class PlanForm(FlaskForm):
    # "monthly:3": frequency and number of instalments of one offer.
    choice = RadioField(
        _l("Choose a plan"),
        validators=[InputRequired(_l("Choose one of the plans."))],
        validate_choice=False,
    )


class PromiseForm(FlaskForm):
    promised_on = DateField(
        _l("I will pay on"),
        validators=[InputRequired(_l("Choose a date."))],
    )


class DisputeForm(FlaskForm):
    reason = RadioField(
        _l("What is wrong?"),
        choices=[
            SelectChoice("not_mine", _l("This is not my debt")),
            SelectChoice("already_paid", _l("I have already paid")),
            SelectChoice("wrong_amount", _l("The amount is wrong")),
            SelectChoice("quality", _l("I was not happy with the goods or service")),
            SelectChoice("other", _l("Something else")),
        ],
        validators=[InputRequired(_l("Choose what is wrong."))],
    )
    details = TextAreaField(
        _l("Tell us more (optional)"), validators=[Optional(), Length(max=MAX_TEXT)]
    )


class BreathingSpaceForm(FlaskForm):
    reason = RadioField(
        _l("What has happened? (optional)"),
        choices=[
            SelectChoice("job_loss", _l("I have lost my job or income")),
            SelectChoice("illness", _l("Illness")),
            SelectChoice("other", _l("Something else")),
        ],
        default="other",
        validators=[Optional()],
    )
    details = TextAreaField(
        _l("Anything you want us to know (optional)"),
        validators=[Optional(), Length(max=MAX_TEXT)],
    )
