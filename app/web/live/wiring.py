"""Builds the chat's adapters from configuration (composition root for the chat)."""

from __future__ import annotations

import psycopg
from flask import Flask

from app.chat.actions import ChatAdapters
from app.chat.notifier import ChatNotifier, LocalNotifier, PostgresNotifier, psycopg_dsn
from app.providers import portal_link_for
from app.services.notices import LinkFor
from app.web.db import get_engine

NOTIFIER_KEY = "venlig.chat.notifier"
# The portal link in an SMS about a chat answer opens the chat after verification.
CHAT_TARGET = "chat"


def chat_notifier(app: Flask) -> ChatNotifier:
    """One notifier per app (per process): LISTEN/NOTIFY on PostgreSQL, else polling."""
    if NOTIFIER_KEY not in app.extensions:
        app.extensions[NOTIFIER_KEY] = _build_notifier(app)
    notifier: ChatNotifier = app.extensions[NOTIFIER_KEY]
    return notifier


def _build_notifier(app: Flask) -> ChatNotifier:
    choice = app.config["CHAT_NOTIFIER"]
    poll = int(app.config["CHAT_POLL_MILLISECONDS"]) / 1000
    if choice not in ("auto", "postgres", "polling"):
        raise ValueError(f"unknown CHAT_NOTIFIER {choice!r}")
    engine = get_engine(app)
    if choice == "postgres" or (
        choice == "auto" and engine.dialect.name == "postgresql"
    ):
        dsn = psycopg_dsn(engine.url.render_as_string(hide_password=False))
        return PostgresNotifier(lambda: psycopg.connect(dsn, autocommit=True))
    return LocalNotifier(poll_seconds=poll)


def chat_link_for(app: Flask) -> LinkFor:
    portal = portal_link_for(app)
    return lambda token: f"{portal(token)}?to={CHAT_TARGET}"


def chat_adapters(app: Flask) -> ChatAdapters:
    return ChatAdapters(notifier=chat_notifier(app), link_for=chat_link_for(app))
