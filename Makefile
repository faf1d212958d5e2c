# Everyday targets. `make run` starts the whole gateway locally; `make test` runs the full suite.
# Everything runs on python3.12, the Lambda runtime's Python (scripts/python312.sh finds it; PY=... overrides).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FUNCTION ?= route
EVENT ?= events/$(FUNCTION).json
PYTEST := $(BIN)/pytest -n 2 --durations=10

.PHONY: setup chromium run test lint typecheck architecture unit integration e2e pytest template build bench invoke openapi clean

# A stamp inside the venv, not the venv's python (a symlink: touching it would touch the system's interpreter).
# A venv made by another Python than 3.12 is made again.
$(STAMP): requirements-dev.txt layers/providers/requirements.txt
	@py="$$(scripts/python312.sh)" || exit 1; \
	if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then \
		echo "creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)  ## create .venv (python3.12) with the pinned runtime and dev dependencies

chromium:  ## Debian's Chromium for the playground's browser tests (installed when missing; CHROMIUM=... picks another)
	@scripts/chromium.sh >/dev/null

run: setup  ## the whole gateway on http://127.0.0.1:3000 (moto + provider emulator + local API)
	$(BIN)/python -m dev.run_local

invoke: setup  ## call one handler with an event file, like `sam local invoke` (against `make run`'s stack when it is up): make invoke FUNCTION=route EVENT=events/route.json [ARGS=--put-images|--isolated]
	$(BIN)/python -m dev.invoke $(FUNCTION) $(EVENT) $(ARGS)

lint: typecheck architecture  ## ruff (lint and format), mypy strict, and the dependency rule (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup  ## mypy --strict over the layer, functions, dev, tests, bench and scripts
	$(BIN)/mypy

architecture: setup  ## the rooms' dependency rule (docs/architecture.md), checked by import-linter
	PYTHONPATH=layers/providers $(BIN)/lint-imports --no-cache

unit: setup  ## fast tests that start no server and no moto (tests/unit, tests/geometry, tests/error_analysis, ...)
	$(PYTEST) -m "not integration and not e2e"

integration: setup  ## tests through the real handlers against moto and the provider emulator
	$(PYTEST) -m "integration and not e2e"

e2e: setup chromium  ## tests that start the local stack (`make run`'s processes) and call it over HTTP
	$(PYTEST) -m e2e

pytest: setup chromium  ## every test: unit, integration and end-to-end
	$(PYTEST)

template:  ## sam validate --lint, cfn-lint, sam build and the built layer's checks (in .venv-sam)
	scripts/check_template.sh

build: template  ## sam build (the checked build of the template, into .aws-sam/build)

test: lint template pytest  ## the full suite, as CI runs it

openapi: setup  ## regenerate the checked-in OpenAPI documents (openapi/<function>.json) from the code
	$(BIN)/python -m scripts.openapi --write

bench: setup  ## benchmarks under bench/
	@for script in bench/*.py; do name=$$(basename $$script .py); case $$name in _*) continue;; esac; echo "== bench.$$name"; $(BIN)/python -m bench.$$name || exit 1; done

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
