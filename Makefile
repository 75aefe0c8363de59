# Venlig: `make run` for the demo, `make test` for the whole check. Needs only python3 >= 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi:app

.PHONY: run test lint translations messages eval-risk bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d app/translations -f >/dev/null

run: $(VENV)/.installed translations
	$(BIN)/flask db upgrade
	$(BIN)/flask demo --if-empty
	@$(BIN)/python -m app.banner
	@# The worker (reminder ticks) runs beside the web server and stops with it.
	@$(BIN)/flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(VENV)/.installed-dev translations lint
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance artifacts

# After changing texts: refresh the catalogs, translate the new entries, commit the .po files.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

# Precision, recall and F1 of the complaint-risk detector per category and language.
eval-risk: $(VENV)/.installed
	$(BIN)/python -m app.risk.evaluate tests/data/risk/corpus.jsonl tests/data/risk/holdout.jsonl tests/data/risk/holdout2.jsonl tests/data/risk/holdout3.jsonl tests/data/risk/holdout4.jsonl tests/data/risk/holdout5.jsonl tests/data/risk/holdout6.jsonl

# Figures, not pass/fail: written to artifacts/bench/*.json and printed.
bench: $(VENV)/.installed-dev translations
	$(BIN)/python -m tests.bench.portal_overview
	$(if $(TEST_DATABASE_URL),$(BIN)/python -m tests.bench.portal_overview --database-url $(TEST_DATABASE_URL))
	$(BIN)/python -m tests.bench.reminders_engine
	$(BIN)/python -m tests.bench.ingest_import
	$(BIN)/python -m tests.bench.chat_latency $(if $(TEST_DATABASE_URL),--database-url $(TEST_DATABASE_URL))
