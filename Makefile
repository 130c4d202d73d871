# Every target sets up what it needs: a fresh clone only needs python3 (3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
RULES  ?=
PYTEST_ARGS ?=

.PHONY: lab serve test lint bench install test-deps data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[lab,corpus,test,bench]'
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

## The server tests run twice: with the fast path, then the plain one (websockets' documented API only).
test: test-deps lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	CODETTE_PLAIN_SERVING=1 $(BIN)/python -m pytest $(PYTEST_ARGS) tests/test_server_*.py

bench: install
	$(BIN)/python benchmarks/run_all.py

## Re-synthesise the demo session in codette_lab/data/demo/ (committed; only needed after changing the script).
data: install
	$(BIN)/python scripts/make_demo_session.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
