"""Debtor and account records for staff, scoped to what each user may see."""

from app.web.records.views import bp

__all__ = ["bp"]
