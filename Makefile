# Set-up and everyday commands. `make lab` and `make test` each install what they need
# into .venv first (skipped when nothing changed), so they are all a newcomer types.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PORT ?= 8888

.PHONY: install lab test notebooks links bench lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--constraint constraints.txt --editable ".[lab,test]"
	@touch $@

lab: install
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) \
		--ServerApp.root_dir=notebooks

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

notebooks: install
	$(BIN)/python tools/links.py
	$(BIN)/python tools/run_notebooks.py

links: install
	$(BIN)/python tools/links.py

bench: install
	$(BIN)/python tools/bench.py

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis .ruff_cache
