"""Inbound provider webhooks: Twilio status callbacks and inbound SMS."""

from app.web.webhooks.views import bp

__all__ = ["bp"]
