"""Canned responses per language, with placeholders filled from what we know of the debtor.

A placeholder that cannot be filled stays in the text, and a text with a placeholder left
in it cannot be sent: the debtor never gets "Hi , you owe ".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.chat.conversations import clean_text
from app.errors import N_, NotFound, ValidationFailed
from app.models import CannedResponse, Debtor, User
from app.models.enums import Language
from app.services.formatting import format_money
from app.services.texts import BABEL_LOCALE
from payments.overview import accounts_for, total_due

PLACEHOLDERS = ("first_name", "balance", "link")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
# A placeholder with the full stop after it: "{balance}." must not end "1.001,95 kr..".
_FILLED = re.compile(r"\{([A-Za-z_]+)\}(\.?)")
TITLE_LIMIT = 100


@dataclass(frozen=True)
class Filled:
    text: str
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def fill(template: str, values: Mapping[str, str | None]) -> Filled:
    """Put each known value in; what cannot be filled is left as "{name}" and listed."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if not value:
            missing.append(match.group(1))
            return match.group(0)
        stop = match.group(2)
        return value if value.endswith(".") else value + stop

    return Filled(_FILLED.sub(replace, template), tuple(dict.fromkeys(missing)))


def placeholders_left(text: str) -> list[str]:
    """Known placeholders still in a text about to be sent."""
    return [name for name in _PLACEHOLDER.findall(text) if name in PLACEHOLDERS]


def values_for(session: Session, debtor: Debtor, *, link: str) -> dict[str, str | None]:
    """First name, total balance (only when it is in one currency) and the portal link."""
    views = [v for v in accounts_for(session, debtor) if v.balance_minor > 0]
    currencies = {v.account.currency for v in views}
    balance = None
    if len(currencies) == 1:
        balance = format_money(
            total_due(views),
            currencies.pop(),
            BABEL_LOCALE.get(debtor.language.value, "en_GB"),
        )
    return {
        "first_name": debtor.first_name.strip() or None,
        "balance": balance,
        "link": link or None,
    }


def responses_for(
    session: Session, creditor_id: int, language: Language
) -> list[CannedResponse]:
    """Active responses in the language, the creditor's own and those for everyone."""
    return list(
        session.scalars(
            select(CannedResponse)
            .where(
                CannedResponse.is_active.is_(True),
                CannedResponse.language == language,
                or_(
                    CannedResponse.creditor_id.is_(None),
                    CannedResponse.creditor_id == creditor_id,
                ),
            )
            .order_by(CannedResponse.title, CannedResponse.id)
        )
    )


def all_responses(
    session: Session, creditor_ids: list[int] | None
) -> list[CannedResponse]:
    statement = select(CannedResponse).order_by(
        CannedResponse.language, CannedResponse.title, CannedResponse.id
    )
    if creditor_ids is not None:
        statement = statement.where(
            or_(
                CannedResponse.creditor_id.is_(None),
                CannedResponse.creditor_id.in_(creditor_ids),
            )
        )
    return list(session.scalars(statement))


def get_response(session: Session, response_id: int) -> CannedResponse:
    """:raises NotFound: no such response."""
    response = session.get(CannedResponse, response_id)
    if response is None:
        raise NotFound(N_("No such canned response"))
    return response


def save_response(
    session: Session,
    editor: User,
    *,
    title: str,
    body: str,
    language: Language,
    creditor_id: int | None,
    is_active: bool,
    now: datetime,
    response: CannedResponse | None = None,
) -> CannedResponse:
    """Create or update a canned response.

    :raises ValidationFailed: empty or too long, or an unknown placeholder.
    """
    title = " ".join(title.split())
    if not title or len(title) > TITLE_LIMIT:
        raise ValidationFailed(N_("Give it a short title"), {"title": ["length"]})
    body = clean_text(body)
    unknown = sorted({n for n in _PLACEHOLDER.findall(body) if n not in PLACEHOLDERS})
    if unknown:
        raise ValidationFailed(
            "Unknown placeholder: " + ", ".join("{" + n + "}" for n in unknown),
            {"body": ["unknown_placeholder"]},
        )
    if response is None:
        response = CannedResponse(created_at=now)
        session.add(response)
    response.title, response.body, response.language = title, body, language
    response.creditor_id, response.is_active = creditor_id, is_active
    response.updated_by_user_id, response.updated_at = editor.id, now
    session.flush()
    return response
