"""Venlig: the application factory, the composition root of the web process."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from app import cli, logs
from app.web import register_web
from app.web.db import init_db
from config import load_settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(
    overrides: Mapping[str, Any] | None = None,
    *,
    extensions: Mapping[str, Any] | None = None,
) -> Flask:
    """Build the Flask app for the configured environment; nothing starts at import time.

    `extensions` pre-fills `app.extensions` (a test's session factory, fake adapters), and
    whatever is given there is used instead of being built from the settings.
    """
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_mapping(load_settings(overrides, env_file=ROOT / ".env"))
    app.extensions.update(extensions or {})
    logs.configure_logging(app)
    init_db(app)
    register_web(app)
    cli.register(app)
    return app
