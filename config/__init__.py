"""Settings: defaults per environment, then VENLIG_* variables (and .env), then overrides.

Only the composition root (`create_app`, the CLI) calls `load_config`; nothing reads the
environment at import time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from config.settings import SETTINGS_BY_ENV, ConfigError, Settings

__all__ = ["ConfigError", "Settings", "load_settings"]

PREFIX = "VENLIG_"


def _environment(env_file: Path | None) -> dict[str, str]:
    """VENLIG_* variables from an optional .env file, overridden by the real environment."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update(
            {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        )
    values.update(os.environ)
    return {
        k.removeprefix(PREFIX): v for k, v in values.items() if k.startswith(PREFIX)
    }


def _parse(raw: str, default: Any) -> Any:
    """Environment strings become the type of the default (bool, int, list) where one exists."""
    if isinstance(default, bool):
        if raw.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ConfigError([f"expected a boolean, got {raw!r}"])
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError([f"expected a whole number, got {raw!r}"]) from exc
    if isinstance(default, list | dict):
        return json.loads(raw)
    return raw


def load_settings(
    overrides: Mapping[str, Any] | None = None, env_file: Path | None = Path(".env")
) -> dict[str, Any]:
    """Build the settings dict for the chosen environment and validate it.

    :raises ConfigError: listing every missing or unsafe setting at once.
    """
    overrides = dict(overrides or {})
    environ = _environment(env_file)
    env_name = str(overrides.get("ENV") or environ.get("ENV") or "development")
    if env_name not in SETTINGS_BY_ENV:
        raise ConfigError(
            [f"VENLIG_ENV must be one of {sorted(SETTINGS_BY_ENV)}, not {env_name!r}"]
        )
    settings = SETTINGS_BY_ENV[env_name]()
    values = settings.as_dict()
    for key, raw in environ.items():
        if key in values:
            values[key] = _parse(raw, values[key])
    values.update(overrides)
    values["ENV"] = env_name
    settings.validate(values)
    return values
