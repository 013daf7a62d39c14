# Two commands do all set-up on a fresh machine: `make run` serves, `make test` tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install setup run lint test test-unit test-e2e fixtures bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

setup: $(STAMP)
	$(BIN)/taxassist setup

run: setup
	$(BIN)/taxassist serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check assistant api tests benchmarks
	$(BIN)/ruff format --check assistant api tests benchmarks
	$(BIN)/mypy

test-unit: setup
	$(BIN)/pytest -m "not e2e"

test-e2e: setup
	$(BIN)/pytest -m e2e

test: lint test-unit test-e2e

fixtures:
	bash tests/fixtures/make_fixtures.sh

bench: setup
	$(BIN)/python benchmarks/flow_bench.py

clean:
	rm -rf $(VENV) data models/whisper-base
