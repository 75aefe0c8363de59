"""The settings classes: every key with a development-safe default and why it exists."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DEV_SECRET_KEY = "dev-only-not-secret"


class ConfigError(Exception):
    """The configuration cannot run; `problems` says every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Venlig cannot start:\n  - " + "\n  - ".join(problems))
        self.problems = problems


@dataclass
class Settings:
    """Development: embedded SQLite, the dev-phone SMS sender and the sandbox gateway."""

    SECRET_KEY: str = DEV_SECRET_KEY
    DATABASE_URL: str = "sqlite:///instance/venlig.sqlite3"
    # Public base URL, used in SMS links and to check Twilio signatures behind a proxy.
    PUBLIC_BASE_URL: str = "http://127.0.0.1:5000"
    # Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES: int = 0
    LOG_FORMAT: str = "text"
    LOG_LEVEL: str = "INFO"
    # How often `flask worker` plans and dispatches reminders.
    WORKER_TICK_SECONDS: int = 60
    SMS_BACKEND: str = "console"
    # A text whose sending is in doubt and that the SMS provider still does not list after
    # this long is taken as never sent (provider lists can lag behind by hours).
    SMS_RECONCILE_GRACE_HOURS: int = 24
    PAYMENTS_BACKEND: str = "sandbox"
    TWILIO_ACCOUNT_SID: str = ""
    TWILIO_AUTH_TOKEN: str = ""
    TWILIO_MESSAGING_SERVICE_SID: str = ""
    STRIPE_SECRET_KEY: str = ""
    STRIPE_WEBHOOK_SECRET: str = ""
    # E-mail, for debtors without a usable mobile number and for receipts: "console" logs them,
    # "smtp" sends through SMTP_HOST (STARTTLS, or implicit TLS on port 465).
    EMAIL_BACKEND: str = "console"
    EMAIL_FROM: str = ""
    SMTP_HOST: str = ""
    SMTP_PORT: int = 587
    SMTP_USERNAME: str = ""
    SMTP_PASSWORD: str = ""
    # The dev phone signs its inbound SMS like Twilio does, with this token.
    DEV_TWILIO_AUTH_TOKEN: str = "dev-phone-token"
    # The sandbox gateway signs its events like Stripe does, with this secret.
    DEV_SANDBOX_WEBHOOK_SECRET: str = "whsec_dev_sandbox"
    # Invoice uploads: the largest file accepted, and where files and reports are kept
    # (relative to the project folder unless absolute).
    UPLOAD_MAX_BYTES: int = 100_000_000
    UPLOAD_DIR: str = "instance/uploads"
    # Files from this size or row count are checked and imported by the worker, with a
    # progress bar; smaller ones at once in the request.
    UPLOAD_BACKGROUND_BYTES: int = 2_000_000
    UPLOAD_BACKGROUND_ROWS: int = 5_000
    # The worker imports large files this many rows per transaction (a fraction of a second
    # each, so cancelling and the progress bar stay prompt), and looks for new ones this often.
    INGEST_CHUNK_ROWS: int = 2_000
    INGEST_TICK_SECONDS: int = 5
    # An upload not imported this many days after it arrived expires (its file is
    # deleted), and the reports of imported uploads are deleted as long after.
    UPLOAD_KEEP_DAYS: int = 7
    # A verified debtor stays signed in to the portal this long without activity.
    PORTAL_SESSION_MINUTES: int = 30
    # Live chat: "auto" (LISTEN/NOTIFY on PostgreSQL, else polling), "postgres" or
    # "polling"; how often a polling follower looks again; how long one event stream stays
    # open before the browser reconnects (it resumes after the last message it has).
    CHAT_NOTIFIER: str = "auto"
    CHAT_POLL_MILLISECONDS: int = 500
    CHAT_STREAM_SECONDS: int = 25
    # Verification attempts per link and per address; the link also locks after 5 failures.
    PORTAL_VERIFY_RATE_LIMIT: str = "10 per minute"
    RATELIMIT_STORAGE_URI: str = "memory://"
    RATELIMIT_ENABLED: bool = True
    LOGIN_RATE_LIMIT: str = "10 per minute"
    # The REST API (flask-smorest): its OpenAPI document is served at /api/openapi.json
    # and rendered at /api/docs; requests per API key (or per address without one).
    API_TITLE: str = "Venlig API"
    API_VERSION: str = "v1"
    OPENAPI_VERSION: str = "3.0.3"
    OPENAPI_URL_PREFIX: str = "/api"
    OPENAPI_JSON_PATH: str = "openapi.json"
    API_RATE_LIMIT: str = "120 per minute"
    # Largest API request body; a batch of 1,000 accounts is well under 2 MB.
    API_MAX_BODY_BYTES: int = 5 * 1024 * 1024
    SESSION_COOKIE_SECURE: bool = False
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    REMEMBER_COOKIE_SECURE: bool = False
    REMEMBER_COOKIE_HTTPONLY: bool = True
    PERMANENT_SESSION_LIFETIME: int = 8 * 3600
    WTF_CSRF_ENABLED: bool = True
    # Languages offered to every user, the first being the fallback.
    LANGUAGES: list[str] = field(default_factory=lambda: ["en", "da", "nb"])
    DEV_TOOLS: bool = True
    TESTING: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self, values: dict[str, Any]) -> None:
        """Development accepts its own defaults."""


@dataclass
class TestingSettings(Settings):
    """Tests: in-memory database unless told otherwise, no rate limits unless a test asks."""

    DATABASE_URL: str = "sqlite://"
    RATELIMIT_ENABLED: bool = False
    TESTING: bool = True


@dataclass
class ProductionSettings(Settings):
    """Production: real providers, secure cookies, JSON logs; no development default survives."""

    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    PUBLIC_BASE_URL: str = ""
    LOG_FORMAT: str = "json"
    SMS_BACKEND: str = "twilio"
    PAYMENTS_BACKEND: str = "stripe"
    EMAIL_BACKEND: str = "smtp"
    SESSION_COOKIE_SECURE: bool = True
    REMEMBER_COOKIE_SECURE: bool = True
    DEV_TOOLS: bool = False

    def validate(self, values: dict[str, Any]) -> None:
        problems = [
            f"VENLIG_{key} is required in production"
            for key in ("SECRET_KEY", "DATABASE_URL", "PUBLIC_BASE_URL")
            if not values.get(key)
        ]
        if (
            values.get("SECRET_KEY") == DEV_SECRET_KEY
            or 0 < len(values["SECRET_KEY"]) < 32
        ):
            problems.append(
                "VENLIG_SECRET_KEY must be a random value of at least 32 characters"
            )
        if str(values.get("DATABASE_URL", "")).startswith("sqlite"):
            problems.append(
                "VENLIG_DATABASE_URL must point at PostgreSQL in production"
            )
        problems += _provider_problems(values)
        if values.get("DEV_TOOLS"):
            problems.append("VENLIG_DEV_TOOLS must be off in production")
        if problems:
            raise ConfigError(problems)


def _provider_problems(values: dict[str, Any]) -> list[str]:
    required = {
        ("SMS_BACKEND", "twilio"): (
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_MESSAGING_SERVICE_SID",
        ),
        ("PAYMENTS_BACKEND", "stripe"): ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"),
        ("EMAIL_BACKEND", "smtp"): ("SMTP_HOST", "EMAIL_FROM"),
    }
    problems = [
        f"VENLIG_{backend} must be {real!r} in production, not {values.get(backend)!r}"
        for backend, real in required
        if values.get(backend) != real
    ]
    for (backend, real), keys in required.items():
        if values.get(backend) == real:
            problems += [
                f"VENLIG_{key} is required in production"
                for key in keys
                if not values.get(key)
            ]
    return problems


SETTINGS_BY_ENV: dict[str, type[Settings]] = {
    "development": Settings,
    "testing": TestingSettings,
    "production": ProductionSettings,
}
