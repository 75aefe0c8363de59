"""Tone guard for SMS templates: flags shouting, threats, pressure and shaming."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from reminders.keywords import fold

LANGUAGES = ("da", "nb", "en")

# What the editor shows next to each finding, by stable rule id.
MESSAGES: Mapping[str, str] = {
    "all-caps": "Capitals read as shouting; write the words in normal case.",
    "exclamation": "Repeated ! or ?! reads as alarm; use one ! at most.",
    "threat": "Naming courts, bailiffs, police or legal steps reads as a threat; "
    "link to the facts instead.",
    "consequence": "'We will' plus a consequence reads as a threat; say neutrally "
    "what may happen and by when.",
    "pressure": "Pressure to act at once makes people stop reading; give a date and "
    "the options instead.",
    "shaming": "Judging the reader makes people stop engaging; describe the debt, "
    "not the person.",
    "exposure": "Mentioning visits or the reader's home, work, family or neighbours "
    "reads as a threat to expose them; keep to the debt and the options.",
    "register": "Naming bad-debtor registers or harm to a credit rating reads as a "
    "threat; say neutrally what may happen and by when.",
}

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# Placeholders are overwritten with this character, keeping every offset valid for
# excerpts while no rule can match inside them or across them.
_HIDDEN = "\x00"
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_CLAUSE_END = re.compile(rf"[.!?;\n{_HIDDEN}]")
_CHUNK = re.compile(r"\S+")
_SHOUTED_PUNCTUATION = re.compile(r"[!?‼⁇⁈⁉]+")
_CAPS_MIN_LETTERS = 3
_LIST_KEYS = (
    "threat",
    "shaming",
    "pressure",
    "exposure",
    "register",
    "contact",
    "contacted",
    "third_party",
    "contact_cancels",
    "urgency",
    "payment",
    "we_will",
    "consequence",
    "cancels",
    "caps_allowlist",
)


@dataclass(frozen=True)
class ToneFinding:
    """One passage of a template that reads as disrespectful, and why."""

    rule: str
    excerpt: str
    message: str


@dataclass(frozen=True)
class _Token:
    word: str  # folded
    start: int
    end: int
    clause: int


@dataclass(frozen=True)
class _Phrase:
    words: tuple[str, ...]  # folded; a trailing "*" matches any ending
    not_followed_by: frozenset[str]
    not_preceded_by: frozenset[str]


@dataclass(frozen=True)
class _Rules:
    threat: tuple[_Phrase, ...]
    shaming: tuple[_Phrase, ...]
    pressure: tuple[_Phrase, ...]
    exposure: tuple[_Phrase, ...]
    register: tuple[_Phrase, ...]
    contact: tuple[_Phrase, ...]
    contacted: tuple[_Phrase, ...]
    third_party: tuple[_Phrase, ...]
    urgency: tuple[_Phrase, ...]
    payment: tuple[_Phrase, ...]
    we_will: tuple[_Phrase, ...]
    consequence: tuple[_Phrase, ...]
    cancels: frozenset[str]
    contact_cancels: frozenset[str]
    caps_allowlist: frozenset[str]  # folded
    consequence_window: int
    urgency_window: int
    contact_window: int


@dataclass(frozen=True)
class _Hit:
    rule: str
    start: int  # character offsets into the template
    end: int


def check_tone(text: str, language: str) -> list[ToneFinding]:
    """List the passages of an SMS template that break the tone rules, in order.

    :raises ValueError: if the language is not one of LANGUAGES.
    """
    rules = _rules_for(language)
    masked = _PLACEHOLDER.sub(lambda match: _HIDDEN * len(match[0]), text)
    tokens = _tokenize(masked)
    hits = [
        *_caps_hits(masked, rules.caps_allowlist),
        *_exclamation_hits(masked),
        *_phrase_hits("threat", tokens, rules.threat),
        *_phrase_hits("shaming", tokens, rules.shaming),
        *_phrase_hits("pressure", tokens, rules.pressure),
        *_phrase_hits("exposure", tokens, rules.exposure),
        *_phrase_hits("register", tokens, rules.register),
        *_urgency_hits(tokens, rules),
        *_consequence_hits(tokens, rules),
        *_contact_hits(tokens, rules),
    ]
    return [
        ToneFinding(hit.rule, text[hit.start : hit.end], MESSAGES[hit.rule])
        for hit in _outermost(hits)
    ]


def _rules_for(language: str) -> _Rules:
    rules = _load_rules()
    if language not in rules:
        raise ValueError(
            f"tone rules exist for {', '.join(LANGUAGES)}, not {language!r}"
        )
    return rules[language]


def _tokenize(masked: str) -> list[_Token]:
    tokens: list[_Token] = []
    clause, previous_end = 0, 0
    for match in _WORD.finditer(masked):
        if _CLAUSE_END.search(masked, previous_end, match.start()):
            clause += 1
        tokens.append(_Token(fold(match[0]), match.start(), match.end(), clause))
        previous_end = match.end()
    return tokens


def _caps_hits(masked: str, allowlist: frozenset[str]) -> Iterator[_Hit]:
    for run in _caps_runs(masked):
        shouted = [
            (start, end)
            for start, end in run
            if fold(masked[start:end]) not in allowlist
        ]
        if any(
            _letter_count(masked[start:end]) >= _CAPS_MIN_LETTERS
            for start, end in shouted
        ):
            yield _Hit("all-caps", shouted[0][0], shouted[-1][1])


def _caps_runs(masked: str) -> Iterator[list[tuple[int, int]]]:
    # Consecutive capitalised words form one finding: "BETAL NU" rather than two.
    run: list[tuple[int, int]] = []
    for chunk in _CHUNK.finditer(masked):
        start, end = _core(masked, chunk.start(), chunk.end())
        if _is_capitalised(masked[start:end]):
            run.append((start, end))
        elif run:
            yield run
            run = []
    if run:
        yield run


def _core(masked: str, start: int, end: int) -> tuple[int, int]:
    # Strip the punctuation around a word ("BETAL!", "(STOP)"), keep what is inside.
    while start < end and not masked[start].isalnum():
        start += 1
    while end > start and not masked[end - 1].isalnum():
        end -= 1
    return start, end


def _is_capitalised(word: str) -> bool:
    # Words with digits are references ("INV2024"), not shouting.
    letters = [char for char in word if char.isalpha()]
    has_digit = any(char.isdigit() for char in word)
    return bool(letters) and not has_digit and all(char.isupper() for char in letters)


def _letter_count(word: str) -> int:
    return sum(char.isalpha() for char in word)


def _exclamation_hits(masked: str) -> Iterator[_Hit]:
    for match in _SHOUTED_PUNCTUATION.finditer(masked):
        run = match[0]
        if ("!" in run and len(run) >= 2) or any(char in "‼⁈⁉" for char in run):
            yield _Hit("exclamation", match.start(), match.end())


def _phrase_hits(
    rule: str, tokens: Sequence[_Token], phrases: Iterable[_Phrase]
) -> Iterator[_Hit]:
    for first, last in _phrase_spans(tokens, phrases):
        yield _Hit(rule, tokens[first].start, tokens[last - 1].end)


def _phrase_spans(
    tokens: Sequence[_Token], phrases: Iterable[_Phrase]
) -> list[tuple[int, int]]:
    """Token ranges [first, last) of the phrases, in text order, longest first."""
    spans = {
        (index, index + len(phrase.words))
        for phrase in phrases
        for index in range(len(tokens))
        if _phrase_at(tokens, index, phrase)
    }
    return sorted(spans, key=lambda span: (span[0], -span[1]))


def _phrase_at(tokens: Sequence[_Token], index: int, phrase: _Phrase) -> bool:
    last = index + len(phrase.words)
    if last > len(tokens) or tokens[last - 1].clause != tokens[index].clause:
        return False
    if not all(
        _word_matches(tokens[index + offset].word, word)
        for offset, word in enumerate(phrase.words)
    ):
        return False
    return not (
        _neighbour_in(tokens, index, index - 1, phrase.not_preceded_by)
        or _neighbour_in(tokens, index, last, phrase.not_followed_by)
    )


def _word_matches(word: str, pattern: str) -> bool:
    return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern


def _neighbour_in(
    tokens: Sequence[_Token], anchor: int, index: int, words: frozenset[str]
) -> bool:
    if not 0 <= index < len(tokens) or tokens[index].clause != tokens[anchor].clause:
        return False
    return tokens[index].word in words


def _urgency_hits(tokens: Sequence[_Token], rules: _Rules) -> Iterator[_Hit]:
    # Urgency words are pressure only next to a payment word: "betal straks", not
    # "vi svarer straks".
    payments = _phrase_spans(tokens, rules.payment)
    for urgent in _phrase_spans(tokens, rules.urgency):
        near = [
            paid
            for paid in payments
            if _within(tokens, urgent, paid, rules.urgency_window)
        ]
        if near:
            yield _span_hit("pressure", tokens, urgent, near[0])


def _consequence_hits(tokens: Sequence[_Token], rules: _Rules) -> Iterator[_Hit]:
    yield from _followed_hits(
        "consequence",
        tokens,
        _phrase_spans(tokens, rules.we_will),
        _phrase_spans(tokens, rules.consequence),
        rules.consequence_window,
        rules.cancels,
    )


def _contact_hits(tokens: Sequence[_Token], rules: _Rules) -> Iterator[_Hit]:
    # Contacting someone is a threat only when it is someone else: "vi kontakter din
    # arbejdsgiver", not "kontakt os, hvis din familie kan hjælpe". The third party
    # comes first only before a participle: "din arbejdsgiver vil blive kontaktet".
    parties = _phrase_spans(tokens, rules.third_party)
    for openers, results in (
        (_phrase_spans(tokens, rules.contact), parties),
        (parties, _phrase_spans(tokens, rules.contacted)),
    ):
        yield from _followed_hits(
            "exposure",
            tokens,
            openers,
            results,
            rules.contact_window,
            rules.contact_cancels,
        )


def _followed_hits(
    rule: str,
    tokens: Sequence[_Token],
    openers: Sequence[tuple[int, int]],
    results: Sequence[tuple[int, int]],
    window: int,
    cancels: frozenset[str],
) -> Iterator[_Hit]:
    """An opener followed, within `window` words and no cancelling word, by a result."""
    for opener in openers:
        following = [
            result
            for result in results
            if result[0] >= opener[1]
            and _within(tokens, opener, result, window)
            and not _cancelled(tokens[opener[1] : result[0]], cancels)
        ]
        if following:
            yield _span_hit(rule, tokens, opener, following[0])


def _within(
    tokens: Sequence[_Token], one: tuple[int, int], other: tuple[int, int], window: int
) -> bool:
    """Whether two token ranges sit apart in one clause, at most `window` words apart."""
    left, right = sorted((one, other))
    same_clause = tokens[left[0]].clause == tokens[right[1] - 1].clause
    return same_clause and 0 <= right[0] - left[1] <= window


def _cancelled(between: Sequence[_Token], cancels: frozenset[str]) -> bool:
    return any(token.word in cancels for token in between)


def _span_hit(
    rule: str, tokens: Sequence[_Token], one: tuple[int, int], other: tuple[int, int]
) -> _Hit:
    first, last = min(one[0], other[0]), max(one[1], other[1])
    return _Hit(rule, tokens[first].start, tokens[last - 1].end)


def _outermost(hits: Iterable[_Hit]) -> list[_Hit]:
    """Hits in text order, without those inside a longer hit of the same rule."""
    ordered = sorted(set(hits), key=lambda hit: (hit.start, -hit.end, hit.rule))
    return [
        hit
        for hit in ordered
        if not any(
            other != hit
            and other.rule == hit.rule
            and other.start <= hit.start
            and hit.end <= other.end
            for other in ordered
        )
    ]


@functools.cache
def _load_rules() -> dict[str, _Rules]:
    source = resources.files("reminders").joinpath("tone_rules.toml")
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    shared = _table(data, "shared")
    return {
        language: _language_rules(shared, _table(data, language))
        for language in LANGUAGES
    }


def _language_rules(shared: Mapping[str, Any], section: Mapping[str, Any]) -> _Rules:
    lists = {key: _strings(shared, key) + _strings(section, key) for key in _LIST_KEYS}
    followed = _exceptions(shared, section, "not_when_followed_by", lists)
    preceded = _exceptions(shared, section, "not_when_preceded_by", lists)

    def phrases(key: str) -> tuple[_Phrase, ...]:
        return tuple(_phrase(raw, followed, preceded) for raw in lists[key])

    return _Rules(
        threat=phrases("threat"),
        shaming=phrases("shaming"),
        pressure=phrases("pressure"),
        exposure=phrases("exposure"),
        register=phrases("register"),
        contact=phrases("contact"),
        contacted=phrases("contacted"),
        third_party=phrases("third_party"),
        urgency=phrases("urgency"),
        payment=phrases("payment"),
        we_will=phrases("we_will"),
        consequence=phrases("consequence"),
        cancels=frozenset(fold(word) for word in lists["cancels"]),
        contact_cancels=frozenset(fold(word) for word in lists["contact_cancels"]),
        caps_allowlist=frozenset(fold(word) for word in lists["caps_allowlist"]),
        consequence_window=_integer(shared, "consequence_window"),
        urgency_window=_integer(shared, "urgency_window"),
        contact_window=_integer(shared, "contact_window"),
    )


def _phrase(
    raw: str, followed: Mapping[str, list[str]], preceded: Mapping[str, list[str]]
) -> _Phrase:
    words = tuple(fold(raw).split())
    if not words or not all(_WORD.fullmatch(word.removesuffix("*")) for word in words):
        raise ValueError(f"tone_rules.toml: {raw!r} is not a phrase of whole words")
    key = " ".join(words)
    return _Phrase(
        words,
        frozenset(fold(word) for word in followed.get(key, [])),
        frozenset(fold(word) for word in preceded.get(key, [])),
    )


def _exceptions(
    shared: Mapping[str, Any],
    section: Mapping[str, Any],
    key: str,
    lists: Mapping[str, list[str]],
) -> dict[str, list[str]]:
    tables = {
        **_table(shared, key, required=False),
        **_table(section, key, required=False),
    }
    known = {" ".join(fold(raw).split()) for values in lists.values() for raw in values}
    exceptions: dict[str, list[str]] = {}
    for phrase, words in tables.items():
        folded = " ".join(fold(phrase).split())
        # A misspelt phrase here would silently do nothing, so it is an error.
        if folded not in known:
            raise ValueError(
                f"tone_rules.toml: {key} names {phrase!r}, which no list has"
            )
        exceptions[folded] = _string_list(words, f"{key}.{phrase}")
    return exceptions


def _table(
    data: Mapping[str, Any], key: str, *, required: bool = True
) -> dict[str, Any]:
    value = data.get(key, None if required else {})
    if not isinstance(value, dict):
        raise ValueError(f"tone_rules.toml: [{key}] must be a table")
    return value


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    return _string_list(data.get(key, []), key)


def _string_list(value: object, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"tone_rules.toml: {name} must be a list of strings")
    return value


def _integer(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"tone_rules.toml: {key} must be a whole number")
    return value
