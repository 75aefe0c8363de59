"""Builds the provider adapters chosen by configuration (composition root only)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from twilio.rest import Client

from app.models import Account, Debtor
from reminders.dispatch import LinkFor
from reminders.planner import RulesFor
from reminders.profiles import ContactRules, effective_rules, profile_for
from reminders.sms import ConsoleSmsSender, SmsSender, TwilioSmsSender

SMS_KEY = "venlig.sms"


@dataclass(frozen=True)
class ReminderAdapters:
    sender: SmsSender
    rules_for: RulesFor
    link_for: LinkFor


def sms_sender(app: Flask) -> SmsSender:
    """The configured SMS sender, built once per app (tests may pre-fill a fake)."""
    if SMS_KEY not in app.extensions:
        app.extensions[SMS_KEY] = _build_sender(app)
    sender: SmsSender = app.extensions[SMS_KEY]
    return sender


def _build_sender(app: Flask) -> SmsSender:
    backend = app.config["SMS_BACKEND"]
    if backend == "console":
        return ConsoleSmsSender()
    if backend == "twilio":
        client = Client(
            app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"]
        )
        return TwilioSmsSender(
            client,
            messaging_service_sid=app.config["TWILIO_MESSAGING_SERVICE_SID"],
            status_callback_url=f"{app.config['PUBLIC_BASE_URL']}/webhooks/twilio/status",
        )
    raise ValueError(f"unknown SMS_BACKEND {backend!r}")


def rules_for(_account: Account, debtor: Debtor) -> ContactRules:
    """The debtor's country profile; creditor-specific tightening is stored later."""
    return effective_rules(profile_for(debtor.country))


def reminder_adapters(app: Flask) -> ReminderAdapters:
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    return ReminderAdapters(
        sender=sms_sender(app),
        rules_for=rules_for,
        link_for=lambda token: f"{base}/p/{token}",
    )
