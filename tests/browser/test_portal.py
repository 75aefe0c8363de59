"""The debtor portal on a phone: from the dev phone's SMS link to a plan or a payment.

Every page is also photographed in each language and checked with axe-core. The UI is
translated, so names are looked up in the app's own catalogue for the language on screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from app.clock import utcnow
from app.models import (
    Account,
    Creditor,
    Debtor,
    Instalment,
    Message,
    PaymentPlan,
    PortalLink,
    RiskSignal,
)
from app.models.enums import (
    AccountStatus,
    InstalmentStatus,
    MessageStatus,
    PlanFrequency,
    PlanStatus,
    VerificationFactor,
)
from app.providers import reminder_adapters, rules_for
from app.services.ledger import balance_of
from app.services.notices import context_for, queue_notice
from app.services.portal_links import factor_for
from app.web.db import get_sessionmaker
from app.web.i18n import LANGUAGE_NAMES, local_date, money
from payments.arrangements import plan_offers
from reminders.dispatch import dispatch_due
from reminders.planner import plan_due_steps
from reminders.policy import AccountStatus as PolicyAccountStatus
from reminders.policy import (
    Allow,
    DebtorContactState,
    ProposedContact,
    Reason,
    Suppress,
    decide_contact,
)
from reminders.policy import Channel as PolicyChannel
from reminders.state import ContactFacts
from tests.browser.a11y import assert_accessible
from tests.browser.conftest import PHONE, LiveServer, screenshot

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
AUTHENTICATE_CARD = "4000 0025 0000 3155"
# A link as urlize shows it on the dev phone: the URL itself is the link's name.
PORTAL_LINK = re.compile(r"\/p\/[A-Za-z0-9_-]{20,}$")  # "/" escaped for Playwright

# Demo debtors by natural key, one per test so the shared database never crosses them.
# (DK-10001 belongs to test_devphone.py.)
PLAN_DEBTOR = "DK-10002"  # Danish, birth date
PAY_DEBTOR = "NO-10002"  # Norwegian, postcode
LOCK_DEBTOR = "DK-10004"
NOT_ME_DEBTOR = "NO-10004"
# Each speaks another language than the one the test switches to, and owes on two invoices.
TOUR_DEBTORS = {"en": "DK-10005", "da": "DK-10007", "nb": "NO-10007"}


@dataclass(frozen=True)
class Texts:
    """The app's own translations and formats, in one language."""

    app: Flask
    lang: str

    def __call__(self, msgid: str, **variables: Any) -> str:
        with self.app.test_request_context(), force_locale(self.lang):
            return gettext(msgid, **variables)

    def money(self, amount_minor: int, currency: str) -> str:
        with self.app.test_request_context(), force_locale(self.lang):
            return money(amount_minor, currency)

    def date(self, value: date) -> str:
        with self.app.test_request_context(), force_locale(self.lang):
            return local_date(value)


@dataclass(frozen=True)
class DemoAccount:
    id: int
    reference: str
    balance_minor: int
    currency: str


@dataclass(frozen=True)
class DemoDebtor:
    id: int
    first_name: str
    language: str
    answer: str  # what the debtor types to confirm who they are
    factor: VerificationFactor
    creditor: str
    support_phone: str
    accounts: list[DemoAccount]


def demo_debtor(live_server: LiveServer, customer_number: str) -> DemoDebtor:
    with get_sessionmaker(live_server.app)() as session:
        debtor = session.scalar(
            select(Debtor).where(Debtor.customer_number == customer_number)
        )
        assert debtor is not None, customer_number
        creditor = session.get(Creditor, debtor.creditor_id)
        assert creditor is not None
        accounts = list(
            session.scalars(
                select(Account)
                .where(Account.debtor_id == debtor.id)
                .order_by(Account.id)
            )
        )
        factor = factor_for(creditor, debtor)
        if factor is VerificationFactor.BIRTH_DATE:
            assert debtor.birth_date is not None
            answer = debtor.birth_date.strftime("%d-%m-%Y")  # as the hint suggests
        elif factor is VerificationFactor.POSTCODE:
            answer = debtor.postcode or ""
        else:
            answer = accounts[0].external_reference
        return DemoDebtor(
            id=debtor.id,
            first_name=debtor.first_name,
            language=debtor.language.value,
            answer=answer,
            factor=factor,
            creditor=creditor.name,
            support_phone=creditor.support_phone or "",
            accounts=[
                DemoAccount(
                    a.id, a.external_reference, balance_of(session, a.id), a.currency
                )
                for a in accounts
            ],
        )


def text_the_debtor(live_server: LiveServer, debtor_id: int) -> None:
    """A reminder text with a fresh link, sent through the outbox like the worker does.

    The dispatcher runs as at the next weekday morning, inside contact hours, so the test is
    the same at any time of day.
    """
    app = live_server.app
    adapters = reminder_adapters(app)
    sessions = get_sessionmaker(app)
    with sessions.begin() as session:
        debtor = session.get(Debtor, debtor_id)
        assert debtor is not None
        queued = queue_notice(
            session,
            debtor,
            "reminder",
            context_for(session, debtor),
            link_for=adapters.link_for,
            now=utcnow(),
        )
        assert queued is not None, "the demo debtor may not be texted"
    dispatch_due(
        sessions,
        adapters.sender,
        now=next_weekday_morning(utcnow()),
        rules_for=adapters.rules_for,
        link_for=adapters.link_for,
    )


def next_weekday_morning(after: datetime) -> datetime:
    """10:30 in Copenhagen on the next weekday that is no Danish or Norwegian holiday."""
    zone = ZoneInfo("Europe/Copenhagen")
    day = after.astimezone(zone).date() + timedelta(days=1)
    closed = holidays.country_holidays(
        "DK", years=day.year
    ) | holidays.country_holidays("NO", years=day.year)
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 30), tzinfo=zone).astimezone(UTC)


def follow_sms_link(page: Page, live_server: LiveServer, debtor_id: int) -> str:
    """Open the debtor's dev phone and tap the link in the newest text."""
    page.goto(f"{live_server.url}/dev/phone/{debtor_id}")
    link = page.get_by_role("link", name=PORTAL_LINK).last
    href = link.get_attribute("href") or ""
    assert href.startswith(f"{live_server.url}/p/"), href
    link.click()
    return href


def visible_text(page: Page) -> str:
    """What a person can read on the page, with no-break spaces as plain ones."""
    return page.locator("body").inner_text().replace("\xa0", " ")


def readable(text: str) -> str:
    return text.replace("\xa0", " ")


def switch_language(page: Page, lang: str) -> None:
    page.get_by_role("link", name=LANGUAGE_NAMES[lang], exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def check_page(page: Page, name: str) -> None:
    """axe-core finds nothing serious, nothing scrolls sideways, and a picture is kept."""
    screenshot(page, name)
    assert_accessible(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width}px wide"
    hidden = page.evaluate(
        "[...document.querySelectorAll('.table-wrap')]"
        ".filter(el => el.scrollWidth > el.clientWidth).length"
    )
    assert not hidden, f"{name}: {hidden} table(s) must be scrolled sideways to be read"


def account_card(page: Page, account: DemoAccount) -> Locator:
    return page.get_by_role("region").filter(
        has=page.get_by_text(account.reference, exact=True)
    )


def verify(page: Page, t: Texts, debtor: DemoDebtor) -> None:
    labels = {
        VerificationFactor.BIRTH_DATE: "Your date of birth",
        VerificationFactor.POSTCODE: "Your postcode",
        VerificationFactor.REFERENCE: "The invoice number",
    }
    page.get_by_label(t(labels[debtor.factor])).fill(debtor.answer)
    page.get_by_role("button", name=t("Continue")).click()
    expect(
        page.get_by_role("heading", name=t("Hello %(name)s", name=debtor.first_name))
    ).to_be_visible()


def pay_on_sandbox(page: Page, t: Texts, card: str) -> None:
    page.get_by_label(t("Card number")).fill(card)
    page.get_by_role("button", name=t("Pay"), exact=True).click()


def contact_hours_moment(app: Flask, after: date) -> datetime:
    """The first weekday morning from `after` on which Danish rules allow a reminder."""
    zone = ZoneInfo("Europe/Copenhagen")
    with get_sessionmaker(app)() as session:
        account = session.scalars(select(Account)).first()
        debtor = session.scalars(select(Debtor).where(Debtor.country == "DK")).first()
        assert account is not None
        assert debtor is not None
        rules = rules_for(account, debtor)
    fresh = DebtorContactState(
        time_zone="Europe/Copenhagen",
        country_code="DK",
        account_status=PolicyAccountStatus.OPEN,
        account_due_on=after - timedelta(days=60),
    )
    for offset in range(14):
        moment = datetime.combine(
            after + timedelta(days=offset), time(10), tzinfo=zone
        ).astimezone(UTC)
        if isinstance(
            decide_contact(fresh, ProposedContact(PolicyChannel.SMS), rules, moment),
            Allow,
        ):
            return moment
    raise AssertionError("no contact hours in two weeks")


# --- the journeys ----------------------------------------------------------------------------


def test_sms_link_to_a_three_instalment_plan_stops_the_reminders(
    phone: Page, live_server: LiveServer
) -> None:
    app = live_server.app
    debtor = demo_debtor(live_server, PLAN_DEBTOR)
    (account,) = debtor.accounts
    t = Texts(app, debtor.language)
    text_the_debtor(live_server, debtor.id)

    follow_sms_link(phone, live_server, debtor.id)
    expect(phone.get_by_role("heading", name=t("Confirm it is you"))).to_be_visible()
    # Nothing about the debt before verification: neither the invoice nor the amount.
    shown = visible_text(phone) + phone.content()
    assert account.reference not in shown
    assert readable(t.money(account.balance_minor, account.currency)) not in shown
    verify(phone, t, debtor)

    account_card(phone, account).get_by_role(
        "link", name=t("Split into instalments")
    ).click()
    with get_sessionmaker(app)() as session:
        stored = session.get(Account, account.id)
        assert stored is not None
        # Offers start from the debtor's own date, which late in the UTC evening is tomorrow.
        owner = session.get(Debtor, debtor.id)
        assert owner is not None
        zone = ZoneInfo(owner.timezone)
        offers = plan_offers(session, stored, utcnow().astimezone(zone).date())
    offer = next(
        o for o in offers if o.frequency is PlanFrequency.MONTHLY and o.count == 3
    )
    assert sum(i.amount_minor for i in offer.instalments) == account.balance_minor
    first_amount, rest = (offer.instalments[i].amount_minor for i in (0, -1))
    common = {
        "amount": t.money(rest, account.currency),
        "frequency": t("monthly"),
        "date": t.date(offer.last_on),
    }
    choice = (
        t("%(count)s × %(amount)s, %(frequency)s, last on %(date)s", count=3, **common)
        if first_amount == rest
        else t(
            "%(first)s now, then %(count)s × %(amount)s, %(frequency)s, last on %(date)s",
            first=t.money(first_amount, account.currency),
            count=2,
            **common,
        )
    )
    phone.get_by_role("radio", name=choice, exact=True).check()
    phone.get_by_role(
        "button", name=t("Choose this plan and pay the first part")
    ).click()

    first = offer.instalments[0].amount_minor
    expect(
        phone.get_by_role(
            "heading", name=t("Pay %(amount)s", amount=t.money(first, account.currency))
        )
    ).to_be_visible()
    pay_on_sandbox(phone, t, GOOD_CARD)
    expect(
        phone.get_by_role("heading", name=t("Thank you, your payment is confirmed"))
    ).to_be_visible()
    phone.get_by_role("link", name=t("Back to your case")).click()

    card = account_card(phone, account)
    expect(card.get_by_role("heading", name=t("Your instalment plan"))).to_be_visible()
    expect(card.get_by_text(t("On an instalment plan"), exact=True)).to_be_visible()
    rows = card.get_by_role("table", name=t("Instalments")).get_by_role("row")
    expect(rows).to_have_count(4)  # the header and three instalments
    expect(rows.nth(1).get_by_role("cell", name=t("Paid"), exact=True)).to_be_visible()
    for n in (2, 3):
        expect(
            rows.nth(n).get_by_role("cell", name=t("Planned"), exact=True)
        ).to_be_visible()
    rest = t.money(account.balance_minor - first, account.currency)
    expect(card.get_by_text(rest, exact=True)).to_be_visible()  # left to pay
    check_page(phone, f"portal-overview-plan-{t.lang}-390")

    # The card kept for the plan is named where the plan is, and on its own page.
    saved = t(
        "Your instalments are paid with: %(method)s",
        method=t(
            "%(brand)s ending %(last4)s, expires %(expiry)s",
            brand="Visa",
            last4=GOOD_CARD[-4:],
            expiry="12/2030",
        ),
    )
    expect(card.get_by_text(saved, exact=True)).to_be_visible()
    card.get_by_role("link", name=t("Change the card for the plan")).click()
    expect(
        phone.get_by_role("heading", name=t("The card for your plan"))
    ).to_be_visible()
    expect(phone.get_by_text(saved, exact=True)).to_be_visible()
    expect(phone.get_by_role("button", name=t("Use another card"))).to_be_visible()
    check_page(phone, f"portal-plan-card-{t.lang}-390")
    phone.get_by_role("link", name=t("Back to your case")).click()

    with get_sessionmaker(app)() as session:
        stored = session.get(Account, account.id)
        assert stored is not None
        assert stored.status is AccountStatus.PLAN
        plan = session.scalar(
            select(PaymentPlan).where(PaymentPlan.account_id == account.id)
        )
        assert plan is not None
        assert plan.status is PlanStatus.ACTIVE
        statuses = [
            i.status
            for i in session.scalars(
                select(Instalment)
                .where(Instalment.plan_id == plan.id)
                .order_by(Instalment.seq_no)
            )
        ]
        assert statuses == [InstalmentStatus.PAID] + [InstalmentStatus.SCHEDULED] * 2
        assert balance_of(session, account.id) == account.balance_minor - first

    # The reminders stop: on a weekday morning after the next sequence step is due (the
    # second step comes 7-9 days after the first), the planner holds this account back.
    moment = contact_hours_moment(app, utcnow().date() + timedelta(days=10))
    with get_sessionmaker(app)() as session:
        stored = session.get(Account, account.id)
        owner = session.get(Debtor, debtor.id)
        assert stored is not None
        assert owner is not None
        decision = decide_contact(
            ContactFacts(session, [stored], moment).state_for(stored),
            ProposedContact(PolicyChannel.SMS),
            rules_for(stored, owner),
            moment,
        )
        assert decision == Suppress(Reason.PLAN_CURRENT)
        known = set(
            session.scalars(select(Message.id).where(Message.account_id == account.id))
        )
        plan_due_steps(session, now=moment, rules_for=rules_for)
        planned = [
            (m.status, m.suppressed_reason)
            for m in session.scalars(
                select(Message)
                .where(Message.account_id == account.id)
                .order_by(Message.id)
            )
            if m.id not in known
        ]
        session.rollback()  # a look into the future, not a change to it
    assert planned, "a reminder step should have been due by then"
    assert all(status is MessageStatus.SUPPRESSED for status, _ in planned), planned
    assert planned[-1][1] == Reason.PLAN_CURRENT.value, planned


def test_a_declined_card_changes_nothing_and_a_good_one_settles_the_account(
    phone: Page, live_server: LiveServer
) -> None:
    app = live_server.app
    debtor = demo_debtor(live_server, PAY_DEBTOR)
    (account,) = debtor.accounts
    t = Texts(app, debtor.language)
    text_the_debtor(live_server, debtor.id)

    follow_sms_link(phone, live_server, debtor.id)
    verify(phone, t, debtor)
    amount = t.money(account.balance_minor, account.currency)
    account_card(phone, account).get_by_role(
        "button", name=t("Pay %(amount)s now", amount=amount)
    ).click()
    expect(
        phone.get_by_role("heading", name=t("Pay %(amount)s", amount=amount))
    ).to_be_visible()

    pay_on_sandbox(phone, t, DECLINED_CARD)
    expect(phone.get_by_role("alert")).to_have_text(
        t(
            "The card was declined: %(reason)s. Try another card.",
            reason=t("the bank said no"),
        )
    )
    expect(phone.get_by_label(t("Card number"))).to_have_attribute(
        "aria-invalid", "true"
    )
    check_page(phone, f"sandbox-checkout-card-declined-{t.lang}-390")
    with get_sessionmaker(app)() as session:
        assert balance_of(session, account.id) == account.balance_minor
        stored = session.get(Account, account.id)
        assert stored is not None
        assert stored.status is AccountStatus.OPEN

    pay_on_sandbox(phone, t, GOOD_CARD)
    expect(
        phone.get_by_role("heading", name=t("Thank you, your payment is confirmed"))
    ).to_be_visible()
    phone.get_by_role("link", name=t("Back to your case")).click()
    expect(
        phone.get_by_text(
            t(
                "You owe %(creditor)s nothing at the moment. Thank you!",
                creditor=debtor.creditor,
            )
        )
    ).to_be_visible()
    card = account_card(phone, account)
    expect(card.get_by_text(t("Paid, thank you"), exact=True)).to_be_visible()
    expect(card.get_by_role("button")).to_have_count(0)  # nothing left to pay
    check_page(phone, f"portal-overview-settled-{t.lang}-390")
    with get_sessionmaker(app)() as session:
        assert balance_of(session, account.id) == 0
        stored = session.get(Account, account.id)
        assert stored is not None
        assert stored.status is AccountStatus.PAID


def test_five_wrong_answers_lock_the_link_and_say_how_to_reach_a_person(
    phone: Page, live_server: LiveServer
) -> None:
    app = live_server.app
    debtor = demo_debtor(live_server, LOCK_DEBTOR)
    t = Texts(app, debtor.language)
    text_the_debtor(live_server, debtor.id)
    link = follow_sms_link(phone, live_server, debtor.id)

    answer = phone.get_by_label(t("Your date of birth"))
    for attempt in range(1, 5):
        answer.fill(f"0{attempt}-01-1900")
        phone.get_by_role("button", name=t("Continue")).click()
        expect(
            phone.get_by_text(
                t("That does not match what we have. Please check and try again.")
            )
        ).to_be_visible()
        expect(answer).to_have_attribute("aria-invalid", "true")
    answer.fill("05-01-1900")
    phone.get_by_role("button", name=t("Continue")).click()

    alert = phone.get_by_role("alert")
    expect(alert).to_contain_text(
        t("For your safety this link is locked for an hour after too many attempts.")
    )
    readable_number = phonenumbers.format_number(
        phonenumbers.parse(debtor.support_phone),
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )
    expect(alert).to_contain_text(
        t("To talk to a person now, call %(phone)s.", phone=readable_number)
    )
    expect(alert.get_by_role("link", name=readable_number)).to_have_attribute(
        "href", f"tel:{debtor.support_phone}"
    )
    expect(phone.get_by_role("textbox")).to_have_count(0)
    check_page(phone, f"portal-locked-{t.lang}-390")

    # Tapping the same link again, right answer at hand or not, finds it still locked.
    phone.goto(link)
    expect(phone.get_by_role("alert")).to_contain_text(readable_number)
    expect(phone.get_by_role("textbox")).to_have_count(0)
    with get_sessionmaker(app)() as session:
        links = session.scalars(
            select(PortalLink).where(PortalLink.debtor_id == debtor.id)
        ).all()
        assert any(
            link.locked_until is not None and link.locked_until > utcnow()
            for link in links
        )
        assert all(link.verified_at is None for link in links)


def test_this_is_not_me_thanks_the_person_and_stops_the_texts(
    phone: Page, live_server: LiveServer
) -> None:
    app = live_server.app
    debtor = demo_debtor(live_server, NOT_ME_DEBTOR)
    t = Texts(app, debtor.language)
    text_the_debtor(live_server, debtor.id)
    follow_sms_link(phone, live_server, debtor.id)

    phone.get_by_role("button", name=t("This is not me / wrong number")).click()
    expect(
        phone.get_by_role("heading", name=t("Thank you for telling us"))
    ).to_be_visible()
    shown = visible_text(phone) + phone.content()
    assert debtor.first_name not in shown
    assert debtor.accounts[0].reference not in shown
    # The browser holds no session any more: the case stays closed to it.
    phone.goto(f"{live_server.url}/p/")
    expect(
        phone.get_by_role("heading", name=t("This link no longer works"))
    ).to_be_visible()
    with get_sessionmaker(app)() as session:
        stored = session.get(Debtor, debtor.id)
        assert stored is not None
        assert stored.phone_unusable_reason == "wrong_number"
        assert session.scalar(
            select(RiskSignal).where(
                RiskSignal.debtor_id == debtor.id,
                RiskSignal.category == "wrong_number",
            )
        )


# --- every page, in every language -----------------------------------------------------------


@pytest.mark.parametrize("lang", list(TOUR_DEBTORS))
def test_every_portal_page_in_each_language(
    phone: Page, live_server: LiveServer, lang: str
) -> None:
    app = live_server.app
    debtor = demo_debtor(live_server, TOUR_DEBTORS[lang])
    assert debtor.language != lang, "the tour should switch languages"
    first, second = debtor.accounts
    t = Texts(app, lang)
    text_the_debtor(live_server, debtor.id)

    def shot(page_name: str) -> None:
        check_page(phone, f"{page_name}-{lang}-390")

    def back_to_case() -> None:
        phone.get_by_role("link", name=t("Back to your case")).first.click()
        expect(
            phone.get_by_role(
                "heading", name=t("Hello %(name)s", name=debtor.first_name)
            )
        ).to_be_visible()

    # Verification, in the debtor's language until the top bar switches it.
    follow_sms_link(phone, live_server, debtor.id)
    expect(phone.locator("html")).to_have_attribute("lang", debtor.language)
    switch_language(phone, lang)
    expect(phone.get_by_role("heading", name=t("Confirm it is you"))).to_be_visible()
    shot("portal-verify")
    answer = phone.get_by_role("textbox")
    answer.fill("not the answer")
    phone.get_by_role("button", name=t("Continue")).click()
    expect(answer).to_have_attribute("aria-invalid", "true")
    shot("portal-verify-wrong")
    verify(phone, t, debtor)
    shot("portal-overview")

    # The pages behind each choice.
    account_card(phone, first).get_by_role(
        "link", name=t("Split into instalments")
    ).click()
    expect(
        phone.get_by_role("heading", name=t("Split into instalments"))
    ).to_be_visible()
    phone.get_by_text(t("See all dates")).first.click()
    shot("portal-plan")
    phone.get_by_role(
        "button", name=t("Choose this plan and pay the first part")
    ).click()
    expect(phone.get_by_role("alert")).to_have_text(t("Choose one of the plans."))
    expect(phone.locator("#choice-error")).to_have_text(t("Choose one of the plans."))
    shot("portal-plan-error")
    back_to_case()

    account_card(phone, first).get_by_role(
        "link", name=t("Choose a date to pay")
    ).click()
    expect(phone.get_by_role("heading", name=t("Choose a date to pay"))).to_be_visible()
    shot("portal-promise")
    back_to_case()

    account_card(phone, first).get_by_role(
        "link", name=t("Something is wrong with this invoice")
    ).click()
    expect(phone.get_by_role("heading", name=t("Something is wrong"))).to_be_visible()
    shot("portal-dispute")
    back_to_case()

    phone.get_by_role("link", name=t("I can't pay right now")).click()
    expect(
        phone.get_by_role("heading", name=t("I can't pay right now"))
    ).to_be_visible()
    shot("portal-breathing-space")
    back_to_case()

    phone.get_by_role("link", name=t("Talk to a person")).click()
    expect(phone.get_by_role("heading", name=t("Talk to a person"))).to_be_visible()
    shot("portal-help")
    back_to_case()

    # The sandbox checkout: a card the bank wants confirmed, not confirmed, then cancelled.
    pay_second = t(
        "Pay %(amount)s now", amount=t.money(second.balance_minor, second.currency)
    )
    account_card(phone, second).get_by_role("button", name=pay_second).click()
    expect(phone.get_by_label(t("Card number"))).to_be_visible()
    shot("sandbox-checkout")
    pay_on_sandbox(phone, t, AUTHENTICATE_CARD)
    expect(
        phone.get_by_role("heading", name=t("Confirm with your bank"))
    ).to_be_visible()
    shot("sandbox-authenticate")
    phone.get_by_role("button", name=t("Do not confirm")).click()
    expect(phone.get_by_role("alert")).to_contain_text(
        t("the payment was not confirmed with the bank")
    )
    shot("sandbox-checkout-declined")
    phone.get_by_role("button", name=t("Cancel")).click()
    expect(phone.get_by_role("heading", name=t("No payment was taken"))).to_be_visible()
    shot("portal-checkout-cancelled")
    back_to_case()

    # ...and paid with a good card.
    account_card(phone, second).get_by_role("button", name=pay_second).click()
    pay_on_sandbox(phone, t, GOOD_CARD)
    expect(
        phone.get_by_role("heading", name=t("Thank you, your payment is confirmed"))
    ).to_be_visible()
    shot("portal-checkout-done")
    back_to_case()
    expect(
        account_card(phone, second).get_by_text(t("Paid, thank you"), exact=True)
    ).to_be_visible()
    shot("portal-overview-after-payment")

    # The answers to each choice.
    account_card(phone, first).get_by_role(
        "link", name=t("Choose a date to pay")
    ).click()
    phone.get_by_label(t("I will pay on")).fill(
        (utcnow().date() + timedelta(days=3)).isoformat()
    )
    phone.get_by_role("button", name=t("Save the date")).click()
    expect(phone.get_by_role("heading", name=t("Your date is saved"))).to_be_visible()
    shot("portal-promise-done")
    back_to_case()

    phone.get_by_role("link", name=t("I can't pay right now")).click()
    phone.get_by_role("radio", name=t("Illness")).check()
    phone.get_by_role("button", name=t("Pause the reminders")).click()
    expect(
        phone.get_by_role("heading", name=t("The reminders are paused"))
    ).to_be_visible()
    shot("portal-breathing-space-done")
    back_to_case()

    # Disputed last: a disputed invoice offers no payment, nor breathing space for it.
    account_card(phone, first).get_by_role(
        "link", name=t("Something is wrong with this invoice")
    ).click()
    phone.get_by_role("radio", name=t("The amount is wrong")).check()
    phone.get_by_label(t("Tell us more (optional)")).fill("The meter reading is old.")
    phone.get_by_role("button", name=t("Send"), exact=True).click()
    expect(
        phone.get_by_role("heading", name=t("We have received your message"))
    ).to_be_visible()
    shot("portal-dispute-done")
    back_to_case()

    phone.get_by_role("button", name=t("Sign out")).click()
    expect(
        phone.get_by_role("heading", name=t("You have left your case"))
    ).to_be_visible()
    shot("portal-signed-out")

    # A link that does not exist (or has expired) tells nothing and says what to do.
    phone.goto(f"{live_server.url}/p/this-link-has-expired-long-ago")
    expect(
        phone.get_by_role("heading", name=t("This link no longer works"))
    ).to_be_visible()
    shot("portal-expired")

    # Last, as it stops the texts: the person says the text reached the wrong number.
    follow_sms_link(phone, live_server, debtor.id)
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    phone.get_by_role("button", name=t("This is not me / wrong number")).click()
    expect(
        phone.get_by_role("heading", name=t("Thank you for telling us"))
    ).to_be_visible()
    shot("portal-not-me")
