"""Settings: environment parsing and production's refusal to run on unsafe values."""

from pathlib import Path

import pytest

from config import ConfigError, load_settings

GOOD_PRODUCTION = {
    "VENLIG_ENV": "production",
    "VENLIG_SECRET_KEY": "k" * 48,
    "VENLIG_DATABASE_URL": "postgresql+psycopg://venlig@db/venlig",
    "VENLIG_PUBLIC_BASE_URL": "https://pay.example.dk",
    "VENLIG_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "VENLIG_TWILIO_AUTH_TOKEN": "t" * 32,
    "VENLIG_TWILIO_MESSAGING_SERVICE_SID": "MG" + "0" * 32,
    "VENLIG_STRIPE_SECRET_KEY": "sk_live_x",
    "VENLIG_STRIPE_WEBHOOK_SECRET": "whsec_x",
    "VENLIG_SMTP_HOST": "smtp.example.org",
    "VENLIG_EMAIL_FROM": "reminders@venlig.example",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for key in list(os.environ):
        if key.startswith("VENLIG_"):
            monkeypatch.delenv(key)
    return monkeypatch


def test_development_runs_on_embedded_defaults(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings(env_file=None)
    assert settings["ENV"] == "development"
    assert settings["DATABASE_URL"].startswith("sqlite")
    assert settings["SMS_BACKEND"] == "console"
    assert settings["PAYMENTS_BACKEND"] == "sandbox"


def test_environment_values_take_the_type_of_their_default(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("VENLIG_TRUSTED_PROXIES", "2")
    clean_env.setenv("VENLIG_RATELIMIT_ENABLED", "false")
    settings = load_settings(env_file=None)
    assert settings["TRUSTED_PROXIES"] == 2
    assert settings["RATELIMIT_ENABLED"] is False


def test_a_malformed_number_is_a_clear_error(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("VENLIG_TRUSTED_PROXIES", "two")
    with pytest.raises(ConfigError, match="whole number"):
        load_settings(env_file=None)


def test_dotenv_file_is_read_and_the_environment_wins(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "VENLIG_LOG_LEVEL=DEBUG\nVENLIG_PUBLIC_BASE_URL=http://from-file\n"
    )
    clean_env.setenv("VENLIG_PUBLIC_BASE_URL", "http://from-env")
    settings = load_settings(env_file=env_file)
    assert settings["LOG_LEVEL"] == "DEBUG"
    assert settings["PUBLIC_BASE_URL"] == "http://from-env"


def test_production_with_everything_set_starts(clean_env: pytest.MonkeyPatch) -> None:
    for key, value in GOOD_PRODUCTION.items():
        clean_env.setenv(key, value)
    settings = load_settings(env_file=None)
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["LOG_FORMAT"] == "json"


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("VENLIG_SECRET_KEY", "", "VENLIG_SECRET_KEY is required"),
        ("VENLIG_SECRET_KEY", "dev-only-not-secret", "random value of at least 32"),
        ("VENLIG_SECRET_KEY", "short", "random value of at least 32"),
        ("VENLIG_DATABASE_URL", "", "VENLIG_DATABASE_URL is required"),
        ("VENLIG_DATABASE_URL", "sqlite:///x.db", "must point at PostgreSQL"),
        ("VENLIG_TWILIO_AUTH_TOKEN", "", "VENLIG_TWILIO_AUTH_TOKEN is required"),
        ("VENLIG_STRIPE_SECRET_KEY", "", "VENLIG_STRIPE_SECRET_KEY is required"),
        ("VENLIG_SMS_BACKEND", "console", "must be 'twilio'"),
        ("VENLIG_PAYMENTS_BACKEND", "sandbox", "must be 'stripe'"),
        ("VENLIG_DEV_TOOLS", "true", "DEV_TOOLS must be off"),
    ],
)
def test_production_refuses_missing_or_development_values(
    clean_env: pytest.MonkeyPatch, key: str, value: str, complaint: str
) -> None:
    for name, good in GOOD_PRODUCTION.items():
        clean_env.setenv(name, good)
    clean_env.setenv(key, value)
    with pytest.raises(ConfigError, match=complaint):
        load_settings(env_file=None)


def test_production_lists_every_problem_at_once(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("VENLIG_ENV", "production")
    with pytest.raises(ConfigError) as raised:
        load_settings(env_file=None)
    assert len(raised.value.problems) >= 5


def test_unknown_environment_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("VENLIG_ENV", "staging")
    with pytest.raises(ConfigError, match="VENLIG_ENV must be one of"):
        load_settings(env_file=None)
