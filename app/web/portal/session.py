"""The debtor's short portal session: which link was opened, and whether it was verified.

Only ids live in the (signed) cookie; a tampered cookie fails Flask's signature and is treated
as no session at all. A verified session ends after a few idle minutes, or when the link
expires or locks.
"""

from __future__ import annotations

import time

from flask import abort, current_app, session

from app.clock import utcnow
from app.models import Creditor, Debtor, PortalLink
from app.services.portal_links import is_locked
from app.web.db import get_session

LINK = "portal_link"
VERIFIED = "portal_verified"
SEEN = "portal_seen"
TARGET = "portal_target"


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
    link_id = session.get(LINK)
    link = get_session().get(PortalLink, link_id) if isinstance(link_id, int) else None
    if link is None or link.expires_at <= utcnow():
        return None
    return link


def mark_verified(link: PortalLink) -> None:
    session[VERIFIED] = link.id
    session[SEEN] = int(time.time())


def end() -> None:
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def verified_debtor() -> Debtor | None:
    """The verified debtor of this browser, or None (never verified, idle too long, locked)."""
    link = opened_link()
    if link is None or session.get(VERIFIED) != link.id or is_locked(link, utcnow()):
        return None
    idle_limit = 60 * int(current_app.config["PORTAL_SESSION_MINUTES"])
    if time.time() - int(session.get(SEEN, 0)) > idle_limit:
        return None
    session[SEEN] = int(time.time())
    return get_session().get(Debtor, link.debtor_id)


def creditor_of(debtor: Debtor) -> Creditor:
    creditor = get_session().get(Creditor, debtor.creditor_id)
    if creditor is None:
        abort(404)
    return creditor
