"""The supervisor's view of complaint risk."""

from app.web.risk.views import bp

__all__ = ["bp"]
