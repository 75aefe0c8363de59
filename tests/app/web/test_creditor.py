"""The creditor's sequence editor and settings over HTTP: a creditor edits its own, nobody
else's; agents have no access; bad input is refused with 400 and changes nothing; a firm text
needs a supervisor; every change is audited."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.chat.hours import hours_for
from app.models import AuditEvent, Creditor, PlanRules, Sequence, Step, StepText, User
from app.models.enums import Role, StepAction, VerificationFactor
from reminders import editing
from reminders.sequences import ensure_default_sequence
from tests.app.web.helpers import csrf_token, sign_in
from tests.factories import make_account, make_creditor, make_debtor, make_user

SEQUENCE = "/creditor/sequence"
SETTINGS = "/creditor/settings"


@dataclass
class Tenant:
    creditor: Creditor
    user: User
    sequence: Sequence


@pytest.fixture
def tenant(session: Session, now: datetime) -> Tenant:
    creditor = make_creditor(session, now, name="Nordlys Energi A/S")
    debtor = make_debtor(session, creditor, now, name="Mette Hansen")
    make_account(session, debtor, now)
    user = make_user(session, now, Role.CREDITOR, creditor)
    sequence = ensure_default_sequence(session, creditor, now=now)
    session.commit()
    return Tenant(creditor, user, sequence)


@pytest.fixture
def other(session: Session, now: datetime) -> Tenant:
    creditor = make_creditor(session, now, name="Fjellvann AS", country="NO")
    user = make_user(session, now, Role.CREDITOR, creditor)
    sequence = ensure_default_sequence(session, creditor, now=now)
    session.commit()
    return Tenant(creditor, user, sequence)


def signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user.email)
    client.get("/lang/en")
    return client


@pytest.fixture
def client(app: Flask, tenant: Tenant) -> FlaskClient:
    return signed_in(app, tenant.user)


def post(client: FlaskClient, url: str, **data: object) -> TestResponse:
    return client.post(url, data={"csrf_token": csrf_token(client, SEQUENCE), **data})


def step_fields(prefix: str, day: int, text: str, **extra: str) -> dict[str, str]:
    fields = {
        "day_offset": str(day),
        "offset_from": "due_date",
        "action": "send",
        "template_key": text,
        "channel": "sms",
        **extra,
    }
    return {f"{prefix}-{name}": value for name, value in fields.items()}


def add(client: FlaskClient, day: int, text: str, query: str = "", **extra: str):
    token = csrf_token(client, SEQUENCE + query)
    data = {"new-csrf_token": token, **step_fields("new", day, text, **extra)}
    return client.post(f"{SEQUENCE}/steps{query}", data=data)


def update(client: FlaskClient, step: Step, day: int, text: str, **extra: str):
    prefix = f"step-{step.id}"
    token = csrf_token(client, SEQUENCE)
    data = {f"{prefix}-csrf_token": token, **step_fields(prefix, day, text, **extra)}
    return client.post(f"{SEQUENCE}/steps/{step.id}", data=data)


def live(session: Session, sequence: Sequence) -> list[tuple[int, str]]:
    session.expire_all()
    return [(s.day_offset, s.template_key) for s in editing.live_steps(sequence)]


def audits(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    )


DEFAULT = [(3, "friendly"), (10, "reminder"), (20, "plan_offer"), (30, "last_notice")]


# The sequence editor


def test_a_creditor_sees_its_steps_previewed_for_a_real_debtor_in_three_languages(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    response = client.get(SEQUENCE)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Reminder sequence of Nordlys Energi A/S" in page
    assert page.count('<li class="card step"') == 4
    assert "Hej Mette. Nordlys Energi A/S har endnu ikke modtaget betaling." in page
    assert "Hei Mette. Nordlys Energi A/S har ennå ikke mottatt betaling." in page
    assert "Hi Mette. Nordlys Energi A/S has not yet received your payment." in page
    assert page.count('lang="da"') >= 4
    assert page.count('lang="nb"') >= 4
    assert re.search(r'class="segments">\d segments?<', page)
    assert "GSM-7" in page
    assert "about 0,90 kr. a text" in page.replace("\xa0", " ")
    # Reading a debtor's name is a read of their data: audited.
    [viewed] = audits(session, "viewed")
    assert viewed.detail == "sequence preview"
    assert viewed.creditor_id == tenant.creditor.id


def test_a_creditor_adds_moves_changes_and_removes_a_step(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    response = add(client, 40, "reminder")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert live(session, tenant.sequence) == [*DEFAULT, (40, "reminder")]
    added = editing.live_steps(tenant.sequence)[-1]

    response = post(client, f"{SEQUENCE}/steps/{added.id}/move", direction="up")
    assert response.status_code == 302
    assert live(session, tenant.sequence)[-2:] == [
        (30, "reminder"),
        (40, "last_notice"),
    ]

    response = update(client, added, 32, "plan_offer")
    assert response.status_code == 302
    assert live(session, tenant.sequence)[-2:] == [
        (32, "plan_offer"),
        (40, "last_notice"),
    ]

    response = post(client, f"{SEQUENCE}/steps/{added.id}/remove")
    assert response.status_code == 302
    assert session.scalar(select(func.count()).where(Step.id == added.id)) == 0
    # The last notice kept the day it got when the new step moved above it.
    assert live(session, tenant.sequence) == [*DEFAULT[:3], (40, "last_notice")]

    actions = [e.action for e in audits_of(session, tenant.creditor)]
    assert actions == [
        "sequence_step_added",
        "sequence_step_moved",
        "sequence_step_changed",
        "sequence_step_deleted",
    ]
    assert all(
        e.actor_user_id == tenant.user.id for e in audits_of(session, tenant.creditor)
    )


def test_a_step_can_hand_the_account_to_an_agent(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    response = add(client, 40, "", action="hand_to_agent")
    assert response.status_code == 302
    session.expire_all()
    step = editing.live_steps(tenant.sequence)[-1]
    assert (step.action, step.template_key) == (StepAction.HAND_TO_AGENT, "")
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "No text is sent: the account goes to an agent" in page


@pytest.mark.parametrize(
    ("day", "text", "message"),
    [
        ("abc", "reminder", "Not a valid integer value."),
        ("", "reminder", "Enter a number of days."),
        ("400", "reminder", "Enter 0 to 365 days."),
        ("25", "reminder", "Step 5 would come on day 25 after the due date"),
        ("40", "help", "Not a valid choice"),
        ("40", "", "Choose the text this step sends."),
    ],
)
def test_a_bad_step_is_refused_and_nothing_changes(
    client: FlaskClient,
    session: Session,
    tenant: Tenant,
    day: str,
    text: str,
    message: str,
) -> None:
    response = add(client, day, text)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert live(session, tenant.sequence) == DEFAULT
    assert audits_of(session, tenant.creditor) == []


def test_a_change_that_breaks_the_order_is_refused_next_to_the_field(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    second = editing.live_steps(tenant.sequence)[1]
    response = update(client, second, 25, "reminder")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    field = f"step-{second.id}-day_offset"
    assert f'aria-describedby="{field}-error"' in page
    assert f'id="{field}-error"' in page
    assert "Step 3 would come on day 20" in page
    assert '<details class="edit-step" open>' in page
    assert live(session, tenant.sequence) == DEFAULT


def test_the_last_step_cannot_be_removed(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    steps = editing.live_steps(tenant.sequence)
    for step in steps[:-1]:
        assert post(client, f"{SEQUENCE}/steps/{step.id}/remove").status_code == 302
    response = post(client, f"{SEQUENCE}/steps/{steps[-1].id}/remove")
    assert response.status_code == 400
    assert "A sequence needs at least one step." in response.get_data(as_text=True)
    assert live(session, tenant.sequence) == [(30, "last_notice")]


def test_a_move_without_a_direction_or_token_is_refused(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    step = editing.live_steps(tenant.sequence)[1]
    assert post(client, f"{SEQUENCE}/steps/{step.id}/move").status_code == 400
    response = client.post(f"{SEQUENCE}/steps/{step.id}/move", data={"direction": "up"})
    assert response.status_code == 400
    assert live(session, tenant.sequence) == DEFAULT


def test_another_creditors_user_cannot_see_or_change_the_sequence(
    app: Flask, session: Session, tenant: Tenant, other: Tenant
) -> None:
    intruder = signed_in(app, other.user)
    step = editing.live_steps(tenant.sequence)[1]
    assert intruder.get(f"{SEQUENCE}?creditor={tenant.creditor.id}").status_code == 404
    assert update(intruder, step, 12, "reminder").status_code == 404
    response = post(intruder, f"{SEQUENCE}/steps/{step.id}/move", direction="up")
    assert response.status_code == 404
    assert post(intruder, f"{SEQUENCE}/steps/{step.id}/remove").status_code == 404
    assert (
        add(intruder, 40, "reminder", f"?creditor={tenant.creditor.id}").status_code
        == 404
    )
    assert live(session, tenant.sequence) == DEFAULT
    # Its own page previews its own texts, for a sample as it has no debtors yet.
    page = intruder.get(SEQUENCE).get_data(as_text=True)
    assert "Reminder sequence of Fjellvann AS" in page
    assert "shown for a sample debtor, Ingrid." in page
    assert "Mette" not in page


def test_an_agent_has_no_access(
    app: Flask, session: Session, tenant: Tenant, now: datetime
) -> None:
    agent = make_user(session, now, Role.AGENT)
    session.commit()
    client = signed_in(app, agent)
    step = editing.live_steps(tenant.sequence)[1]
    assert client.get(SEQUENCE).status_code == 403
    assert client.get(SETTINGS).status_code == 403
    token = csrf_token(client, "/debtors")
    data = {"csrf_token": token, "direction": "up"}
    assert client.post(f"{SEQUENCE}/steps/{step.id}/move", data=data).status_code == 403
    assert client.post(SETTINGS, data=data).status_code == 403
    assert live(session, tenant.sequence) == DEFAULT


def test_signed_out_visitors_are_sent_to_sign_in(app: Flask) -> None:
    response = app.test_client().get(SEQUENCE)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_firm_text_is_refused_for_a_creditor_and_allowed_by_a_supervisor(
    app: Flask, client: FlaskClient, session: Session, tenant: Tenant, now: datetime
) -> None:
    response = add(client, 40, "firm_notice")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A supervisor must read and allow it" in page
    assert "allow_firm_tone" not in page  # a creditor cannot tick it
    # A creditor cannot smuggle the allowance in either.
    assert add(client, 40, "firm_notice", **{"allow_firm_tone": "y"}).status_code == 400
    assert live(session, tenant.sequence) == DEFAULT

    supervisor = make_user(session, now, Role.SUPERVISOR, name="Signe Sørensen")
    session.commit()
    boss = signed_in(app, supervisor)
    query = f"?creditor={tenant.creditor.id}"
    page = boss.get(SEQUENCE + query).get_data(as_text=True)
    assert 'name="new-allow_firm_tone"' in page
    # Explicit: without the tick even a supervisor is refused.
    assert add(boss, 40, "firm_notice", query).status_code == 400
    response = add(boss, 40, "firm_notice", query, allow_firm_tone="y")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(query)
    session.expire_all()
    step = editing.live_steps(tenant.sequence)[-1]
    assert (step.template_key, step.firm_tone_allowed_by_id) == (
        "firm_notice",
        supervisor.id,
    )
    [added] = audits(session, "sequence_step_added")
    assert "firm tone allowed" in added.detail
    assert added.actor_user_id == supervisor.id

    # The creditor sees the findings next to the text, and who allowed it.
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "Firm, allowed by Signe Sørensen" in page
    assert "we will pass the case to a debt collection agency" in page
    assert "plus a consequence reads as a threat" in page
    # ... and may move its day, but not swap in another firm text without a supervisor.
    assert update(client, step, 45, "firm_notice").status_code == 302
    assert update(client, step, 45, "reminder").status_code == 302
    assert update(client, step, 45, "firm_notice").status_code == 400


def test_agency_staff_choose_the_creditor_first(
    app: Flask, session: Session, tenant: Tenant, now: datetime
) -> None:
    admin = make_user(session, now, Role.ADMIN)
    session.commit()
    client = signed_in(app, admin)
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "Choose a creditor" in page
    assert f"{SEQUENCE}?creditor={tenant.creditor.id}" in page
    assert client.get(f"{SEQUENCE}?creditor=999999").status_code == 404
    assert client.get(f"{SETTINGS}?creditor={tenant.creditor.id}").status_code == 200


def test_the_preview_debtor_can_be_chosen_but_only_among_the_creditors_own(
    client: FlaskClient, session: Session, tenant: Tenant, other: Tenant, now: datetime
) -> None:
    ida = make_debtor(session, tenant.creditor, now, name="Ida Berg")
    stranger = make_debtor(session, other.creditor, now, name="Kari Nordmann")
    session.commit()
    page = client.get(f"{SEQUENCE}?debtor={ida.id}").get_data(as_text=True)
    assert "Hej Ida." in page
    page = client.get(f"{SEQUENCE}?debtor={stranger.id}").get_data(as_text=True)
    assert "Kari" not in page
    assert "Hej Mette." in page or "Hej Ida." in page


# Settings


# A step's own texts


def text_url(step: Step, language: str = "da", action: str = "") -> str:
    return f"{SEQUENCE}/steps/{step.id}/texts/{language}{action}"


def save_text(
    client: FlaskClient, step: Step, wording: str, language: str = "da", **extra: str
) -> TestResponse:
    prefix = f"text-{step.id}-{language}"
    data = {
        f"{prefix}-csrf_token": csrf_token(client, SEQUENCE),
        f"{prefix}-wording": wording,
        **{f"{prefix}-{name}": value for name, value in extra.items()},
    }
    return client.post(text_url(step, language), data=data)


def own_texts(session: Session) -> list[tuple[int, str, str]]:
    session.expire_all()
    rows = session.scalars(select(StepText).order_by(StepText.id))
    return [(row.step_id, row.language.value, row.body) for row in rows]


OWN = "Hej {{ first_name }}, husk {{ creditor }}. Se mere her: {{ link }}"


def test_a_creditor_words_a_step_in_danish_and_sees_it_previewed(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    step = editing.live_steps(tenant.sequence)[0]
    page = client.get(SEQUENCE).get_data(as_text=True)
    # The form starts from the default text, placeholders and all.
    assert f'name="text-{step.id}-da-wording"' in page
    assert "Hej {{ first_name }}. {{ creditor }} har endnu ikke modtaget" in page
    assert "Your text (Dansk)" in page
    response = save_text(client, step, OWN)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#step-{step.id}")
    assert own_texts(session) == [(step.id, "da", OWN)]
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "Text saved." in page
    assert "Hej Mette, husk Nordlys Energi A/S. Se mere her: http" in page
    assert "your own text" in page
    assert "Revert to the default text" in page
    [saved] = audits(session, "step_text_saved")
    assert (saved.actor_user_id, saved.object_id) == (tenant.user.id, step.id)
    assert saved.detail == f"da: {OWN}"
    # Saving it again changes nothing.
    save_text(client, step, OWN)
    assert "Nothing was changed." in client.get(SEQUENCE).get_data(as_text=True)
    assert len(audits(session, "step_text_saved")) == 1


@pytest.mark.parametrize(
    ("wording", "message"),
    [
        ("", "Write the text: it cannot be empty."),
        ("Hej {{ first_name }}, betal venligst.", "The text must contain {{ link }}"),
        ("Hej {{ navn }}: {{ link }}", "{{ navn }} is not a placeholder you can use"),
        ("Hej {{ first_name }: {{ link }}", "a placeholder is not written correctly"),
        ("{{ first_name|upper }}: {{ link }}", "{{ first_name|upper }} is not allowed"),
        ("{{ amount }}: {{ link }}", "{{ amount }} can only be used when your texts"),
    ],
)
def test_a_bad_wording_is_refused_next_to_the_text_and_nothing_is_saved(
    client: FlaskClient, session: Session, tenant: Tenant, wording: str, message: str
) -> None:
    step = editing.live_steps(tenant.sequence)[1]
    response = save_text(client, step, wording)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This change was not saved" in page
    assert "Step 2, Dansk:" in page
    assert f'id="text-{step.id}-da-wording-error"' in page
    assert html.escape(message, quote=False) in page
    # The draft stays in the form, which stays open.
    assert html.escape(wording, quote=False) in page
    assert own_texts(session) == []
    assert audits(session, "step_text_saved") == []


def test_a_wording_without_the_token_is_refused(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    step = editing.live_steps(tenant.sequence)[0]
    data = {f"text-{step.id}-da-wording": OWN}
    assert client.post(text_url(step), data=data).status_code == 400
    assert client.post(text_url(step, action="/gsm")).status_code == 400
    assert client.post(text_url(step, action="/revert")).status_code == 400
    assert own_texts(session) == []


def test_another_creditors_step_texts_are_not_found(
    app: Flask, client: FlaskClient, session: Session, tenant: Tenant, other: Tenant
) -> None:
    step = editing.live_steps(tenant.sequence)[0]
    assert save_text(client, step, OWN).status_code == 302
    intruder = signed_in(app, other.user)
    assert save_text(intruder, step, "Hej: {{ link }}").status_code == 404
    assert post(intruder, text_url(step, action="/gsm")).status_code == 404
    assert post(intruder, text_url(step, action="/revert")).status_code == 404
    assert own_texts(session) == [(step.id, "da", OWN)]
    # An unknown language is not found either.
    assert save_text(client, step, OWN, language="sv").status_code == 404


def test_a_firm_wording_needs_a_supervisors_allowance(
    app: Flask, client: FlaskClient, session: Session, tenant: Tenant, now: datetime
) -> None:
    step = editing.live_steps(tenant.sequence)[0]
    firm = "Hej {{ first_name }}. BETAL NU, ellers går sagen til retten: {{ link }}"
    response = save_text(client, step, firm, allow_firm_tone="y")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The tone guard found firm wording." in page
    assert "a supervisor must allow firm tone for this step" in page
    assert "“BETAL NU”: Capitals read as shouting" in page
    assert own_texts(session) == []

    supervisor = make_user(session, now, Role.SUPERVISOR, name="Signe Sørensen")
    session.commit()
    boss = signed_in(app, supervisor)
    assert save_text(boss, step, firm).status_code == 400
    assert save_text(boss, step, firm, allow_firm_tone="y").status_code == 302
    session.expire_all()
    assert step.firm_tone_allowed_by_id == supervisor.id
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "Firm, allowed by Signe Sørensen" in page
    assert "Capitals read as shouting" in page  # the findings, next to the text


def test_replacing_look_alikes_saves_segments_and_reverting_brings_the_default_back(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    step = editing.live_steps(tenant.sequence)[0]
    typed = (
        "Hej {{ first_name }} – “{{ creditor }}” har endnu ikke fået din betaling. "
        "Se detaljer og betal eller vælg en løsning her: {{ link }}"
    )
    assert save_text(client, step, typed).status_code == 302
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "UCS-2" in page
    assert "Replace with GSM-7 characters" in page
    response = post(client, text_url(step, action="/gsm"))
    assert response.status_code == 302
    [(_, _, body)] = own_texts(session)
    assert body.startswith('Hej {{ first_name }} - "{{ creditor }}" har')
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "Characters replaced: the Dansk text now needs 2 segments (GSM-7)." in page
    assert "Hej Mette - &#34;Nordlys Energi A/S&#34; har" in page
    [replaced] = audits(session, "step_text_replaced")
    assert replaced.detail == f"da: {body}"
    assert replaced.creditor_id == tenant.creditor.id
    # Nothing left to replace.
    post(client, text_url(step, action="/gsm"))
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "This text has no characters to replace." in page

    assert post(client, text_url(step, action="/revert")).status_code == 302
    assert own_texts(session) == []
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "The default text is used again." in page
    assert "Hej Mette. Nordlys Energi A/S har endnu ikke modtaget betaling." in page
    assert audits(session, "step_text_reverted")[0].detail == "da"


def test_a_default_without_look_alikes_is_not_copied_by_the_replacement(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    # A default has nothing to replace, so there is no button and nothing is copied.
    step = editing.live_steps(tenant.sequence)[0]
    assert post(client, text_url(step, "en", "/gsm")).status_code == 302
    assert own_texts(session) == []


def settings_form(**changes: str) -> dict[str, str]:
    values = {
        "show_amount_in_sms": "",
        "sms_sender_name": "NordlysEl",
        "verification_factor": "postcode",
        "support_phone": "70 20 10 30",
        "support_email": "hjaelp@nordlys.example",
        "max_instalments": "12",
        "min_instalment": "150.50",
        "first_payment_within_days": "10",
        "allow_monthly": "y",
        "allow_fortnightly": "",
        "allow_weekly": "y",
        "payday_day_of_month": "25",
        "grace_moves_missed_instalment": "y",
        "promise_max_days": "21",
        "breathing_space_days": "45",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value}


def save(client: FlaskClient, query: str = "", **changes: str) -> TestResponse:
    token = csrf_token(client, SETTINGS + query)
    return client.post(
        SETTINGS + query, data={"csrf_token": token, **settings_form(**changes)}
    )


def test_a_creditor_saves_its_settings_and_each_change_is_audited(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "whoever sees the phone" in page
    assert 'aria-describedby="amount-explained show_amount_in_sms-hint"' in page

    response = save(client)
    assert response.status_code == 302
    session.expire_all()
    creditor = session.get_one(Creditor, tenant.creditor.id)
    assert creditor.sms_sender_name == "NordlysEl"
    assert creditor.verification_factor is VerificationFactor.POSTCODE
    assert creditor.support_phone == "+4570201030"
    assert creditor.support_email == "hjaelp@nordlys.example"
    assert creditor.show_amount_in_sms is False
    rules = session.scalars(
        select(PlanRules).where(PlanRules.creditor_id == creditor.id)
    ).one()
    assert (rules.max_instalments, rules.min_instalment_minor) == (12, 15050)
    assert (rules.allow_monthly, rules.allow_fortnightly, rules.allow_weekly) == (
        True,
        False,
        True,
    )
    assert (rules.payday_day_of_month, rules.grace_moves_missed_instalment) == (
        25,
        True,
    )
    assert (rules.promise_max_days, rules.breathing_space_days) == (21, 45)
    assert rules.first_payment_within_days == 10
    details = [e.detail for e in audits(session, "settings_changed")]
    assert "verification_factor: birth_date -> postcode" in details
    assert "max_instalments: 6 -> 12" in details
    assert "support_phone: (none) -> +4570201030" in details
    assert len(details) == 13  # every field but the amount opt-in and the monthly

    # Saving the same again changes (and audits) nothing.
    assert save(client).status_code == 302
    assert len(audits(session, "settings_changed")) == 13


@pytest.mark.parametrize(
    ("typed", "minor"),
    [("1.250,50", 125050), ("1 250,5", 125050), ("1250.50", 125050), ("0", 0)],
)
def test_amounts_may_be_typed_the_danish_way(
    client: FlaskClient, session: Session, tenant: Tenant, typed: str, minor: int
) -> None:
    assert save(client, min_instalment=typed).status_code == 302
    rules = session.scalars(
        select(PlanRules).where(PlanRules.creditor_id == tenant.creditor.id)
    ).one()
    assert rules.min_instalment_minor == minor


def test_opting_in_to_the_amount_shows_it_in_the_previews(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    assert "1.250,00 kr." not in client.get(SEQUENCE).get_data(as_text=True)
    assert save(client, show_amount_in_sms="y").status_code == 302
    page = client.get(SEQUENCE).get_data(as_text=True)
    assert "på 1.250,00 kr." in page
    assert "Your texts show the amount owed." in page
    [event] = [
        e
        for e in audits(session, "settings_changed")
        if e.detail.startswith("show_amount_in_sms")
    ]
    assert event.detail == "show_amount_in_sms: False -> True"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"sms_sender_name": "NordlysEnergi"}, "sms_sender_name", "at most 11 char"),
        ({"sms_sender_name": "Nordlys-El!"}, "sms_sender_name", "Use up to 11 letters"),
        ({"sms_sender_name": "12345"}, "sms_sender_name", "Use up to 11 letters"),
        ({"support_phone": "12"}, "support_phone", "Enter a phone number"),
        ({"support_email": "not-an-address"}, "support_email", "Enter an e-mail"),
        ({"support_email": "kundeservice@fjellvann"}, "support_email", "an e-mail"),
        ({"max_instalments": "0"}, "max_instalments", "Enter 1 to 36."),
        ({"max_instalments": "x"}, "max_instalments", "Not a valid integer"),
        ({"min_instalment": "-1"}, "min_instalment", "Enter 0 to 100000."),
        ({"min_instalment": "10.005"}, "min_instalment", "at most 2 decimals"),
        ({"payday_day_of_month": "32"}, "payday_day_of_month", "Enter 1 to 31."),
        ({"breathing_space_days": "91"}, "breathing_space_days", "Enter 1 to 90."),
        ({"promise_max_days": "0"}, "promise_max_days", "Enter 1 to 60."),
        ({"first_payment_within_days": "31"}, "first_payment_within_days", "0 to 30"),
        ({"verification_factor": "shoe_size"}, "verification_factor", "Not a valid"),
        (
            {"allow_monthly": "", "allow_weekly": ""},
            "frequencies",
            "Allow at least one frequency.",
        ),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    client: FlaskClient,
    session: Session,
    tenant: Tenant,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = save(client, **changes)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page
    assert f'aria-describedby="{field}-error"' in page or (
        f'-hint {field}-error"' in page
    )
    session.expire_all()
    creditor = session.get_one(Creditor, tenant.creditor.id)
    assert creditor.verification_factor is VerificationFactor.BIRTH_DATE
    assert creditor.sms_sender_name is None
    assert session.scalar(select(func.count()).select_from(PlanRules)) == 0
    assert audits(session, "settings_changed") == []


def test_another_creditors_user_cannot_change_the_settings(
    app: Flask, session: Session, tenant: Tenant, other: Tenant
) -> None:
    intruder = signed_in(app, other.user)
    response = save(intruder, f"?creditor={tenant.creditor.id}")
    assert response.status_code == 404
    session.expire_all()
    creditor = session.get_one(Creditor, tenant.creditor.id)
    assert creditor.verification_factor is VerificationFactor.BIRTH_DATE
    assert audits(session, "settings_changed") == []


def test_a_supervisor_saves_settings_for_the_chosen_creditor(
    app: Flask, session: Session, tenant: Tenant, now: datetime
) -> None:
    supervisor = make_user(session, now, Role.SUPERVISOR)
    session.commit()
    client = signed_in(app, supervisor)
    query = f"?creditor={tenant.creditor.id}"
    response = save(client, query, breathing_space_days="60")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(query)
    rules = session.scalars(
        select(PlanRules).where(PlanRules.creditor_id == tenant.creditor.id)
    ).one()
    assert rules.breathing_space_days == 60
    assert {e.actor_user_id for e in audits(session, "settings_changed")} == {
        supervisor.id
    }
    # No creditor chosen: nothing to save into.
    assert save(client).status_code == 404


# Helpers


def audits_of(session: Session, creditor: Creditor) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.creditor_id == creditor.id,
                AuditEvent.action.like("sequence_%"),
            )
            .order_by(AuditEvent.id)
        )
    )


DESK = "/creditor/desk"


def test_a_creditor_sets_its_chat_hours_and_the_queue_uses_them(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    assert client.get(DESK).status_code == 200
    response = post(
        client,
        DESK,
        opens="09:30",
        closes="15:00",
        day_0="y",
        day_2="y",
        day_4="y",
        target_wait_minutes="10",
    )
    assert response.status_code == 303
    session.expire_all()
    hours = hours_for(session, tenant.creditor)
    assert (hours.opens_minute, hours.closes_minute) == (570, 900)
    assert hours.weekdays == frozenset({0, 2, 4})
    assert hours.target_wait_minutes == 10
    assert audits(session, "chat_desk.update")


def test_chat_hours_that_close_before_they_open_are_refused(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    response = post(
        client, DESK, opens="16:00", closes="08:00", day_0="y", target_wait_minutes="5"
    )
    assert response.status_code == 400
    session.expire_all()
    assert hours_for(session, tenant.creditor).opens_minute == 8 * 60


def test_another_creditors_chat_hours_are_not_found(
    client: FlaskClient, other: Tenant
) -> None:
    assert client.get(f"{DESK}?creditor={other.creditor.id}").status_code == 404


def test_every_bad_field_is_named_at_once_and_what_was_typed_is_kept(
    client: FlaskClient, session: Session, tenant: Tenant
) -> None:
    page = client.get(SETTINGS).get_data(as_text=True)
    assert 'maxlength="11"' not in page  # a browser would cut a long name silently
    response = save(
        client,
        max_instalments="0",
        sms_sender_name="Fjellvann Tannklinikk",
        support_email="kundeservice@fjellvann",
    )
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "Enter 1 to 36." in page
    assert "A sender name can have at most 11 characters" in page
    assert "Enter an e-mail address like name@example.com." in page
    assert 'value="Fjellvann Tannklinikk"' in page
    assert 'value="kundeservice@fjellvann"' in page
    assert audits(session, "settings_changed") == []
