"""The creditor settings' own rules, the same for the settings page, the API or a script."""

from __future__ import annotations

import pytest

from app.errors import ValidationFailed
from app.models.enums import VerificationFactor
from app.services.creditor_settings import (
    CreditorSettings,
    check_sender_name,
    check_support_email,
    normalise_settings,
)

GOOD = CreditorSettings(
    show_amount_in_sms=False,
    sms_sender_name=" Fjellvann ",
    verification_factor=VerificationFactor.BIRTH_DATE,
    support_phone="22 33 44 55",
    support_email=" kundeservice@fjellvann.no ",
    max_instalments=6,
    min_instalment_minor=10_000,
    first_payment_within_days=10,
    allow_weekly=False,
    allow_fortnightly=False,
    allow_monthly=True,
    payday_day_of_month=None,
    promise_max_days=14,
    grace_moves_missed_instalment=False,
    breathing_space_days=30,
)


def test_good_settings_are_tidied() -> None:
    checked = normalise_settings(GOOD, country="NO", minor_exponent=2)
    assert checked.sms_sender_name == "Fjellvann"
    assert checked.support_email == "kundeservice@fjellvann.no"
    assert checked.support_phone == "+4722334455"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Fjellvann Tannklinikk", "too_long"),
        ("Fjellvann T1", "too_long"),  # 12 characters, never cut to 11
        ("Fjellvann!", "invalid"),
        ("12345", "invalid"),
        ("Fjell  T", "invalid"),
    ],
)
def test_a_sender_name_is_refused_not_cut(raw: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_sender_name(raw)
    assert refused.value.errors == {"sms_sender_name": [code]}


@pytest.mark.parametrize("raw", ["Fjellvann T", "NordlysEl", "A", "", None])
def test_a_sender_name_of_up_to_11_characters_is_taken(raw: str | None) -> None:
    assert check_sender_name(raw) == (raw or None)


@pytest.mark.parametrize(
    "raw",
    [
        "kundeservice@fjellvann",
        "kundeservice@fjellvann.",
        "kundeservice@.no",
        "kundeservice@fjellvann..no",
        "kundeservice@fjellvann.n",
        "kunde service@fjellvann.no",
        "@fjellvann.no",
        "kundeservice",
    ],
)
def test_an_e_mail_address_without_a_full_domain_is_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_support_email(raw)
    assert refused.value.errors == {"support_email": ["invalid"]}


@pytest.mark.parametrize(
    "raw", ["kundeservice@fjellvann.no", "post@mail.fjellvann.example", "a.b+c@d.dk"]
)
def test_an_e_mail_address_with_a_domain_is_taken(raw: str) -> None:
    assert check_support_email(raw) == raw


def test_every_bad_field_is_named_at_once() -> None:
    bad = CreditorSettings(
        **{
            **GOOD.__dict__,
            "sms_sender_name": "Fjellvann Tannklinikk",
            "support_email": "kundeservice@fjellvann",
            "max_instalments": 0,
        }
    )
    with pytest.raises(ValidationFailed) as refused:
        normalise_settings(bad, country="NO", minor_exponent=2)
    assert refused.value.errors == {
        "max_instalments": ["out_of_range"],
        "sms_sender_name": ["too_long"],
        "support_email": ["invalid"],
    }
