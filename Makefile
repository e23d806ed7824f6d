# Streaming chat: `make run` to chat, `make test` to test. Both set themselves up.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8501
GATEWAY_PORT ?= 8000
STUB_PORT ?= 8100
PYTEST_ARGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}' \
	  | sed -e 's/\$$(PORT)/$(PORT)/g' -e 's/\$$(GATEWAY_PORT)/$(GATEWAY_PORT)/g' -e 's/\$$(STUB_PORT)/$(STUB_PORT)/g'

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## create .venv and install the project (done by run/test when missing)

# Loopback only, and only these Host names on the websocket that drives the app: a page on
# another site cannot reach it through DNS rebinding (docs/security.md).
ALLOWED_HOSTS := --server.allowedHosts localhost --server.allowedHosts 127.0.0.1

.PHONY: run
run: $(STAMP) ## start the app (offline model when no key is set) on http://127.0.0.1:$(PORT)
	$(VENV)/bin/streamlit run streamlit_app.py --server.address 127.0.0.1 --server.port $(PORT) \
	  $(ALLOWED_HOSTS)

.PHONY: gateway
gateway: $(STAMP) ## start the SSE gateway with the offline back end on :$(GATEWAY_PORT)
	CHAT_BACKEND=offline $(PY) -m chat_core.gateway --host 127.0.0.1 --port $(GATEWAY_PORT)

.PHONY: stub
stub: $(STAMP) ## start the OpenAI-compatible stub on :$(STUB_PORT)
	$(PY) -m chat_core.openai_stub --port $(STUB_PORT)

.PHONY: deps
deps: ## install Debian's chromium, redis-server and postgresql for the tests when missing
	@missing=""; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  if [ -n "$$missing" ]; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    echo "installing$$missing"; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  fi
	@chromium --version
	@redis-server --version
	@ls -d /usr/lib/postgresql/*/bin

.PHONY: test
test: $(STAMP) deps ## run the whole test suite (unit, integration, app, browser)
	$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: test-fast
test-fast: $(STAMP) ## the suite without the browser tests
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

.PHONY: lint
lint: $(STAMP) ## ruff (lint and format check) and mypy --strict over chat_core
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: format
format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: bench
bench: $(STAMP) deps ## run the benchmarks and write docs/benchmarks.md
	$(PY) -m bench

.PHONY: clean
clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
