# The README's two commands: `make run` (install + main job on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SHARED ?= ../shared/benchmark/real

.PHONY: install run test lint typecheck layers unit eval bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/gongkai extract

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy schemas extractor workers evals

layers: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest -q

test: lint typecheck layers unit

eval: install
	$(BIN)/gongkai eval $(SHARED) evals/data --only txt,md,html --no-docs

bench: install
	$(BIN)/gongkai bench $(SHARED) evals/data --max-kb 20

clean:
	rm -rf $(VENV) out gongkai.db
