# pgrecall — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench generate up down clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## make demo: start the embedded PostgreSQL, apply migrations with `yoyo apply`, run the demo
demo: $(STAMP)
	@eval "$$($(BIN)/pgrecall up --export)" && \
	  echo "yoyo apply (the deploy path) on $$DATABASE_URL" && \
	  $(BIN)/yoyo apply --config yoyo.ini && \
	  $(BIN)/pgrecall demo

## make test: ruff, mypy --strict, generated-code check, migration lint + squawk, pytest against a real PostgreSQL
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/python tools/async_to_sync.py --check
	$(BIN)/pgrecall lint --squawk

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

## make bench: benchmarks against the peers (not part of make test), ~15 min on 2 cores
## (BENCH_ARGS=--quick for tiny sizes). langchain-postgres goes in with --no-deps: it pins
## pgvector<0.4, pgrecall needs >=0.4 (`pip check` lists that pin; it is harmless here).
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/pip install --quiet --no-deps 'langchain-postgres==0.0.19'
	$(BIN)/python -m bench $(BENCH_ARGS)

## make generate: regenerate the sync modules from their async sources
generate:
	$(BIN)/python tools/async_to_sync.py

up: $(STAMP)
	$(BIN)/pgrecall up
down: $(STAMP)
	$(BIN)/pgrecall down

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
