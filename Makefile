# The README's two commands: `make quickstart` and `make test`. Each first creates .venv,
# or brings it up to date when requirements-cpu.txt or pyproject.toml is newer.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: quickstart test
.DEFAULT_GOAL := quickstart

quickstart: $(VENV)/.installed
	$(BIN)/nasdb quickstart

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q --durations=20

$(VENV)/.installed: requirements-cpu.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-cpu.txt
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@
