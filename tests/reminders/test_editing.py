"""The sequence editor's domain: adding, changing, moving and removing steps, the checks
that refuse a bad sequence, previews with segments and cost, and how the planner takes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden
from app.models import Account, Creditor, Debtor, Message, Sequence, Step, User
from app.models.enums import (
    Channel,
    MessageStatus,
    Role,
    StepAction,
    StepOffsetFrom,
)
from app.services.texts import LANGUAGES
from reminders import editing
from reminders.editing import (
    Issue,
    Removal,
    Replacement,
    SequenceInvalid,
    StepDraft,
)
from reminders.planner import plan_due_steps
from reminders.profiles import effective_rules, profile_for
from reminders.sequences import ensure_default_sequence
from tests.factories import make_account, make_creditor, make_debtor, make_user

# Tuesday 17 November 2026, 10:00 in Copenhagen: inside every contact window.
MORNING = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
LINK = "https://venlig.example/p/" + editing.PREVIEW_TOKEN


@pytest.fixture
def creditor(session: Session) -> Creditor:
    return make_creditor(session, MORNING, name="Nordlys Energi A/S")


@pytest.fixture
def sequence(session: Session, creditor: Creditor) -> Sequence:
    sequence = ensure_default_sequence(session, creditor, now=MORNING)
    session.commit()
    return sequence


@pytest.fixture
def creditor_user(session: Session, creditor: Creditor) -> User:
    return make_user(session, MORNING, Role.CREDITOR, creditor)


@pytest.fixture
def supervisor(session: Session) -> User:
    return make_user(session, MORNING, Role.SUPERVISOR)


def keys(sequence: Sequence) -> list[tuple[int, str]]:
    return [(s.day_offset, s.template_key) for s in editing.live_steps(sequence)]


DEFAULT = [(3, "friendly"), (10, "reminder"), (20, "plan_offer"), (30, "last_notice")]


def test_the_default_sequence_is_valid(session: Session, sequence: Sequence) -> None:
    assert editing.validate(session, sequence) == []
    assert keys(sequence) == DEFAULT
    assert editing.step_days(editing.live_steps(sequence)) == [3, 10, 20, 30]


def test_a_step_is_added_at_the_end(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    step = editing.add_step(
        session, sequence, StepDraft(40, "reminder"), actor=creditor_user
    )
    assert step.id is not None
    assert keys(sequence) == [*DEFAULT, (40, "reminder")]
    assert step.position > max(s.position for s in sequence.steps if s is not step)
    assert step.firm_tone_allowed_by_id is None


def test_a_step_before_the_last_one_is_refused(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    with pytest.raises(SequenceInvalid) as refused:
        editing.add_step(
            session, sequence, StepDraft(25, "reminder"), actor=creditor_user
        )
    [problem] = refused.value.problems
    assert (problem.issue, problem.number) == (Issue.OFFSET_ORDER, 5)
    assert (problem.day, problem.previous_day) == (25, 30)
    session.rollback()
    assert keys(sequence) == DEFAULT


def test_two_steps_on_the_same_day_are_refused(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    draft = StepDraft(0, "reminder", offset_from=StepOffsetFrom.PREVIOUS_STEP)
    with pytest.raises(SequenceInvalid):
        editing.add_step(session, sequence, draft, actor=creditor_user)


def test_a_step_counted_from_the_one_before_falls_after_it(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    draft = StepDraft(5, "reminder", offset_from=StepOffsetFrom.PREVIOUS_STEP)
    editing.add_step(session, sequence, draft, actor=creditor_user)
    assert editing.step_days(editing.live_steps(sequence))[-1] == 35


def test_moving_a_step_keeps_the_days_and_moves_the_text(
    session: Session, sequence: Sequence
) -> None:
    plan_offer = editing.live_steps(sequence)[2]
    assert editing.move_step(session, plan_offer, "up") is True
    assert keys(sequence) == [
        (3, "friendly"),
        (10, "plan_offer"),
        (20, "reminder"),
        (30, "last_notice"),
    ]
    assert editing.live_steps(sequence)[1] is plan_offer
    assert editing.move_step(session, plan_offer, "down") is True
    assert keys(sequence) == DEFAULT


def test_moving_swaps_how_the_days_are_counted_too(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    draft = StepDraft(5, "reminder", offset_from=StepOffsetFrom.PREVIOUS_STEP)
    added = editing.add_step(session, sequence, draft, actor=creditor_user)
    editing.move_step(session, added, "up")
    last = editing.live_steps(sequence)[-1]
    assert (last.template_key, last.offset_from) == (
        "last_notice",
        StepOffsetFrom.PREVIOUS_STEP,
    )
    assert editing.step_days(editing.live_steps(sequence))[-2:] == [30, 35]
    assert editing.validate(session, sequence) == []


def test_the_first_step_cannot_move_up_nor_the_last_down(
    session: Session, sequence: Sequence
) -> None:
    steps = editing.live_steps(sequence)
    assert editing.move_step(session, steps[0], "up") is False
    assert editing.move_step(session, steps[-1], "down") is False
    assert keys(sequence) == DEFAULT


def test_a_step_never_used_is_deleted(session: Session, sequence: Sequence) -> None:
    step = editing.live_steps(sequence)[1]
    step_id = step.id
    assert editing.remove_step(session, step, now=MORNING) is Removal.DELETED
    assert session.get(Step, step_id) is None
    assert keys(sequence) == [DEFAULT[0], *DEFAULT[2:]]


def test_a_step_with_messages_is_retired_and_keeps_them(
    session: Session, sequence: Sequence, creditor: Creditor
) -> None:
    account = _account(session, creditor, days=5)
    plan(session)
    first = editing.live_steps(sequence)[0]
    assert editing.remove_step(session, first, now=MORNING) is Removal.RETIRED
    assert first.retired_at == MORNING
    assert session.get(Step, first.id) is first
    [message] = _messages(session, account)
    assert message.step_id == first.id
    assert keys(sequence) == DEFAULT[1:]


def test_the_last_step_cannot_be_removed(session: Session, sequence: Sequence) -> None:
    steps = editing.live_steps(sequence)
    for step in steps[:-1]:
        editing.remove_step(session, step, now=MORNING)
    with pytest.raises(SequenceInvalid) as refused:
        editing.remove_step(session, steps[-1], now=MORNING)
    assert [p.issue for p in refused.value.problems] == [Issue.NO_STEPS]


def test_a_change_is_checked_against_the_steps_after_it(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    second = editing.live_steps(sequence)[1]
    with pytest.raises(SequenceInvalid) as refused:
        editing.update_step(
            session, second, StepDraft(25, "reminder"), actor=creditor_user
        )
    [problem] = refused.value.problems
    assert (problem.issue, problem.number, problem.day) == (Issue.OFFSET_ORDER, 3, 20)
    session.rollback()
    assert keys(sequence) == DEFAULT


def test_a_retired_step_cannot_be_changed(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    step = editing.live_steps(sequence)[0]
    step.retired_at = MORNING
    with pytest.raises(Conflict):
        editing.update_step(
            session, step, StepDraft(3, "reminder"), actor=creditor_user
        )


def test_a_hand_over_step_has_no_text(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    draft = StepDraft(40, "reminder", action=StepAction.HAND_TO_AGENT)
    step = editing.add_step(session, sequence, draft, actor=creditor_user)
    assert step.template_key == ""
    assert editing.validate(session, sequence) == []
    context = editing.preview_context(
        session, _creditor(session, sequence), None, link=LINK
    )
    assert editing.preview(step, "da", context) is None


def test_a_sending_step_needs_its_text_in_every_language(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    with pytest.raises(SequenceInvalid) as refused:
        editing.add_step(
            session, sequence, StepDraft(40, "no_such_text"), actor=creditor_user
        )
    [problem] = refused.value.problems
    assert problem.issue is Issue.TEMPLATE_MISSING
    assert problem.languages == LANGUAGES


def test_an_empty_sequence_is_invalid(session: Session, creditor: Creditor) -> None:
    sequence = Sequence(
        creditor_id=creditor.id, name="Empty", is_default=False, created_at=MORNING
    )
    session.add(sequence)
    session.flush()
    assert [p.issue for p in editing.validate(session, sequence)] == [Issue.NO_STEPS]


# Tone


def test_the_shipped_sequence_texts_are_polite_except_the_firm_notice() -> None:
    for key in editing.SEQUENCE_TEMPLATES:
        findings = editing.tone_findings(key)
        if key == "firm_notice":
            assert set(findings) == set(LANGUAGES)
            assert {f.rule for fs in findings.values() for f in fs} == {"consequence"}
        else:
            assert findings == {}, key


def test_a_firm_text_is_refused_without_a_supervisors_allowance(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    with pytest.raises(SequenceInvalid) as refused:
        editing.add_step(
            session, sequence, StepDraft(40, "firm_notice"), actor=creditor_user
        )
    [problem] = refused.value.problems
    assert problem.issue is Issue.FIRM_TONE
    assert problem.languages == LANGUAGES


def test_only_a_supervisor_may_allow_a_firm_text(
    session: Session, sequence: Sequence, creditor_user: User
) -> None:
    with pytest.raises(Forbidden):
        editing.add_step(
            session,
            sequence,
            StepDraft(40, "firm_notice"),
            actor=creditor_user,
            allow_firm_tone=True,
        )
    agent = make_user(session, MORNING, Role.AGENT)
    assert not editing.may_allow_firm_tone(agent)


def test_a_supervisor_allows_a_firm_text_and_a_new_text_needs_a_new_allowance(
    session: Session, sequence: Sequence, creditor_user: User, supervisor: User
) -> None:
    step = editing.add_step(
        session,
        sequence,
        StepDraft(40, "firm_notice"),
        actor=supervisor,
        allow_firm_tone=True,
    )
    assert step.firm_tone_allowed_by_id == supervisor.id
    assert editing.validate(session, sequence) == []
    # The creditor may move its day: the allowance is for the words, which stay.
    editing.update_step(
        session, step, StepDraft(45, "firm_notice"), actor=creditor_user
    )
    assert step.firm_tone_allowed_by_id == supervisor.id
    # Another text drops the allowance; going back to the firm one needs a new one.
    editing.update_step(session, step, StepDraft(45, "reminder"), actor=creditor_user)
    assert step.firm_tone_allowed_by_id is None
    with pytest.raises(SequenceInvalid):
        editing.update_step(
            session, step, StepDraft(45, "firm_notice"), actor=creditor_user
        )


def test_a_supervisor_may_take_an_allowance_back(
    session: Session, sequence: Sequence, supervisor: User
) -> None:
    step = editing.add_step(
        session,
        sequence,
        StepDraft(40, "firm_notice"),
        actor=supervisor,
        allow_firm_tone=True,
    )
    with pytest.raises(SequenceInvalid):
        editing.update_step(
            session,
            step,
            StepDraft(40, "firm_notice"),
            actor=supervisor,
            allow_firm_tone=False,
        )


def test_an_old_problem_does_not_block_other_changes(
    session: Session, sequence: Sequence, creditor_user: User, supervisor: User
) -> None:
    # A firm step whose allowing supervisor has since left stays visible as a problem,
    # but the creditor can still change the rest of the sequence.
    step = editing.add_step(
        session,
        sequence,
        StepDraft(40, "firm_notice"),
        actor=supervisor,
        allow_firm_tone=True,
    )
    step.firm_tone_allowed_by_id = None
    session.flush()
    assert [p.issue for p in editing.validate(session, sequence)] == [Issue.FIRM_TONE]
    first = editing.live_steps(sequence)[0]
    editing.update_step(session, first, StepDraft(2, "friendly"), actor=creditor_user)
    assert first.day_offset == 2


# Previews


def test_a_preview_is_the_text_a_real_debtor_gets_in_each_language(
    session: Session, sequence: Sequence, creditor: Creditor
) -> None:
    debtor = make_debtor(session, creditor, MORNING, name="Mette Hansen")
    make_account(session, debtor, MORNING, amount_minor=125_000)
    context = editing.preview_context(session, creditor, debtor, link=LINK)
    first = editing.live_steps(sequence)[0]
    previews = [editing.preview(first, lang, context) for lang in LANGUAGES]
    da, nb, en = previews
    assert da is not None
    assert nb is not None
    assert en is not None
    assert da.text.startswith("Hej Mette. Nordlys Energi A/S har endnu ikke")
    assert nb.text.startswith("Hei Mette.")
    assert en.text.startswith("Hi Mette.")
    for preview in previews:
        assert preview is not None
        assert LINK in preview.text
        assert "1.250" not in preview.text
        assert "1 250" not in preview.text
        assert (preview.encoding, preview.ucs2, preview.gsm_text) == ("GSM-7", (), None)
        assert preview.segments == 2  # the link alone is 57 characters
        assert preview.cost == editing.Cost(90, "DKK")


def test_the_amount_is_in_the_preview_only_when_the_creditor_opted_in(
    session: Session, sequence: Sequence, creditor: Creditor
) -> None:
    creditor.show_amount_in_sms = True
    debtor = make_debtor(session, creditor, MORNING, name="Mette Hansen")
    make_account(session, debtor, MORNING, amount_minor=125_000)
    context = editing.preview_context(session, creditor, debtor, link=LINK)
    reminder = editing.live_steps(sequence)[1]
    da = editing.preview(reminder, "da", context)
    nb = editing.preview(reminder, "nb", context)
    assert da is not None
    assert "på 1.250,00 kr." in da.text
    assert nb is not None
    assert "1 250,00" in nb.text


def test_characters_that_force_ucs2_come_with_their_replacements(
    session: Session, sequence: Sequence
) -> None:
    creditor = make_creditor(session, MORNING, name="Jensen’s Bageri")
    debtor = make_debtor(session, creditor, MORNING, name="Zoë Berg")
    context = editing.preview_context(session, creditor, debtor, link=LINK)
    preview = editing.preview_template("friendly", "en", context)
    assert preview is not None
    assert preview.encoding == "UCS-2"
    assert preview.ucs2 == (Replacement("ë", None), Replacement("’", "'"))
    assert preview.gsm_text is not None
    assert "Jensen's Bageri" in preview.gsm_text
    assert preview.segments == 3
    # ë has no look-alike (we never change a name), so the text stays UCS-2.
    assert preview.gsm_segments == 3


def test_replacing_look_alikes_can_save_segments(session: Session) -> None:
    creditor = make_creditor(session, MORNING, name="Jensen’s Bageri")
    debtor = make_debtor(session, creditor, MORNING, name="Mette Hansen")
    context = editing.preview_context(session, creditor, debtor, link=LINK)
    preview = editing.preview_template("friendly", "en", context)
    assert preview is not None
    assert (preview.encoding, preview.segments, preview.gsm_segments) == ("UCS-2", 3, 2)
    assert preview.ucs2 == (Replacement("’", "'"),)


def test_without_debtors_the_preview_uses_a_sample(
    session: Session, sequence: Sequence
) -> None:
    creditor = _creditor(session, sequence)
    context = editing.preview_context(session, creditor, None, link=LINK)
    preview = editing.preview(editing.live_steps(sequence)[0], "en", context)
    assert preview is not None
    assert preview.text.startswith("Hi Mette.")


def test_cost_is_an_estimate_per_country_in_the_creditors_currency() -> None:
    assert editing.estimate_cost(2, "DK", "DKK") == editing.Cost(90, "DKK")
    assert editing.estimate_cost(1, "no", "nok") == editing.Cost(90, "NOK")
    assert editing.estimate_cost(1, "SE", "SEK") is None
    assert editing.estimate_cost(1, "DK", "JPY") is None


# The planner and edited sequences


def test_the_planner_skips_a_retired_step_and_goes_on_with_the_next(
    session: Session, sequence: Sequence, creditor: Creditor
) -> None:
    account = _account(session, creditor, days=5)
    assert plan(session).queued == 1  # friendly, day 3
    reminder = editing.live_steps(sequence)[1]
    editing.remove_step(session, reminder, now=MORNING)  # unused: deleted
    plan_offer = editing.live_steps(sequence)[1]
    plan_offer.retired_at = MORNING  # as if it had messages elsewhere
    session.flush()
    session.expire_all()
    # Day 12 and day 22: neither the removed nor the retired step is planned.
    assert plan(session, MORNING + timedelta(days=7)).queued == 0
    assert plan(session, MORNING + timedelta(days=17)).queued == 0
    # Day 30: the last notice is.
    assert plan(session, MORNING + timedelta(days=25)).queued == 1
    assert [m.template_key for m in _messages(session, account)] == [
        "friendly",
        "last_notice",
    ]


def test_a_moved_step_is_never_sent_twice(
    session: Session, sequence: Sequence, creditor: Creditor
) -> None:
    account = _account(session, creditor, days=12)
    plan(session)  # day 12: the reminder (the friendly step is superseded)
    reminder = editing.live_steps(sequence)[1]
    editing.move_step(session, reminder, "down")  # now on day 20
    session.expire_all()
    assert plan(session, MORNING + timedelta(days=9)).queued == 0
    assert plan(session, MORNING + timedelta(days=20)).queued == 1  # a Monday
    sent = [(m.template_key, m.status) for m in _messages(session, account)]
    assert sent == [
        ("friendly", MessageStatus.SUPPRESSED),
        ("reminder", MessageStatus.QUEUED),
        ("last_notice", MessageStatus.QUEUED),
    ]
    assert _count(session, Message) == 3


def test_a_new_email_step_is_planned_by_email(
    session: Session, sequence: Sequence, creditor: Creditor, creditor_user: User
) -> None:
    draft = StepDraft(2, "friendly", channel=Channel.EMAIL)
    first = editing.live_steps(sequence)[0]
    editing.update_step(session, first, draft, actor=creditor_user)
    account = _account(session, creditor, days=2, email="mette@example.test")
    plan(session)
    [message] = _messages(session, account)
    assert message.channel is Channel.EMAIL


# Helpers


def plan(session: Session, now: datetime = MORNING):
    return plan_due_steps(
        session,
        now=now,
        rules_for=lambda _account, debtor: effective_rules(profile_for(debtor.country)),
    )


def _account(
    session: Session, creditor: Creditor, *, days: int, **debtor: object
) -> Account:
    person: Debtor = make_debtor(
        session, creditor, MORNING - timedelta(days=60), **debtor
    )
    return make_account(
        session,
        person,
        MORNING - timedelta(days=60),
        due_on=MORNING.date() - timedelta(days=days),
    )


def _messages(session: Session, account: Account) -> list[Message]:
    return list(
        session.scalars(
            select(Message).where(Message.account_id == account.id).order_by(Message.id)
        )
    )


def _count(session: Session, model: type[Message]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _creditor(session: Session, sequence: Sequence) -> Creditor:
    return session.get_one(Creditor, sequence.creditor_id)
