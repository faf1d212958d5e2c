# Everyday targets. `make run` starts the whole gateway locally; `make test` runs the full suite.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FUNCTION ?= route
EVENT ?= events/$(FUNCTION).json

.PHONY: setup run test lint typecheck unit pytest template build bench invoke openapi clean

$(BIN)/python: requirements-dev.txt layers/providers/requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(BIN)/python

setup: $(BIN)/python  ## create .venv with the pinned runtime and dev dependencies

run: setup  ## the whole gateway on http://127.0.0.1:3000 (moto + provider emulator + local API)
	$(BIN)/python -m dev.run_local

invoke: setup  ## call one handler with an event file, like `sam local invoke`: make invoke FUNCTION=route EVENT=events/route.json
	$(BIN)/python -m dev.invoke $(FUNCTION) $(EVENT)

lint: setup  ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: setup  ## unit, integration and end-to-end tests
	$(BIN)/pytest -n 2 --durations=10

template:  ## sam validate --lint, cfn-lint and sam build (in .venv-sam)
	scripts/check_template.sh

build: template  ## sam build (the checked build of the template)

test: lint template pytest  ## the full suite, as CI runs it

openapi: setup  ## regenerate the checked-in OpenAPI documents (openapi/<function>.json) from the code
	$(BIN)/python -m scripts.openapi --write

bench: setup  ## benchmarks under bench/
	@for script in bench/*.py; do name=$$(basename $$script .py); [ "$$name" = __init__ ] && continue; echo "== bench.$$name"; $(BIN)/python -m bench.$$name || exit 1; done

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
