# Set-up and everyday commands. `make lab` and `make test` each install what they need
# into .venv first (skipped when nothing changed), so they are all a newcomer types.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PORT ?= 8888
# Colab ships ipywidgets 7.7.1; the dashboard's tests also run against it (Python side only),
# installed once beside .venv: tests/test_dashboard.py puts it first on PYTHONPATH.
IPYWIDGETS7 := $(VENV)/ipywidgets7
IPYWIDGETS7_STAMP := $(IPYWIDGETS7)/.installed

.PHONY: install lab test notebooks links bench lint clean compat

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--constraint constraints.txt --editable ".[lab,test]"
	@touch $@

$(IPYWIDGETS7_STAMP): | $(STAMP)
	rm -rf $(IPYWIDGETS7)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--target $(IPYWIDGETS7) ipywidgets==7.7.1 ipython_genutils==0.2.0
	@touch $@

lab: install
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) \
		--ServerApp.root_dir=notebooks

# Two workers; --dist loadscope keeps each notebook's cells together on one kernel.
test: install $(IPYWIDGETS7_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadscope

notebooks: install
	$(BIN)/python tools/links.py
	$(BIN)/python tools/run_notebooks.py

links: install
	$(BIN)/python tools/links.py

# The version matrix: Colab's versions and the newest releases, each in .compat/NAME beside .venv
# (several GB of downloads the first time), every notebook and the unit tests in each.
# Never part of `make test`; the last result is recorded in the README.
compat:
	$(PYTHON) tools/compat.py

bench: install
	$(BIN)/python tools/bench.py

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis .ruff_cache
