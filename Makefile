# The two commands of the README: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-postgres test-browser lint install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kepubot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -c 'from bot.i18n import compile_catalogs; compile_catalogs()'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -c 'from bot.i18n import compile_catalogs; compile_catalogs()'
	$(VENV)/bin/kepubot demo

test: $(STAMP)
	$(PY) -c 'from bot.i18n import compile_catalogs; compile_catalogs()'
	$(PY) -m pytest

# The PostgreSQL suite: the same tests on PostgreSQL (KEPUBOT_TEST_DATABASE_URL must be set).
test-postgres: $(STAMP)
	@test -n "$$KEPUBOT_TEST_DATABASE_URL" || { echo "set KEPUBOT_TEST_DATABASE_URL"; exit 2; }
	$(PY) -m pytest -m postgres

# The desk in a real headless Chromium (tests/browser): never skipped here. Chromium comes
# from the system (Debian: apt-get install -y chromium), never from `playwright install`.
test-browser: $(STAMP)
	$(PY) -c 'from bot.i18n import compile_catalogs; compile_catalogs()'
	KEPUBOT_REQUIRE_BROWSER=1 $(PY) -m pytest -m browser tests/browser

# Lint: ruff (rules and format), mypy, and the import-linter layer contracts (.importlinter).
LINT_STAMP := $(VENV)/.lint-stamp
$(LINT_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,dev]'
	@touch $(LINT_STAMP)

lint: $(LINT_STAMP)
	$(VENV)/bin/ruff check bot storage tests benchmarks
	$(VENV)/bin/ruff format --check bot storage tests benchmarks
	$(VENV)/bin/mypy bot storage
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) var demo-output build *.egg-info
