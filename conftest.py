"""Repository-wide pytest set-up: nbval's sanitize file, the test tiers' markers, xdist groups.

Markers are applied here by path, so a test file needs no marker of its own to land in the
right tier (a test may still add one with ``@pytest.mark.slow``): every notebook cell is
``notebooks``, ``tests/test_browser.py`` is ``browser``, the ipywidgets 7.7.1 checks are
``compat``, and the tests listed in ``SLOW`` (each starts a process, builds, runs pip, draws
a widget's pictures or runs a benchmark) are ``slow``. ``make quick`` runs what carries none of them.

With pytest-xdist's default ``--dist load`` (``pytest -n 2``, as ``make test`` runs it), each
notebook's cells go to one worker, in order, since they share one kernel, and so do the tests of
each file in ``ONE_WORKER``, which share a costly module fixture that each worker would
otherwise build again; every other test is handed out on its own. The browser test goes first
(it is the longest), then the notebooks and those files, so both workers finish together.
(xdist's own ``--dist loadgroup`` cannot do this: with pytest 9 it ignores groups.)
"""

import os
import sys
import tempfile
from pathlib import Path

import pytest

# Bytecode caches on, even where PYTHONDONTWRITEBYTECODE is set: without them every pytest
# process (each xdist worker, each nbval kernel, each subprocess a test starts) compiles
# helpers/ and re-does pytest's assertion rewriting of about 150 modules, over a second
# each time. The caches go to __pycache__ folders, which git ignores.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# Hypothesis keeps an example database; keep it out of the working tree.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "linreg-hypothesis")
)

ROOT = Path(__file__).parent
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"

# Node id prefixes, relative to the repository root.
BROWSER = ("tests/test_browser.py",)
COMPAT = ("tests/test_ipywidgets_7.py",)
SLOW = (
    "tests/test_packaging.py",
    # Whole files: the widgets' tests draw pictures (a tenth of a second or more each), and
    # the benchmarks' tests run each benchmark at toy sizes.
    "tests/test_dashboard.py",
    "tests/test_fit_by_hand.py",
    "tests/test_bench_smoke.py",
    "tests/test_colab_setup.py::test_pip_leaves_the_installed_dependencies_alone",
    "tests/test_notebook_hygiene.py::test_ruff_",
    "tests/test_notebook_hygiene.py::test_the_linter_runs_on_its_own",
    "tests/test_notebook_hygiene.py::test_the_runner_executes_in_the_notebooks_folder",
)
# Files whose tests share a module fixture that takes a second or more to build (the
# ipywidgets 7.7.1 subprocess, the dashboard and its training sweep, the wheel and sdist).
ONE_WORKER = ("tests/test_ipywidgets_7.py", "tests/test_dashboard.py", "tests/test_packaging.py")


def pytest_configure(config):
    # Read when each notebook is set up, so setting it here is early enough.
    if getattr(config.option, "nbval_sanitize_with", "unset") is None:
        config.option.nbval_sanitize_with = str(SANITIZE_FILE)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(NotebookScheduling())


def _node_id(item) -> str:
    """The item's id relative to the repository root, whatever folder pytest started in."""
    path = Path(item.path).resolve()
    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()
    return where + item.nodeid[item.nodeid.index("::") :] if "::" in item.nodeid else where


@pytest.hookimpl(tryfirst=True)  # before xdist's, which reads the xdist_group markers
def pytest_collection_modifyitems(config, items):
    # Handed out in this order: the longest test first, then the notebooks and the files that
    # stay on one worker, then the rest (the sort is stable: each file keeps its order).
    rank = {}
    for item in items:
        node, notebook = _node_id(item), item.path.suffix == ".ipynb"
        if notebook:
            item.add_marker(pytest.mark.notebooks)
        for marker, prefixes in (("browser", BROWSER), ("compat", COMPAT), ("slow", SLOW)):
            if node.startswith(prefixes):
                item.add_marker(marker)
        browser = item.get_closest_marker("browser")
        rank[item.nodeid] = (not browser, not notebook, not node.startswith(ONE_WORKER))
    items.sort(key=lambda item: rank[item.nodeid])


class NotebookScheduling:
    """Registered only where pytest-xdist is (``-p no:xdist`` knows no such hook)."""

    @staticmethod
    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue("dist") != "load":
            return None  # --dist loadscope, loadfile, ... as asked
        from xdist.scheduler import LoadScopeScheduling

        class Scheduling(LoadScopeScheduling):
            """One unit of work per notebook or ONE_WORKER file, one per test otherwise."""

            def _split_scope(self, nodeid: str) -> str:
                path = nodeid.split("::", 1)[0]
                return path if path.endswith(".ipynb") or path in ONE_WORKER else nodeid

        config.option.loadscopereorder = False  # keep the order set above
        return Scheduling(config, log)
