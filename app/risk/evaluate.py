"""Scores the risk detector against a labelled corpus: precision, recall, F1 and confusions."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from app.risk.detector import CATEGORIES, HIGH_SEVERITY, detect

# How the corpus is labelled, so that new lines stay consistent with the old ones:
# - A category is expected when the debtor's own words express it. Our words quoted back
#   ('your SMS says "legal action"') and negated ones ("I'm not going to sue") are not.
# - cease_contact: asks us to stop contacting them, on one channel or all ("don't text me").
# - dispute_not_owed: says the debt is not theirs at all; dispute_amount: accepts the debt
#   but not the sum (fees, interest, double charge).
# - already_paid: says it is paid, also in part. Salary ("when I get paid") is not.
# - legal_threat: brings in a lawyer, a court or the police (also "my lawyer says ...").
#   "Are you going to take me to court?" is fear of our action, not a threat: not labelled.
# - regulator: names an authority, an ombudsman or a complaint body, or "I will report you"
#   with no one named; reporting to the police is legal_threat only.
# - harassment_claim: calls our contact harassment or complains about how often or when.
# - hardship: cannot pay (now), or a cause: job loss, illness, benefits, divorce.
# - vulnerability: mental health, serious illness, addiction, dementia, or the writer grieving.
# - deceased: the debtor has died or the estate is involved. "My mum died, this was her
#   phone" is deceased and vulnerability; "my wife died and I'm not coping" (the writer is
#   the debtor) is vulnerability only.
# - bankruptcy: the debtor's own bankruptcy or debt relief; an employer's is hardship.
# - abusive_language: insults or hostile swearing at us; "shit, I forgot" is not.
# - public_complaint: threatens reviews, social media or the press; praise is not.

CORPUS_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "risk"
DEFAULT_CORPORA = (CORPUS_DIR / "corpus.jsonl", CORPUS_DIR / "holdout.jsonl")
CORPUS_LANGUAGES = ("da", "nb", "en", "mixed")
BENIGN = "(benign)"
NOTHING = "(nothing)"


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    id: str
    lang: str
    text: str
    categories: frozenset[str]


@dataclass(frozen=True)
class Scores:
    """True positives, false positives and false negatives, with the rates they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Share of raised signals that were expected (1.0 when none was raised)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of expected signals that were raised (1.0 when none was expected)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def __add__(self, other: Scores) -> Scores:
        return Scores(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


@dataclass(frozen=True)
class Outcome:
    """What the detector raised for one example."""

    example: Example
    predicted: frozenset[str]

    @property
    def missed(self) -> frozenset[str]:
        """Expected categories that were not raised."""
        return self.example.categories - self.predicted

    @property
    def extra(self) -> frozenset[str]:
        """Raised categories that were not expected."""
        return self.predicted - self.example.categories

    def scores(self, category: str) -> Scores:
        """This example's contribution to one category's scores."""
        expected, raised = (
            category in self.example.categories,
            category in self.predicted,
        )
        return Scores(
            int(expected and raised),
            int(raised and not expected),
            int(expected and not raised),
        )


@dataclass(frozen=True)
class Report:
    """The detector's results on one corpus."""

    name: str
    outcomes: tuple[Outcome, ...]

    @cached_property
    def per_category(self) -> dict[str, Scores]:
        """Scores per category, over every message."""
        return {c: _sum(o.scores(c) for o in self.outcomes) for c in CATEGORIES}

    @cached_property
    def per_language(self) -> dict[str, Scores]:
        """Scores over all categories, per message language."""
        languages = [lang for lang in CORPUS_LANGUAGES if self._of_language(lang)]
        return {lang: _total(self._of_language(lang), CATEGORIES) for lang in languages}

    @cached_property
    def overall(self) -> Scores:
        """Micro-averaged scores over every category and message."""
        return _total(self.outcomes, CATEGORIES)

    @cached_property
    def high_severity(self) -> Scores:
        """Micro-averaged scores over the high-severity categories only."""
        return _total(self.outcomes, HIGH_SEVERITY)

    @cached_property
    def benign_flagged(self) -> tuple[int, int]:
        """How many benign messages raised anything, out of how many benign messages."""
        benign = [o for o in self.outcomes if not o.example.categories]
        return sum(1 for o in benign if o.predicted), len(benign)

    @cached_property
    def missed_as(self) -> dict[str, Counter[str]]:
        """Per expected category that was missed: what was raised instead on those messages."""
        confusion: dict[str, Counter[str]] = {}
        for outcome in self.outcomes:
            instead = ",".join(sorted(outcome.extra)) or NOTHING
            for category in outcome.missed:
                confusion.setdefault(category, Counter())[instead] += 1
        return confusion

    @cached_property
    def false_alarms(self) -> dict[str, Counter[str]]:
        """Per category raised without being expected: what those messages were labelled."""
        confusion: dict[str, Counter[str]] = {}
        for outcome in self.outcomes:
            labelled = ",".join(sorted(outcome.example.categories)) or BENIGN
            for category in outcome.extra:
                confusion.setdefault(category, Counter())[labelled] += 1
        return confusion

    def _of_language(self, lang: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.example.lang == lang]


def evaluate(corpus_path: Path) -> Report:
    """Run the detector over a JSONL corpus and score it; :raises ValueError: on a bad line."""
    examples = load_corpus(corpus_path)
    outcomes = tuple(Outcome(e, _predict(e)) for e in examples)
    return Report(corpus_path.name, outcomes)


def load_corpus(path: Path) -> list[Example]:
    """Read and check a labelled corpus; :raises ValueError: naming the first bad line."""
    examples: list[Example] = []
    seen: set[str] = set()
    for number, line in enumerate(
        path.read_text(encoding="utf-8").splitlines(), start=1
    ):
        if line.strip():
            example = _example(json.loads(line), f"{path.name}:{number}")
            if example.id in seen:
                raise ValueError(f"{path.name}:{number}: duplicate id {example.id!r}")
            seen.add(example.id)
            examples.append(example)
    return examples


def _example(row: dict[str, object], where: str) -> Example:
    categories = row.get("categories")
    if not isinstance(categories, list) or not set(categories) <= set(CATEGORIES):
        raise ValueError(f"{where}: categories must be a list of {sorted(CATEGORIES)}")
    lang, text, id_ = row.get("lang"), row.get("text"), row.get("id")
    if lang not in CORPUS_LANGUAGES:
        raise ValueError(f"{where}: lang must be one of {CORPUS_LANGUAGES}")
    if not isinstance(text, str) or not text or not isinstance(id_, str) or not id_:
        raise ValueError(f"{where}: id and text must be non-empty strings")
    return Example(id_, str(lang), text, frozenset(str(c) for c in categories))


def _predict(example: Example) -> frozenset[str]:
    language = None if example.lang == "mixed" else example.lang
    return frozenset(f.category for f in detect(example.text, language))


def _sum(scores: Iterable[Scores]) -> Scores:
    return sum(scores, Scores())


def _total(outcomes: Iterable[Outcome], categories: Iterable[str]) -> Scores:
    wanted = list(categories)
    return _sum(o.scores(c) for o in outcomes for c in wanted)


# Printing.


def format_report(report: Report, *, errors: bool = False) -> str:
    """The report as text: tables per category and language, then the confusions."""
    benign_flagged, benign = report.benign_flagged
    lines = [
        f"== {report.name}: {len(report.outcomes)} messages, {benign} benign ==",
        "",
        _row("category", "severity", "P", "R", "F1", "TP", "FP", "FN"),
        *(_scores_row(c, CATEGORIES[c], s) for c, s in report.per_category.items()),
        "",
        _row("language", "", "P", "R", "F1", "TP", "FP", "FN"),
        *(_scores_row(lang, "", s) for lang, s in report.per_language.items()),
        _scores_row("overall (micro)", "", report.overall),
        _scores_row("high severity", "high", report.high_severity),
        "",
        f"high-severity recall: {report.high_severity.recall:.3f}",
        f"overall precision:    {report.overall.precision:.3f}",
        f"benign messages with any signal: {benign_flagged} of {benign}",
        "",
        "missed (expected category: raised instead on those messages)",
        *_confusion_lines(report.missed_as),
        "false alarms (raised category: what those messages were labelled)",
        *_confusion_lines(report.false_alarms),
    ]
    if errors:
        lines += ["", "errors", *_error_lines(report.outcomes)]
    return "\n".join(lines)


def _row(*cells: str) -> str:
    name, severity, *numbers = cells
    return f"{name:<20}{severity:<9}" + "".join(f"{n:>7}" for n in numbers)


def _scores_row(name: str, severity: str, s: Scores) -> str:
    rates = (f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}")
    return _row(name, severity, *rates, str(s.tp), str(s.fp), str(s.fn))


def _confusion_lines(confusion: dict[str, Counter[str]]) -> list[str]:
    if not confusion:
        return ["  none"]
    return [
        f"  {category} ({sum(counts.values())}): "
        + ", ".join(f"{label} x{n}" for label, n in counts.most_common())
        for category, counts in sorted(confusion.items())
    ]


def _error_lines(outcomes: Sequence[Outcome]) -> list[str]:
    return [
        f"  {o.example.id}: {o.example.text!r} missed={sorted(o.missed)} extra={sorted(o.extra)}"
        for o in outcomes
        if o.missed or o.extra
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report for each corpus given (by default the corpus and the holdout)."""
    parser = argparse.ArgumentParser(
        prog="python -m app.risk.evaluate", description=__doc__
    )
    parser.add_argument("corpora", nargs="*", type=Path, default=list(DEFAULT_CORPORA))
    parser.add_argument(
        "--errors", action="store_true", help="list every wrong message"
    )
    args = parser.parse_args(argv)
    print(
        "\n\n".join(
            format_report(evaluate(p), errors=args.errors) for p in args.corpora
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
