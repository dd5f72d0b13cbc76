# Loop QMS: `make run` sets up everything and serves the app; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# Python keeps compiled modules in __pycache__ (ignored by git) even where the environment says
# not to: without them every process compiles the app again (the suite's collection took 20 s
# instead of 8, and each test subprocess and CLI call a second more).
unexport PYTHONDONTWRITEBYTECODE

# axe-core (npm, pinned in tests/browser/package.json) for the browser tests' accessibility checks.
AXE := tests/browser/node_modules/axe-core/axe.min.js

.PHONY: run install install-dev install-browser migrate seed test test-sqlite test-postgres lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

$(AXE): tests/browser/package.json
	npm install --prefix tests/browser --no-package-lock --no-audit --no-fund --loglevel=error
	touch $@

install-browser: $(AXE)

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo --if-empty

run: seed
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The suite runs in PYTEST_WORKERS processes (pytest-xdist; 0 runs it in this one), then the
# browser tests in a pass of their own, also in PYTEST_WORKERS processes: a browser test mostly
# waits (for Chromium, for the live server), so two of them share the two cores well, while a
# browser test beside the CPU-bound unit tests would be starved. That pass collects only
# tests/browser: the `browser` fixture lives there, so every browser test does.
PYTEST_WORKERS ?= 2
PYTEST_RUN = $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser" && $(BIN)/pytest -n $(PYTEST_WORKERS) -m browser tests/browser

test-sqlite: install-dev install-browser
	env -u TEST_DATABASE_URL sh -c '$(PYTEST_RUN)'

test-postgres: install-dev install-browser
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL run: $$TEST_DATABASE_URL"; \
		sh -c '$(PYTEST_RUN)'; \
	else \
		echo "TEST_DATABASE_URL is not set: skipping the PostgreSQL run"; \
	fi

test: lint test-sqlite test-postgres

bench: install-dev
	$(BIN)/python -m tests.benchmarks.run_all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/browser/node_modules
