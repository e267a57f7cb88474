# spatialmem: every install and run step lives here (see README.md).
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
OUT     ?= runs/demo
SEED    ?= 3
FRAMES  ?= 300

.PHONY: setup demo test lint bench clean

$(BIN)/spatialmem: pyproject.toml scripts/setup.sh
	PY=$(PY) VENV=$(VENV) bash scripts/setup.sh
	@touch $@

setup: $(BIN)/spatialmem

## The main job on the built-in default (a synthetic scene).
demo: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh "$(OUT)" "$(SEED)" "$(FRAMES)"

## Lint + the type checker on the packages listed in pyproject.toml's [tool.mypy].
lint: setup
	$(BIN)/ruff check spatialmem tests benchmarks
	$(BIN)/mypy

## Lint + the whole test suite.
test: setup lint
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache build *.egg-info
