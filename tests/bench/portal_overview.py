"""Benchmark: the verified portal overview under gunicorn (2 workers), 50 concurrent clients.

Reported next to a trivial route in the same server, as a ratio. Aim (issue 4): at least half
the trivial route's rate, p99 under 100 ms on a 2-core machine.

    python -m tests.bench.portal_overview [--seconds 10] [--database-url URL]

`--profile N` serves N verified overview requests in-process under cProfile instead (no
server, no load): CPU time per request and where it goes, steadier than wall-clock rates on
a shared machine.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from contextlib import ExitStack

from sqlalchemy import func, select

from app import create_app
from app.clock import utcnow
from app.demo import seed_demo
from app.migrate import upgrade
from app.models import Account, Creditor, Debtor
from app.services.portal_links import factor_for, issue_link
from app.web.db import get_engine, get_session
from tests.bench.common import (
    free_port,
    scratch_postgres,
    serve,
    verified_cookie,
    write_figures,
)
from tests.bench.load import LoadResult, run_load

SECRET = "bench-secret-key-that-is-long-enough-0123456789"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--profile", type=int, default=0, metavar="REQUESTS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as scratch:
        # A PostgreSQL URL names the server: the bench seeds its own scratch database there.
        url = (
            scratch.enter_context(scratch_postgres(args.database_url))
            if args.database_url
            else f"sqlite:///{tmp}/bench.db"
        )
        env = {
            "VENLIG_DATABASE_URL": url,
            "VENLIG_SECRET_KEY": SECRET,
            "VENLIG_LOG_LEVEL": "WARNING",
        }
        if args.profile:
            _profile(env, args.profile, url.split(":")[0])
            return
        cookie = _prepare(env)
        port = free_port()
        server = serve(env, port)
        try:
            results = {
                "trivial": run_load(
                    "127.0.0.1",
                    port,
                    "/bench/trivial",
                    clients=args.clients,
                    seconds=args.seconds,
                ),
                "overview": run_load(
                    "127.0.0.1",
                    port,
                    "/p/",
                    clients=args.clients,
                    seconds=args.seconds,
                    cookie=cookie,
                ),
            }
        finally:
            server.terminate()
            server.wait(timeout=10)
    _report(results, url.split(":")[0])


def _prepare(env: dict[str, str]) -> str:
    """Migrate, seed the demo and sign one debtor in; return that browser's session cookie."""
    app = create_app({k.removeprefix("VENLIG_"): v for k, v in env.items()})
    with app.app_context():
        upgrade(get_engine(), "head")
        session = get_session()
        if not session.scalar(select(func.count()).select_from(Creditor)):
            seed_demo(session, now=utcnow())
        debtor = _busiest_debtor(session)
        token = issue_link(session, debtor, now=utcnow())
        creditor = session.get(Creditor, debtor.creditor_id)
        assert creditor is not None
        answer = _answer(session, factor_for(creditor, debtor).value, debtor)
        session.commit()
    return verified_cookie(app, token, answer)


def _profile(env: dict[str, str], requests: int, backend: str) -> None:
    """CPU per verified overview request, in this process, with the top of the profile."""
    cookie = _prepare(env)
    app = create_app({k.removeprefix("VENLIG_"): v for k, v in env.items()})
    client = app.test_client()
    name, _sep, value = cookie.partition("=")
    client.set_cookie(name, value)
    for _ in range(20):  # warm caches: templates compiled, connections opened
        response = client.get("/p/")
        assert response.status_code == 200, (response.status_code, response.location)
    # The quietest of several rounds: other work on a shared machine only ever adds time.
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(requests):
            client.get("/p/")
        rounds.append((time.process_time() - started) * 1000 / requests)
    plain_ms = min(rounds)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get("/p/")
    profiler.disable()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    write_figures(
        f"portal_overview_profile_{backend}.json",
        {
            "database": backend,
            "requests": requests,
            "cpu_ms_per_request": round(plain_ms, 2),
        },
    )


def _busiest_debtor(session) -> Debtor:
    debtor_id = session.scalar(
        select(Account.debtor_id)
        .group_by(Account.debtor_id)
        .order_by(func.count().desc())
    )
    debtor = session.get(Debtor, debtor_id)
    assert debtor is not None
    return debtor


def _answer(session, factor: str, debtor: Debtor) -> str:
    if factor == "birth_date" and debtor.birth_date:
        return debtor.birth_date.isoformat()
    if factor == "postcode":
        return debtor.postcode or ""
    return session.scalar(
        select(Account.external_reference).where(Account.debtor_id == debtor.id)
    )


def _report(results: dict[str, LoadResult], backend: str) -> None:
    trivial, overview = results["trivial"], results["overview"]
    figures = {
        "database": backend,
        "trivial_rps": round(trivial.rate, 1),
        "overview_rps": round(overview.rate, 1),
        "ratio": round(overview.rate / trivial.rate, 3) if trivial.rate else None,
        "overview_p50_ms": round(overview.p50_ms, 1),
        "overview_p99_ms": round(overview.p99_ms, 1),
        "trivial_p99_ms": round(trivial.p99_ms, 1),
        "errors": trivial.errors + overview.errors,
    }
    write_figures(f"portal_overview_{backend}.json", figures)


if __name__ == "__main__":
    main()
