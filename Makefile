# The README's two commands: `make quickstart` and `make test`. Each creates .venv from
# requirements.txt when it is missing or older than requirements.txt or pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: quickstart test
.DEFAULT_GOAL := quickstart

quickstart: $(VENV)/.installed
	$(BIN)/nasdb quickstart

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@
