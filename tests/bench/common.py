"""What the benchmarks share: realistic names, a scratch database, gunicorn, a signed-in debtor,
and where the figures go."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, make_url, text

OUT = Path("artifacts/bench")
FIRST_NAMES = (
    "Anne", "Mette", "Kirsten", "Hanne", "Helle", "Susanne", "Lone", "Camilla", "Marianne",
    "Louise", "Peter", "Jens", "Michael", "Lars", "Thomas", "Henrik", "Søren", "Christian",
    "Martin", "Jørgen", "Niels", "Rasmus", "Mads", "Frederik", "Ida", "Sofie", "Emma",
    "Freja", "Asger", "Bjørn", "Åse", "Øjvind",
)  # fmt: skip
LAST_NAMES = (
    "Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
    "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
    "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Østergaard",
    "Bøgh", "Lindqvist-Aagaard",
)  # fmt: skip
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@contextlib.contextmanager
def scratch_postgres(base_url: str) -> Iterator[str]:
    """A new database beside `base_url`'s, dropped at the end whatever happens."""
    name = f"venlig_bench_{secrets.token_hex(6)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(base_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(
    env: dict[str, str], port: int, extra: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """gunicorn with 2 workers on tests.bench.server:app, once it answers."""
    command = [
        sys.executable, "-m", "gunicorn", "--workers", "2", *extra,
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "tests.bench.server:app",
    ]  # fmt: skip
    server = subprocess.Popen(command, env={**os.environ, **env})
    # Importing the app takes seconds of CPU per worker; on a busy 2-core machine, many more.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/bench/trivial", timeout=1
            ):
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def verified_cookie(app: Flask, token: str, answer: str) -> str:
    """Open the debtor's link and verify, as a browser would; returns its Cookie header."""
    client = app.test_client()
    client.get(f"/p/{token}")
    page = client.get("/p/verify").get_data(as_text=True)
    match = _CSRF.search(page)
    assert match is not None
    response = client.post(
        "/p/verify", data={"answer": answer, "csrf_token": match.group(1)}
    )
    assert response.status_code == 303, "verification failed"
    cookie = client.get_cookie("session")
    assert cookie is not None
    return f"session={cookie.value}"


def machine_load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def write_figures(filename: str, figures: dict[str, Any]) -> None:
    """Stamp the machine and the time, write artifacts/bench/<filename>, print it."""
    figures["cpus"] = os.cpu_count()
    figures["run_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    OUT.mkdir(parents=True, exist_ok=True)
    shown = json.dumps(figures, indent=2, default=str)
    (OUT / filename).write_text(shown)
    print(shown)
