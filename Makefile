# The README's two commands: `make demo` (the main job) and `make test` (the suite).
# Everything is installed into .venv/ from requirements-dev.lock (the runtime lock + the dev extra); nothing
# global is assumed beyond a CPython 3.11 interpreter. Two distributions, both editable: the product
# (`-e .`, plugins/offboarding) and its dev tools (`-e devtools`: sandbox, test harness, rehearsal
# responder, demo). The production image (Dockerfile) installs requirements.lock and the product only.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed

.PHONY: install test test-quick test-rehearsal test-capacity lint demo sandbox bench lock clean

$(STAMP): requirements-dev.lock pyproject.toml devtools/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --index-url https://pypi.org/simple requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --index-url https://pypi.org/simple --no-deps \
	  -e . -e devtools
	touch $@

install: $(STAMP)

## Debian packages the suite drives: headless Chromium for the cases-page screenshot test, the Chinese font
## the PDF evidence report embeds (OFFBOARDING_PDF_FONT's default) and poppler's pdftotext that reads it back.
SYSTEM_STAMP := $(VENV)/.system-packages
SYSTEM_PACKAGES := chromium fonts-noto-cjk poppler-utils
$(SYSTEM_STAMP): | $(STAMP)
	@if command -v chromium >/dev/null && command -v pdftotext >/dev/null \
	  && [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	else echo "make test needs: sudo apt-get install $(SYSTEM_PACKAGES)" >&2; exit 1; fi
	touch $@

## make test: create .venv from the lock and run the whole suite: unit, sandbox, operators, real-Airflow
## tests, the whole-DAG rehearsals of both workflows, the demo, and the distributed topology (PostgreSQL +
## Redis + Celery as processes; skipped with the reason when those are not on loopback).
REHEARSALS := tests/e2e tests/distributed tests/demo
## The capacity benches at their quick size on the distributed topology (~40 min): `make test-capacity`.
CAPACITY := tests/capacity
## Two pytest processes: the rehearsals start on a quiet machine, after the first part's shared Airflows stopped.
test: test-quick
	$(BIN)/python -m pytest $(REHEARSALS) $(PYTEST_ARGS)

## make test-quick: the suite without the rehearsals (minutes instead of half an hour)
test-quick: $(STAMP) $(SYSTEM_STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(addprefix --ignore=,$(REHEARSALS) $(CAPACITY)) $(PYTEST_ARGS)

## make test-rehearsal: only the rehearsals
test-rehearsal: $(STAMP) $(SYSTEM_STAMP)
	$(BIN)/python -m pytest $(REHEARSALS) $(PYTEST_ARGS)

## make test-capacity: the capacity and mass-layoff benches at their quick size, with their checks
test-capacity: $(STAMP)
	$(BIN)/python -m pytest $(CAPACITY) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make demo: the main job: sandbox + airflow standalone with sample cases in rehearsal time
demo: $(STAMP)
	$(BIN)/python -m offboarding_dev.demo $(if $(AUTO_ANSWER),--auto-answer,)

sandbox: $(STAMP)
	$(BIN)/python -m offboarding_dev.sandbox --host 127.0.0.1 --port 8900

bench: $(STAMP)
	$(BIN)/python -m benchmarks

## make lock: re-resolve both locks after changing pyproject.toml: requirements.lock (the runtime
## dependencies: the production image) and requirements-dev.lock (runtime + the dev extra: .venv).
LOCK_FLAGS := --python-version 3.11 --python-platform x86_64-manylinux_2_28 --index-url https://pypi.org/simple
lock:
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements-dev.lock

clean:
	rm -rf $(VENV) .airflow .bench .pytest_cache
