# `make run` and `make test` do everything on a fresh machine with Python 3.11+: they create .venv and install.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: migrate, load demo data into an empty registry, start the gateway (:8000) and every service
run: $(STAMP)
	$(BIN)/fupin up

## test: the whole suite on SQLite; also on PostgreSQL when FUPIN_TEST_POSTGRES_URL is set
test: $(STAMP)
	FUPIN_TEST_DB=sqlite $(BIN)/python -m pytest
	@if [ -n "$$FUPIN_TEST_POSTGRES_URL" ]; then \
		echo "== the same suite on PostgreSQL ($$FUPIN_TEST_POSTGRES_URL)"; \
		FUPIN_TEST_DB=postgres $(BIN)/python -m pytest; \
	elif [ "$$FUPIN_REQUIRE_POSTGRES" = "1" ]; then \
		echo "FUPIN_REQUIRE_POSTGRES=1 but FUPIN_TEST_POSTGRES_URL is not set" >&2; exit 1; \
	else \
		echo "PostgreSQL run skipped: set FUPIN_TEST_POSTGRES_URL=postgresql://user@host:5432/postgres to run it"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/gateway/run.py

clean:
	rm -rf var .pytest_cache .ruff_cache
