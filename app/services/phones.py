"""Phone numbers: E.164, whether SMS can reach them, and the time zone they imply."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, timezone

from app.errors import ValidationFailed

SMS_CAPABLE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# Where a number maps to several zones, the country's main one.
MAIN_ZONE = {"NO": "Europe/Oslo", "DK": "Europe/Copenhagen", "SE": "Europe/Stockholm"}


@dataclass(frozen=True)
class PhoneInfo:
    e164: str
    country: str
    timezone: str
    can_receive_sms: bool


def parse_phone(raw: str, default_country: str) -> PhoneInfo:
    """Normalise `raw` (national or international form) to E.164 with its country and zone.

    :raises ValidationFailed: not a valid phone number for any country.
    """
    try:
        number = phonenumbers.parse(raw, default_country.upper())
    except phonenumbers.NumberParseException as error:
        raise ValidationFailed(f"{raw!r} is not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"{raw!r} is not a valid phone number")
    country = phonenumbers.region_code_for_number(number) or default_country.upper()
    return PhoneInfo(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        country=country,
        timezone=_zone_for(number, country),
        can_receive_sms=phonenumbers.number_type(number) in SMS_CAPABLE,
    )


def _zone_for(number: phonenumbers.PhoneNumber, country: str) -> str:
    if country in MAIN_ZONE:
        return MAIN_ZONE[country]
    zones = [z for z in timezone.time_zones_for_number(number) if "/" in z]
    return zones[0] if zones else "UTC"
