"""Debtor self-service: the personal link, verification, and what the debtor can do."""

from app.web.portal import chat as _chat  # noqa: F401  (registers the chat views on bp)
from app.web.portal.views import bp

__all__ = ["bp"]
