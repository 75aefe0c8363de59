"""A small asyncio HTTP load generator: N concurrent clients, one request at a time each.

Standard library only, so `make bench` runs on a fresh machine. Each request opens its own
connection because gunicorn's sync workers close after every response.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def _one(host: str, port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()  # until the server closes
    writer.close()
    return int(status_line.split()[1])


async def _client(
    host: str,
    port: int,
    request: bytes,
    until: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    while time.perf_counter() < until:
        started = time.perf_counter()
        try:
            status = await _one(host, port, request)
        except OSError:
            status = 0
        if status != 200:
            errors.append(status)
            continue
        latencies.append(time.perf_counter() - started)


def run_load(
    host: str, port: int, path: str, *, clients: int, seconds: float, cookie: str = ""
) -> LoadResult:
    headers = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
    if cookie:
        headers += f"Cookie: {cookie}\r\n"
    request = (headers + "\r\n").encode()
    latencies: list[float] = []
    errors: list[int] = []

    async def main() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _client(host, port, request, until, latencies, errors)
                for _ in range(clients)
            )
        )

    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    return LoadResult(
        requests=len(latencies),
        errors=len(errors),
        seconds=elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )
