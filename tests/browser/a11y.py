"""axe-core in the page: no serious or critical WCAG 2.1 AA violations allowed."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SCRIPT = Path(str(resources.files("axe_playwright_python"))) / "axe.min.js"
BLOCKING = {"serious", "critical"}


@cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(content=_axe_source())
    result: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}
        })"""
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


def assert_accessible(page: Page) -> None:
    found = violations(page)
    summary = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
    ]
    assert not found, "axe-core found:\n" + "\n".join(summary)
