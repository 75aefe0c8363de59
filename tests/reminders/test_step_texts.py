"""A creditor's own wording of its steps: what may be saved, how it is rendered in each
language, the tone guard and the supervisor's allowance, the GSM-7 replacement, and the
dispatcher sending it (or the default) to each debtor, never mixing debtors up."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import meta
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.errors import Conflict, Forbidden, NotFound
from app.models import (
    AuditEvent,
    Creditor,
    Debtor,
    Message,
    Sequence,
    Step,
    StepText,
    User,
)
from app.models.enums import Language, Role, StepAction
from app.services import texts
from app.services.formatting import format_money
from app.services.texts import (
    AMOUNT_PLACEHOLDER,
    LANGUAGES,
    MAX_WORDING_LENGTH,
    STEP_PLACEHOLDERS,
    TextContext,
    WordingIssue,
    check_wording,
    render_step_text,
    render_wording,
)
from reminders import editing
from reminders.dispatch import dispatch_due
from reminders.editing import Issue, SequenceInvalid, StepDraft
from reminders.planner import plan_due_steps
from reminders.profiles import effective_rules, profile_for
from reminders.segments import count_segments
from reminders.sequences import ensure_default_sequence
from reminders.step_texts import (
    TextRefused,
    find_step_text,
    replace_look_alikes,
    revert_step_text,
    save_step_text,
)
from tests.factories import make_account, make_creditor, make_debtor, make_user
from tests.fakes import FakeSmsSender

# Tuesday 17 November 2026, 10:00 in Copenhagen: inside every contact window.
MORNING = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
LINK = "https://venlig.example/p/" + editing.PREVIEW_TOKEN
OWN_DA = (
    "Hej {{ first_name }}, {{ creditor }} minder dig om betalingen. Se mere: {{ link }}"
)
CONTEXT = TextContext(
    first_name="Mette",
    creditor="Nordlys Energi A/S",
    link="https://venlig.example/p/abc",
    amount_minor=125_000,
    currency="DKK",
)


@pytest.fixture
def creditor(session: Session) -> Creditor:
    return make_creditor(
        session, MORNING - timedelta(days=60), name="Nordlys Energi A/S"
    )


@pytest.fixture
def sequence(session: Session, creditor: Creditor) -> Sequence:
    return ensure_default_sequence(session, creditor, now=MORNING)


@pytest.fixture
def step(sequence: Sequence) -> Step:
    return editing.live_steps(sequence)[0]  # friendly, day 3


@pytest.fixture
def creditor_user(session: Session, creditor: Creditor) -> User:
    return make_user(session, MORNING, Role.CREDITOR, creditor)


@pytest.fixture
def supervisor(session: Session) -> User:
    return make_user(session, MORNING, Role.SUPERVISOR)


def save(session: Session, step: Step, language: str, wording: str, actor: User, **kw):
    return save_step_text(
        session, step, language, wording, actor=actor, now=MORNING, **kw
    )


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def audits(session: Session) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("step_text_%"))
    )
    return [(row.action, row.detail) for row in rows]


# What a wording may contain


def test_the_placeholders_are_those_the_default_step_texts_use() -> None:
    environment = texts._environment()
    used: set[str] = set()
    for key in editing.SEQUENCE_TEMPLATES:
        for language in LANGUAGES:
            source = texts.template_source(key, language)
            assert source is not None
            used |= meta.find_undeclared_variables(environment.parse(source))
    assert used == {*STEP_PLACEHOLDERS, AMOUNT_PLACEHOLDER}


@pytest.mark.parametrize(
    ("wording", "issue", "detail"),
    [
        ("", WordingIssue.EMPTY, ""),
        ("   \n ", WordingIssue.EMPTY, ""),
        ("x" * (MAX_WORDING_LENGTH + 1), WordingIssue.TOO_LONG, "1000"),
        ("Hej\x00 {{ link }}", WordingIssue.CONTROL_CHARACTER, "U+0000"),
        ("Hej {{ first_name } {{ link }}", WordingIssue.SYNTAX, "unexpected '}'"),
        ("Hej {{ link }} {{", WordingIssue.SYNTAX, "unexpected 'end of template'"),
        ("{# note #} {{ link }}", WordingIssue.NOT_A_PLACEHOLDER, "{# note #}"),
        ("{{ first_name|upper }} {{ link }}", WordingIssue.NOT_A_PLACEHOLDER, ""),
        ("{{ creditor.name }} {{ link }}", WordingIssue.NOT_A_PLACEHOLDER, ""),
        ("{% if amount %}x{% endif %} {{ link }}", WordingIssue.NOT_A_PLACEHOLDER, ""),
        ("{% raw %}{{ x }}{% endraw %} {{ link }}", WordingIssue.NOT_A_PLACEHOLDER, ""),
        ("{{ 'x' * 9 }} {{ link }}", WordingIssue.NOT_A_PLACEHOLDER, ""),
        ("Hej {{ name }} {{ link }}", WordingIssue.UNKNOWN_PLACEHOLDER, "name"),
        ("Hej {{ support_phone }} {{ link }}", WordingIssue.UNKNOWN_PLACEHOLDER, ""),
        (
            "Du skylder {{ amount }}: {{ link }}",
            WordingIssue.AMOUNT_NOT_SHOWN,
            "amount",
        ),
        ("Hej {{ first_name }}, betal her", WordingIssue.LINK_MISSING, "link"),
    ],
)
def test_a_wording_is_refused_naming_its_problem(
    wording: str, issue: WordingIssue, detail: str
) -> None:
    problems = check_wording(wording, show_amount=False)
    assert issue in [p.issue for p in problems]
    problem = next(p for p in problems if p.issue is issue)
    assert detail in problem.detail


def test_plain_placeholders_and_the_amount_when_shown_are_accepted() -> None:
    assert check_wording(OWN_DA, show_amount=False) == []
    with_amount = "Hej {{first_name}}, {{ amount }} mangler: {{- link -}}"
    assert check_wording(with_amount, show_amount=True) == []


FRAGMENTS = st.sampled_from(
    [
        "{{ first_name }}",
        "{{ link }}",
        "{{ amount }}",
        "{{ creditor }}",
        "{{",
        "}}",
        "{%",
        "%}",
        "{#",
        "#}",
        "|upper",
        ".x",
        "NU!!",
        "’",
        "–",
        "inkasso",
        "retten",
        " ",
        "\n",
        "\x00",
        "\ud800",
    ]
)
WORDINGS = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=30).map("".join),
)


@settings(max_examples=300, deadline=None, database=None)
@given(wording=WORDINGS, show_amount=st.booleans())
def test_any_wording_is_either_usable_or_refused_with_a_reason(
    wording: str, show_amount: bool
) -> None:
    problems = check_wording(wording, show_amount=show_amount)
    assert all(p.issue in WordingIssue for p in problems)
    if not problems:
        context = CONTEXT if show_amount else TextContext("Mette", "N", "https://l/x")
        text = render_wording(wording, "da", context)
        assert context.link in text
        assert "{{" not in text


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(wording=WORDINGS)
def test_saving_any_wording_saves_it_or_refuses_it_and_changes_nothing(
    session: Session, step: Step, creditor_user: User, wording: str
) -> None:
    savepoint = session.begin_nested()
    try:
        outcome = attempt(session, step, wording, creditor_user)
        if isinstance(outcome, TextRefused):
            assert outcome.problems or outcome.findings
            assert find_step_text(session, step, "da") is None
        else:
            assert outcome is not None
            assert find_step_text(session, step, "da") is outcome
            assert render_step_text(session, step.id, "friendly", "da", CONTEXT)
    finally:
        savepoint.rollback()


def attempt(
    session: Session, step: Step, wording: str, actor: User
) -> StepText | TextRefused | None:
    try:
        return save(session, step, "da", wording, actor)
    except TextRefused as refused:
        return refused


# Saving, rendering, reverting


def test_a_wording_is_saved_audited_and_sent_in_its_language_only(
    session: Session, step: Step, creditor_user: User
) -> None:
    typed = OWN_DA.replace(", ", ",\n  ", 1)
    saved = save(session, step, "da", f"  {typed}\n", creditor_user)
    assert saved is not None
    assert saved.body == OWN_DA  # whitespace collapsed, as it is sent
    assert (saved.language, saved.saved_by_id, saved.saved_at) == (
        Language.DA,
        creditor_user.id,
        MORNING,
    )
    da = render_step_text(session, step.id, "friendly", "da", CONTEXT)
    assert da == (
        "Hej Mette, Nordlys Energi A/S minder dig om betalingen. "
        "Se mere: https://venlig.example/p/abc"
    )
    # Norwegian and English debtors still get the default.
    nb = render_step_text(session, step.id, "friendly", "nb", CONTEXT)
    assert nb == texts.render_text("friendly", "nb", CONTEXT)
    assert audits(session) == [("step_text_saved", f"da: {OWN_DA}")]


def test_each_language_has_its_own_wording(
    session: Session, step: Step, creditor_user: User
) -> None:
    wordings = {
        "da": "Hej {{ first_name }}. Husk {{ creditor }}: {{ link }}",
        "nb": "Hei {{ first_name }}. Husk {{ creditor }}: {{ link }}",
        "en": "Hi {{ first_name }}. Remember {{ creditor }}: {{ link }}",
    }
    for language, wording in wordings.items():
        save(session, step, language, wording, creditor_user)
    for language, greeting in (("da", "Hej"), ("nb", "Hei"), ("en", "Hi")):
        text = render_step_text(session, step.id, "friendly", language, CONTEXT)
        remember = "Remember" if language == "en" else "Husk"
        assert text == (
            f"{greeting} Mette. {remember} Nordlys Energi A/S: "
            "https://venlig.example/p/abc"
        )
    assert count(session, StepText) == 3


def test_the_amount_is_formatted_for_the_debtor_and_only_while_the_creditor_shows_it(
    session: Session, creditor: Creditor, step: Step, creditor_user: User
) -> None:
    wording = "Hej {{ first_name }}, der mangler {{ amount }}. Se mere: {{ link }}"
    with pytest.raises(TextRefused) as refused:
        save(session, step, "da", wording, creditor_user)
    assert [p.issue for p in refused.value.problems] == [WordingIssue.AMOUNT_NOT_SHOWN]
    creditor.show_amount_in_sms = True
    save(session, step, "da", wording, creditor_user)
    save(session, step, "nb", wording.replace("Hej", "Hei"), creditor_user)
    da = render_step_text(session, step.id, "friendly", "da", CONTEXT)
    assert "der mangler 1.250,00 kr. Se mere" in da  # no second full stop
    in_kroner = dataclasses.replace(CONTEXT, currency="NOK")
    nb = render_step_text(session, step.id, "friendly", "nb", in_kroner)
    assert "der mangler 1 250,00 kr. Se mere" in nb.replace("\xa0", " ")
    # The creditor stops showing amounts: the dispatcher's context carries none, and the
    # saved wording is set aside for the default text, which names no amount.
    creditor.show_amount_in_sms = False
    without = TextContext(CONTEXT.first_name, CONTEXT.creditor, CONTEXT.link)
    text = render_step_text(session, step.id, "friendly", "da", without)
    assert text == texts.render_text("friendly", "da", without)
    assert "1.250" not in text


def test_saving_the_wording_in_use_changes_nothing(
    session: Session, step: Step, creditor_user: User
) -> None:
    default = texts.default_wording("friendly", "da", show_amount=False)
    assert default is not None
    assert save(session, step, "da", default, creditor_user) is None
    save(session, step, "da", OWN_DA, creditor_user)
    assert save(session, step, "da", OWN_DA + "  ", creditor_user) is None
    assert [action for action, _ in audits(session)] == ["step_text_saved"]


def test_reverting_sends_the_default_again(
    session: Session, step: Step, creditor_user: User
) -> None:
    save(session, step, "da", OWN_DA, creditor_user)
    assert revert_step_text(session, step, "da", actor=creditor_user, now=MORNING)
    assert find_step_text(session, step, "da") is None
    text = render_step_text(session, step.id, "friendly", "da", CONTEXT)
    assert text == texts.render_text("friendly", "da", CONTEXT)
    assert not revert_step_text(session, step, "da", actor=creditor_user, now=MORNING)
    assert [action for action, _ in audits(session)] == [
        "step_text_saved",
        "step_text_reverted",
    ]


def test_only_live_sending_steps_in_known_languages_take_a_wording(
    session: Session, sequence: Sequence, step: Step, creditor_user: User
) -> None:
    with pytest.raises(NotFound):
        save(session, step, "sv", OWN_DA, creditor_user)
    hand_over = editing.add_step(
        session,
        sequence,
        StepDraft(40, "", action=StepAction.HAND_TO_AGENT),
        actor=creditor_user,
    )
    with pytest.raises(Conflict):
        save(session, hand_over, "da", OWN_DA, creditor_user)
    step.retired_at = MORNING
    with pytest.raises(Conflict):
        save(session, step, "da", OWN_DA, creditor_user)
    with pytest.raises(Conflict):
        revert_step_text(session, step, "da", actor=creditor_user, now=MORNING)
    assert count(session, StepText) == 0


def test_a_deleted_step_takes_its_wordings_with_it(
    session: Session, sequence: Sequence, step: Step, creditor_user: User
) -> None:
    save(session, step, "da", OWN_DA, creditor_user)
    assert editing.remove_step(session, step, now=MORNING) is editing.Removal.DELETED
    session.expire_all()
    assert count(session, StepText) == 0


# The tone guard


FIRM = "Hej {{ first_name }}. BETAL NU, ellers går sagen til retten: {{ link }}"


def test_a_firm_wording_is_refused_with_the_findings(
    session: Session, step: Step, creditor_user: User
) -> None:
    with pytest.raises(TextRefused) as refused:
        save(session, step, "da", FIRM, creditor_user)
    assert refused.value.problems == ()
    rules = {finding.rule for finding in refused.value.findings}
    assert {"all-caps", "threat"} <= rules
    assert count(session, StepText) == 0
    assert audits(session) == []


def test_a_supervisor_allows_a_firm_wording_a_creditor_cannot(
    session: Session,
    sequence: Sequence,
    step: Step,
    creditor_user: User,
    supervisor: User,
) -> None:
    with pytest.raises(Forbidden):
        save(session, step, "da", FIRM, creditor_user, allow_firm_tone=True)
    saved = save(session, step, "da", FIRM, supervisor, allow_firm_tone=True)
    assert saved is not None
    assert step.firm_tone_allowed_by_id == supervisor.id
    [(_, detail)] = audits(session)
    assert detail.endswith(f"(firm tone allowed by user {supervisor.id})")
    # The sequence knows the step's wording is firm, and allowed.
    assert editing.tone_findings("friendly", {"da": FIRM}).keys() == {"da"}
    assert editing.validate(session, sequence) == []
    # Under that allowance, the creditor may word the step firmly too ...
    firmer = FIRM.replace("Hej", "Kære")
    assert save(session, step, "da", firmer, creditor_user) is not None
    # ... but not with firm words the supervisor has not seen.
    with pytest.raises(TextRefused):
        save(session, step, "da", f"{firmer} Sidste advarsel!!!", creditor_user)
    # ... and taking the allowance back is refused while the wording is firm.
    with pytest.raises(SequenceInvalid) as refused:
        editing.update_step(
            session,
            step,
            StepDraft(3, "friendly"),
            actor=supervisor,
            allow_firm_tone=False,
        )
    assert [p.issue for p in refused.value.problems] == [Issue.FIRM_TONE]
    assert refused.value.problems[0].languages == ("da",)


# Replacing the characters that force UCS-2


def test_replacing_look_alikes_makes_the_wording_gsm7_and_saves_segments(
    session: Session, creditor: Creditor, step: Step, creditor_user: User
) -> None:
    typed = (
        "Hej {{ first_name }} – “{{ creditor }}” har endnu ikke fået din betaling… "
        "Det kan nemt ske. Se detaljer og betal eller vælg en løsning her: {{ link }}"
    )
    save(session, step, "da", typed, creditor_user)
    debtor = make_debtor(session, creditor, MORNING, name="Mette Hansen")
    context = editing.preview_context(session, creditor, debtor, link=LINK)
    before = editing.preview(step, "da", context, typed)
    assert before is not None
    assert (before.own, before.encoding, before.segments) == (True, "UCS-2", 3)
    replaced = replace_look_alikes(
        session, step, "da", actor=creditor_user, now=MORNING
    )
    assert replaced is not None
    assert replaced.body.startswith('Hej {{ first_name }} - "{{ creditor }}" har')
    assert "betaling... Det" in replaced.body
    after = editing.preview(step, "da", context, replaced.body)
    assert after is not None
    assert (after.encoding, after.segments, after.ucs2) == ("GSM-7", 2, ())
    assert count_segments(after.text).segments < before.segments
    assert [action for action, _ in audits(session)] == [
        "step_text_saved",
        "step_text_replaced",
    ]
    # Nothing left to replace.
    assert (
        replace_look_alikes(session, step, "da", actor=creditor_user, now=MORNING)
        is None
    )


@pytest.fixture
def dashed_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shipped texts, but the Danish heads-up typed with an en dash."""
    shutil.copytree(texts.TEMPLATES, tmp_path / "sms")
    friendly = tmp_path / "sms" / "da" / "friendly.txt"
    friendly.write_text(
        friendly.read_text(encoding="utf-8").replace(". Det kan", " – det kan"),
        encoding="utf-8",
    )
    monkeypatch.setattr(texts, "TEMPLATES", tmp_path / "sms")
    texts._environment.cache_clear()
    yield
    texts._environment.cache_clear()


@pytest.mark.usefixtures("dashed_defaults")
def test_replacing_in_a_default_text_makes_it_the_creditors_own(
    session: Session, step: Step, creditor_user: User
) -> None:
    replaced = replace_look_alikes(
        session, step, "da", actor=creditor_user, now=MORNING
    )
    assert replaced is not None
    assert replaced.body == (
        "Hej {{ first_name }}. {{ creditor }} har endnu ikke modtaget betaling - det "
        "kan nemt ske. Se detaljer og betal eller vælg en løsning her: {{ link }}"
    )
    assert [action for action, _ in audits(session)] == ["step_text_replaced"]


def test_a_default_text_without_look_alikes_is_not_copied(
    session: Session, step: Step, creditor_user: User
) -> None:
    # The creditor's name makes this debtor's text UCS-2, but the wording itself has
    # nothing to replace: no own text is made from the default.
    assert (
        replace_look_alikes(session, step, "en", actor=creditor_user, now=MORNING)
        is None
    )
    assert count(session, StepText) == 0


# Previews and the dispatcher


def test_the_preview_shows_the_own_wording_or_why_it_is_set_aside(
    session: Session, creditor: Creditor, step: Step, creditor_user: User
) -> None:
    creditor.show_amount_in_sms = True
    wording = "Hej {{ first_name }}, der mangler {{ amount }}: {{ link }}"
    save(session, step, "da", wording, creditor_user)
    debtor = make_debtor(session, creditor, MORNING, name="Mette Hansen")
    make_account(session, debtor, MORNING, amount_minor=125_000)
    context = editing.preview_context(session, creditor, debtor, link=LINK)
    shown = editing.preview(step, "da", context, wording)
    assert shown is not None
    assert shown.own
    assert shown.text.startswith("Hej Mette, der mangler 1.250,00 kr.:")
    creditor.show_amount_in_sms = False
    context = editing.preview_context(session, creditor, debtor, link=LINK)
    shown = editing.preview(step, "da", context, wording)
    assert shown is not None
    assert not shown.own
    assert [p.issue for p in shown.set_aside] == [WordingIssue.AMOUNT_NOT_SHOWN]
    assert shown.text.startswith("Hej Mette. Nordlys Energi A/S har endnu ikke")


def rules_for(_account, debtor: Debtor):
    return effective_rules(profile_for(debtor.country))


def link_for(token: str) -> str:
    return f"https://venlig.example/p/{token}"


def overdue(session: Session, creditor: Creditor, **debtor: object) -> Debtor:
    person = make_debtor(session, creditor, MORNING - timedelta(days=60), **debtor)
    make_account(
        session,
        person,
        MORNING - timedelta(days=60),
        due_on=MORNING.date() - timedelta(days=5),
    )
    return person


def send_due(session: Session, factory: sessionmaker[Session]) -> FakeSmsSender:
    plan_due_steps(session, now=MORNING, rules_for=rules_for)
    session.commit()
    sender = FakeSmsSender()
    dispatch_due(
        factory, sender, now=MORNING, rules_for=rules_for, link_for=link_for, limit=500
    )
    return sender


def test_the_dispatcher_sends_the_own_wording_and_records_it_as_sent(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,
    step: Step,
    creditor_user: User,
) -> None:
    save(session, step, "da", OWN_DA, creditor_user)
    dane = overdue(session, creditor, name="Mette Hansen")
    norwegian = overdue(session, creditor, name="Ingrid Berg", language=Language.NB)
    sender = send_due(session, session_factory)
    bodies = {sms.to: sms.body for sms in sender.sent}
    assert bodies[dane.phone_e164].startswith(
        "Hej Mette, Nordlys Energi A/S minder dig om betalingen. Se mere: "
        "https://venlig.example/p/"
    )
    assert bodies[norwegian.phone_e164].startswith(
        "Hei Ingrid. Nordlys Energi A/S har ennå ikke mottatt betaling."
    )
    session.expire_all()
    recorded = {m.debtor_id: m.body for m in session.scalars(select(Message))}
    assert recorded[dane.id] == bodies[dane.phone_e164]
    assert recorded[norwegian.id] == bodies[norwegian.phone_e164]


def test_a_batch_of_own_wordings_never_mixes_up_debtors(
    session: Session,
    session_factory: sessionmaker[Session],
    creditor: Creditor,
    step: Step,
    creditor_user: User,
) -> None:
    creditor.show_amount_in_sms = True
    wording = "Kære {{ first_name }}, {{ amount }} til {{ creditor }}: {{ link }}"
    save(session, step, "da", wording, creditor_user)
    names = [f"Person{i:03d} Jensen" for i in range(120)]
    amounts: dict[str, str] = {}
    for i, name in enumerate(names):
        person = make_debtor(session, creditor, MORNING - timedelta(days=60), name=name)
        make_account(
            session,
            person,
            MORNING - timedelta(days=60),
            due_on=MORNING.date() - timedelta(days=5),
            amount_minor=100_000 + i * 100,
        )
        money = format_money(100_000 + i * 100, "DKK", "da_DK")
        amounts[person.phone_e164] = " ".join(money.split())  # as texts are sent
    sender = send_due(session, session_factory)
    assert len(sender.sent) == len(names)
    debtors = {d.phone_e164: d for d in session.scalars(select(Debtor))}
    tokens = set()
    for sms in sender.sent:
        first_name = debtors[sms.to].first_name
        own = f"Kære {first_name}, {amounts[sms.to]} til Nordlys Energi A/S: "
        assert sms.body.startswith(own + "https://venlig.example/p/")
        assert sum(n.split()[0] in sms.body for n in names) == 1
        tokens.add(sms.body.rsplit("/p/", 1)[1])
    assert len(tokens) == len(names)
