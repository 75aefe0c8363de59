"""Home, health check and the language switch."""

from app.web.main.views import bp

__all__ = ["bp"]
