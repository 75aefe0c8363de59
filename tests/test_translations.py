"""Danish and Norwegian cover every text the code and templates can show."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
}
METHODS = [
    ("app/**.py", "python"),
    ("reminders/**.py", "python"),
    ("payments/**.py", "python"),
    ("templates/**.html", "jinja2"),
]


def _source_messages() -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {}}
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("language", ["da", "nb"])
def test_every_message_is_translated(language: str) -> None:
    path = ROOT / "app" / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id
        and not m.fuzzy
        and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, f"{language} lacks: {missing}"
