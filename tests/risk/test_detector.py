"""The risk detector: categories per language, negation, quotes, spelling, caps and typos."""

from pathlib import Path

import pytest

from app.risk.detector import CATEGORIES, LEXICON_DIR, detect, load_lexicon, normalise

FOUND = [
    ("en", "cease_contact", "Please stop texting me"),
    ("da", "cease_contact", "Lad mig være i fred"),
    ("nb", "cease_contact", "Slutt å kontakte meg"),
    ("en", "dispute_not_owed", "I never ordered anything from you"),
    ("da", "dispute_not_owed", "Det er ikke min regning"),
    ("nb", "dispute_not_owed", "Jeg skylder dere ingenting"),
    ("en", "dispute_amount", "You charged me twice for May"),
    ("da", "dispute_amount", "Gebyret er alt for højt"),
    ("nb", "dispute_amount", "Beløpet stemmer ikke"),
    ("en", "already_paid", "I already paid this last week"),
    ("da", "already_paid", "Den er betalt i går"),
    ("nb", "already_paid", "Betalte med Vipps i går"),
    ("en", "legal_threat", "My lawyer will contact you"),
    ("da", "legal_threat", "Vi ses i retten"),
    ("nb", "legal_threat", "Jeg kommer til å saksøke dere"),
    ("en", "regulator", "I have complained to the CFPB"),
    ("da", "regulator", "Jeg klager til Forbrugerombudsmanden"),
    ("nb", "regulator", "Saken er meldt til Finansklagenemnda"),
    ("en", "harassment_claim", "This is harassment"),
    ("da", "harassment_claim", "Det er ren chikane"),
    ("nb", "harassment_claim", "Dette er trakassering"),
    ("en", "hardship", "I lost my job and can't afford this"),
    ("da", "hardship", "Jeg er på dagpenger og har ikke råd"),
    ("nb", "hardship", "Har mistet jobben"),
    ("en", "vulnerability", "I am in hospital having chemo"),
    ("da", "vulnerability", "Jeg har en depression"),
    ("nb", "vulnerability", "Jeg sliter psykisk"),
    ("en", "bankruptcy", "I have filed for bankruptcy"),
    ("da", "bankruptcy", "Jeg er under gældssanering"),
    ("nb", "bankruptcy", "Jeg har søkt om gjeldsordning"),
    ("en", "deceased", "He passed away in March"),
    ("da", "deceased", "Send det til dødsboet"),
    ("nb", "deceased", "Han er død"),
    ("en", "wrong_person", "Wrong number"),
    ("da", "wrong_person", "Forkert nummer"),
    ("nb", "wrong_person", "Feil nummer"),
    ("en", "abusive_language", "You are a bunch of scumbags"),
    ("da", "abusive_language", "I er nogle idioter"),
    ("nb", "abusive_language", "Dra til helvete"),
    ("en", "public_complaint", "Enjoy your one star review on Trustpilot"),
    ("da", "public_complaint", "Det her kommer på Facebook"),
    ("nb", "public_complaint", "Gir dere en dårlig anmeldelse"),
]

BENIGN_LOOK_ALIKES = [
    "I'll stop by tomorrow to pay",
    "Can't talk, I have the court date for my football team",
    "My phone died so I missed your text",
    "I'll pay when I get paid on Friday",
    "Great service, I'll leave you a good review",
    "Can you review my payment plan?",
    "Kan jeg stoppe forbi i morgen og betale?",
    "Min telefon døde, så jeg så det ikke",
    "Retten til at betale i rater, gælder den også mig?",
    "Jeg er dødtræt i dag, betaler i morgen",
    "Jeg vil gerne betale det hele nu",
    "Kan jeg stikke innom og betale?",
    "Fikk lønn i dag, betaler i kveld",
    "Faen, glemte det igjen. Betaler nå",
    "Jeg var i retten i dag som vitne",
]


def categories(text: str, language: str | None = None) -> set[str]:
    return {finding.category for finding in detect(text, language)}


@pytest.mark.parametrize(("language", "category", "text"), FOUND)
def test_each_category_is_found_in_each_language(
    language: str, category: str, text: str
) -> None:
    assert category in categories(text, language)


@pytest.mark.parametrize(("language", "category", "text"), FOUND)
def test_the_lexicons_of_all_languages_apply_when_the_language_is_unknown(
    language: str, category: str, text: str
) -> None:
    assert category in categories(text)


@pytest.mark.parametrize("text", BENIGN_LOOK_ALIKES)
def test_benign_messages_that_share_words_with_risky_ones_raise_nothing(
    text: str,
) -> None:
    assert detect(text) == []


def test_a_finding_carries_its_category_severity_exact_evidence_and_confidence() -> (
    None
):
    text = "I already PAID this, now stooop texting me or my lawyer hears about it"
    findings = detect(text, "en")
    assert {f.category for f in findings} == {
        "already_paid",
        "cease_contact",
        "legal_threat",
    }
    for finding in findings:
        assert finding.severity == CATEGORIES[finding.category]
        assert finding.evidence in text
        assert 0.0 < finding.confidence <= 1.0
    evidence = {f.category: f.evidence for f in findings}
    assert evidence["cease_contact"] == "stooop texting"
    assert evidence["legal_threat"] == "lawyer"


def test_findings_come_one_per_category_most_severe_first() -> None:
    findings = detect("Paid. STOP. Stop texting me. Leave me alone, idiots", "en")
    assert [f.category for f in findings] == [
        "cease_contact",
        "already_paid",
        "abusive_language",
    ]


def test_a_second_separate_phrase_of_a_category_raises_confidence() -> None:
    once = detect("Stop texting me", "en")[0]
    twice = detect("Stop texting me. Leave me alone", "en")[0]
    assert twice.confidence > once.confidence


def test_a_phrase_from_another_language_counts_with_less_confidence() -> None:
    own = detect("Lad mig være i fred", "da")[0]
    other = detect("Lad mig være i fred", "en")[0]
    unknown = detect("Lad mig være i fred")[0]
    assert other.confidence < own.confidence == unknown.confidence


def test_norwegian_language_codes_are_read_as_bokmal() -> None:
    assert detect("Slutt å kontakte meg", "no") == detect("Slutt å kontakte meg", "nb")


def test_an_empty_message_raises_nothing() -> None:
    assert detect("") == []
    assert detect("   \n") == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I'm not going to sue, I just want a plan", "legal_threat"),
        ("I will never sue you", "legal_threat"),
        ("Thanks for not calling me 10 times a day", "harassment_claim"),
        ("Haven't paid yet but I will on Friday", "already_paid"),
        ("Jeg har ikke tænkt mig at gå til advokat", "legal_threat"),
        ("Jeg har ikke betalt endnu", "already_paid"),
        ("Jeg har ikke tenkt å saksøke dere", "legal_threat"),
        ("Eg har ikkje betalt enno", "already_paid"),
        ("No need to stop the reminders, they help", "cease_contact"),
    ],
)
def test_a_negation_shortly_before_a_phrase_cancels_it(
    text: str, category: str
) -> None:
    assert category not in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I can't pay, I'm going to my lawyer", "legal_threat"),
        ("Jeg kan ikke betale, og min advokat kontakter jer", "legal_threat"),
        ("If you don't stop I'll call my lawyer", "legal_threat"),
        ("Not going to pay these fees but I will report you to the CFPB", "regulator"),
    ],
)
def test_a_negation_does_not_reach_into_the_next_clause(
    text: str, category: str
) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Why don't you just leave me alone", "cease_contact"),
        ("Kan I ikke bare lade mig være i fred?", "cease_contact"),
        ("Kan dere ikke bare la meg være i fred?", "cease_contact"),
        ("Jeg skylder ikke noget", "dispute_not_owed"),
        ("I don't owe you anything", "dispute_not_owed"),
        ("Ikke send meg flere meldinger", "cease_contact"),
    ],
)
def test_a_negation_that_is_part_of_what_is_said_still_counts(
    text: str, category: str
) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        'Your SMS says "legal action", what does that mean? I want to pay',
        "Der står «retssag» i jeres brev, hvad betyder det?",
        "I got a text saying 'we will sue' - is this real?",
    ],
)
def test_words_quoted_from_someone_else_do_not_count(text: str) -> None:
    assert "legal_threat" not in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("if you don't stop texting me i will call my lawyer", "cease_contact"),
        ("hvis I ikke holder op med at skrive går jeg til advokat", "cease_contact"),
        ("hvis dere ikke slutter å sende meldinger klager jeg", "cease_contact"),
        ("dersom dere ikke fjerner gebyret går jeg til forliksrådet", "dispute_amount"),
        ("if you don't remove the fee I'll see you in court", "dispute_amount"),
    ],
)
def test_a_condition_put_to_us_demands_what_follows_its_negation(
    text: str, category: str
) -> None:
    assert category in categories(text)


def test_a_condition_about_the_debtor_still_negates() -> None:
    assert "already_paid" not in categories("if I don't get paid friday I can't pay")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("you lot text me every single day, get a life", "harassment_claim"),
        ("three texts on a sunday morning?? this is out of order", "harassment_claim"),
        ("I skriver til mig hver eneste dag, det er for meget", "harassment_claim"),
        ("that late fee is a joke", "dispute_amount"),
        ("beløpet er helt vanvittig", "dispute_amount"),
        ("hvad er det for et gebyr på jeres brev", "dispute_amount"),
        ("why is there an admin fee on this", "dispute_amount"),
    ],
)
def test_words_that_only_together_say_it_raise_the_category(
    text: str, category: str
) -> None:
    [finding] = [f for f in detect(text) if f.category == category]
    assert finding.confidence < 0.9  # weaker than a phrase that says it alone


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("can you text me every day as a reminder", "harassment_claim"),
        ("I got your text today, it's not ridiculous at all", "harassment_claim"),
        ("your service is a joke", "dispute_amount"),
        ("the bill is due friday right?", "dispute_amount"),
    ],
)
def test_part_of_a_group_alone_raises_nothing(text: str, category: str) -> None:
    assert category not in categories(text)


def test_the_debtor_quoting_themself_still_counts() -> None:
    assert "cease_contact" in categories('I said "stop texting me" last week!')


def test_a_message_that_is_all_in_quotes_still_counts() -> None:
    assert "cease_contact" in categories('"STOP"')


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("doedsboet er ikke gjort op", "deceased"),
        ("hun er dod", "deceased"),
        ("Er under gaeldssanering", "bankruptcy"),
        ("Slutt aa sende meg sms", "cease_contact"),
        ("Slutt a sende meg sms", "cease_contact"),
        ("lad mig vaere", "cease_contact"),
        ("har ikke raad", "hardship"),
    ],
)
def test_spelling_without_the_danish_norwegian_letters_is_understood(
    text: str, category: str
) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("JEG SKYLDER IKKE NOGET", "dispute_not_owed"),
        ("STOP TEXTING ME", "cease_contact"),
        ("SLUTT Å MASE", "cease_contact"),
    ],
)
def test_all_caps_are_understood(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("stoooop messaging me", "cease_contact"),
        ("this is harrassment", "harassment_claim"),
        ("min advokta kontakter jer", "legal_threat"),
        ("min advkoat tar kontakt", "legal_threat"),
        ("declared bankrupcty last year", "bankruptcy"),
        ("forbruger ombudsmanden skal høre om det", "regulator"),
    ],
)
def test_typos_within_reason_are_forgiven(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("lad vær at ring mere", "cease_contact"),
        ("vil I holde op med at kontakte mig", "cease_contact"),
        ("la være å kontakte meg", "cease_contact"),
        ("Kontakt mig kun pr. brev", "cease_contact"),
        ("only contact me in writing", "cease_contact"),
        ("jeg skyler ingen noget", "dispute_not_owed"),
        ("har aldri skyldt dere penger", "dispute_not_owed"),
        ("dere har trukket for mye", "dispute_amount"),
        ("har allerede indbetalt det hele", "already_paid"),
        ("Tusen takk, betalt nå", "already_paid"),
        ("min arbejdsgiver lukkede, så jeg har ingen løn", "hardship"),
        ("My employer went bust", "hardship"),
        ("Dette sender jeg til Dagbladet", "public_complaint"),
        ("Going straight on Twitter with this", "public_complaint"),
        ("I've asked you twice to stop", "cease_contact"),
        ("Jeg har bedt jer om at stoppe", "cease_contact"),
        ("ring meg aldri igjen", "cease_contact"),
        ("I've paid.", "already_paid"),
        ("Har lige betalt", "already_paid"),
        ("Jeg skylder kun 450", "dispute_amount"),
        ("where do these fees come from", "dispute_amount"),
        ("Han bor ikke her", "wrong_person"),
        ("totally skint this month", "hardship"),
    ],
)
def test_inflections_synonyms_and_everyday_wording_are_understood(
    text: str, category: str
) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("pengene er hævet dobbelt denne måned", "already_paid"),
        ("Har betalt husleien, så det er lite igjen", "already_paid"),
        ("Her solicitor is handling the estate", "legal_threat"),
        ("Abonnementet ble sagt opp i mars", "hardship"),
    ],
)
def test_look_alikes_of_the_wider_wording_raise_nothing_of_that_kind(
    text: str, category: str
) -> None:
    assert category not in categories(text)


def test_a_dot_after_a_number_before_a_word_is_an_ordinal_not_a_full_stop() -> None:
    assert "harassment_claim" in categories("det er 4. gang i dag")
    assert "already_paid" in categories("har betalt d. 3. marts")
    # A sentence still ends at a number followed by a capital or the end of the message.
    assert "legal_threat" in categories("Jeg skylder 300. Min advokat ringer")


def test_a_forgiven_typo_lowers_the_confidence() -> None:
    exact = detect("min advokat kontakter jer", "da")[0]
    typo = detect("min advokta kontakter jer", "da")[0]
    assert typo.confidence < exact.confidence


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Dødsboet", "doedsboet"),
        ("død", "dod"),
        ("GÆLD", "gald"),
        ("få", "faa"),
        ("stooop", "stop"),
    ],
)
def test_normalise_folds_case_letters_and_repeats(typed: str, meant: str) -> None:
    assert normalise(typed) == normalise(meant)


def test_normalise_drops_apostrophes() -> None:
    assert normalise("Don't") == normalise("dont") == "dont"


def test_every_category_has_phrases_in_every_language() -> None:
    for path in sorted(LEXICON_DIR.glob("*.toml")):
        lexicon = load_lexicon(path)
        assert all(lexicon.phrases[c] for c in CATEGORIES), path.name


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('[cease_contact]\nphrases = ["{stop|quit"]', "braces"),
        ('[cease_contact]\nphrases = ["... stop"]', "between words"),
        ('[cease_contact]\nphrases = ["stop $ now"]', "goes last"),
        ('[cease_contact]\nphrases = ["^ $"]', "at least one word"),
        ('[cease_contact]\nphrases = ["stop!"]', "not a word"),
        ('[cease_contact]\nphrases = "stop"', "list of strings"),
        ('[cease_contakt]\nphrases = ["stop"]', "unknown tables"),
        ('[harassment_claim]\ntogether = [["every day"]]', "two or more strings"),
        ('[harassment_claim]\ntogether = ["every day", "enough"]', "lists of two"),
        ("[cease_contact\n", "not valid TOML"),
    ],
)
def test_a_mistake_in_a_lexicon_file_is_reported_with_its_place(
    tmp_path: Path, content: str, complaint: str
) -> None:
    path = tmp_path / "xx.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=complaint) as raised:
        load_lexicon(path)
    assert "xx.toml" in str(raised.value)
