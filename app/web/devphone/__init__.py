"""The dev phone: see the texts demo debtors receive and answer as if by SMS (development)."""

from app.web.devphone.views import bp

__all__ = ["bp"]
