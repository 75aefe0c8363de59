"""The real app plus one trivial route, served together so their rates compare fairly."""

from __future__ import annotations

from app import create_app

app = create_app()


@app.get("/bench/trivial")
def trivial() -> str:
    return "ok"
