"""Row reasons are data (a code and its values) that any language can word later."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_file

from app.ingest import reasons
from app.ingest.reasons import (
    ENGLISH,
    FIELD_PHRASES,
    TEMPLATES,
    Code,
    Country,
    FieldName,
    Money,
    Reason,
)
from app.ingest.rows import Field

_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?([a-z%])")


def test_every_code_has_words_with_named_placeholders_only() -> None:
    assert set(TEMPLATES) == set(Code) - {Code.WORDED}
    for template in [*TEMPLATES.values(), *FIELD_PHRASES.values()]:
        for name, conversion in _PLACEHOLDER.findall(template):
            assert name, f"unnamed placeholder in {template!r}"
            assert conversion == "s", f"{template!r}: values arrive as text"


def test_every_template_and_field_phrase_is_found_by_the_message_extractor() -> None:
    found = {
        message
        for _line, message, _comments, _context in extract_from_file(
            "python", str(Path(reasons.__file__))
        )
    }
    assert set(TEMPLATES.values()) <= found
    assert set(FIELD_PHRASES.values()) <= found
    assert {field.value for field in Field} == set(FIELD_PHRASES)


def test_a_reason_survives_json_with_every_kind_of_value() -> None:
    reason = Reason.of(
        Code.CREDIT_TOO_LARGE,
        credit=Money(12_345, "DKK"),
        invoice="F-1",
        left=Money(0, "DKK"),
    )
    assert Reason.from_dict(reason.to_dict()) == reason
    other = Reason.of(Code.TOO_LONG, field=FieldName("name"), limit=200)
    assert Reason.from_dict(other.to_dict()) == other
    abroad = Reason.of(Code.PHONE_NOT_MOBILE_IN, phone="1234", country=Country("DE"))
    assert Reason.from_dict(abroad.to_dict()) == abroad
    assert abroad.english() == (
        "phone number 1234 is not a valid mobile number in Germany"
    )


def test_the_english_words_format_money_numbers_and_fields() -> None:
    too_long = Reason.of(Code.TOO_LONG, field=FieldName("name"), limit=10_000)
    assert too_long.english() == "the debtor's name is longer than 10,000 characters"
    due = Reason.of(Code.NOTHING_DUE, due=Money(-150, "DKK"))
    assert due.english() == "the balance due is -1.50 DKK, so nothing is owed"


def test_a_translation_may_put_the_values_in_another_order() -> None:
    reason = Reason.of(
        Code.LINES_DISAGREE_WITH_TOTAL,
        added=Money(1000, "DKK"),
        stated=Money(2000, "DKK"),
    )
    reordered = {
        TEMPLATES[Code.LINES_DISAGREE_WITH_TOTAL]: (
            "fakturaen siger %(stated)s, men linjerne giver %(added)s"
        )
    }
    words = reason.words(lambda template: reordered[template], ENGLISH)
    assert words == "fakturaen siger 20.00 DKK, men linjerne giver 10.00 DKK"


def test_a_reason_worded_before_codes_is_shown_as_it_was() -> None:
    old = Reason.worded("amount abc is not a number")
    assert old.english() == "amount abc is not a number"
    assert Reason.from_dict(old.to_dict()) == old
