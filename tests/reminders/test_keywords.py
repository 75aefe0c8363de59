"""Inbound SMS keywords and requests for a person, in Danish, Norwegian and English."""

from __future__ import annotations

import pytest

from reminders.keywords import Keyword, asks_for_person, classify_keyword, fold

KEYWORDS = [
    ("STOP", Keyword.STOP),
    ("stop", Keyword.STOP),
    ("  Stop.  ", Keyword.STOP),
    ("STOP!", Keyword.STOP),
    ("'STOP'", Keyword.STOP),
    ("Stopp", Keyword.STOP),
    ("STOPP!!", Keyword.STOP),
    ("Afmeld", Keyword.STOP),
    ("frameld.", Keyword.STOP),
    ("AVMELD", Keyword.STOP),
    ("unsubscribe", Keyword.STOP),
    ("Cancel", Keyword.STOP),
    ("END", Keyword.STOP),
    ("quit", Keyword.STOP),
    ("STOPALL", Keyword.STOP),
    ("Stop all", Keyword.STOP),
    ("opt-out", Keyword.STOP),
    ("Revoke", Keyword.STOP),
    ("ＳＴＯＰ", Keyword.STOP),
    ("Stop\n", Keyword.STOP),
    ("START", Keyword.START),
    ("start.", Keyword.START),
    ("Unstop", Keyword.START),
    ("yes", Keyword.START),
    ("Yes!", Keyword.START),
    ("HELP", Keyword.HELP),
    ("help?", Keyword.HELP),
    ("info", Keyword.HELP),
    ("HJÆLP", Keyword.HELP),
    ("hjælp", Keyword.HELP),
    ("HJAELP", Keyword.HELP),
    ("Hjelp", Keyword.HELP),
    # Free text is for the risk detector: carriers act only on a lone keyword.
    ("stop contacting me", Keyword.NONE),
    ("Please stop", Keyword.NONE),
    ("STOP PLEASE", Keyword.NONE),
    ("Stop med at skrive til mig", Keyword.NONE),
    ("Slutt å sende meg meldinger", Keyword.NONE),
    ("I want to unsubscribe", Keyword.NONE),
    ("Yes I will pay on Friday", Keyword.NONE),
    ("start paying?", Keyword.NONE),
    ("Help me understand this", Keyword.NONE),
    ("Ja", Keyword.NONE),
    ("ok", Keyword.NONE),
    ("", Keyword.NONE),
    ("   ", Keyword.NONE),
    ("?!", Keyword.NONE),
    ("stopped", Keyword.NONE),
]

ASKS = [
    # English
    ("Can I talk to someone?", True),
    ("I want to speak with somebody about this", True),
    ("Can I speak to a person", True),
    ("I need a real person", True),
    ("Is there a human I can chat to?", True),
    ("Please call me", True),
    ("Call me back on this number", True),
    ("Can I get an agent", True),
    ("Put me through to customer service", True),
    ("Don't text me, call me", True),
    ("Can't you just call me?", True),
    ("Don't call me", False),
    ("Do not call me again", False),
    ("Please never call me", False),
    ("No need to call me, I'll pay Friday", False),
    ("Stop calling me", False),
    ("I will call you tomorrow", False),
    ("I'm only human, please be patient", False),
    ("I paid yesterday", False),
    # Danish
    ("Kan jeg tale med en?", True),
    ("Jeg vil gerne tale med en medarbejder", True),
    ("Kan jeg snakke med nogen", True),
    ("Må jeg tale med et menneske", True),
    ("Jeg vil have en rigtig person", True),
    ("Ring mig venligst", True),
    ("Kan I ringe til mig i morgen", True),
    ("Hvem er min sagsbehandler", True),
    ("Jeg vil gerne tale med en rådgiver", True),
    ("Jeg vil gerne tale med en radgiver", True),
    ("Kan I ikke bare ringe mig?", True),
    ("Ring ikke til mig", False),
    ("Ring mig ikke", False),
    ("Lad være med at ringe til mig", False),
    ("I må aldrig ringe til mig", False),
    ("Jeg er også et menneske", False),
    ("Jeg betaler på fredag", False),
    # Norwegian
    ("Kan jeg snakke med noen?", True),
    ("Kan jeg få prate med en saksbehandler", True),
    ("Jeg vil snakke med et menneske", True),
    ("Ring meg i morgen", True),
    ("Kan dere ringe til meg", True),
    ("Jeg vil ha en ekte person", True),
    ("Hvem er rådgiveren min", True),
    ("Ikke ring meg", False),
    ("Ring meg ikke", False),
    ("Dere må aldri ringe til meg", False),
    ("La være å ringe meg", False),
    ("Jeg betaler neste uke", False),
]


@pytest.mark.parametrize(("text", "keyword"), KEYWORDS)
def test_only_a_lone_keyword_is_classified(text: str, keyword: Keyword) -> None:
    assert classify_keyword(text) is keyword


def test_keywords_are_plain_strings() -> None:
    assert Keyword.STOP == "stop"
    assert [keyword.value for keyword in Keyword] == ["stop", "start", "help", "none"]


@pytest.mark.parametrize(("text", "asks"), ASKS)
def test_requests_for_a_person_are_recognised(text: str, asks: bool) -> None:
    assert asks_for_person(text) is asks


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("HJÆLP", "hjaelp"),
        ("Rådgiver", "radgiver"),
        ("Søren", "soren"),
        ("don’t", "don't"),
        ("Straße", "strasse"),
        ("ＳＴＯＰ", "stop"),
    ],
)
def test_fold_ignores_case_and_accents(text: str, folded: str) -> None:
    assert fold(text) == folded
