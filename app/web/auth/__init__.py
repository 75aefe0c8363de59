"""Staff sign-in and sign-out."""

from app.web.auth.views import bp

__all__ = ["bp"]
