"""Tone guard for SMS templates, in Danish, Norwegian and English."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

import reminders.tone
from reminders.tone import LANGUAGES, MESSAGES, ToneFinding, check_tone

RULES: dict[str, Any] = tomllib.loads(
    Path(reminders.tone.__file__)
    .with_name("tone_rules.toml")
    .read_text(encoding="utf-8")
)

POLITE = [
    (
        "da",
        "Hej Mette, vi har endnu ikke modtaget betaling fra dig. Se detaljerne og vælg, "
        "hvad der passer dig: {{ link }} Venlig hilsen Nordlys Energi",
    ),
    (
        "da",
        "Hej {{ name }}. Du har retten til at klage, og du kan betale i rater. "
        "Vi svarer straks, når du skriver. Svar STOP for at framelde. Nordlys Energi A/S, "
        "CVR 12345678",
    ),
    (
        "da",
        "Kære {{ name }}, vi vil gerne hjælpe dig med at undgå inkasso. Vælg en plan her: "
        "{{ link }} Beløb: {{ amount }} DKK inkl. MVA. Hjælp? Svar HJÆLP.",
    ),
    (
        "nb",
        "Hei {{ name }}! Vi har ikke mottatt betalingen for faktura {{ reference }}. "
        "Se detaljer og velg det som passer deg: {{ link }} Hilsen Fjordkraft AS",
    ),
    (
        "nb",
        "Hei, vi viser til vårt siste varsel. Du kan betale med Vipps eller KID {{ kid }}. "
        "Vi skal gjerne hjelpe deg å unngå inkasso. Svar STOPP for å melde deg av.",
    ),
    (
        "en",
        "Hi {{ name }}, we haven't received your payment yet. See the details and choose "
        "what suits you: {{ link }} Reply HELP for help or STOP to opt out. Thanks!",
    ),
    (
        "en",
        "Hi {{ name }}, we will not pass your debt to anyone else. You can pay in "
        "instalments: {{ link }}. Questions? Our team will reply at once.",
    ),
]

FLAGGED = [
    # (language, text, rule, excerpt)
    ("da", "SIDSTE ADVARSEL: betal i dag.", "all-caps", "SIDSTE ADVARSEL"),
    ("da", "SIDSTE ADVARSEL: betal i dag.", "threat", "SIDSTE ADVARSEL"),
    ("da", "Dette er din sidste advarsel.", "threat", "sidste advarsel"),
    ("da", "Vi tager retslige skridt.", "threat", "retslige skridt"),
    ("da", "Sagen går til fogeden.", "threat", "fogeden"),
    ("da", "Sagen ender i retten.", "threat", "retten"),
    ("da", "Betal omgående.", "pressure", "Betal omgående"),
    ("da", "Betal omgaende.", "pressure", "Betal omgaende"),
    ("da", "Beløbet skal straks betales.", "pressure", "Beløbet skal straks"),
    ("da", "Det er din sidste chance.", "pressure", "sidste chance"),
    ("da", "Det er uansvarligt ikke at betale.", "shaming", "uansvarligt"),
    ("da", "Du burde skamme dig.", "shaming", "skamme dig"),
    (
        "da",
        "Vi vil sende sagen til inkasso.",
        "consequence",
        "Vi vil sende sagen til inkasso",
    ),
    (
        "da",
        "Ellers vil vi registrere dig i RKI.",
        "consequence",
        "vil vi registrere dig",
    ),
    (
        "da",
        "Vi kommer til at overdrage sagen til retten.",
        "consequence",
        "Vi kommer til at overdrage sagen til retten",
    ),
    (
        "da",
        "Vi vil nu desværre være nødt til at sende sagen til inkasso.",
        "consequence",
        "Vi vil nu desværre være nødt til at sende sagen til inkasso",
    ),
    ("da", "Betal nu!!", "exclamation", "!!"),
    ("da", "Vi ved, hvor du bor.", "exposure", "ved, hvor du bor"),
    (
        "da",
        "Ellers kontakter vi din arbejdsgiver.",
        "exposure",
        "kontakter vi din arbejdsgiver",
    ),
    ("da", "Betaler du ikke, registrerer vi dig i RKI.", "register", "RKI"),
    ("da", "Betaler du ikke, tager vi din bil.", "consequence", "tager vi din bil"),
    ("nb", "SISTE VARSEL før inkasso.", "threat", "SISTE VARSEL"),
    ("nb", "Dette er siste advarsel.", "threat", "siste advarsel"),
    ("nb", "Vi tar rettslige skritt.", "threat", "rettslige skritt"),
    ("nb", "Saken sendes til forliksrådet.", "threat", "forliksrådet"),
    ("nb", "Saken sendes til forliksradet.", "threat", "forliksradet"),
    ("nb", "Namsmannen tar utlegg.", "threat", "Namsmannen"),
    ("nb", "Saken havner i tingretten.", "threat", "tingretten"),
    ("nb", "Betal umiddelbart.", "pressure", "Betal umiddelbart"),
    ("nb", "Dette er din siste sjanse.", "pressure", "siste sjanse"),
    ("nb", "Du er uansvarlig.", "shaming", "uansvarlig"),
    (
        "nb",
        "Vi kommer til å sende saken til Lindorff.",
        "consequence",
        "Vi kommer til å sende saken til Lindorff",
    ),
    (
        "nb",
        "Vi vil registrere en betalingsanmerkning.",
        "consequence",
        "Vi vil registrere en betalingsanmerkning",
    ),
    (
        "nb",
        "Ellers må vi kontakte namsmannen.",
        "consequence",
        "må vi kontakte namsmannen",
    ),
    ("nb", "Hva venter du på?!", "exclamation", "?!"),
    ("nb", "Alle får vite om gjelden.", "exposure", "Alle får vite"),
    ("nb", "Du får en betalingsanmerkning.", "register", "betalingsanmerkning"),
    ("en", "FINAL WARNING: pay today.", "threat", "FINAL WARNING"),
    ("en", "This is your final warning.", "threat", "final warning"),
    ("en", "We may take legal action.", "threat", "legal action"),
    ("en", "A bailiff will visit you.", "threat", "bailiff"),
    ("en", "You may be arrested.", "threat", "arrested"),
    ("en", "We have told the police.", "threat", "police"),
    ("en", "Pay immediately.", "pressure", "Pay immediately"),
    ("en", "This is your last chance.", "pressure", "last chance"),
    ("en", "Not paying is irresponsible.", "shaming", "irresponsible"),
    ("en", "Shame on you.", "shaming", "Shame"),
    ("en", "Don't be a deadbeat.", "shaming", "deadbeat"),
    ("en", "We will take you to court.", "consequence", "We will take you to court"),
    ("en", "We'll sue.", "consequence", "We'll sue"),
    (
        "en",
        "We will report you to the credit bureau.",
        "consequence",
        "We will report you",
    ),
    (
        "en",
        "We are going to pass your debt to a collection agency.",
        "consequence",
        "We are going to pass your debt",
    ),
    ("en", "PAY NOW", "all-caps", "PAY NOW"),
    ("en", "Please pay. URGENT", "all-caps", "URGENT"),
    ("en", "Pay now!!!", "exclamation", "!!!"),
    ("en", "Why haven't you paid?!", "exclamation", "?!"),
    ("en", "Pay now!?", "exclamation", "!?"),
    ("en", "Pay now‼", "exclamation", "‼"),
    ("en", "We will contact your employer.", "exposure", "contact your employer"),
    ("en", "We know where you live.", "exposure", "know where you live"),
    ("en", "You will be blacklisted.", "register", "blacklisted"),
]

NOT_FLAGGED = [
    # (language, text, rule): a near miss that must not trigger the rule
    ("da", "Du har retten til at klage.", "threat"),
    ("da", "Vi svarer straks på din besked.", "pressure"),
    ("da", "Vi vil gerne hjælpe dig med at undgå inkasso.", "consequence"),
    (
        "da",
        "Vi vil ikke sende sagen til inkasso, hvis du vælger en plan.",
        "consequence",
    ),
    ("da", "Vi vil gerne høre fra dig. Inkasso er ikke på tale.", "consequence"),
    ("da", "Betal med MobilePay eller Dankort.", "all-caps"),
    ("da", "Svar STOP, STOPP, AFMELD eller HJÆLP.", "all-caps"),
    ("da", "Beløb: 450 DKK. Faktura INV2024-17.", "all-caps"),
    ("da", "Tak!", "exclamation"),
    ("nb", "Vi viser til vårt siste varsel.", "threat"),
    ("nb", "Du har retten til å klage.", "threat"),
    ("nb", "Vi skal hjelpe deg å unngå inkasso.", "consequence"),
    ("nb", "Bruk Vipps eller KID og betal i NOK.", "all-caps"),
    ("en", "We will be happy to help. Court is not something we want.", "consequence"),
    ("en", "We will pass your message to our team.", "consequence"),
    ("en", "We'll reply immediately when you write.", "pressure"),
    ("en", "Thank you for your courtesy.", "threat"),
    (
        "en",
        "Reply HELP or STOP. Fees in EUR, USD or GBP. Acme Ltd, VAT GB123.",
        "all-caps",
    ),
    ("en", "I think you can pay here.", "all-caps"),
    ("en", "Questions? Reply here.", "exclamation"),
    ("en", "What??", "exclamation"),
    ("da", "Vi kontakter ikke din arbejdsgiver.", "exposure"),
    ("da", "Ring til os, hvis din familie vil hjælpe.", "exposure"),
    ("nb", "Vi tar ikke bilen din.", "consequence"),
    ("en", "Call us if your employer pays you late.", "exposure"),
    ("en", "Your family may help. Contact us.", "exposure"),
]


@pytest.mark.parametrize(("language", "text"), POLITE)
def test_polite_texts_have_no_findings(language: str, text: str) -> None:
    assert check_tone(text, language) == []


@pytest.mark.parametrize(("language", "text", "rule", "excerpt"), FLAGGED)
def test_disrespectful_passages_are_flagged_as_written(
    language: str, text: str, rule: str, excerpt: str
) -> None:
    assert ToneFinding(rule, excerpt, MESSAGES[rule]) in check_tone(text, language)


@pytest.mark.parametrize(("language", "text", "rule"), NOT_FLAGGED)
def test_near_misses_are_not_flagged(language: str, text: str, rule: str) -> None:
    assert rule not in {finding.rule for finding in check_tone(text, language)}


def test_findings_come_in_text_order() -> None:
    findings = check_tone("Pay immediately!! We will take you to court.", "en")
    assert [(finding.rule, finding.excerpt) for finding in findings] == [
        ("pressure", "Pay immediately"),
        ("exclamation", "!!"),
        ("consequence", "We will take you to court"),
        ("threat", "court"),
    ]


def test_a_capitalised_run_is_one_finding() -> None:
    findings = check_tone("BETAL NU ELLER ALDRIG", "da")
    assert [finding.excerpt for finding in findings if finding.rule == "all-caps"] == [
        "BETAL NU ELLER ALDRIG"
    ]


def test_allowlisted_capitals_at_the_edge_of_a_run_stay_out_of_the_excerpt() -> None:
    findings = check_tone("Svar STOP BETAL SMS", "da")
    assert [finding.excerpt for finding in findings] == ["BETAL"]


@pytest.mark.parametrize(
    "text",
    [
        "Hej {{ NAME }}, se {{ LINK_URL }}.",
        "{% if OVERDUE %}Se dit beløb.{% endif %}",
        "Hej {{ name | upper }} {# SIDSTE ADVARSEL!! #}",
        "Se {{ 'retten' }} og {{ x ~ '!!' }}",
        "Vi vil {{ verb }} inkasso.",
        "sidste {{ x }} advarsel",
    ],
)
def test_placeholders_are_ignored(text: str) -> None:
    assert check_tone(text, "da") == []


def test_text_around_placeholders_is_still_checked() -> None:
    findings = check_tone("{{ name }}: SIDSTE ADVARSEL {{ link }}!!", "da")
    assert {(finding.rule, finding.excerpt) for finding in findings} == {
        ("all-caps", "SIDSTE ADVARSEL"),
        ("threat", "SIDSTE ADVARSEL"),
        ("exclamation", "!!"),
    }


def test_matching_ignores_case_and_accents() -> None:
    for text in ("sidste advarsel", "SIDSTE ADVARSEL", "Sidste Advarsel"):
        assert any(finding.rule == "threat" for finding in check_tone(text, "da"))


def test_rules_are_per_language() -> None:
    assert check_tone("Vi vil sende sagen til inkasso.", "en") == []
    assert check_tone("We will take you to court.", "da") == []


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="sv"):
        check_tone("Hej", "sv")


def test_the_table_covers_every_rule() -> None:
    assert {rule for _, _, rule, _ in FLAGGED} == set(MESSAGES)


def listed(language: str, key: str) -> list[str]:
    """A list from the rules file, shared entries first, with wildcards as bare stems."""
    entries = [*RULES["shared"].get(key, []), *RULES[language].get(key, [])]
    return [entry.removesuffix("*") for entry in entries]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "key", ["threat", "shaming", "pressure", "exposure", "register"]
)
def test_every_listed_phrase_is_found(language: str, key: str) -> None:
    for phrase in listed(language, key):
        findings = check_tone(f"Hej. {phrase}.", language)
        assert any(finding.rule == key for finding in findings), phrase


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_we_will_opener_and_consequence_is_found(language: str) -> None:
    openers, consequences = listed(language, "we_will"), listed(language, "consequence")
    sentences = [f"{opener} {consequences[0]}." for opener in openers]
    sentences += [f"{openers[0]} {consequence}." for consequence in consequences]
    for sentence in sentences:
        rules = {finding.rule for finding in check_tone(sentence, language)}
        assert "consequence" in rules, sentence


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_contacting_verb_and_third_party_is_found(language: str) -> None:
    verbs, parties = listed(language, "contact"), listed(language, "third_party")
    sentences = [f"{verb} {parties[0]}." for verb in verbs]
    sentences += [f"{verbs[0]} {party}." for party in parties]
    sentences += [f"{parties[0]} {done}." for done in listed(language, "contacted")]
    for sentence in sentences:
        rules = {finding.rule for finding in check_tone(sentence, language)}
        assert "exposure" in rules, sentence


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_urgency_and_payment_word_is_found(language: str) -> None:
    urgent, payment = listed(language, "urgency"), listed(language, "payment")
    sentences = [f"{payment[0]} {word}." for word in urgent]
    sentences += [f"{word} {urgent[0]}." for word in payment]
    for sentence in sentences:
        rules = {finding.rule for finding in check_tone(sentence, language)}
        assert "pressure" in rules, sentence


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_allowlisted_word_may_be_capitalised(language: str) -> None:
    for word in listed(language, "caps_allowlist"):
        # Capitals only: a register such as RKI is still named as one.
        findings = check_tone(f"Svar {word} her", language)
        assert [f for f in findings if f.rule != "register"] == [], word


# Wordings a regulator would object to (inkassobekendtgørelsen and god inkassoskik,
# inkassoloven and god inkassoskikk, FCA CONC 7): where the reader lives or works,
# visits, telling their family, employer or neighbours, bad-debtor registers, police
# and prison, taking their car, home or wages, and everyone getting to know.
REGULATED = [
    # (language, text, rule)
    (
        "da",
        "Hej {{ first_name }}. Vi ved hvor du bor. Betal her: {{ link }}",
        "exposure",
    ),
    ("da", "Betaler du ikke, registrerer vi dig i RKI. {{ link }}", "register"),
    ("da", "Betaler du ikke, melder vi dig til Debitor Registret.", "register"),
    ("da", "Du kan få en betalingsanmærkning.", "register"),
    ("da", "Vi ved, hvor du arbejder.", "exposure"),
    ("da", "Ellers kontakter vi din arbejdsgiver.", "exposure"),
    ("da", "Vi taler med dine naboer.", "exposure"),
    ("da", "Vi ringer til din familie.", "exposure"),
    ("da", "Ellers besøger vi dig derhjemme.", "exposure"),
    ("da", "Alle vil vide, at du ikke betaler.", "exposure"),
    ("da", "Du kan komme i fængsel.", "threat"),
    ("da", "Du kan blive anholdt.", "threat"),
    ("da", "Betaler du ikke, tager vi din bil.", "consequence"),
    ("da", "Vi vil tage dit hus.", "consequence"),
    ("da", "Ellers trækker vi beløbet fra din løn.", "threat"),
    ("nb", "Hei {{ first_name }}. Vi vet hvor du bor.", "exposure"),
    ("nb", "Betaler du ikke, registrerer vi en betalingsanmerkning.", "register"),
    ("nb", "Dette vises ved en kredittsjekk.", "register"),
    ("nb", "Ellers kontakter vi arbeidsgiveren din.", "exposure"),
    ("nb", "Vi sier det til naboene dine.", "exposure"),
    ("nb", "Vi kommer hjem til deg.", "exposure"),
    ("nb", "Alle vil få vite at du ikke betaler.", "exposure"),
    ("nb", "Du kan havne i fengsel.", "threat"),
    ("nb", "Du kan bli pågrepet.", "threat"),
    ("nb", "Betaler du ikke, tar vi bilen din.", "consequence"),
    ("nb", "Vi begjærer trekk i lønn.", "threat"),
    ("en", "Hi {{ first_name }}. We know where you live.", "exposure"),
    ("en", "If you don't pay, we report you to Experian.", "register"),
    ("en", "This will damage your credit rating.", "register"),
    ("en", "We will mark your credit file.", "consequence"),
    ("en", "You will be blacklisted.", "register"),
    ("en", "We will contact your employer.", "exposure"),
    ("en", "We will tell your neighbours.", "exposure"),
    ("en", "Our agent will visit your home.", "exposure"),
    ("en", "Everyone will know you owe money.", "exposure"),
    ("en", "You could be imprisoned.", "threat"),
    ("en", "We will take your car.", "consequence"),
    ("en", "We'll take it from your wages.", "consequence"),
    ("en", "Your employer will be contacted.", "exposure"),
    ("nb", "Arbeidsgiveren din blir kontaktet.", "exposure"),
    ("da", "Vi kommer forbi i morgen.", "exposure"),
]

# Look-alikes of the wordings above that are fine.
REGULATED_LOOKALIKES = [
    ("da", "Vi har registreret din betaling. Tak for den."),
    ("da", "Vi har din adresse i vores system. Er den forkert, så skriv til os."),
    ("da", "Besøg {{ link }} og se dine muligheder."),
    ("da", "Har du mistet dit arbejde? Kontakt os, så finder vi en løsning."),
    ("da", "Hvis din familie kan hjælpe, så skriv til os."),
    ("da", "Giv os besked, hvis din familie hjælper dig."),
    ("da", "Du er velkommen til at komme forbi i butikken."),
    ("da", "Når du har fået din løn, kan du betale her: {{ link }}"),
    ("nb", "Vi har registrert betalingen din. Takk."),
    ("nb", "Besøk {{ link }} for å se valgene dine."),
    ("nb", "Har du fått ny adresse? Gi oss beskjed."),
    ("nb", "Har du mistet jobben din? Ta kontakt, så finner vi en løsning."),
    ("en", "We registered your payment. Thank you."),
    ("en", "We have your address on file. Reply if it has changed: {{ link }}"),
    ("en", "Visit {{ link }} to see your options."),
    ("en", "If your family situation has changed, tell us."),
    ("en", "Contact us if your employer pays you late."),
    ("en", "Let us know if your family can help."),
    (
        "en",
        "Missed payments may affect your credit rating. See your options: {{ link }}",
    ),
]


@pytest.mark.parametrize(("language", "text", "rule"), REGULATED)
def test_wordings_a_regulator_would_object_to_are_flagged(
    language: str, text: str, rule: str
) -> None:
    assert rule in {finding.rule for finding in check_tone(text, language)}


@pytest.mark.parametrize(("language", "text"), REGULATED_LOOKALIKES)
def test_their_look_alikes_are_fine(language: str, text: str) -> None:
    assert check_tone(text, language) == []
