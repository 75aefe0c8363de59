"""Tenant-scoped loaders: the one place that decides which debtors a staff user may see.

Objects of another creditor raise NotFound, never Forbidden, so their existence does not leak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationFailed
from app.models import Account, ChatAgent, Creditor, Debtor, User
from app.models.enums import Role
from app.services.phones import parse_phone

# A search typed as a phone number: digits, perhaps spaced or dashed, perhaps a leading +.
_PHONE_TYPED = re.compile(r"\+?[\d ().-]*\d[\d ().-]*")
_NOT_DIGIT = re.compile(r"\D")


def _creditor_ids(user: User) -> Select[Any] | None:
    """The creditors whose debtors `user` may see; None: every creditor.

    A creditor's own staff see that creditor; an agency agent sees the creditors whose chats
    they answer (as the team page says); agency supervisors and admins see all.
    """
    if not user.is_agency_staff:
        return select(Creditor.id).where(Creditor.id == user.creditor_id)
    if user.role is Role.AGENT:
        return select(ChatAgent.creditor_id).where(ChatAgent.user_id == user.id)
    return None


def _visible_to(user: User) -> ColumnElement[bool]:
    ids = _creditor_ids(user)
    return true() if ids is None else Debtor.creditor_id.in_(ids)


def visible_creditors(session: Session, user: User) -> list[Creditor]:
    statement = select(Creditor).order_by(Creditor.name)
    ids = _creditor_ids(user)
    if ids is not None:
        statement = statement.where(Creditor.id.in_(ids))
    return list(session.scalars(statement))


def get_debtor_for_user(session: Session, user: User, debtor_id: int) -> Debtor:
    """:raises NotFound: no such debtor, or not one this user may see."""
    debtor = session.scalar(
        select(Debtor).where(Debtor.id == debtor_id, _visible_to(user))
    )
    if debtor is None:
        raise NotFound("No such debtor")
    return debtor


def get_account_for_user(session: Session, user: User, account_id: int) -> Account:
    """:raises NotFound: no such account, or not one this user may see."""
    ids = _creditor_ids(user)
    account = session.scalar(
        select(Account).where(
            Account.id == account_id,
            true() if ids is None else Account.creditor_id.in_(ids),
        )
    )
    if account is None:
        raise NotFound("No such account")
    return account


@dataclass(frozen=True)
class DebtorPage:
    debtors: list[Debtor]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_debtors_for_user(
    session: Session, user: User, *, query: str = "", page: int = 1, per_page: int = 25
) -> DebtorPage:
    """Debtors this user may see, filtered by name, phone, customer number or invoice.

    Letters match in any case (Æ, Ø and Å too: see app.db on SQLite).
    """
    statement = select(Debtor).where(_visible_to(user))
    term = query.strip()
    if term:
        like = f"%{term.lower()}%"
        invoice_match = select(Account.debtor_id).where(
            func.lower(Account.external_reference).like(like)
        )
        statement = statement.where(
            or_(
                func.lower(Debtor.name).like(like),
                func.lower(Debtor.customer_number).like(like),
                Debtor.id.in_(invoice_match),
                *_phone_matches(session, user, term),
            )
        )
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    page = max(1, page)
    debtors = session.scalars(
        statement.order_by(Debtor.name, Debtor.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return DebtorPage(list(debtors), total, page, per_page)


def _phone_matches(
    session: Session, user: User, term: str
) -> list[ColumnElement[bool]]:
    """Debtors whose number `term` is, or is part of, however it is spaced; a number typed
    without + is read in each creditor's own country, as the import reads it."""
    if not _PHONE_TYPED.fullmatch(term):
        return []
    matches: list[ColumnElement[bool]] = [
        Debtor.phone_e164.like(f"%{_NOT_DIGIT.sub('', term)}%")
    ]
    if term.startswith("+"):
        e164 = _e164(term, "ZZ")  # its country code says the country
        return [*matches, Debtor.phone_e164 == e164] if e164 else matches
    for country in _countries_of(session, user):
        e164 = _e164(term, country)
        if e164 is not None:
            in_country = select(Creditor.id).where(Creditor.country == country)
            matches.append(
                and_(Debtor.phone_e164 == e164, Debtor.creditor_id.in_(in_country))
            )
    return matches


def _e164(term: str, country: str) -> str | None:
    try:
        return parse_phone(term, country).e164
    except ValidationFailed:
        return None


def _countries_of(session: Session, user: User) -> list[str]:
    statement = select(Creditor.country).distinct()
    ids = _creditor_ids(user)
    if ids is not None:
        statement = statement.where(Creditor.id.in_(ids))
    return list(session.scalars(statement))


def accounts_of_debtor(session: Session, debtor: Debtor) -> list[Account]:
    return list(
        session.scalars(
            select(Account)
            .where(Account.debtor_id == debtor.id)
            .order_by(Account.due_on)
        )
    )
