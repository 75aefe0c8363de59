"""The sequence editor's domain: add, change, move and remove steps, check, preview.

No Flask: the creditor pages call these with a session and the signed-in user, and commit.
Every change is checked as a whole afterwards and refused with `SequenceInvalid` when it would
leave the sequence with a problem it did not have before; the caller then rolls back, so a
refused change changes nothing.

Steps that already have messages are retired, never deleted: messages reference their step,
and the outbox's claim is unique per (account, step), so a deleted step's id could never be
told apart from a new one and its history would be lost.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.errors import Conflict, DomainError, Forbidden
from app.models import Account, Creditor, Debtor, Message, Sequence, Step, User
from app.models.enums import AccountStatus, Channel, Role, StepAction, StepOffsetFrom
from app.services.ledger import balance_of
from app.services.portal_links import TOKEN_BYTES
from app.services.texts import (
    LANGUAGES,
    ChosenText,
    TextContext,
    WordingProblem,
    choose_text,
    find_wordings,
    render_text,
    template_source,
)
from reminders.segments import Encoding, count_segments, gsm_replacements, to_gsm
from reminders.tone import ToneFinding, check_tone

# The texts a step may send, in the order the editor offers them. The other templates are
# answers and receipts, sent because something happened rather than by the calendar.
SEQUENCE_TEMPLATES = (
    "friendly",
    "reminder",
    "plan_offer",
    "last_notice",
    "firm_notice",
)
MAX_DAY_OFFSET = 365
# Who may allow wording the tone guard refuses: agency staff above the agents.
FIRM_TONE_ALLOWERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
# Approximate list prices of one SMS segment, in minor units of the creditor's currency, by
# the country the text goes to. An estimate for the editor, not what the provider will bill:
# prices change and carriers add fees, so update the table when the price list changes.
SEGMENT_PRICES: Mapping[str, Mapping[str, int]] = {
    "DK": {"DKK": 45, "NOK": 70, "SEK": 70, "EUR": 6},
    "NO": {"NOK": 90, "DKK": 60, "SEK": 90, "EUR": 8},
}
# Previews carry a link exactly as long as a real one (32 characters of token), so their
# segment count is the real one, but it opens nothing.
PREVIEW_TOKEN = "x" * -(-TOKEN_BYTES * 4 // 3)
PLANNED_STATUSES = (
    AccountStatus.OPEN,
    AccountStatus.PROMISED,
    AccountStatus.PLAN,
    AccountStatus.PAUSED,
    AccountStatus.DISPUTED,
)
SAMPLE_FIRST_NAMES = {"DK": "Mette", "NO": "Ingrid"}
SAMPLE_AMOUNT_MINOR = 125_000


class Issue(enum.StrEnum):
    NO_STEPS = "no_steps"
    OFFSET_RANGE = "offset_range"
    OFFSET_ORDER = "offset_order"
    TEMPLATE_MISSING = "template_missing"
    FIRM_TONE = "firm_tone"


@dataclass(frozen=True)
class Problem:
    """Something that keeps a sequence from being saved, about one step or all of them."""

    issue: Issue
    number: int | None = None  # the step's place among the live steps, from 1
    step_id: int | None = None
    day: int | None = None  # OFFSET_ORDER: the day the step falls on ...
    previous_day: int | None = None  # ... and the day of the step before it
    languages: tuple[str, ...] = ()  # TEMPLATE_MISSING, FIRM_TONE

    @property
    def key(self) -> tuple[Issue, int | None]:
        return self.issue, self.step_id


class SequenceInvalid(DomainError):
    """The change would leave the sequence with a problem; roll back, nothing changes."""

    code = "sequence_invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(", ".join(p.issue.value for p in self.problems))


@dataclass(frozen=True)
class StepDraft:
    """What the editor's form says about a step."""

    day_offset: int
    template_key: str
    offset_from: StepOffsetFrom = StepOffsetFrom.DUE_DATE
    channel: Channel = Channel.SMS
    action: StepAction = StepAction.SEND


class Removal(enum.StrEnum):
    DELETED = "deleted"  # never used: gone
    RETIRED = "retired"  # has messages: kept for their history, no longer planned


def live_steps(sequence: Sequence) -> list[Step]:
    """The steps the planner uses, in order."""
    live = [step for step in sequence.steps if step.retired_at is None]
    return sorted(live, key=lambda step: (step.position, step.id or 0))


def step_days(steps: Seq[Step]) -> list[int]:
    """The day each step falls on, counted from the due date (as the planner counts)."""
    days: list[int] = []
    previous = 0
    for step in steps:
        anchor = previous if step.offset_from is StepOffsetFrom.PREVIOUS_STEP else 0
        previous = anchor + step.day_offset
        days.append(previous)
    return days


def add_step(
    session: Session,
    sequence: Sequence,
    draft: StepDraft,
    *,
    actor: User,
    allow_firm_tone: bool = False,
) -> Step:
    """Append a step to the sequence.

    :raises Forbidden: firm tone allowed by someone who may not allow it.
    :raises SequenceInvalid: the sequence would get a problem.
    """
    if allow_firm_tone:
        _require_allower(actor)
    before = validate(session, sequence)
    step = Step(position=1 + max((s.position for s in sequence.steps), default=-1))
    _apply(step, draft)
    step.firm_tone_allowed_by_id = actor.id if allow_firm_tone else None
    sequence.steps.append(step)
    session.flush()
    _refuse_new_problems(session, sequence, before)
    return step


def update_step(
    session: Session,
    step: Step,
    draft: StepDraft,
    *,
    actor: User,
    allow_firm_tone: bool | None = None,
) -> None:
    """Change a step; its sent messages keep their own text.

    `allow_firm_tone` None leaves the allowance alone, unless the text changes: an
    allowance is for the wording a supervisor read, so a new text needs a new one.

    :raises Conflict: the step is retired.
    :raises Forbidden: an allowance given or taken by someone who may not.
    :raises SequenceInvalid: the sequence would get a problem.
    """
    if step.retired_at is not None:
        raise Conflict("A removed step cannot be changed")
    if allow_firm_tone is not None:
        _require_allower(actor)
    sequence = _sequence_of(session, step)
    before = validate(session, sequence)
    new_text = _template_for(draft) != step.template_key
    _apply(step, draft)
    if allow_firm_tone is not None:
        step.firm_tone_allowed_by_id = actor.id if allow_firm_tone else None
    elif new_text:
        step.firm_tone_allowed_by_id = None
    session.flush()
    _refuse_new_problems(session, sequence, before)


def move_step(session: Session, step: Step, direction: Literal["up", "down"]) -> bool:
    """Swap a step with its neighbour; False when it is already first (or last).

    The days stay where they are and the texts move: moving the plan offer up sends it on
    the earlier step's day. Messages already sent are never sent again (they keep their
    step), and for an account that already got a later step the earlier ones are skipped.

    :raises SequenceInvalid: the sequence would get a problem.
    """
    if step.retired_at is not None:
        return False
    sequence = _sequence_of(session, step)
    live = live_steps(sequence)
    index = live.index(step)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(live):
        return False
    other = live[other_index]
    before = validate(session, sequence)
    step.position, other.position = other.position, step.position
    step.day_offset, other.day_offset = other.day_offset, step.day_offset
    step.offset_from, other.offset_from = other.offset_from, step.offset_from
    session.flush()
    _refuse_new_problems(session, sequence, before)
    return True


def remove_step(session: Session, step: Step, *, now: datetime) -> Removal:
    """Delete a step never used, retire one that has messages.

    :raises SequenceInvalid: it is the last step.
    """
    sequence = _sequence_of(session, step)
    if step.retired_at is not None:
        return Removal.RETIRED
    before = validate(session, sequence)
    used = session.scalar(select(exists().where(Message.step_id == step.id)))
    if used:
        step.retired_at = now
        outcome = Removal.RETIRED
    else:
        sequence.steps.remove(step)  # delete-orphan: gone at the flush
        outcome = Removal.DELETED
    session.flush()
    _refuse_new_problems(session, sequence, before)
    return outcome


def validate(session: Session, sequence: Sequence) -> list[Problem]:
    """Everything that keeps the sequence from being saved, in step order."""
    live = live_steps(sequence)
    if not live:
        return [Problem(Issue.NO_STEPS)]
    problems: list[Problem] = []
    days = step_days(live)
    wordings = own_wordings(session, live)
    for index, step in enumerate(live):
        number = index + 1
        if not 0 <= step.day_offset <= MAX_DAY_OFFSET:
            problems.append(Problem(Issue.OFFSET_RANGE, number, step.id))
        elif index and days[index] <= days[index - 1]:
            problems.append(
                Problem(
                    Issue.OFFSET_ORDER,
                    number,
                    step.id,
                    day=days[index],
                    previous_day=days[index - 1],
                )
            )
        problems.extend(_text_problems(step, number, wordings.get(step.id, {})))
    return problems


def own_wordings(session: Session, steps: Seq[Step]) -> dict[int, dict[str, str]]:
    """The creditor's own wordings of these steps: step id -> language -> wording."""
    found: dict[int, dict[str, str]] = {}
    ids = [step.id for step in steps if step.id is not None]
    for (step_id, language), text in find_wordings(session, ids).items():
        found.setdefault(step_id, {})[language] = text.body
    return found


def tone_findings(
    template_key: str, own: Mapping[str, str] | None = None
) -> dict[str, list[ToneFinding]]:
    """The tone guard's findings on a step's texts (the creditor's own wording where it
    has one, by language, else the default); languages without any are left out."""
    found: dict[str, list[ToneFinding]] = {}
    for language in LANGUAGES:
        source = (own or {}).get(language) or template_source(template_key, language)
        findings = check_tone(source, language) if source else []
        if findings:
            found[language] = findings
    return found


def may_allow_firm_tone(user: User) -> bool:
    return user.role in FIRM_TONE_ALLOWERS


# Previews


@dataclass(frozen=True)
class Cost:
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Replacement:
    """A character that forces UCS-2, and its GSM-7 look-alike if it has one."""

    char: str
    replacement: str | None


@dataclass(frozen=True)
class Preview:
    """One step's text as one debtor would get it, and what it costs."""

    language: str
    text: str
    encoding: Encoding
    segments: int
    cost: Cost | None  # None: no price known for that country and currency
    ucs2: tuple[Replacement, ...]
    gsm_text: str | None  # the text with the look-alikes replaced, when that changes it
    gsm_segments: int | None
    own: bool = False  # the creditor's own wording, not the default text
    # Why the creditor's own wording is not what this debtor would get, if it is not.
    set_aside: tuple[WordingProblem, ...] = ()


@dataclass(frozen=True)
class PreviewContext:
    """What the texts are filled with: a real debtor's, or a sample while there is none."""

    text: TextContext
    country: str  # where the texts go: decides the price
    currency: str  # the creditor's: the cost is shown in it
    debtor: Debtor | None


def preview_context(
    session: Session, creditor: Creditor, debtor: Debtor | None, *, link: str
) -> PreviewContext:
    """Fill the texts for `debtor` (or a sample debtor), as the dispatcher would.

    The amount is the debtor's balance on their oldest open account, and only when the
    creditor chose to show amounts in texts.
    """
    amount: int | None = None
    currency = creditor.currency
    if debtor is None:
        first_name = SAMPLE_FIRST_NAMES.get(creditor.country, "Alex")
        amount = SAMPLE_AMOUNT_MINOR if creditor.show_amount_in_sms else None
    else:
        first_name = debtor.first_name
        account = session.scalar(
            select(Account)
            .where(Account.debtor_id == debtor.id, Account.status.in_(PLANNED_STATUSES))
            .order_by(Account.due_on, Account.id)
            .limit(1)
        )
        if account is not None:
            currency = account.currency
            if creditor.show_amount_in_sms:
                amount = balance_of(session, account.id)
    return PreviewContext(
        text=TextContext(
            first_name=first_name,
            creditor=creditor.name,
            link=link,
            support_phone=creditor.support_phone or "",
            amount_minor=amount,
            currency=currency,
        ),
        country=debtor.country if debtor else creditor.country,
        currency=creditor.currency,
        debtor=debtor,
    )


def preview(
    step: Step, language: str, context: PreviewContext, wording: str | None = None
) -> Preview | None:
    """The step's text in `language`, in the creditor's own `wording` if it has one, as
    the dispatcher would send it; None when the step sends nothing or has no such text."""
    if step.action is not StepAction.SEND:
        return None
    if template_source(step.template_key, language) is None:
        return None
    chosen = choose_text(step.template_key, language, context.text, wording)
    return _preview_of(chosen, language, context)


def preview_template(
    template_key: str, language: str, context: PreviewContext
) -> Preview | None:
    """The default text `template_key` in `language`; None when it has none."""
    if template_source(template_key, language) is None:
        return None
    text = render_text(template_key, language, context.text)
    return _preview_of(ChosenText(text, own=False), language, context)


def _preview_of(chosen: ChosenText, language: str, context: PreviewContext) -> Preview:
    text = chosen.text
    counted = count_segments(text)
    look_alikes = gsm_replacements(text)
    gsm_text = to_gsm(text) if look_alikes else None
    gsm_segments = count_segments(gsm_text).segments if gsm_text else None
    return Preview(
        language=language,
        text=text,
        encoding=counted.encoding,
        segments=counted.segments,
        cost=estimate_cost(counted.segments, context.country, context.currency),
        ucs2=tuple(Replacement(c, look_alikes.get(c)) for c in counted.non_gsm),
        gsm_text=gsm_text,
        gsm_segments=gsm_segments,
        own=chosen.own,
        set_aside=chosen.set_aside,
    )


def estimate_cost(segments: int, country: str, currency: str) -> Cost | None:
    """Segments times the list price for the country, in `currency`; None if unknown."""
    price = SEGMENT_PRICES.get(country.upper(), {}).get(currency.upper())
    return None if price is None else Cost(segments * price, currency.upper())


# Helpers


def _apply(step: Step, draft: StepDraft) -> None:
    step.day_offset = draft.day_offset
    step.offset_from = draft.offset_from
    step.channel = draft.channel
    step.action = draft.action
    step.template_key = _template_for(draft)


def _template_for(draft: StepDraft) -> str:
    # A step handed to an agent's queue sends nothing, so it has no text.
    return draft.template_key if draft.action is StepAction.SEND else ""


def _text_problems(step: Step, number: int, own: Mapping[str, str]) -> list[Problem]:
    if step.action is not StepAction.SEND:
        return []
    missing = tuple(
        language
        for language in LANGUAGES
        if template_source(step.template_key, language) is None
    )
    if missing:
        return [Problem(Issue.TEMPLATE_MISSING, number, step.id, languages=missing)]
    if step.firm_tone_allowed_by_id is None:
        firm = tuple(tone_findings(step.template_key, own))
        if firm:
            return [Problem(Issue.FIRM_TONE, number, step.id, languages=firm)]
    return []


def _refuse_new_problems(
    session: Session, sequence: Sequence, before: Iterable[Problem]
) -> None:
    known = {problem.key for problem in before}
    new = [p for p in validate(session, sequence) if p.key not in known]
    if new:
        raise SequenceInvalid(new)


def _require_allower(actor: User) -> None:
    if not may_allow_firm_tone(actor):
        raise Forbidden("Only a supervisor may allow a firm tone")


def _sequence_of(session: Session, step: Step) -> Sequence:
    return session.get_one(Sequence, step.sequence_id)
