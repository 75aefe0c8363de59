"""Complaint-risk detector: finds the signs of a coming complaint in a debtor's message."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Final, Literal, NamedTuple, TypeAlias

Severity: TypeAlias = Literal["low", "medium", "high"]

# Severity decides how fast a person must look (the actions are wired elsewhere). "high" pauses
# the reminder sequence at once (DESIGN.md invariant 2), so it is kept for signals where one
# more automated message would breach a legal duty or a duty of care.
CATEGORIES: Final[Mapping[str, Severity]] = {
    # Every message after "stop" is a breach in itself (the STOP rule, FDCPA 805(c)).
    "cease_contact": "high",
    # "Debt not owed" is half of all collection complaints; collection waits until it is checked.
    "dispute_not_owed": "high",
    # The debt is accepted and only the sum is questioned: a review, not a stop.
    "dispute_amount": "medium",
    # Most often a payment not reconciled yet: check the ledger before the next reminder.
    "already_paid": "medium",
    # A lawyer or a court is involved: every further message becomes evidence.
    "legal_threat": "high",
    # A complaint to an authority is under way or announced.
    "regulator": "high",
    # The debtor says our contact is the harm; more automated contact proves the point.
    "harassment_claim": "high",
    # Asks for forbearance and a plan that fits, not for silence.
    "hardship": "medium",
    # A duty of care: a person decides before anything automated goes out again.
    "vulnerability": "high",
    # Debt relief proceedings usually bar individual collection.
    "bankruptcy": "high",
    # The debtor cannot be reached any more; reminders now hurt the bereaved.
    "deceased": "high",
    # Every further SMS tells a stranger about someone's debt (DESIGN.md invariant 4).
    "wrong_person": "high",
    # Reputational: a supervisor should reach out, but nothing obliges us to stop.
    "public_complaint": "medium",
    # Tells the agent how the conversation stands; no duty follows from it.
    "abusive_language": "low",
}
HIGH_SEVERITY: Final = frozenset(c for c, s in CATEGORIES.items() if s == "high")
LANGUAGES: Final = ("da", "nb", "en")

GAP: Final = 4  # "..." in a phrase stands for at most this many words
NEGATION_REACH: Final = 5  # words allowed between a negation and the phrase it cancels
FUZZY_MIN_LENGTH: Final = (
    7  # shorter words are too alike ("betalt"/"betale") to forgive slips
)
INFLECTION_LETTERS: Final = 2  # a whole word's last letters, where no slip is forgiven
JOIN_MIN_LENGTH: Final = 8  # compounds this long also match when typed as two words
BASE_CONFIDENCE: Final = 0.9
SLIP_PENALTY: Final = 0.2  # the phrase matched only by forgiving a typo
OTHER_LANGUAGE_PENALTY: Final = 0.1  # the phrase comes from another language's lexicon
CORROBORATION_BONUS: Final = 0.05  # a second, separate phrase of the category matched
TOGETHER_PENALTY: Final = 0.2  # raised by words found together, none enough on its own

LEXICON_DIR: Final = Path(__file__).with_name("lexicons")
_LANGUAGE_ALIASES: Final = {"no": "nb", "nn": "nb"}
_SEVERITY_RANK: Final = {"high": 0, "medium": 1, "low": 2}
_DIGITS: Final = "0123456789"
_EXACT: Final = 1
_SLIP: Final = 2
_GRAMMAR_TABLES: Final = frozenset({"negation", "clauses", "quotes", "shorthand"})

_FOLD: Final = str.maketrans({"æ": "a", "ø": "o", "œ": "o", "ð": "d"})
_MARKS: Final = re.compile(r"['’`*]")
_DIGRAPHS: Final = re.compile(r"ae|oe")
_REPEATS: Final = re.compile(r"([^\W\d_])\1+")
# A dot after a number followed by a lower-case word is an ordinal ("4. gang", "d. 3. maj"),
# not the end of a sentence.
_TOKEN: Final = re.compile(
    r"(?P<number>\d+(?:[.,]\d+)*(?:\.(?=[^\S\n]+[a-zæøå]))?)"
    r"|(?P<word>[^\W\d_]+(?:['’`*]+[^\W\d_]*)*)"
    r"|(?P<stop>[!?;:,()\[\]\n–—]+|\.+(?!\s*\d)|\s-\s)"
)
_APOSTROPHES: Final = re.compile(r"['’`]")
_PHRASE_PART: Final = re.compile(r"\{[^{}]*\}|\S+")
_SPEC: Final = re.compile(r"\*?[^\W_]+\*?")
_QUOTE: Final = re.compile(
    r'"[^"\n]+"|“[^”\n]+”|„[^“”\n]+[“”]|«[^»\n]+»|‘[^’\n]+’|(?<!\w)\'[^\'\n]+\'(?!\w)'
)


@dataclass(frozen=True)
class RiskFinding:
    """One risk signal: its category, severity, the words that raised it and how sure we are."""

    category: str
    severity: Severity
    evidence: str
    confidence: float


# eq=False: specs are built once per lexicon, and identity hashing keeps the match cache cheap.
@dataclass(frozen=True, eq=False)
class _Spec:
    """One lexicon word: its normal form, and whether `*` lets it start or end anywhere."""

    core: str
    open_start: bool
    open_end: bool


@dataclass(frozen=True, eq=False)
class _Choice:
    """One position in a phrase: any of these word sequences (`{a|b c}`), or one word."""

    # Options whose first word can only match itself, found by a dict lookup on the token.
    plain: Mapping[str, tuple[tuple[_Spec, ...], ...]]
    # Options that need a full check (wildcards, typos, compounds, numbers), by the first
    # letter a matching token must have; "" holds those that may start with anything.
    scanned: Mapping[str, tuple[tuple[_Spec, ...], ...]]

    def candidates(self, norm: str) -> tuple[tuple[_Spec, ...], ...]:
        """The options that may match a token with this normal form."""
        plain, scanned = self.plain.get(norm, ()), self.scanned
        return plain + scanned.get(norm[:1], ()) + scanned.get("", ())


_Element: TypeAlias = _Choice | str  # str: one of the markers "...", "#", "^", "$"


@dataclass(frozen=True)
class _Phrase:
    """A compiled lexicon phrase, with what its first token can be, for quick rejection."""

    text: str
    elements: tuple[_Element, ...]
    # The only tokens a match can start with, when the first position has no wildcards.
    first_words: frozenset[str] | None
    # Otherwise the letters a match can start with; None when it can start with anything.
    first_letters: frozenset[str] | None

    def may_start(self, norm: str) -> bool:
        """Whether a match could start at a token with this normal form."""
        if self.first_words is not None:
            return norm in self.first_words
        return self.first_letters is None or norm[:1] in self.first_letters

    def may_match(self, part: _Part) -> bool:
        """Whether a match could start anywhere in this sentence part."""
        if self.first_words is not None:
            return not self.first_words.isdisjoint(part.norms)
        return self.first_letters is None or not self.first_letters.isdisjoint(
            part.letters
        )


@dataclass(frozen=True)
class _Grammar:
    """The words that shape a sentence, from every lexicon together."""

    negations: frozenset[str]
    negation_exempt: frozenset[tuple[str, ...]]
    breaks: frozenset[str]
    own_words: frozenset[tuple[str, ...]]
    shorthand: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Lexicon:
    """One language's phrases and exceptions per category, and its sentence words."""

    language: str
    phrases: Mapping[str, tuple[_Phrase, ...]]
    exceptions: Mapping[str, tuple[_Phrase, ...]]
    grammar: _Grammar
    # Groups of phrases that raise the category only when all of them are in the message.
    together: Mapping[str, tuple[tuple[_Phrase, ...], ...]] = field(
        default_factory=dict
    )


@dataclass(frozen=True)
class _Token:
    """A word or number of the message: its normal form and where it stands in the text."""

    norm: str
    start: int
    end: int
    is_number: bool = False
    is_break: bool = False


_Segment: TypeAlias = tuple[_Token, ...]


@dataclass(frozen=True)
class _Part:
    """A sentence part, with its words and first letters gathered once for quick rejection."""

    tokens: _Segment
    norms: frozenset[str]
    letters: frozenset[str]


class _Hit(NamedTuple):
    """Where a phrase matched in a sentence part."""

    first: int
    end: int
    slipped: bool  # a typo was forgiven
    skipped: tuple[int, ...] = ()  # tokens passed over by "..."


@dataclass(frozen=True)
class _Match:
    """A phrase found in the message and not cancelled, located by character offsets."""

    category: str
    language: str
    start: int
    end: int
    slipped: bool
    together: bool = False


def detect(text: str, language: str | None = None) -> list[RiskFinding]:
    """Return the risk signals in a message, one per category, most severe first."""
    lexicons = _lexicons()
    grammar = _merged_grammar()
    segments = _parts(text, grammar)
    quotes = _reported_quotes(text, grammar)
    found: dict[str, list[_Match]] = {}
    for category in CATEGORIES:
        excepted = _exception_spans(category, segments, lexicons)
        for lexicon in lexicons:
            matches = [
                *_category_matches(lexicon, category, segments, grammar),
                *_together_matches(lexicon, category, segments, grammar),
            ]
            for match in matches:
                if not _inside(match, quotes) and not _overlaps(match, excepted):
                    found.setdefault(category, []).append(match)
    preferred = _LANGUAGE_ALIASES.get(language or "", language)
    findings = [_finding(c, ms, text, preferred) for c, ms in found.items()]
    return sorted(findings, key=lambda f: (_SEVERITY_RANK[f.severity], -f.confidence))


def normalise(word: str) -> str:
    """The form words are compared in: case, æøå spellings and repeated letters folded."""
    folded = unicodedata.normalize("NFKD", word.casefold().translate(_FOLD))
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return _REPEATS.sub(
        r"\1", _DIGRAPHS.sub(lambda m: m.group()[0], _MARKS.sub("", bare))
    )


def load_lexicon(path: Path) -> Lexicon:
    """Read and check one language's lexicon file; :raises ValueError: on any mistake in it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path.name}: not valid TOML: {error}") from error
    unknown = set(data) - set(CATEGORIES) - _GRAMMAR_TABLES
    if unknown:
        raise ValueError(f"{path.name}: unknown tables {sorted(unknown)}")
    phrases: dict[str, tuple[_Phrase, ...]] = {}
    exceptions: dict[str, tuple[_Phrase, ...]] = {}
    together: dict[str, tuple[tuple[_Phrase, ...], ...]] = {}
    for category in CATEGORIES:
        table = _table(data, category, path.name)
        where = f"{path.name} [{category}]"
        phrases[category] = _phrases(_strings(table, "phrases", where), where)
        exceptions[category] = _phrases(_strings(table, "exceptions", where), where)
        together[category] = tuple(
            _phrases(group, where) for group in _groups(table, "together", where)
        )
    return Lexicon(path.stem, phrases, exceptions, _grammar(data, path.name), together)


@cache
def _lexicons() -> tuple[Lexicon, ...]:
    return tuple(load_lexicon(p) for p in sorted(LEXICON_DIR.glob("*.toml")))


@cache
def _merged_grammar() -> _Grammar:
    grammars = [lexicon.grammar for lexicon in _lexicons()]
    shorthand: dict[str, tuple[str, ...]] = {}
    for grammar in grammars:
        shorthand.update(grammar.shorthand)
    return _Grammar(
        negations=frozenset(w for g in grammars for w in g.negations),
        negation_exempt=frozenset(p for g in grammars for p in g.negation_exempt),
        breaks=frozenset(w for g in grammars for w in g.breaks),
        own_words=frozenset(p for g in grammars for p in g.own_words),
        shorthand=shorthand,
    )


# Reading lexicon files.


def _table(data: Mapping[str, object], name: str, where: str) -> Mapping[str, object]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ValueError(f"{where}: [{name}] must be a table")
    return table


def _groups(table: Mapping[str, object], key: str, where: str) -> list[list[str]]:
    values = table.get(key, [])
    if not isinstance(values, list) or not all(
        isinstance(group, list)
        and len(group) >= 2
        and all(isinstance(v, str) for v in group)
        for group in values
    ):
        raise ValueError(
            f"{where}: {key} must be a list of lists of two or more strings"
        )
    return [[str(v) for v in group] for group in values]


def _strings(table: Mapping[str, object], key: str, where: str) -> list[str]:
    values = table.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{where}: {key} must be a list of strings")
    return [str(v) for v in values]


def _grammar(data: Mapping[str, object], where: str) -> _Grammar:
    negation = _table(data, "negation", where)
    shorthand = _table(data, "shorthand", where)
    if not all(isinstance(v, str) for v in shorthand.values()):
        raise ValueError(f"{where}: [shorthand] values must be strings")
    return _Grammar(
        negations=frozenset(map(normalise, _strings(negation, "words", where))),
        negation_exempt=_word_sequences(_strings(negation, "not_after", where)),
        breaks=frozenset(
            map(normalise, _strings(_table(data, "clauses", where), "breaks", where))
        ),
        own_words=_word_sequences(
            _strings(_table(data, "quotes", where), "own_words", where)
        ),
        shorthand={normalise(k): _words(str(v)) for k, v in shorthand.items()},
    )


def _words(text: str) -> tuple[str, ...]:
    return tuple(n for n in (normalise(w) for w in re.split(r"[\s\-]+", text)) if n)


def _word_sequences(texts: Sequence[str]) -> frozenset[tuple[str, ...]]:
    return frozenset(words for words in map(_words, texts) if words)


def _phrases(texts: Sequence[str], where: str) -> tuple[_Phrase, ...]:
    return tuple(_phrase(text, where) for text in texts)


def _phrase(text: str, where: str) -> _Phrase:
    parts = _PHRASE_PART.findall(text)
    elements = tuple(_element(part, f"{where} {text!r}") for part in parts)
    words = [e for e in elements if isinstance(e, _Choice)]
    if not words:
        raise ValueError(f"{where} {text!r}: a phrase needs at least one word")
    if "^" in elements[1:] or "$" in elements[:-1]:
        raise ValueError(f"{where} {text!r}: ^ goes first and $ goes last")
    inner = [e for e in elements if e not in ("^", "$")]
    if "..." in (inner[0], inner[-1]):
        raise ValueError(f"{where} {text!r}: ... goes between words")
    return _Phrase(text, elements, _first_words(elements), _first_letters(elements))


def _element(part: str, where: str) -> _Element:
    if part in ("...", "#", "^", "$"):
        return part
    if part.startswith("{") and part.endswith("}"):
        return _choice([_option(o.strip(), where) for o in part[1:-1].split("|")])
    if "{" in part or "}" in part or "|" in part:
        raise ValueError(f"{where}: braces must enclose whole words, as in {{a|b}}")
    return _choice([_option(part, where)])


def _choice(options: Sequence[tuple[_Spec, ...]]) -> _Choice:
    plain: dict[str, tuple[tuple[_Spec, ...], ...]] = {}
    scanned: dict[str, tuple[tuple[_Spec, ...], ...]] = {}
    for option in options:
        key = option[0].core if _is_plain(option[0]) else _first_letter_key(option[0])
        table = plain if _is_plain(option[0]) else scanned
        table[key] = (*table.get(key, ()), option)
    return _Choice(plain, scanned)


def _first_letter_key(spec: _Spec) -> str:
    # Every kind of match keeps the first letter (typos too), except "*word" and numbers.
    return "" if spec.open_start or spec.core == "#" else spec.core[0]


def _is_plain(spec: _Spec) -> bool:
    """Matches only a token equal to it: no wildcard, number, typo tolerance or compound."""
    wild = spec.open_start or spec.open_end or spec.core == "#"
    return not wild and len(spec.core) < min(FUZZY_MIN_LENGTH, JOIN_MIN_LENGTH)


def _option(text: str, where: str) -> tuple[_Spec, ...]:
    words = [w for w in re.split(r"[\s\-]+", text) if w]
    if not words:
        raise ValueError(f"{where}: empty alternative")
    return tuple(_spec(word, where) for word in words)


def _spec(word: str, where: str) -> _Spec:
    if word == "#":
        return _Spec("#", False, False)
    if not _SPEC.fullmatch(_APOSTROPHES.sub("", word)):
        raise ValueError(
            f"{where}: {word!r} is not a word (letters, digits, * at an end)"
        )
    core = normalise(word)
    if not core:
        raise ValueError(f"{where}: {word!r} has no letters")
    return _Spec(core, word.startswith("*"), word.endswith("*"))


def _first_words(elements: tuple[_Element, ...]) -> frozenset[str] | None:
    first = next(e for e in elements if e != "^")
    if isinstance(first, _Choice) and not first.scanned:
        return frozenset(first.plain)
    return None


def _first_letters(elements: tuple[_Element, ...]) -> frozenset[str] | None:
    first = next(e for e in elements if e != "^")
    if first == "#":
        return frozenset(_DIGITS)
    if not isinstance(first, _Choice) or "" in first.scanned:
        return None
    return frozenset({core[0] for core in first.plain} | set(first.scanned))


# Reading a message.


def _parts(text: str, grammar: _Grammar) -> list[_Part]:
    """Split a message into sentence parts of normalised tokens."""
    segments: list[_Segment] = []
    current: list[_Token] = []
    for found in _TOKEN.finditer(text):
        if found.lastgroup == "stop":
            segments.append(tuple(current))
            current = []
        else:
            current.extend(_tokens(found, grammar))
    segments.append(tuple(current))
    return [_part(segment) for segment in segments if segment]


def _part(tokens: _Segment) -> _Part:
    norms = frozenset(t.norm for t in tokens)
    return _Part(tokens, norms, frozenset(n[:1] for n in norms))


def _tokens(found: re.Match[str], grammar: _Grammar) -> list[_Token]:
    start, end = found.span()
    if found.lastgroup == "number":
        return [_Token(found.group().rstrip("."), start, end, is_number=True)]
    norm = normalise(found.group())
    words = grammar.shorthand.get(norm, (norm,))
    return [_Token(w, start, end, is_break=w in grammar.breaks) for w in words if w]


def _reported_quotes(text: str, grammar: _Grammar) -> list[tuple[int, int]]:
    """Quoted passages that report someone else's words, such as a line from our own SMS."""
    spans = []
    for quote in _QUOTE.finditer(text):
        before, after = text[: quote.start()], text[quote.end() :]
        whole_message = not before.strip() and not after.strip(" .!?\n")
        if not whole_message and not _introduced_by_own_words(before, grammar):
            spans.append(quote.span())
    return spans


def _introduced_by_own_words(before: str, grammar: _Grammar) -> bool:
    words = [
        normalise(w.group()) for w in _TOKEN.finditer(before) if w.lastgroup == "word"
    ]
    return any(
        tuple(words[-len(p) :]) == p for p in grammar.own_words if len(p) <= len(words)
    )


# Matching phrases.


def _category_matches(
    lexicon: Lexicon, category: str, segments: Sequence[_Part], grammar: _Grammar
) -> Iterator[_Match]:
    for phrase in lexicon.phrases[category]:
        for segment, hit in _phrase_matches(phrase, segments):
            if not _is_negated(segment, hit, grammar):
                start, end = segment[hit.first].start, segment[hit.end - 1].end
                yield _Match(category, lexicon.language, start, end, hit.slipped)


def _together_matches(
    lexicon: Lexicon, category: str, segments: Sequence[_Part], grammar: _Grammar
) -> Iterator[_Match]:
    """One match per group whose phrases are all in the message, spanning them."""
    for group in lexicon.together[category]:
        firsts = [
            next(_phrase_spans(phrase, segments, grammar), None) for phrase in group
        ]
        if all(span is not None for span in firsts):
            spans = [span for span in firsts if span is not None]
            start, end = min(s for s, _ in spans), max(e for _, e in spans)
            yield _Match(category, lexicon.language, start, end, False, together=True)


def _phrase_spans(
    phrase: _Phrase, segments: Sequence[_Part], grammar: _Grammar
) -> Iterator[tuple[int, int]]:
    for segment, hit in _phrase_matches(phrase, segments):
        if not _is_negated(segment, hit, grammar):
            yield segment[hit.first].start, segment[hit.end - 1].end


def _exception_spans(
    category: str, segments: Sequence[_Part], lexicons: Sequence[Lexicon]
) -> list[tuple[int, int]]:
    return [
        (segment[hit.first].start, segment[hit.end - 1].end)
        for lexicon in lexicons
        for phrase in lexicon.exceptions[category]
        for segment, hit in _phrase_matches(phrase, segments)
    ]


def _phrase_matches(
    phrase: _Phrase, parts: Sequence[_Part]
) -> Iterator[tuple[_Segment, _Hit]]:
    for part in parts:
        if not phrase.may_match(part):
            continue
        for i, token in enumerate(part.tokens):
            if phrase.may_start(token.norm):
                hit = _match(phrase.elements, part.tokens, i)
                if hit is not None:
                    yield part.tokens, hit._replace(first=i)


def _match(elements: tuple[_Element, ...], segment: _Segment, i: int) -> _Hit | None:
    """Match elements against the tokens from index i on."""
    if not elements:
        return _Hit(i, i, False)
    head, rest = elements[0], elements[1:]
    if head == "^":
        return _match(rest, segment, i) if _starts_part(segment, i) else None
    if head == "$":
        return _Hit(i, i, False) if _ends_part(segment, i) else None
    if head == "...":
        for j in range(i, min(i + GAP, len(segment)) + 1):
            hit = _match(rest, segment, j)
            if hit is not None:
                return hit._replace(skipped=tuple(range(i, j)) + hit.skipped)
        return None
    if head == "#":
        is_number = i < len(segment) and segment[i].is_number
        return _match(rest, segment, i + 1) if is_number else None
    assert isinstance(head, _Choice)
    if i >= len(segment):
        return None
    for option in head.candidates(segment[i].norm):
        for end, slipped in _match_words(option, segment, i):
            hit = _match(rest, segment, end)
            if hit is not None:
                return hit._replace(slipped=hit.slipped or slipped)
    return None


def _starts_part(segment: _Segment, i: int) -> bool:
    return i == 0 or segment[i - 1].is_break


def _ends_part(segment: _Segment, i: int) -> bool:
    return i == len(segment) or segment[i].is_break


def _match_words(
    specs: tuple[_Spec, ...], segment: _Segment, i: int
) -> list[tuple[int, bool]]:
    """Every way a sequence of words matches from token i: (end, whether a typo was forgiven)."""
    if not specs:
        return [(i, False)]
    return [
        (last, slipped or later_slip)
        for end, slipped in _match_spec(specs[0], segment, i)
        for last, later_slip in _match_words(specs[1:], segment, end)
    ]


def _match_spec(spec: _Spec, segment: _Segment, i: int) -> list[tuple[int, bool]]:
    if i >= len(segment):
        return []
    ends = []
    verdict = _word_verdict(spec, segment[i].norm)
    if verdict:
        ends.append((i + 1, verdict == _SLIP))
    # Compounds are often split when typed ("forbruger ombudsmanden"); try two tokens as one.
    joinable = len(spec.core) >= JOIN_MIN_LENGTH and i + 1 < len(segment)
    if joinable and not segment[i].is_number and not segment[i + 1].is_number:
        verdict = _word_verdict(spec, segment[i].norm + segment[i + 1].norm)
        if verdict:
            ends.append((i + 2, verdict == _SLIP))
    return ends


@lru_cache(maxsize=200_000)
def _word_verdict(spec: _Spec, norm: str) -> int:
    """0: no match, _EXACT, or _SLIP when one letter is missing, extra or swapped."""
    core = spec.core
    if core == "#":
        return _EXACT if norm[:1] in _DIGITS else 0
    if spec.open_start:
        found = core in norm if spec.open_end else norm.endswith(core)
        return _EXACT if found else 0
    if norm.startswith(core) if spec.open_end else norm == core:
        return _EXACT
    if len(core) < FUZZY_MIN_LENGTH or norm[:1] != core[:1]:
        return 0
    if not spec.open_end:
        # A whole word's last letters carry its inflection ("betale"/"betalte"): keep them.
        return _SLIP if _one_slip(norm, core, keep=INFLECTION_LETTERS) else 0
    # "word*" takes any ending; only where the token is cut to the word's length is the
    # cut-off letter meaningless, so a slip may not fall on it.
    heads = {norm[: len(core) + d] for d in (-1, 0, 1)}
    return _SLIP if any(_one_slip(h, core, keep=int(h != norm)) for h in heads) else 0


def _one_slip(typed: str, word: str, keep: int) -> bool:
    """One letter missing, extra, or two neighbours swapped, before the last `keep` letters.

    A wrong letter is not forgiven: it turns too many words into others ("kontakt"/"kontant").
    """
    shorter, longer = sorted((typed, word), key=len)
    limit = len(longer) - keep
    if len(typed) == len(word):
        diffs = [k for k, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and diffs[1] < limit
            and (typed[diffs[0]], typed[diffs[1]]) == (word[diffs[1]], word[diffs[0]])
        )
    if len(longer) - len(shorter) != 1:
        return False
    return any(
        longer[:k] + longer[k + 1 :] == shorter for k in range(min(limit, len(longer)))
    )


# Deciding what counts.


def _is_negated(segment: _Segment, hit: _Hit, grammar: _Grammar) -> bool:
    """A negation shortly before the phrase, or inside its "...", in the same clause."""
    if any(_negates(segment, j, grammar) for j in hit.skipped):
        return True
    # A phrase that states the negation itself ("skylder ikke", "don't owe") stands.
    worded = (segment[j] for j in range(hit.first, hit.end) if j not in hit.skipped)
    if any(t.norm in grammar.negations for t in worded):
        return False
    for j in range(hit.first - 1, max(hit.first - NEGATION_REACH - 2, -1), -1):
        if segment[j].is_break:
            return False
        if _negates(segment, j, grammar):
            return True
    return False


def _negates(segment: _Segment, j: int, grammar: _Grammar) -> bool:
    return segment[j].norm in grammar.negations and not _asks(segment, j, grammar)


def _asks(segment: _Segment, j: int, grammar: _Grammar) -> bool:
    """The negation is part of a request: "kan I ikke bare ...", "why not just ..."."""
    words = tuple(t.norm for t in segment[:j])
    return any(
        words[-len(p) :] == p for p in grammar.negation_exempt if len(p) <= len(words)
    )


def _inside(match: _Match, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= match.start and match.end <= end for start, end in spans)


def _overlaps(match: _Match, spans: Sequence[tuple[int, int]]) -> bool:
    return any(match.start < end and start < match.end for start, end in spans)


def _confidence(match: _Match, language: str | None) -> float:
    penalty = SLIP_PENALTY if match.slipped else 0.0
    penalty += TOGETHER_PENALTY if match.together else 0.0
    if language in LANGUAGES and match.language != language:
        penalty += OTHER_LANGUAGE_PENALTY
    return BASE_CONFIDENCE - penalty


def _finding(
    category: str, matches: list[_Match], text: str, language: str | None
) -> RiskFinding:
    best = max(matches, key=lambda m: (_confidence(m, language), m.end - m.start))
    separate = any(not _overlaps(m, [(best.start, best.end)]) for m in matches)
    confidence = _confidence(best, language) + (
        CORROBORATION_BONUS if separate else 0.0
    )
    evidence = text[best.start : best.end]
    return RiskFinding(
        category, CATEGORIES[category], evidence, round(min(confidence, 0.99), 2)
    )
