"""Builds the provider adapters chosen by configuration (composition root only)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from twilio.rest import Client

from app.models import Account, Debtor
from payments.gateway import PaymentGateway
from payments.sandbox import SandboxGateway
from payments.stripe_gateway import StripeGateway
from reminders.dispatch import LinkFor
from reminders.email import ConsoleEmailSender, EmailSender, SmtpEmailSender
from reminders.planner import RulesFor
from reminders.profiles import ContactRules, effective_rules, profile_for
from reminders.sms import ConsoleSmsSender, SmsSender, TwilioSmsSender

SMS_KEY = "venlig.sms"


@dataclass(frozen=True)
class ReminderAdapters:
    sender: SmsSender
    rules_for: RulesFor
    link_for: LinkFor
    email_sender: EmailSender


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


def rules_for(_account: Account | None, debtor: Debtor) -> ContactRules:
    """The debtor's country profile; creditor-specific tightening is stored later."""
    return effective_rules(profile_for(debtor.country))


def reminder_adapters(app: Flask) -> ReminderAdapters:
    return ReminderAdapters(
        sender=sms_sender(app),
        rules_for=rules_for,
        link_for=portal_link_for(app),
        email_sender=email_sender(app),
    )


EMAIL_KEY = "venlig.email"


def email_sender(app: Flask) -> EmailSender:
    """The configured e-mail sender, built once per app."""
    if EMAIL_KEY not in app.extensions:
        app.extensions[EMAIL_KEY] = _build_email_sender(app)
    sender: EmailSender = app.extensions[EMAIL_KEY]
    return sender


def _build_email_sender(app: Flask) -> EmailSender:
    backend = app.config["EMAIL_BACKEND"]
    if backend == "console":
        return ConsoleEmailSender()
    if backend == "smtp":
        return SmtpEmailSender(
            host=app.config["SMTP_HOST"],
            port=int(app.config["SMTP_PORT"]),
            username=app.config["SMTP_USERNAME"],
            password=app.config["SMTP_PASSWORD"],
            from_address=app.config["EMAIL_FROM"],
        )
    raise ValueError(f"unknown EMAIL_BACKEND {backend!r}")


GATEWAY_KEY = "venlig.payments"


def payment_gateway(app: Flask) -> PaymentGateway:
    """The configured payment gateway, built once per app (tests may pre-fill a fake)."""
    if GATEWAY_KEY not in app.extensions:
        app.extensions[GATEWAY_KEY] = _build_gateway(app)
    gateway: PaymentGateway = app.extensions[GATEWAY_KEY]
    return gateway


def payments_provider(app: Flask) -> str:
    return str(app.config["PAYMENTS_BACKEND"])


def _build_gateway(app: Flask) -> PaymentGateway:
    backend = payments_provider(app)
    if backend == "stripe":
        return StripeGateway(app.config["STRIPE_SECRET_KEY"])
    if backend == "sandbox":
        base = app.config["PUBLIC_BASE_URL"].rstrip("/")
        return SandboxGateway(
            secret_key=app.config["SECRET_KEY"],
            webhook_secret=webhook_secret(app),
            checkout_url=lambda token: f"{base}/sandbox/checkout/{token}",
        )
    raise ValueError(f"unknown PAYMENTS_BACKEND {backend!r}")


def webhook_secret(app: Flask) -> str:
    """The secret payment events are signed with: Stripe's, or the sandbox's own."""
    if payments_provider(app) == "sandbox":
        return str(app.config["DEV_SANDBOX_WEBHOOK_SECRET"])
    return str(app.config["STRIPE_WEBHOOK_SECRET"])


def portal_link_for(app: Flask) -> LinkFor:
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    return lambda token: f"{base}/p/{token}"
