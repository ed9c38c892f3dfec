# Two commands from a fresh clone: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The PostgreSQL driver (psycopg's C build) compiles against libpq: install it for the tests
# wherever pg_config says libpq's headers are there; elsewhere those tests skip.
comma := ,
EXTRAS ?= dev$(if $(shell command -v pg_config 2>/dev/null),$(comma)postgres)

.PHONY: demo test lint typecheck pytest install dev clean bench bench-quick bench-clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

demo: install
	$(BIN)/kam demo

lint: dev
	$(BIN)/ruff check kam_domain adapters tests
	$(BIN)/ruff format --check kam_domain adapters tests

typecheck: dev
	$(BIN)/mypy

pytest: dev
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# Benchmarks (docs/performance.md): not part of `make test`, which only runs them at a tiny
# size. ARGS passes options, e.g. `make bench ARGS="--only command,replay --backends sqlite"`.
bench: dev
	$(BIN)/python -m benchmarks $(ARGS)

bench-quick: dev
	$(BIN)/python -m benchmarks --quick $(ARGS)

bench-clean: dev
	$(BIN)/python -m benchmarks --clean

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
