# Everything runs inside .venv, created on demand and rebuilt when the lock changes.
SHELL  := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HOST PORT
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: venv test run lint lock clean-venv browser-deps

venv: $(STAMP)

# torch first, from the CPU wheel on disk, so nothing later pulls a CUDA build.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check torch==2.13.0 2>&1 | { grep -v 'is ignored' || true; }
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock 2>&1 | { grep -v 'is ignored' || true; }
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 | { grep -v 'is ignored' || true; }
	$(BIN)/python -c "import assistant, torch; assert torch.__version__.startswith('2.13.0')"
	touch $(STAMP)

test: $(STAMP) browser-deps
	$(BIN)/ruff check assistant tests app.py eval bench tools
	$(BIN)/mypy
	$(BIN)/python -m pytest

# Debian's Chromium for the browser tests (never `playwright install`) and axe-core from npm.
browser-deps:
	@command -v chromium >/dev/null || { if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing (sudo apt-get install chromium): browser tests will be skipped"; fi; }
	@test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund --silent

run: $(STAMP)
	$(BIN)/assistant serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check assistant tests app.py eval bench tools
	$(BIN)/ruff format --check assistant tests app.py
	$(BIN)/mypy

# Re-resolve the lock from a fresh venv (run after changing dependencies in pyproject.toml).
lock:
	rm -rf /tmp/lock-venv && $(PYTHON) -m venv /tmp/lock-venv
	/tmp/lock-venv/bin/pip install -q torch==2.13.0
	/tmp/lock-venv/bin/pip install -q -e ".[dev]"
	( echo "# Resolved together on Python 3.11 with torch==2.13.0 (CPU) installed first; see Makefile."; \
	  echo "# Regenerate: make lock"; \
	  /tmp/lock-venv/bin/pip freeze --exclude-editable | sed 's/^torch==2.13.0+cpu/torch==2.13.0/' ) > requirements.lock

clean-venv:
	rm -rf $(VENV)
