# Every target sets up what it needs: a fresh clone only needs python3 (3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
RULES  ?=
PYTEST_ARGS ?=

.PHONY: lab serve test lint bench install test-deps data page clean advice

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[lab,corpus,test,bench,ardour]'
	touch $@

install: $(VENV)/.installed

## JupyterLab on the quickstart notebook, with the Codette server started from it.
lab: install
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/01_quickstart.ipynb

## The standalone server: make serve [PORT=8123] [RULES=my_rules.json]
serve: install
	$(BIN)/codette-lab serve --host $(HOST) --port $(PORT) $(if $(RULES),--rules $(RULES))

## Everything the tests need that pip does not bring: Chromium and the TypeScript compiler.
test-deps: install
	bash scripts/install-test-deps.sh

## Static checks: ruff (code and notebooks) and mypy (the package); part of make test.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

## Everything: ruff, mypy, then the whole test suite (Chromium, Ardour and the renders it needs are set up first).
test: test-deps lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python benchmarks/run_all.py

## Re-synthesise the demo session in codette_lab/data/demo/ (committed; only needed after changing the script).
data: install
	$(BIN)/python scripts/make_demo_session.py

## Recompile the join page (codette_lab/page/src/*.ts -> static/*.js, committed; only needed after editing it).
page: test-deps
	tests/node/node_modules/.bin/tsc -p codette_lab/page/tsconfig.json

## The realistic fault corpus (sampled instruments, kits, voices; renders cached in data/corpus_real/): fit the
## reference envelopes per track type on one split (codette_lab/rules/tone_references.json and the *_ref_z_max
## thresholds), judge the other on a local Dask cluster, rewrite its section of docs/advice.md (about two minutes
## on 2 cores once the renders are cached; tests/test_advice_realistic.py runs a subset of it in make test).
advice: test-deps
	$(BIN)/python scripts/fit_tone_references.py
	$(BIN)/python scripts/fault_real.py --report

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
