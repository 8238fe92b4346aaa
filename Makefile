# Set-up and everyday commands. `make lab` and `make test` each install what they need
# into .venv first (skipped when nothing changed), so they are all a newcomer types.
# `make lab` installs the course and JupyterLab only; `make test` adds the test tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LAB_STAMP := $(VENV)/.installed-lab
TEST_STAMP := $(VENV)/.installed-test
# No --quiet: the first install downloads torch and more, and pip shows its progress bars.
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar on \
	--constraint constraints.txt
PY_TOO_OLD := The course needs Python 3.11 or newer: run make PYTHON=python3.11 (or newer)
# The unit tier: everything but the notebooks, the browser, the compat checks and slow tests.
QUICK := not slow and not notebooks and not browser and not compat
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PORT ?= 8888
# Colab ships ipywidgets 7.7.1; the dashboard's tests also run against it (Python side only),
# installed once beside .venv: tests/test_dashboard.py puts it first on PYTHONPATH.
IPYWIDGETS7 := $(VENV)/ipywidgets7
IPYWIDGETS7_STAMP := $(IPYWIDGETS7)/.installed

.PHONY: install lab test quick notebooks links bench lint clean compat

install: $(TEST_STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "$(PY_TOO_OLD)")'
	$(PYTHON) -m venv $(VENV)

$(LAB_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@echo "Installing the course and JupyterLab into $(VENV) (the first time takes a few minutes)"
	$(PIP_INSTALL) --editable ".[lab]"
	@touch $@

$(TEST_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@echo "Installing the course, JupyterLab and the test tools into $(VENV)"
	$(PIP_INSTALL) --editable ".[lab,test]"
	@touch $@

$(IPYWIDGETS7_STAMP): | $(TEST_STAMP)
	rm -rf $(IPYWIDGETS7)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--target $(IPYWIDGETS7) ipywidgets==7.7.1 ipython_genutils==0.2.0
	@touch $@

lab: $(LAB_STAMP)
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) \
		--ServerApp.root_dir=notebooks

# Two workers; conftest.py keeps each notebook's cells together on one worker (one kernel)
# and hands out every other test on its own.
test: $(TEST_STAMP) $(IPYWIDGETS7_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2

# The unit tier, in seconds: for the inner loop while you change helpers/ or tools/.
quick: $(TEST_STAMP)
	$(BIN)/python -m pytest -p no:xdist -q -m "$(QUICK)" tests

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
