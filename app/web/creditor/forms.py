"""Forms of the creditor's sequence editor and settings page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    Field,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from app.errors import ValidationFailed
from app.models.enums import Channel, StepAction, StepOffsetFrom, VerificationFactor
from app.services.creditor_settings import (
    BOUNDS,
    EMAIL_MAX,
    MAX_MIN_INSTALMENT_MAJOR,
    check_sender_name,
    check_support_email,
)
from app.services.texts import MAX_WORDING_LENGTH
from app.web.codes import SEQUENCE_TEXT_LABELS
from reminders.editing import MAX_DAY_OFFSET, SEQUENCE_TEMPLATES

OFFSET_LABELS = {
    StepOffsetFrom.DUE_DATE: _l("after the due date"),
    StepOffsetFrom.PREVIOUS_STEP: _l("after the step before"),
}
CHANNEL_LABELS = {
    Channel.SMS: _l("SMS (e-mail when the debtor has no mobile number)"),
    Channel.EMAIL: _l("E-mail"),
}
ACTION_LABELS = {
    StepAction.SEND: _l("Send the text"),
    StepAction.HAND_TO_AGENT: _l("Hand the account to an agent's queue (no text)"),
}
# What the settings service's error codes mean, per field (app.services.creditor_settings).
FIELD_ERRORS = {
    ("sms_sender_name", "too_long"): _l(
        "A sender name can have at most 11 characters: that is all an alphanumeric "
        "sender ID holds, and longer ones are cut off on the phone. Shorten it."
    ),
    ("sms_sender_name", "invalid"): _l(
        "Use up to 11 letters (A-Z), digits or single spaces, with at least one letter."
    ),
    ("support_email", "invalid"): _l("Enter an e-mail address like name@example.com."),
    ("support_phone", "invalid"): _l("Enter a phone number, e.g. +45 70 20 10 30."),
}


def field_error(name: str, code: str) -> str | None:
    """The message for the settings service's `code` on field `name`, if it has one."""
    message = FIELD_ERRORS.get((name, code))
    return str(message) if message is not None else None


def _domain_checked(field: Field, check: Callable[[str | None], str | None]) -> None:
    """Run the service's own check, so the form says what any other caller is told."""
    try:
        check(field.data)
    except ValidationFailed as refused:
        [codes] = refused.errors.values()
        raise ValidationError(field_error(field.name, codes[0])) from None


FACTOR_LABELS = {
    VerificationFactor.BIRTH_DATE: _l("Date of birth"),
    VerificationFactor.POSTCODE: _l("Postcode"),
    VerificationFactor.REFERENCE: _l("Invoice number"),
}


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class AmountField(DecimalField):
    """An amount typed the Danish or Norwegian way too: 1.250,50, 1 250,50 or 1250.50."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata([_plain_number(v) for v in valuelist])


def _plain_number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = "".join(value.split())  # spaces, also no-break ones, group digits
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    return value


class StepForm(FlaskForm):
    day_offset = IntegerField(
        _l("Days"),
        validators=[
            InputRequired(_l("Enter a number of days.")),
            NumberRange(0, MAX_DAY_OFFSET, _l("Enter 0 to %(max)s days.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": MAX_DAY_OFFSET},
    )
    offset_from = SelectField(
        _l("Counted"),
        choices=[SelectChoice(k.value, v) for k, v in OFFSET_LABELS.items()],
    )
    action = SelectField(
        _l("What happens"),
        choices=[SelectChoice(k.value, v) for k, v in ACTION_LABELS.items()],
    )
    template_key = SelectField(
        _l("Text"),
        choices=[SelectChoice("", _l("No text (for a hand-over to an agent)"))]
        + [SelectChoice(key, SEQUENCE_TEXT_LABELS[key]) for key in SEQUENCE_TEMPLATES],
    )
    channel = SelectField(
        _l("Channel"),
        choices=[SelectChoice(k.value, v) for k, v in CHANNEL_LABELS.items()],
    )
    # Only supervisors see this; it is removed from the form for everyone else.
    allow_firm_tone = BooleanField(
        _l("I have read this text and allow its firm tone for this creditor")
    )

    def validate_template_key(self, field: SelectField) -> None:
        if self.action.data == StepAction.SEND.value and not field.data:
            raise ValidationError(_l("Choose the text this step sends."))


class StepTextForm(FlaskForm):
    """A step's own wording in one language; the views label it with the language."""

    # Checked in full by reminders.step_texts, which names each problem.
    wording = TextAreaField(
        _l("Your text"),
        render_kw={"rows": 6, "maxlength": MAX_WORDING_LENGTH, "spellcheck": "true"},
    )
    # Only supervisors see this; it is removed from the form for everyone else.
    allow_firm_tone = BooleanField(
        _l("I have read this text and allow its firm tone for this creditor")
    )


class ActionForm(FlaskForm):
    """Move or remove: nothing but the CSRF token."""


class SettingsForm(FlaskForm):
    show_amount_in_sms = BooleanField(_l("Show the amount owed in the texts"))
    sms_sender_name = StringField(
        _l("Sender name"),
        # Checked by the settings service (validate_sms_sender_name), which explains why.
        validators=[Optional()],
        filters=[_strip],
        # No maxlength: a browser would cut a longer name without a word; we explain.
        render_kw={"autocomplete": "off"},
    )
    verification_factor = RadioField(
        _l("How debtors confirm who they are"),
        choices=[SelectChoice(k.value, v) for k, v in FACTOR_LABELS.items()],
        validators=[InputRequired(_l("Choose one."))],
    )
    support_phone = StringField(
        _l("Support phone number"),
        validators=[Optional(), Length(max=20)],
        filters=[_strip],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    support_email = StringField(
        _l("Support e-mail address"),
        validators=[Optional(), Length(max=EMAIL_MAX)],
        filters=[_strip],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    max_instalments = IntegerField(
        _l("Most instalments in a plan"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(*BOUNDS["max_instalments"], _l("Enter %(min)s to %(max)s.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    min_instalment = AmountField(
        _l("Smallest instalment"),
        validators=[
            InputRequired(_l("Enter an amount.")),
            NumberRange(0, MAX_MIN_INSTALMENT_MAJOR, _l("Enter 0 to %(max)s.")),
        ],
        render_kw={"inputmode": "decimal"},
    )
    first_payment_within_days = IntegerField(
        _l("First payment within (days)"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(
                *BOUNDS["first_payment_within_days"], _l("Enter %(min)s to %(max)s.")
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )
    allow_monthly = BooleanField(_l("Monthly"))
    allow_fortnightly = BooleanField(_l("Every two weeks"))
    allow_weekly = BooleanField(_l("Weekly"))
    payday_day_of_month = IntegerField(
        _l("Payday (day of the month)"),
        validators=[
            Optional(),
            NumberRange(
                *BOUNDS["payday_day_of_month"], _l("Enter %(min)s to %(max)s.")
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )
    grace_moves_missed_instalment = BooleanField(
        _l(
            "Move a missed instalment to the end of the plan once, instead of counting it"
        )
    )
    promise_max_days = IntegerField(
        _l("Latest date a debtor may promise to pay (days ahead)"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(*BOUNDS["promise_max_days"], _l("Enter %(min)s to %(max)s.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    breathing_space_days = IntegerField(
        _l("Breathing space (days)"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(
                *BOUNDS["breathing_space_days"], _l("Enter %(min)s to %(max)s.")
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )

    # The service's rules, checked with the rest so every field error shows at once.
    def validate_sms_sender_name(self, field: StringField) -> None:
        _domain_checked(field, check_sender_name)

    def validate_support_email(self, field: StringField) -> None:
        _domain_checked(field, check_support_email)


WEEKDAY_LABELS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


class DeskForm(FlaskForm):
    """The chat desk's opening hours (local time) and how long a debtor should wait at most."""

    opens = TimeField(_l("Opens at"), validators=[InputRequired()])
    closes = TimeField(_l("Closes at"), validators=[InputRequired()])
    day_0 = BooleanField(WEEKDAY_LABELS[0])
    day_1 = BooleanField(WEEKDAY_LABELS[1])
    day_2 = BooleanField(WEEKDAY_LABELS[2])
    day_3 = BooleanField(WEEKDAY_LABELS[3])
    day_4 = BooleanField(WEEKDAY_LABELS[4])
    day_5 = BooleanField(WEEKDAY_LABELS[5])
    day_6 = BooleanField(WEEKDAY_LABELS[6])
    closed_on_holidays = BooleanField(_l("Closed on public holidays"))
    target_wait_minutes = IntegerField(
        _l("Longest wait before a chat turns amber (minutes)"),
        validators=[InputRequired(), NumberRange(min=1, max=240)],
    )

    def days(self) -> list[BooleanField]:
        return [self[f"day_{n}"] for n in range(7)]
