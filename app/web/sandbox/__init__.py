"""The sandbox payment gateway's pages (development and demo only)."""

from app.web.sandbox.views import bp

__all__ = ["bp"]
