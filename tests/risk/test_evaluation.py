"""Floors on the labelled corpora: they only ever rise."""

import json
from pathlib import Path

import pytest

from app.risk.detector import CATEGORIES, HIGH_SEVERITY
from app.risk.evaluate import Report, evaluate, format_report, load_corpus, main

DATA = Path(__file__).parents[1] / "data" / "risk"
CORPUS = DATA / "corpus.jsonl"
HOLDOUT = DATA / "holdout.jsonl"

# Reached on corpus.jsonl: high-severity recall 1.000, overall precision 0.992.
CORPUS_HIGH_SEVERITY_RECALL = 0.98
CORPUS_PRECISION = 0.98
CORPUS_CATEGORY_RECALL = 0.9  # every category; the high-severity ones are all at 1.00
# The holdout was written after the lexicons and is never tuned on, so it measures how the
# rules carry over to new words; reached: high-severity recall 0.892, overall precision 0.962.
HOLDOUT_HIGH_SEVERITY_RECALL = 0.85
HOLDOUT_PRECISION = 0.95
# The second holdout was written before the lexicons were widened (inflections, synonyms,
# everyday wording); its misses pointed at the gaps, so it now guards against regressions.
# Before the widening: high-severity recall 0.802, precision 0.969; now 0.981 and 0.988.
HOLDOUT2 = DATA / "holdout2.jsonl"
HOLDOUT2_HIGH_SEVERITY_RECALL = 0.97
HOLDOUT2_PRECISION = 0.97
# The third holdout was written by someone who had seen neither the lexicons nor the other
# data. First measured blind: high-severity recall 0.851, overall precision 0.925. Its odd
# lines were then used to widen the lexicons; its even lines stay unseen and measure what
# carries over: widened phrases moved overall recall 0.759 -> 0.769 and precision 0.921 -> 0.933
# but high-severity recall not at all (0.825); words that only together say it (frequency and
# fee complaints, fees questioned) then gave 0.796 overall and 0.857 high-severity recall,
# precision 0.935. Whole file now: high-severity recall 0.918, overall precision 0.955.
HOLDOUT3 = DATA / "holdout3.jsonl"
HOLDOUT3_HIGH_SEVERITY_RECALL = 0.9
HOLDOUT3_PRECISION = 0.95
# The fourth holdout was written blind after that work and has never been tuned on; keep it so.
# The detector of the session before scored high-severity recall 0.808, overall recall 0.77,
# precision 0.935 (5 of 34 benign messages raised a signal); this one 0.838, 0.81, 0.976 (none).
HOLDOUT4 = DATA / "holdout4.jsonl"
HOLDOUT4_HIGH_SEVERITY_RECALL = 0.8
HOLDOUT4_PRECISION = 0.95
# The fifth holdout was written blind by someone who saw neither the detector nor earlier data.
# First measured blind: high-severity recall 0.682, overall recall 0.69, precision 0.941, 5 of 57
# benign messages raising a signal. Its odd lines were then used to widen the lexicons; its even
# lines stayed unseen and measure what carries over: high-severity recall 0.708 -> 0.792,
# overall recall 0.74 -> 0.79, precision 0.967 -> 0.969, benign flagged 2 of 28 before and after.
# Whole file now: high-severity recall 0.896, overall recall 0.88, precision 0.987, 2 of 57.
HOLDOUT5 = DATA / "holdout5.jsonl"
HOLDOUT5_HIGH_SEVERITY_RECALL = 0.87
HOLDOUT5_PRECISION = 0.97
HOLDOUT5_BENIGN_FLAGGED = 3
# The sixth holdout was written blind at the same time by another writer (relatives and carers,
# chat replies, slang, dictated text, one risk sentence buried in a harmless request) and was
# held back from everyone while the fifth's odd half was used: it measures what that work
# carries over to wording nobody tuned on. The detector before it: high-severity recall 0.740,
# overall recall 0.72, precision 0.914, 8 of 48 benign messages raising a signal; after it:
# 0.819, 0.78, 0.915, 6 of 48. Never tune on it.
HOLDOUT6 = DATA / "holdout6.jsonl"
HOLDOUT6_HIGH_SEVERITY_RECALL = 0.8
HOLDOUT6_PRECISION = 0.9
HOLDOUT6_BENIGN_FLAGGED = 6


@pytest.fixture(scope="module")
def corpus() -> Report:
    return evaluate(CORPUS)


@pytest.fixture(scope="module")
def holdout() -> Report:
    return evaluate(HOLDOUT)


def test_high_severity_recall_on_the_corpus_stays_above_its_floor(
    corpus: Report,
) -> None:
    assert corpus.high_severity.recall >= CORPUS_HIGH_SEVERITY_RECALL


def test_overall_precision_on_the_corpus_stays_above_its_floor(corpus: Report) -> None:
    assert corpus.overall.precision >= CORPUS_PRECISION


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_each_category_keeps_its_recall_on_the_corpus(
    corpus: Report, category: str
) -> None:
    floor = 0.99 if category in HIGH_SEVERITY else CORPUS_CATEGORY_RECALL
    assert corpus.per_category[category].recall >= floor


def test_the_holdout_stays_above_its_floors(holdout: Report) -> None:
    assert holdout.high_severity.recall >= HOLDOUT_HIGH_SEVERITY_RECALL
    assert holdout.overall.precision >= HOLDOUT_PRECISION


def test_the_corpus_is_large_balanced_and_rich_in_look_alikes() -> None:
    examples = load_corpus(CORPUS)
    assert len(examples) >= 300
    by_language = {
        lang: [e for e in examples if e.lang == lang] for lang in ("da", "nb", "en")
    }
    assert all(len(group) >= len(examples) / 4 for group in by_language.values())
    assert sum(1 for e in examples if not e.categories) >= len(examples) / 4
    for lang, group in by_language.items():
        for category in CATEGORIES:
            assert sum(1 for e in group if category in e.categories) >= 3, (
                lang,
                category,
            )


def test_the_holdout_shares_no_message_with_the_corpus() -> None:
    corpus_texts = {e.text for e in load_corpus(CORPUS)}
    holdout = load_corpus(HOLDOUT)
    assert len(holdout) >= 60
    assert not corpus_texts & {e.text for e in holdout}


def test_the_report_lists_categories_languages_and_confusions(holdout: Report) -> None:
    text = format_report(holdout, errors=True)
    assert all(category in text for category in CATEGORIES)
    for heading in (
        "language",
        "overall (micro)",
        "high-severity recall",
        "missed",
        "errors",
    ):
        assert heading in text


def test_the_command_prints_a_report_per_corpus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([str(HOLDOUT)]) == 0
    assert "== holdout.jsonl:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("row", "complaint"),
    [
        (
            {"id": "x", "lang": "da", "text": "hej", "categories": ["rude"]},
            "categories",
        ),
        ({"id": "x", "lang": "sv", "text": "hej", "categories": []}, "lang"),
        ({"id": "x", "lang": "da", "text": "", "categories": []}, "non-empty"),
    ],
)
def test_a_bad_corpus_line_is_reported_with_its_place(
    tmp_path: Path, row: dict[str, object], complaint: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=complaint) as raised:
        load_corpus(path)
    assert "bad.jsonl:1" in str(raised.value)


def test_a_repeated_id_is_reported(tmp_path: Path) -> None:
    row = json.dumps({"id": "x", "lang": "da", "text": "hej", "categories": []})
    path = tmp_path / "twice.jsonl"
    path.write_text(f"{row}\n{row}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate id"):
        load_corpus(path)


def test_the_second_holdout_stays_above_its_floors() -> None:
    report = evaluate(HOLDOUT2)
    assert report.high_severity.recall >= HOLDOUT2_HIGH_SEVERITY_RECALL
    assert report.overall.precision >= HOLDOUT2_PRECISION


def test_the_second_holdout_is_fresh_and_covers_every_language_and_category() -> None:
    earlier = {e.text for e in load_corpus(CORPUS) + load_corpus(HOLDOUT)}
    examples = load_corpus(HOLDOUT2)
    assert len(examples) >= 120
    assert not earlier & {e.text for e in examples}
    assert {e.lang for e in examples} >= {"da", "nb", "en"}
    assert {c for e in examples for c in e.categories} == set(CATEGORIES)
    assert sum(1 for e in examples if not e.categories) >= 30


def test_the_third_holdout_stays_above_its_floors() -> None:
    report = evaluate(HOLDOUT3)
    assert report.high_severity.recall >= HOLDOUT3_HIGH_SEVERITY_RECALL
    assert report.overall.precision >= HOLDOUT3_PRECISION


def test_the_third_holdout_is_fresh_and_covers_every_language_and_category() -> None:
    earlier = {
        e.text for path in (CORPUS, HOLDOUT, HOLDOUT2) for e in load_corpus(path)
    }
    examples = load_corpus(HOLDOUT3)
    assert len(examples) >= 200
    # Written blind, it meets the others only in the shortest replies ("STOP", "ok").
    shared = earlier & {e.text for e in examples}
    assert all(len(text.split()) <= 3 for text in shared), shared
    assert {e.lang for e in examples} == {"da", "nb", "en", "mixed"}
    assert {c for e in examples for c in e.categories} == set(CATEGORIES)
    assert sum(1 for e in examples if not e.categories) >= 40


def test_the_fourth_holdout_stays_above_its_floors() -> None:
    report = evaluate(HOLDOUT4)
    assert report.high_severity.recall >= HOLDOUT4_HIGH_SEVERITY_RECALL
    assert report.overall.precision >= HOLDOUT4_PRECISION
    flagged, benign = report.benign_flagged
    assert benign >= 30
    assert flagged == 0  # no benign message of it raises a signal


def test_the_fifth_holdout_stays_above_its_floors() -> None:
    report = evaluate(HOLDOUT5)
    assert report.high_severity.recall >= HOLDOUT5_HIGH_SEVERITY_RECALL
    assert report.overall.precision >= HOLDOUT5_PRECISION
    flagged, benign = report.benign_flagged
    assert benign >= 50
    assert flagged <= HOLDOUT5_BENIGN_FLAGGED


def test_the_sixth_holdout_stays_above_its_floors() -> None:
    report = evaluate(HOLDOUT6)
    assert report.high_severity.recall >= HOLDOUT6_HIGH_SEVERITY_RECALL
    assert report.overall.precision >= HOLDOUT6_PRECISION
    flagged, benign = report.benign_flagged
    assert benign >= 40
    assert flagged <= HOLDOUT6_BENIGN_FLAGGED


def test_the_corpus_meets_the_fifth_holdout_only_in_short_replies() -> None:
    # Written blind, it meets older corpus lines in a few short replies; the lines written
    # from its odd half (c5-) copy none of it. Counted, not listed, to keep its texts unseen.
    holdout_texts = {e.text for e in load_corpus(HOLDOUT5)}
    shared = [e for e in load_corpus(CORPUS) if e.text in holdout_texts]
    copied = sum(1 for e in shared if e.id.startswith("c5-") or len(e.text.split()) > 6)
    assert copied == 0
