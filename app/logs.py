"""Logging: readable lines in development, one JSON object per line in production."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from flask import Flask, g, has_request_context


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request's id, or '-' outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class RedactPortalTokens(logging.Filter):
    """Personal link tokens are secrets: access logs show `/p/[token]` instead."""

    PATTERN = re.compile(r"/p/[A-Za-z0-9_-]{16,}")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.PATTERN.sub("/p/[token]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(app: Flask) -> None:
    """Send the app's and the domain packages' logs to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"
            )
        )
    for name in ("app", "reminders", "payments"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(app.config["LOG_LEVEL"])
        logger.propagate = False
    for name in ("werkzeug", "gunicorn.access"):
        access_log = logging.getLogger(name)
        if not any(isinstance(f, RedactPortalTokens) for f in access_log.filters):
            access_log.addFilter(RedactPortalTokens())
