# hirepipe: `make demo` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# what the demo needs (hirepipe and its command line), and what development needs on top
DEMO := $(VENV)/.installed-demo
DEV := $(VENV)/.installed-dev
CHECKED := src tests examples benchmarks .ci

.PHONY: demo test quick lint typecheck pytest docs bench format clean install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever the project's metadata changes.
$(DEMO): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[cli]"
	touch $@

# Every extra and the `dev` dependency group (PEP 735): `pip install --group` needs pip 25.1.
$(DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[yaml,store,cli,plot,dask]" --group dev
	touch $@ $(DEMO)

install: $(DEV)

demo: $(DEMO)
	$(BIN)/python examples/quickstart.py
	$(BIN)/hirepipe simulate --industry engineering --company-size large --candidates 8 --runs 500 --seed 1

# PostgreSQL first: the store's tests need a server, and finding out takes seconds, not the
# minutes of the steps before them. .ci/postgres.py runs the rest with the server it found
# (or a throwaway one it started), or stops here saying how to start one.
test:
	@$(PYTHON) .ci/postgres.py -- $(MAKE) --no-print-directory lint typecheck docs pytest

lint: $(DEV)
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)

# mypy --strict on the package; pyright's --verifytypes score and the README and examples
# under pyright and mypy in strict mode run as tests (tests/test_typing.py)
typecheck: $(DEV)
	$(BIN)/mypy

# coverage starts before pytest, to measure what the tests import at collection
pytest: $(DEV)
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage report

# the documentation site, into site/: strict, so a broken link, a missing page or an
# unresolved reference fails it (no --quiet: it would hide the warnings strict counts)
docs: $(DEV)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# the edit-test loop: everything but the tests marked slow, no coverage
quick: $(DEV)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(DEV)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

format: $(DEV)
	$(BIN)/ruff check --fix $(CHECKED)
	$(BIN)/ruff format $(CHECKED)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .coverage htmlcov build dist site
