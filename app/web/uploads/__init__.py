"""Invoice uploads in the creditor portal: upload, map columns, dry run, confirm, import."""

from app.web.uploads.views import bp

__all__ = ["bp"]
