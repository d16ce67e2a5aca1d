# Two commands on a fresh machine with only Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The tests see the same terminal settings on every machine (colour and Textual variables change
# what snapshots render) and the same Hypothesis examples (the `ci` profile in tests/conftest.py).
TEST_ENV := env -u NO_COLOR -u FORCE_COLOR -u TEXTUAL_THEME -u TEXTUAL_FILTERS \
	-u TEXTUAL_COLOR_SYSTEM -u TEXTUAL_ANIMATIONS -u TEXTUAL_FPS -u TEXTUAL_DRIVER -u TEXTUAL_PRESS \
	-u TEXTUAL_SCREENSHOT -u TEXTUAL_DEBUG -u TEXTUAL_LOG HYPOTHESIS_PROFILE=ci

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "cmk-wizard needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cmk-wizard demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(TEST_ENV) $(BIN)/pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/emulator.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis
