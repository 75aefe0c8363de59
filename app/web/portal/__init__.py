"""Debtor self-service: the personal link, verification, and what the debtor can do."""

from app.web.portal.views import bp

__all__ = ["bp"]
