# The two set-up commands: `make run` (the whole system locally) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench asyncapi clean lock

# Dependencies come pinned from the lock files (the image uses requirements.lock), then the
# project itself without resolving anything more.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-pin every dependency after a change to pyproject.toml (uv is a dev dependency).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --python-platform linux -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --python-platform linux -q -o requirements-dev.lock

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
