"""A Prism mock server generated from Twilio's own OpenAPI document (../shared/specs/).

Prism comes from npm (`.ci/run` installs it into .ci/node). Without it the contract tests are
skipped with the reason shown, unless VENLIG_REQUIRE_CONTRACT=1 (CI), which makes that an error.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.material import SPECS

ROOT = Path(__file__).resolve().parents[2]
PRISM = Path(os.environ.get("VENLIG_PRISM", ROOT / ".ci/node/node_modules/.bin/prism"))
TWILIO_SPEC = SPECS / "twilio_api_v2010.json"
REQUIRE_CONTRACT = os.environ.get("VENLIG_REQUIRE_CONTRACT") == "1"


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_CONTRACT and not (PRISM.exists() and TWILIO_SPEC.exists()):
        raise pytest.UsageError(
            f"VENLIG_REQUIRE_CONTRACT=1 but Prism ({PRISM}) or the Twilio spec is missing"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def twilio_mock() -> Iterator[str]:
    """The base URL of a Prism mock of Twilio's REST API."""
    with prism_mock() as base:
        yield base


@contextlib.contextmanager
def prism_mock(*options: str) -> Iterator[str]:
    """Prism serving Twilio's document (with `options`, e.g. "-d" for random answers);
    skipped, with the reason, where Prism or the document is missing (an error in CI)."""
    if not PRISM.exists():
        pytest.skip(f"contract tests skipped: no Prism at {PRISM} (see .ci/run)")
    if not TWILIO_SPEC.exists():
        pytest.skip(f"contract tests skipped: no Twilio spec at {TWILIO_SPEC}")
    port = _free_port()
    command = [str(PRISM), "mock", *options, "-h", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        [*command, str(TWILIO_SPEC)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("Prism exited before it was ready")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError("Prism did not start within 60 s")
