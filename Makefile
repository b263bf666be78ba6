# Developers and CI run the same targets. Each one installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: seed the embedded emulator, then plan -> apply -> plan the examples
demo: $(STAMP)
	bash scripts/demo.sh

## test: ruff, mypy and the whole test suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

## bench: the scale benchmark (see README)
bench: $(STAMP)
	$(BIN)/python -m bench.plan_scale

clean:
	rm -rf $(VENV) .reconciler .cache .mypy_cache .ruff_cache .pytest_cache
