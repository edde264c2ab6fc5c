# The two set-up commands: `make run` (the whole system locally) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench asyncapi clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Options for `luoshi up`, e.g. make run ARGS="--port 8080 --no-example"
ARGS ?=

run: $(STAMP)
	$(BIN)/luoshi up $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(STAMP) lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

asyncapi: $(STAMP)
	$(BIN)/luoshi asyncapi

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
