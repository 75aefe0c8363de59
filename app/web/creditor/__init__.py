"""The creditor portal's reminder pages: the sequence editor and the creditor's settings."""

from app.web.creditor.views import bp

__all__ = ["bp"]
