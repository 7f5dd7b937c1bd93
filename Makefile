# mpkit: `make report` builds report.html from the default sample bundle,
# `make test` runs the whole suite. Both set up .venv by themselves.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONHASHSEED := 0

.PHONY: all install sysdeps test test-fast report lab lint bench clean

all: test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml mpkit/__init__.py | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name mpkit --display-name "Python (mpkit)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

sysdeps:
	bash scripts/install-system-deps.sh

test: install sysdeps
	$(BIN)/python -m pytest -p no:cacheprovider tests

test-fast: install
	$(BIN)/python -m pytest -p no:cacheprovider -m "not slow and not root" tests

report: install sysdeps
	$(BIN)/mpkit report --sample default -o report.html

lab: install
	$(BIN)/jupyter lab mpkit/notebooks/explore.ipynb

lint: install
	$(BIN)/ruff check mpkit tests bench scripts
	$(BIN)/ruff format --check mpkit tests bench scripts
	$(BIN)/mypy mpkit

bench: install
	$(BIN)/python bench/parse_bench.py 100

clean:
	rm -rf $(VENV) build dist *.egg-info report.html
