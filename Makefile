# Developers and CI run the same targets. Each one installs what it needs into .venv first:
# exactly the versions (and file hashes) of requirements-dev.lock, never "newest that day".
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The locks cover every Python from 3.10 and every platform (environment markers).
LOCK_FLAGS := --universal --python-version 3.10 --generate-hashes --quiet \
  --custom-compile-command "make lock"
# The runtime dependencies as wheels, for the install test of the built wheel (offline).
WHEELHOUSE := $(VENV)/wheelhouse

.PHONY: demo test lint typecheck unit schemas bench bench-libraries lock lock-upgrade dist clean

$(STAMP): pyproject.toml requirements-dev.lock requirements.lock
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip download --quiet --require-hashes --no-deps --only-binary :all: \
	  --dest $(WHEELHOUSE) -r requirements.lock
	touch $(STAMP)

## lock: re-resolve the locks after pyproject.toml changed, keeping every pin that still fits
## lock-upgrade: re-resolve the locks to the newest versions pyproject.toml allows
lock-upgrade: LOCK_FLAGS += --upgrade
lock lock-upgrade: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) \
	  --output-file requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) --constraint requirements-dev.lock \
	  --output-file requirements.lock
	$(MAKE) $(STAMP)

## demo: seed the embedded emulator, then plan -> apply -> plan the examples
demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

## test: ruff, zizmor (the GitHub workflows), mypy and the whole test suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/zizmor --offline --no-progress --strict-collection .github

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -q

## schemas: write schemas/ from the package (the shared schemas, each kind's, the union)
schemas: $(STAMP)
	$(BIN)/python -m reconciler.manifests.published schemas

## bench: the scale benchmark (docs/scale.md): every figure from one run, one table, non-zero on a miss
bench: $(STAMP)
	$(BIN)/python -m bench

## bench-libraries: our hand-written pieces against the libraries (docs/architecture.md)
bench-libraries: $(STAMP)
	$(BIN)/python -m bench.libraries

## dist: the sdist and wheel in dist/, checked with twine (docs/releasing.md)
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/*

clean:
	rm -rf $(VENV) .reconciler .cache .mypy_cache .ruff_cache .pytest_cache .hypothesis dist build
