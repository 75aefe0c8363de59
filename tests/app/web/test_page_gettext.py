"""Templates translate through the page's translations, looked up once per page, with the
same rules as Jinja's newstyle gettext: values escaped, text always %-formatted."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string

from app import create_app


@pytest.fixture
def app() -> Flask:
    """No database: these pages only translate."""
    return create_app({"ENV": "testing", "DATABASE_URL": "sqlite://"})


def _render(app: Flask, language: str, source: str, **values: object) -> str:
    with app.test_request_context("/", headers={"Accept-Language": language}):
        return render_template_string(source, **values)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("da", "Hej &lt;b&gt;Ann&lt;/b&gt;"), ("en", "Hello &lt;b&gt;Ann&lt;/b&gt;")],
)
def test_a_string_is_translated_and_its_values_escaped(
    app: Flask, language: str, expected: str
) -> None:
    shown = _render(
        app, language, '{{ _("Hello %(name)s", name=who) }}', who="<b>Ann</b>"
    )
    assert shown == expected


@pytest.mark.parametrize(("count", "expected"), [(1, "1 skyldner"), (3, "3 skyldnere")])
def test_plurals_follow_the_count(app: Flask, count: int, expected: str) -> None:
    source = '{{ ngettext("%(num)d debtor", "%(num)d debtors", n) }}'
    assert _render(app, "da", source, n=count) == expected


def test_every_string_is_a_format_string_even_without_values(app: Flask) -> None:
    assert _render(app, "en", '{{ _("100%% paid") }}') == "100% paid"


def test_outside_a_rendered_page_the_request_translations_are_used(app: Flask) -> None:
    """A template rendered straight from the environment has no page translations."""
    with app.test_request_context("/", headers={"Accept-Language": "da"}):
        template = app.jinja_env.from_string('{{ _("Hello %(name)s", name="Ann") }}')
        assert template.render() == "Hej Ann"
