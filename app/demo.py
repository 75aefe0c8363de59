"""The demo: one agency, a Danish and a Norwegian creditor, staff, debtors and accounts.

Deterministic (fixed seed) and keyed on natural keys, so running it again adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import (
    Account,
    CannedResponse,
    ChatAgent,
    Creditor,
    Debtor,
    PlanRules,
)
from app.models.enums import (
    AccountStatus,
    Language,
    LedgerKind,
    Role,
    VerificationFactor,
)
from app.services.ledger import post_entry
from app.services.phones import PhoneInfo, parse_phone
from app.services.users import create_user, find_user_by_email
from reminders.sequences import ensure_default_sequence

DEMO_PASSWORD = "venlig-demo-2026"  # printed for the demo on purpose


@dataclass(frozen=True)
class DemoCreditor:
    slug: str
    name: str
    country: str
    currency: str
    language: Language
    factor: VerificationFactor
    sender: str
    support_phone: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    mobile_prefixes: tuple[str, ...]
    postcodes: tuple[str, ...]
    products: tuple[str, ...]
    amount_range: tuple[int, int]


DANISH = DemoCreditor(
    slug="nordlys-energi",
    name="Nordlys Energi A/S",
    country="DK",
    currency="DKK",
    language=Language.DA,
    factor=VerificationFactor.BIRTH_DATE,
    sender="NordlysEl",
    support_phone="+4570201030",
    first_names=(
        "Mette",
        "Lars",
        "Sofie",
        "Jens",
        "Camilla",
        "Mads",
        "Anne",
        "Rasmus",
        "Ida",
        "Frederik",
        "Line",
        "Søren",
        "Freja",
        "Kasper",
        "Birgitte",
        "Jørgen",
        "Mathilde",
        "Anders",
        "Karen",
        "Thomas",
    ),
    last_names=(
        "Nielsen",
        "Jensen",
        "Hansen",
        "Pedersen",
        "Andersen",
        "Christensen",
        "Larsen",
        "Sørensen",
        "Rasmussen",
        "Jørgensen",
        "Madsen",
        "Kristensen",
        "Olsen",
        "Thomsen",
        "Poulsen",
        "Møller",
        "Mortensen",
        "Østergaard",
    ),
    mobile_prefixes=(
        "20",
        "22",
        "26",
        "28",
        "30",
        "31",
        "40",
        "42",
        "50",
        "60",
        "61",
        "71",
    ),
    postcodes=(
        "2100",
        "2200",
        "2300",
        "2450",
        "2800",
        "5000",
        "6700",
        "7100",
        "8000",
        "8200",
        "9000",
        "9400",
        "4000",
        "3400",
        "2630",
    ),
    products=("Elregning %s", "Fjernvarme %s", "Elregning og abonnement %s"),
    amount_range=(350_00, 4_800_00),
)
NORWEGIAN = DemoCreditor(
    slug="fjellvann-tannklinikk",
    name="Fjellvann Tannklinikk AS",
    country="NO",
    currency="NOK",
    language=Language.NB,
    factor=VerificationFactor.POSTCODE,
    sender="Fjellvann",
    support_phone="+4722334455",
    first_names=(
        "Ingrid",
        "Ola",
        "Kari",
        "Magnus",
        "Nora",
        "Henrik",
        "Emma",
        "Jonas",
        "Sigrid",
        "Håkon",
        "Silje",
        "Eirik",
        "Marte",
        "Øyvind",
        "Astrid",
        "Bjørn",
        "Thea",
        "Sindre",
        "Ragnhild",
        "Vegard",
    ),
    last_names=(
        "Hansen",
        "Johansen",
        "Olsen",
        "Larsen",
        "Andersen",
        "Pedersen",
        "Nilsen",
        "Kristiansen",
        "Berg",
        "Haugen",
        "Hagen",
        "Johnsen",
        "Bakken",
        "Solberg",
        "Dahl",
        "Lien",
        "Strand",
        "Ødegård",
    ),
    mobile_prefixes=(
        "40",
        "41",
        "45",
        "46",
        "47",
        "48",
        "90",
        "91",
        "92",
        "93",
        "95",
        "98",
    ),
    postcodes=(
        "0150",
        "0354",
        "0460",
        "0570",
        "1337",
        "2000",
        "3015",
        "4006",
        "5003",
        "5145",
        "6003",
        "7010",
        "8006",
        "9008",
        "1400",
    ),
    products=("Tannbehandling %s", "Rotfylling %s", "Tannregulering, avdrag %s"),
    amount_range=(900_00, 12_000_00),
)
AGENCY_STAFF = (
    ("admin@venlig.test", "Aksel Admin", Role.ADMIN, Language.EN),
    ("supervisor@venlig.test", "Signe Sørensen", Role.SUPERVISOR, Language.DA),
    ("agent.dk@venlig.test", "Anja Holm", Role.AGENT, Language.DA),
    ("agent.no@venlig.test", "Nils Aas", Role.AGENT, Language.NB),
)
DEBTORS_PER_CREDITOR = 20
MONTHS = {
    Language.DA: (
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ),
    Language.NB: (
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ),
}


HANDED_OVER_AGO = timedelta(days=10)


def database_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(Creditor))


def seed_demo(session: Session, *, now: datetime) -> int:
    """Create whatever part of the demo is missing; return how many records were added."""
    created = sum(_ensure_staff(session, *staff, now=now) for staff in AGENCY_STAFF)
    for spec in (DANISH, NORWEGIAN):
        creditor, was_new = _ensure_creditor(session, spec, now)
        created += was_new
        ensure_default_sequence(session, creditor, now=now)
        created += _ensure_staff(
            session,
            f"{spec.slug}@venlig.test",
            f"{spec.name} (bogholderi)"
            if spec.country == "DK"
            else f"{spec.name} (regnskap)",
            Role.CREDITOR,
            spec.language,
            now=now,
            creditor_id=creditor.id,
        )
        created += _ensure_debtors(session, spec, creditor, now)
        created += _ensure_chat_desk(session, spec, creditor)
    created += _ensure_canned_responses(session, now)
    session.flush()
    return created


# The agent who answers each demo creditor's chats.
CHAT_AGENTS = {"DK": "agent.dk@venlig.test", "NO": "agent.no@venlig.test"}
CANNED_RESPONSES = (
    (
        Language.DA,
        "Velkommen",
        "Hej {first_name}. Tak fordi du skrev. Jeg kigger på din sag nu.",
    ),
    (
        Language.DA,
        "Saldo og link",
        "Du skylder i alt {balance}. Du kan betale eller dele beløbet op her: {link}",
    ),
    (
        Language.NB,
        "Velkommen",
        "Hei {first_name}. Takk for at du skrev. Jeg ser på saken din nå.",
    ),
    (
        Language.NB,
        "Saldo og lenke",
        "Du skylder totalt {balance}. Du kan betale eller dele opp beløpet her: {link}",
    ),
    (
        Language.EN,
        "Welcome",
        "Hi {first_name}. Thank you for writing. I am looking at your case now.",
    ),
    (
        Language.EN,
        "Balance and link",
        "You owe {balance} in total. You can pay or split the amount here: {link}",
    ),
)


def _ensure_chat_desk(session: Session, spec: DemoCreditor, creditor: Creditor) -> int:
    agent = find_user_by_email(session, CHAT_AGENTS[spec.country])
    if agent is None or session.scalar(
        select(ChatAgent.id).where(
            ChatAgent.user_id == agent.id, ChatAgent.creditor_id == creditor.id
        )
    ):
        return 0
    session.add(ChatAgent(user_id=agent.id, creditor_id=creditor.id))
    return 1


def _ensure_canned_responses(session: Session, now: datetime) -> int:
    if session.scalar(select(func.count()).select_from(CannedResponse)):
        return 0
    for language, title, body in CANNED_RESPONSES:
        session.add(
            CannedResponse(
                language=language,
                title=title,
                body=body,
                is_active=True,
                created_at=now,
                updated_at=now,
            )
        )
    return len(CANNED_RESPONSES)


def _ensure_staff(
    session: Session,
    email: str,
    name: str,
    role: Role,
    language: Language,
    *,
    now: datetime,
    creditor_id: int | None = None,
) -> int:
    if find_user_by_email(session, email) is not None:
        return 0
    create_user(
        session,
        email=email,
        name=name,
        password=DEMO_PASSWORD,
        role=role,
        creditor_id=creditor_id,
        language=language,
        now=now,
    )
    return 1


def _ensure_creditor(
    session: Session, spec: DemoCreditor, now: datetime
) -> tuple[Creditor, int]:
    creditor = session.scalar(select(Creditor).where(Creditor.slug == spec.slug))
    if creditor is not None:
        return creditor, 0
    creditor = Creditor(
        slug=spec.slug,
        name=spec.name,
        country=spec.country,
        currency=spec.currency,
        default_language=spec.language,
        sms_sender_name=spec.sender,
        verification_factor=spec.factor,
        support_phone=spec.support_phone,
        created_at=now,
    )
    session.add(creditor)
    session.flush()
    session.add(
        PlanRules(
            creditor_id=creditor.id,
            min_instalment_minor=200_00 if spec.currency == "DKK" else 500_00,
        )
    )
    return creditor, 1


def _ensure_debtors(
    session: Session, spec: DemoCreditor, creditor: Creditor, now: datetime
) -> int:
    rng = random.Random(f"venlig-demo-{spec.slug}")
    created = 0
    for index in range(DEBTORS_PER_CREDITOR):
        debtor, was_new = _ensure_debtor(session, spec, creditor, rng, index, now)
        created += was_new
        # Every other debtor owes on two invoices: 20 debtors -> 30 accounts per creditor.
        for invoice in range(2 if index % 2 == 0 else 1):
            created += _ensure_account(
                session, spec, creditor, debtor, rng, index, invoice, now
            )
    return created


def _ensure_debtor(
    session: Session,
    spec: DemoCreditor,
    creditor: Creditor,
    rng: random.Random,
    index: int,
    now: datetime,
) -> tuple[Debtor, int]:
    first = spec.first_names[index % len(spec.first_names)]
    last = rng.choice(spec.last_names)
    phone = _mobile_number(spec, rng)
    birth_date = date(
        rng.randrange(1950, 2003), rng.randrange(1, 13), rng.randrange(1, 29)
    )
    postcode = rng.choice(spec.postcodes)
    language = Language.EN if index % 7 == 6 else spec.language
    customer_number = f"{spec.country}-{10001 + index}"
    debtor = session.scalar(
        select(Debtor).where(
            Debtor.creditor_id == creditor.id, Debtor.customer_number == customer_number
        )
    )
    if debtor is not None:
        return debtor, 0
    debtor = Debtor(
        creditor_id=creditor.id,
        customer_number=customer_number,
        name=f"{first} {last}",
        phone_e164=phone.e164,
        email=f"{first}.{last}@example.{spec.country.lower()}".lower(),
        language=language,
        timezone=phone.timezone,
        country=spec.country,
        birth_date=birth_date,
        postcode=postcode,
        created_at=now,
    )
    session.add(debtor)
    session.flush()
    return debtor, 1


def _mobile_number(spec: DemoCreditor, rng: random.Random) -> PhoneInfo:
    """A random number in the country's mobile ranges; unassigned ranges are drawn again."""
    for _ in range(100):
        national = rng.choice(spec.mobile_prefixes) + f"{rng.randrange(10**6):06d}"
        try:
            phone = parse_phone(national, spec.country)
        except ValidationFailed:
            continue
        if phone.can_receive_sms:
            return phone
    raise RuntimeError(f"no valid {spec.country} mobile number among the demo prefixes")


def _ensure_account(
    session: Session,
    spec: DemoCreditor,
    creditor: Creditor,
    debtor: Debtor,
    rng: random.Random,
    index: int,
    invoice: int,
    now: datetime,
) -> int:
    reference = (
        f"{2026_0000 + index * 10 + invoice + (500 if spec.country == 'NO' else 0)}"
    )
    days_overdue = rng.randrange(1, 91)
    amount = rng.randrange(*spec.amount_range) // 100 * 100 + rng.choice((0, 0, 50, 95))
    exists = session.scalar(
        select(Account.id).where(
            Account.creditor_id == creditor.id, Account.external_reference == reference
        )
    )
    if exists is not None:
        return 0
    due_on = now.date() - timedelta(days=days_overdue)
    issued_on = due_on - timedelta(days=14 if spec.country == "DK" else 21)
    month = MONTHS[spec.language][(issued_on.month - 1)]
    account = Account(
        creditor_id=creditor.id,
        debtor_id=debtor.id,
        external_reference=reference,
        description=rng.choice(spec.products) % f"{month} {issued_on.year}",
        original_amount_minor=amount,
        currency=spec.currency,
        issued_on=issued_on,
        due_on=due_on,
        status=AccountStatus.OPEN,
        # Handed over a while ago, so the demo starts with a history of reminders.
        created_at=now - HANDED_OVER_AGO,
        updated_at=now,
    )
    session.add(account)
    session.flush()
    issued_at = datetime.combine(issued_on, time(9), tzinfo=UTC)
    post_entry(
        session,
        account,
        LedgerKind.CHARGE,
        amount,
        now=now,
        occurred_at=issued_at,
        external_id=f"demo:{creditor.slug}:{reference}:charge",
    )
    if index % 5 == 4:
        paid = amount // 4
        post_entry(
            session,
            account,
            LedgerKind.PAYMENT,
            paid,
            now=now,
            occurred_at=issued_at + timedelta(days=days_overdue // 2 + 14),
            external_id=f"demo:{creditor.slug}:{reference}:part",
            note="Bank transfer",
        )
    return 1
