"""Inbound SMS intent: carrier keywords (STOP, START, HELP) and requests for a person."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Keyword(StrEnum):
    """What an inbound SMS asks of the messaging programme."""

    STOP = "stop"
    START = "start"
    HELP = "help"
    NONE = "none"


# Twilio (like AWS, Telnyx and Braze) acts only on a message that is exactly one
# keyword, so "stop contacting me" never opts anyone out at the carrier. We mirror
# that: matching more loosely would stop our SMS while the carrier still delivers, and
# matching less would keep queueing messages the provider refuses (Twilio error
# 21610). Free text such as "stop contacting me" goes to the risk detector instead,
# which pauses the sequence as a cease-contact request.
# STOPALL, OPTOUT and REVOKE are on the list because Twilio opts out on them by
# default; YES resumes for the same reason.
_KEYWORDS: dict[Keyword, tuple[str, ...]] = {
    Keyword.STOP: (
        "STOP",
        "STOPP",
        "STOPALL",
        "AFMELD",
        "FRAMELD",
        "AVMELD",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        "REVOKE",
    ),
    Keyword.START: ("START", "UNSTOP", "YES"),
    Keyword.HELP: ("HELP", "INFO", "HJÆLP", "HJELP"),
}

# Requests for a human, da/nb/en. Words are separated by spaces, alternatives by "|",
# and a trailing "*" matches any ending ("saksbehandler*" also matches
# "saksbehandleren"). Written as people type them; folding makes "radgiver" match too.
_PERSON_PATTERNS: tuple[str, ...] = (
    # English
    "talk|speak|chat to|with someone|somebody|anyone|anybody",
    "talk|speak|chat to|with a|an|the|your person|human|agent|advisor|adviser",
    "real|live|actual person|human",
    "a|an human",
    "agent|agents|representative|advisor|adviser|operator",
    "customer service|support",
    "call|phone|ring me",
    "give me a call",
    # Danish
    "tale|snakke med en|et|nogen|jer|dig",
    "ring|ringe mig",
    "ring|ringe til mig",
    "med|til et menneske",
    "rigtig|rigtigt|levende person|menneske",
    "medarbejder*|sagsbehandler*|rådgiver*|kundeservice",
    # Norwegian
    "snakke|prate|snakk med en|et|noen|dere|deg",
    "ring|ringe meg",
    "ring|ringe til meg",
    "ekte|virkelig person|menneske",
    "medarbeider*|saksbehandler*|rådgiver*|kundebehandler*|kundeservice",
)

# A negation near a request turns it around: "don't call me", "ring mig ikke",
# "ikke ring meg", "lad være med at ringe til mig".
_NEGATIONS: tuple[str, ...] = (
    "don't",
    "dont",
    "not",
    "never",
    "no",
    "ikke",
    "ikkje",
    "aldrig",
    "aldri",
    "nej",
    "nei",
    "lad være",
    "la være",
)
_NEGATION_BEFORE = 4  # words before a request that a negation may sit in
_NEGATION_AFTER = 2  # words after it: Danish and Norwegian put "ikke" after the verb

_FOLDED_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "œ": "oe", "’": "'"})
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?\n]*")
_CLAUSE_BREAK = re.compile(r"[,;:]")


def fold(text: str) -> str:
    """Fold text for case- and accent-insensitive matching ("HJÆLP" -> "hjaelp")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.translate(_FOLDED_LETTERS)


def classify_keyword(text: str) -> Keyword:
    """Classify an inbound SMS that is exactly one carrier keyword, else NONE."""
    return _KEYWORD_BY_FORM.get(_bare_word(text), Keyword.NONE)


def asks_for_person(text: str) -> bool:
    """Tell whether a free-text reply asks to talk to a person (da, nb, en)."""
    for sentence in _SENTENCE.findall(text):
        is_question = "?" in sentence
        for clause in _CLAUSE_BREAK.split(sentence):
            if _clause_asks(_words(clause), is_question=is_question):
                return True
    return False


def _bare_word(text: str) -> str:
    # Trim whitespace and punctuation ("Stop.", "'STOP'") and close inner gaps, so
    # "STOP ALL" and "opt-out" read as STOPALL and OPTOUT.
    trimmed = text
    while trimmed and _is_trimmable(trimmed[-1]):
        trimmed = trimmed[:-1]
    while trimmed and _is_trimmable(trimmed[0]):
        trimmed = trimmed[1:]
    return re.sub(r"[\s\-_]+", "", fold(trimmed))


def _is_trimmable(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _pattern(spec: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(fold(spec_word).split("|")) for spec_word in spec.split())


def _word_matches(word: str, alternatives: tuple[str, ...]) -> bool:
    return any(
        word.startswith(alt[:-1]) if alt.endswith("*") else word == alt
        for alt in alternatives
    )


def _match_at(
    words: list[str], start: int, pattern: tuple[tuple[str, ...], ...]
) -> bool:
    if start + len(pattern) > len(words):
        return False
    return all(
        _word_matches(words[start + offset], alternatives)
        for offset, alternatives in enumerate(pattern)
    )


def _clause_asks(words: list[str], *, is_question: bool) -> bool:
    for start in range(len(words)):
        for pattern in _PERSON_PATTERNS_FOLDED:
            if not _match_at(words, start, pattern):
                continue
            # "Kan I ikke bare ringe mig?" asks: in a question the negation is rhetorical.
            end = start + len(pattern)
            if is_question or not _negated(words, start, end):
                return True
    return False


def _negated(words: list[str], start: int, end: int) -> bool:
    nearby = words[max(0, start - _NEGATION_BEFORE) : start]
    after = words[end : end + _NEGATION_AFTER]
    return any(
        _contains(nearby, negation) or _contains(after, negation)
        for negation in _NEGATIONS_FOLDED
    )


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    return any(
        tuple(words[index : index + len(phrase)]) == phrase
        for index in range(len(words) - len(phrase) + 1)
    )


# Compiled once, below the helpers they need.
_KEYWORD_BY_FORM: dict[str, Keyword] = {
    fold(word): keyword for keyword, words in _KEYWORDS.items() for word in words
}
_PERSON_PATTERNS_FOLDED = tuple(_pattern(spec) for spec in _PERSON_PATTERNS)
_NEGATIONS_FOLDED = tuple(tuple(_words(negation)) for negation in _NEGATIONS)
