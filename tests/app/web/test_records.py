"""The debtor search: any letter in any case, a phone number however it is typed."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.models import Creditor
from app.models.enums import Role
from tests.app.web.helpers import sign_in
from tests.factories import make_creditor, make_debtor, make_user

NAMES = ("Østergaard Jensen", "Ærø Fisk ApS", "Åse Ødegård", "Bo Hansen")


def found(client: FlaskClient, query: str) -> set[str]:
    page = client.get("/debtors", query_string={"q": query}).get_data(as_text=True)
    return {name for name in NAMES if f"<strong>{name}</strong>" in page}


@pytest.fixture
def danish(session: Session, now: datetime) -> Creditor:
    creditor = make_creditor(session, now, country="DK")
    phones = ("+4520112233", "+4540404040", None, "+4530303030")
    for name, phone in zip(NAMES, phones, strict=True):
        make_debtor(session, creditor, now, name=name, phone_e164=phone)
    return creditor


@pytest.fixture
def client_of(
    client: FlaskClient, session: Session, now: datetime, danish: Creditor
) -> FlaskClient:
    user = make_user(session, now, Role.CREDITOR, danish)
    session.commit()
    sign_in(client, user.email)
    return client


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("østergaard", {"Østergaard Jensen"}),
        ("ØSTERGAARD", {"Østergaard Jensen"}),
        ("ærø", {"Ærø Fisk ApS"}),
        ("ÆRØ FISK", {"Ærø Fisk ApS"}),
        ("åse", {"Åse Ødegård"}),
        ("ØDEGÅRD", {"Åse Ødegård"}),
        ("hansen", {"Bo Hansen"}),
    ],
)
def test_names_are_found_in_any_case_with_danish_letters_too(
    client_of: FlaskClient, query: str, names: set[str]
) -> None:
    assert found(client_of, query) == names


@pytest.mark.parametrize(
    "query",
    ["20 11 22 33", "20-11-22-33", "+45 20 11 22 33", "+4520112233", "0045 20112233"],
)
def test_a_phone_number_is_found_however_it_is_spaced_and_with_or_without_the_code(
    client_of: FlaskClient, query: str
) -> None:
    assert found(client_of, query) == {"Østergaard Jensen"}


def test_a_number_without_a_code_is_read_in_each_creditors_own_country(
    client: FlaskClient, session: Session, now: datetime, danish: Creditor
) -> None:
    british = make_creditor(session, now, country="GB", currency="GBP")
    make_debtor(session, british, now, name="Bo Hansen", phone_e164="+447400123456")
    staff = make_user(session, now, Role.ADMIN)
    session.commit()
    sign_in(client, staff.email)

    # The British way, trunk 0 and all: read in the UK, where that creditor is.
    assert found(client, "07400 123456") == {"Bo Hansen"}
    assert found(client, "+44 7400 123456") == {"Bo Hansen"}
    # The Danish way, international prefix 00 and all.
    assert found(client, "0045 20 11 22 33") == {"Østergaard Jensen"}


def test_another_creditors_debtor_is_not_found_by_its_number(
    client_of: FlaskClient, session: Session, now: datetime
) -> None:
    other = make_creditor(session, now, country="DK")
    make_debtor(session, other, now, name="Bo Hansen", phone_e164="+4599887766")
    session.commit()
    assert found(client_of, "99 88 77 66") == set()
