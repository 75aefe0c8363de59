"""SMS segment counting (GSM 03.38 / UCS-2) and GSM-7 look-alike replacements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet in code order (0x00-0x7F), minus 0x1B, the escape to the
# extension table, which is not a character of its own.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: sent as escape + character, so each costs two septets.
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

# A single SMS carries 140 octets: 160 septets or 70 UTF-16 units. Concatenated parts
# spend 6 octets on the user data header, leaving 153 septets or 67 units.
_SINGLE_CAPACITY: dict[Encoding, int] = {"GSM-7": 160, "UCS-2": 70}
_PART_CAPACITY: dict[Encoding, int] = {"GSM-7": 153, "UCS-2": 67}

# Characters that silently force UCS-2 but have a GSM-7 look-alike, as word processors
# and phones insert them. Letters are deliberately absent: changing someone's name
# (or an æ, ø, å, which are GSM-7 anyway) is not a cost saving we get to make.
_LOOK_ALIKES: dict[str, str] = {
    **dict.fromkeys("‘’‚‛′´`ʹʻʼˈ‹›", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("•‣◦⁃∙", "-"),
    "…": "...",
    # No-break, typographic and ideographic spaces, and the tab, which GSM-7 lacks.
    **dict.fromkeys("\t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006", " "),
    **dict.fromkeys("\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "),
    **dict.fromkeys("\u2028\u2029", "\n"),
    # Invisible: zero-width space, word joiner, byte-order mark, soft hyphen. The
    # zero-width joiners stay: they hold emoji sequences together.
    **dict.fromkeys("\u200b\u2060\ufeff\u00ad", ""),
}


@dataclass(frozen=True)
class SegmentCount:
    """How an SMS body is encoded and how many parts a carrier bills for it."""

    encoding: Encoding
    segments: int
    units: int
    non_gsm: tuple[str, ...]


def count_segments(text: str) -> SegmentCount:
    """Count the segments, encoding units and UCS-2 culprits of an SMS body.

    An empty body is one (empty) segment: that is what a carrier would bill, though
    providers such as Twilio refuse to send it.
    """
    non_gsm = tuple(dict.fromkeys(char for char in text if not _is_gsm(char)))
    encoding: Encoding = "UCS-2" if non_gsm else "GSM-7"
    costs = [_unit_cost(char, encoding) for char in text]
    return SegmentCount(encoding, _count_parts(costs, encoding), sum(costs), non_gsm)


def gsm_replacements(text: str) -> dict[str, str]:
    """Map each look-alike character in the text to its GSM-7 replacement."""
    return {char: _LOOK_ALIKES[char] for char in text if char in _LOOK_ALIKES}


def to_gsm(text: str) -> str:
    """Replace look-alike characters with their GSM-7 equivalents."""
    return "".join(_LOOK_ALIKES.get(char, char) for char in text)


def _is_gsm(char: str) -> bool:
    return char in _GSM_BASIC or char in _GSM_EXTENSION


def _unit_cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in _GSM_EXTENSION else 1
    # Outside the Basic Multilingual Plane (most emoji) UTF-16 needs a surrogate pair.
    return 2 if ord(char) > 0xFFFF else 1


def _count_parts(costs: Sequence[int], encoding: Encoding) -> int:
    if sum(costs) <= _SINGLE_CAPACITY[encoding]:
        return 1
    capacity = _PART_CAPACITY[encoding]
    parts, used = 1, 0
    for cost in costs:
        # An escape pair or surrogate pair that does not fit moves whole to the next
        # part, as handsets would otherwise show garbage at the join. Twilio's calculator
        # also keeps whole emoji sequences (👍🏽, 🇩🇰) together, so at a boundary it can
        # count one part more; it also calls "\r\n" UCS-2, which GSM 03.38 does not.
        if used + cost > capacity:
            parts, used = parts + 1, 0
        used += cost
    return parts
