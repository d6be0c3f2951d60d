# The two commands a fresh machine needs: `make build` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Where `make vendor` refreshes the vendored upstream data from; never read by build or test.
SHARED ?= ../shared

.PHONY: build test lint bench schema scenarios clean test-databases vendor vendor-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## build: create the venv, install konoha-gen, compile spec/konoha.yaml into out/
build: $(STAMP)
	$(BIN)/konoha-gen schema --quiet
	$(BIN)/konoha-gen build spec/konoha.yaml --out out

## test: the same set-up, then lint, type-check and the whole test suite
test: $(STAMP) lint test-databases
	$(BIN)/python -m pytest

# The PostgreSQL and MariaDB programs tests/test_source_databases.py starts its own servers from
# (installed from Debian's packages when missing and root; their system services are never started).
test-databases:
	bash scripts/ensure-test-databases.sh

lint: $(STAMP)
	$(BIN)/ruff check konoha_gen tests bench scripts
	$(BIN)/mypy

## bench: build-time benchmark (pytest-benchmark), the wall-clock script and check/build as ratios to the import floor
bench: $(STAMP)
	$(BIN)/python -m pytest bench --benchmark-enable -q
	$(BIN)/python bench/build_wall.py
	$(BIN)/python bench/check_floor.py

## vendor: refresh the charts' data, CRD schemas and design example kept in the project from $(SHARED)
vendor: $(STAMP)
	$(BIN)/python scripts/vendor.py $(SHARED)

## vendor-check: list the vendored copies that differ from $(SHARED) (exit 1 if any)
vendor-check: $(STAMP)
	$(BIN)/python scripts/vendor.py --check $(SHARED)

schema: $(STAMP)
	$(BIN)/konoha-gen schema

## scenarios: rebuild every golden tree tests/scenarios/<name>/expected/ (tests/test_scenarios.py compares with them)
scenarios: $(STAMP)
	$(BIN)/python scripts/regenerate-scenarios.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
