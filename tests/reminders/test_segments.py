"""SMS segment counting and GSM-7 look-alike replacement."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.segments import count_segments, gsm_replacements, to_gsm

# GSM 03.38 default alphabet written out row by row from the spec (0x1B, the escape, left
# out), so the module's table is checked against an independent copy.
GSM_BASIC = (
    "@Δ 0¡P¿p£_!1AQaq$Φ\"2BRbr¥Γ#3CScsèΛ¤4DTdtéΩ%5EUeuùΠ&6FVfvìΨ'7GWgwòΣ(8HXhx"
    "ÇΘ)9IYiy\nΞ*:JZjzØ+;KÄkäøÆ,<LÖlö\ræ-=MÑmñÅß.>NÜnüåÉ/?O§oà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"
# The properties are about counts, not speed; a loaded CI machine must not fail them.
UNTIMED = settings(deadline=None)
LOOK_ALIKES = (
    "‘’‚‛′´`“”„‟″«»‐‑‒–—―−•‣◦…\t\u00a0\u2009\u202f\u3000\u2028\u200b\ufeff\u00ad"
)
DANISH = "Hej Søren, vi har ikke modtaget din betaling på 450 kr. Venlig hilsen Århus Æblehave"
NORWEGIAN = "Hei Åse, vi har ikke mottatt betalingen. Gå til lenken for å se beløpet. Hilsen Bjørn"

CASES = [
    # (text, encoding, segments, units)
    ("", "GSM-7", 1, 0),
    ("a" * 160, "GSM-7", 1, 160),
    ("a" * 161, "GSM-7", 2, 161),
    ("a" * 306, "GSM-7", 2, 306),
    ("a" * 307, "GSM-7", 3, 307),
    ("a" * 459, "GSM-7", 3, 459),
    ("a" * 460, "GSM-7", 4, 460),
    ("€" * 80, "GSM-7", 1, 160),
    ("€" * 81, "GSM-7", 2, 162),
    ("a" * 159 + "€", "GSM-7", 2, 161),
    # Twilio calculator test vectors: an escape char plus 158 / 159 digits.
    ("{" + "2345678901" * 15 + "23456789", "GSM-7", 1, 160),
    ("{" + "2345678901" * 15 + "234567890", "GSM-7", 2, 161),
    # An escape pair is never split: the euro moves whole to the second part.
    ("a" * 152 + "€" + "a" * 152, "GSM-7", 3, 306),
    ("a" * 153 + "€" + "a" * 151, "GSM-7", 2, 306),
    (GSM_BASIC, "GSM-7", 1, 127),
    (GSM_EXTENSION, "GSM-7", 1, 20),
    ("a\r\nb", "GSM-7", 1, 4),
    (DANISH, "GSM-7", 1, len(DANISH)),
    (NORWEGIAN, "GSM-7", 1, len(NORWEGIAN)),
    ("ж" * 70, "UCS-2", 1, 70),
    ("ж" * 71, "UCS-2", 2, 71),
    ("ж" * 134, "UCS-2", 2, 134),
    ("ж" * 135, "UCS-2", 3, 135),
    ("a" * 133 + "ç", "UCS-2", 2, 134),
    ("😀", "UCS-2", 1, 2),
    ("a" * 68 + "😀", "UCS-2", 1, 70),
    ("a" * 69 + "😀", "UCS-2", 2, 71),
    # Twilio calculator test vectors: an emoji plus 68 / 69 / 133 digits.
    ("😜" + "2345678901" * 6 + "23456789", "UCS-2", 1, 70),
    ("😜" + "2345678901" * 6 + "234567890", "UCS-2", 2, 71),
    ("😜" + "2345678901" * 13 + "234", "UCS-2", 3, 135),
    # A surrogate pair is never split: the emoji moves whole to the second part.
    ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3, 134),
    ("a" * 67 + "😀" + "a" * 65, "UCS-2", 2, 134),
]


@pytest.mark.parametrize(("text", "encoding", "segments", "units"), CASES)
def test_segments_match_what_carriers_bill(
    text: str, encoding: str, segments: int, units: int
) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.segments, counted.units) == (
        encoding,
        segments,
        units,
    )


@pytest.mark.parametrize("char", list(GSM_EXTENSION))
def test_each_extension_char_costs_two_septets(char: str) -> None:
    assert count_segments(char * 80).segments == 1
    assert count_segments(char * 81).segments == 2
    assert count_segments(char).units == 2


def test_gsm_text_names_no_culprits() -> None:
    assert count_segments(DANISH).non_gsm == ()


def test_culprits_are_distinct_in_order_of_appearance() -> None:
    counted = count_segments("Ça va? “Oui” — ça va 😀 “bien”")
    assert counted.non_gsm == ("“", "”", "—", "ç", "😀")


def test_backtick_forces_ucs2() -> None:
    assert count_segments("Reply `STOP`").non_gsm == ("`",)


def test_replacements_name_each_look_alike_once() -> None:
    assert gsm_replacements("“Hej” – det er … ‘ok’ ‘ok’") == {
        "“": '"',
        "”": '"',
        "–": "-",
        "…": "...",
        "‘": "'",
        "’": "'",
    }


def test_replacements_never_touch_danish_or_norwegian_letters() -> None:
    text = DANISH + NORWEGIAN + "æøåÆØÅäöüÄÖÜé"
    assert gsm_replacements(text) == {}
    assert to_gsm(text) == text


def test_replacements_leave_letters_without_look_alike_alone() -> None:
    assert gsm_replacements("Zoë Çelik ça") == {}


def test_to_gsm_turns_a_pasted_text_into_one_segment() -> None:
    pasted = "Hej Mette\u00a0– vi har “endnu” ikke modtaget din betaling…"
    assert count_segments(pasted).encoding == "UCS-2"
    converted = to_gsm(pasted)
    assert converted == 'Hej Mette - vi har "endnu" ikke modtaget din betaling...'
    assert count_segments(converted).encoding == "GSM-7"


def test_to_gsm_keeps_emoji_and_so_ucs2() -> None:
    assert count_segments(to_gsm("Tak “Mette” 😀")).non_gsm == ("😀",)


@UNTIMED
@given(st.text(), st.characters())
def test_appending_a_character_never_lowers_the_segment_count(
    text: str, char: str
) -> None:
    assert count_segments(text + char).segments >= count_segments(text).segments


@UNTIMED
@given(st.text(alphabet=GSM_BASIC + GSM_EXTENSION + LOOK_ALIKES))
def test_to_gsm_leaves_no_ucs2_culprit(text: str) -> None:
    assert count_segments(to_gsm(text)).non_gsm == ()


@UNTIMED
@given(st.text())
def test_units_match_the_encoding(text: str) -> None:
    counted = count_segments(text)
    if counted.encoding == "GSM-7":
        expected = len(text) + sum(char in GSM_EXTENSION for char in text)
    else:
        expected = len(text.encode("utf-16-le", "surrogatepass")) // 2
    assert counted.units == expected


# Long texts built from runs of one- and two-unit characters, to reach many parts.
LONG_TEXTS = st.lists(
    st.tuples(st.sampled_from("a€😀ж"), st.integers(min_value=1, max_value=200)),
    max_size=8,
).map(lambda runs: "".join(char * count for char, count in runs))


@UNTIMED
@given(LONG_TEXTS)
def test_units_fit_the_segment_bounds(text: str) -> None:
    counted = count_segments(text)
    single, part = (160, 153) if counted.encoding == "GSM-7" else (70, 67)
    if counted.segments == 1:
        assert counted.units <= single
    else:
        # Every part but the last is full, short of at most one unit that could not
        # take a two-unit character.
        assert counted.units > single
        assert (counted.segments - 1) * (part - 1) < counted.units
        assert counted.units <= counted.segments * part
