"""The debtor's short portal session: which link was opened, and whether it was verified.

Only ids live in the (signed) cookie; a tampered cookie fails Flask's signature and is treated
as no session at all. A verified session ends after a few idle minutes, or when the link
expires or locks.
"""

from __future__ import annotations

import time

from flask import abort, current_app, g, session
from sqlalchemy import bindparam, select

from app.clock import utcnow
from app.models import Creditor, Debtor, PortalLink
from app.services.portal_links import is_locked
from app.web.db import get_session

LINK = "portal_link"
VERIFIED = "portal_verified"
SEEN = "portal_seen"
TARGET = "portal_target"
SIGNED_OUT = "portal_signed_out"
# How often a verified request renews the idle clock. Renewing re-signs and re-sends the
# cookie, so it is not worth doing on every request for a limit counted in minutes.
SEEN_RENEWAL_SECONDS = 30


# The debtor and creditor come along in the same query, as every page behind the link needs
# them. Built once, as it runs on every portal request.
_LINK_WITH_PEOPLE = (
    select(PortalLink, Debtor, Creditor)
    .join(Debtor, Debtor.id == PortalLink.debtor_id)
    .join(Creditor, Creditor.id == Debtor.creditor_id)
    .where(PortalLink.id == bindparam("link_id"))
)


def begin(link: PortalLink, debtor: Debtor, *, target: str | None = None) -> None:
    """A link was opened: forget any earlier debtor's session on this browser.

    `target` "chat" (the link in an SMS about a chat answer) lands on the chat after
    verification instead of the overview.
    """
    language = session.get("lang") or debtor.language.value
    session.clear()
    session["lang"] = language
    session[LINK] = link.id
    if target == "chat":
        session[TARGET] = target


def target() -> str | None:
    value = session.get(TARGET)
    return str(value) if value else None


def opened_link() -> PortalLink | None:
    found = _opened()
    if found is None or found[0].expires_at <= utcnow():
        return None
    return found[0]


def _opened() -> tuple[PortalLink, Debtor, Creditor] | None:
    """The session's link with its debtor and creditor, read once per request.

    Kept on `g` for this request only: the ORM session holds its objects weakly, so without a
    reference here every later look-up of the debtor or creditor would query again.
    """
    link_id = session.get(LINK)
    if not isinstance(link_id, int):
        return None
    cached: tuple[PortalLink, Debtor, Creditor] | None = g.get("portal_opened")
    if cached is not None and cached[0].id == link_id:
        return cached
    row = get_session().execute(_LINK_WITH_PEOPLE, {"link_id": link_id}).first()
    found = (row[0], row[1], row[2]) if row else None
    g.portal_opened = found
    return found


def mark_verified(link: PortalLink) -> None:
    session[VERIFIED] = link.id
    session[SEEN] = int(time.time())


def end(*, signed_out: bool = False) -> None:
    """Forget the link and the verification; `signed_out`: the debtor chose to leave, and
    the pages say so until a link is opened again (not that a link expired)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    if signed_out:
        session[SIGNED_OUT] = True


def has_signed_out() -> bool:
    return bool(session.get(SIGNED_OUT))


def verified_debtor() -> Debtor | None:
    """The verified debtor of this browser, or None (never verified, idle too long, locked)."""
    link = opened_link()
    if link is None or session.get(VERIFIED) != link.id or is_locked(link, utcnow()):
        return None
    idle_limit = 60 * int(current_app.config["PORTAL_SESSION_MINUTES"])
    idle = time.time() - int(session.get(SEEN, 0))
    if idle > idle_limit:
        return None
    if idle >= SEEN_RENEWAL_SECONDS:
        session[SEEN] = int(time.time())
    found = _opened()
    assert found is not None
    return found[1]


def creditor_of(debtor: Debtor) -> Creditor:
    found = _opened()
    if found is not None and found[2].id == debtor.creditor_id:
        return found[2]
    creditor = get_session().get(Creditor, debtor.creditor_id)
    if creditor is None:
        abort(404)
    return creditor
