"""Benchmark: the verified portal overview under gunicorn (2 workers), 50 concurrent clients.

Reported next to a trivial route in the same server, as a ratio. Aim (issue 4): at least half
the trivial route's rate, p99 under 100 ms on a 2-core machine.

    python -m tests.bench.portal_overview [--seconds 10] [--database-url URL]
"""

from __future__ import annotations

import argparse
import tempfile

from sqlalchemy import func, select

from app import create_app
from app.clock import utcnow
from app.demo import seed_demo
from app.migrate import upgrade
from app.models import Account, Creditor, Debtor
from app.services.portal_links import factor_for, issue_link
from app.web.db import get_engine, get_session
from tests.bench.common import free_port, serve, verified_cookie, write_figures
from tests.bench.load import LoadResult, run_load

SECRET = "bench-secret-key-that-is-long-enough-0123456789"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        env = {
            "VENLIG_DATABASE_URL": url,
            "VENLIG_SECRET_KEY": SECRET,
            "VENLIG_LOG_LEVEL": "WARNING",
        }
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
