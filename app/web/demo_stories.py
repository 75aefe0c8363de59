"""The demo's debtors who have already answered their reminders, so every screen has a story.

Each story goes the way a real debtor's would: a reply through the SMS webhook's own code, a
chat message through the portal's, a promise or a plan through the domain, and a card payment
through the sandbox checkout and its signed events. Run once, right after the first reminders
went out; a story whose debtor has already done something is left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chat.actions import debtor_writes
from app.demo import DANISH, NORWEGIAN, DemoCreditor
from app.models import (
    Account,
    Conversation,
    Creditor,
    Debtor,
    InboundMessage,
    Message,
    PaymentPlan,
    PromiseToPay,
)
from app.models.enums import AccountStatus, Language, MessageStatus, PlanFrequency
from app.providers import payment_gateway, payments_provider
from app.web.db import get_session
from app.web.devphone.views import DEV_NUMBER
from app.web.live.wiring import chat_adapters
from app.web.webhooks.stripe import deliver_events
from app.web.webhooks.twilio import handle_inbound
from payments import arrangements, checkout
from payments.checkout import CheckoutTarget
from payments.sandbox import Card, SandboxGateway


@dataclass(frozen=True)
class Story:
    """One debtor's answer: `act` does it, given the debtor and their oldest open account."""

    creditor: DemoCreditor
    language: Language
    act: Callable[[Flask, Session, Debtor, Account, datetime], None]


def replies_by_sms(
    text: str,
) -> Callable[[Flask, Session, Debtor, Account, datetime], None]:
    def act(
        _app: Flask, _db: Session, debtor: Debtor, _a: Account, _now: datetime
    ) -> None:
        handle_inbound(
            {
                "From": debtor.phone_e164 or "",
                "To": DEV_NUMBER,
                "Body": text,
                "MessageSid": f"SMdemo{debtor.id:026d}",
            }
        )

    return act


def writes_in_chat(
    text: str,
) -> Callable[[Flask, Session, Debtor, Account, datetime], None]:
    def act(
        app: Flask, db: Session, debtor: Debtor, _a: Account, now: datetime
    ) -> None:
        debtor_writes(db, debtor, text, now=now, adapters=chat_adapters(app))
        db.commit()

    return act


def promises(days: int) -> Callable[[Flask, Session, Debtor, Account, datetime], None]:
    def act(
        _app: Flask, db: Session, debtor: Debtor, account: Account, now: datetime
    ) -> None:
        today = _today(debtor, now)
        arrangements.promise_to_pay(
            db, account, today + timedelta(days=days), today=today, now=now
        )
        db.commit()

    return act


def pays_in_full(
    app: Flask, db: Session, debtor: Debtor, account: Account, now: datetime
) -> None:
    gateway = _sandbox(app)
    url = checkout.pay_balance(
        db, gateway, payments_provider(app), account, _target(app, debtor), now=now
    )
    db.commit()
    _pay_by_card(gateway, url)


def takes_a_plan(
    app: Flask, db: Session, debtor: Debtor, account: Account, now: datetime
) -> None:
    """Three monthly instalments, the first paid at once by card (kept for the others)."""
    gateway = _sandbox(app)
    plan = arrangements.propose_plan(
        db, account, PlanFrequency.MONTHLY, 3, today=_today(debtor, now), now=now
    )
    url = checkout.pay_instalment(
        db,
        gateway,
        payments_provider(app),
        plan,
        plan.instalments[0],
        _target(app, debtor),
        now=now,
    )
    db.commit()
    _pay_by_card(gateway, url)


STORIES = (
    Story(DANISH, Language.DA, replies_by_sms(
        "Hej. Jeg har betalt den for en uge siden over netbank, kan I tjekke det?"
    )),
    Story(DANISH, Language.DA, writes_in_chat(
        "Hej, kan jeg dele beløbet op i to? Jeg får først løn den 1."
    )),
    Story(DANISH, Language.EN, writes_in_chat(
        "Hi, I moved last month and never got the invoice. Could you send it to me again?"
    )),
    Story(DANISH, Language.DA, promises(7)),
    Story(DANISH, Language.DA, pays_in_full),
    Story(NORWEGIAN, Language.NB, replies_by_sms(
        "Hei. Jeg har mistet jobben og har ikke råd til å betale nå. Kan dere vente litt?"
    )),
    Story(NORWEGIAN, Language.NB, replies_by_sms("Slutt å sende meg meldinger.")),
    Story(NORWEGIAN, Language.NB, writes_in_chat(
        "Hei! Kan jeg betale med Vipps? Jeg finner ikke knappen på siden."
    )),
    Story(NORWEGIAN, Language.NB, takes_a_plan),
)  # fmt: skip


def play_demo_stories(app: Flask, *, now: datetime) -> int:
    """Let one texted debtor per story answer; returns how many stories were played."""
    if not isinstance(payment_gateway(app), SandboxGateway):
        return 0  # real money is never moved for a demo
    db = get_session()
    played = 0
    taken: set[int] = set()
    for story in STORIES:
        found = _next_quiet_debtor(db, story, taken)
        if found is None:
            continue
        debtor, account = found
        taken.add(debtor.id)
        story.act(app, db, debtor, account, now)
        played += 1
    return played


def _next_quiet_debtor(
    db: Session, story: Story, taken: set[int]
) -> tuple[Debtor, Account] | None:
    """A debtor of the story's creditor and language who got a reminder and has not yet
    answered, paid, promised, chatted or taken a plan, with their oldest open account."""
    rows = db.execute(
        select(Debtor, Account)
        .join(Creditor, Creditor.id == Debtor.creditor_id)
        .join(Account, Account.debtor_id == Debtor.id)
        .where(
            Creditor.name == story.creditor.name,
            Debtor.language == story.language,
            Account.status == AccountStatus.OPEN,
            Debtor.id.in_(
                select(Message.debtor_id).where(
                    Message.status == MessageStatus.DELIVERED
                )
            ),
            Debtor.id.not_in(
                select(InboundMessage.debtor_id).where(
                    InboundMessage.debtor_id.is_not(None)
                )
            ),
            Debtor.id.not_in(select(Conversation.debtor_id)),
        )
        .order_by(Debtor.id, Account.due_on, Account.id)
    ).all()
    for debtor, account in rows:
        if debtor.id not in taken and not _has_arrangement(db, account):
            return debtor, account
    return None


def _has_arrangement(db: Session, account: Account) -> bool:
    return (
        db.scalar(select(PromiseToPay.id).where(PromiseToPay.account_id == account.id))
        is not None
        or db.scalar(select(PaymentPlan.id).where(PaymentPlan.account_id == account.id))
        is not None
    )


def _today(debtor: Debtor, now: datetime) -> date:
    return now.astimezone(ZoneInfo(debtor.timezone)).date()


def _sandbox(app: Flask) -> SandboxGateway:
    gateway = payment_gateway(app)
    assert isinstance(gateway, SandboxGateway)
    return gateway


def _target(app: Flask, debtor: Debtor) -> CheckoutTarget:
    """Where the checkout returns, as the portal sends it (no request here to build it)."""
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    paths = app.url_map.bind("demo")

    def url(endpoint: str) -> str:
        path = paths.build(endpoint, {"attempt_id": 0}).replace("/0/", "/{attempt}/")
        return f"{base}{path}"

    return CheckoutTarget(
        success_url=url("portal.checkout_return"),
        cancel_url=url("portal.checkout_cancel"),
        locale=debtor.language.value,
    )


def _pay_by_card(gateway: SandboxGateway, checkout_url: str) -> None:
    """What the debtor does on the sandbox's checkout page with the card that succeeds."""
    token = checkout_url.rstrip("/").rsplit("/", 1)[-1]
    outcome = gateway.complete_checkout(gateway.read_checkout(token), Card.SUCCEEDS)
    deliver_events(outcome.events)
