"""Fixtures the tests share: the course's data, the seed-42 model, a hand-written loop, notebooks.

- ``line_data``: ``(X, y)``, the default 50 points of y = 0.7x + 0.3, each (50, 1) float32.
- ``default_split``: ``(X_train, y_train, X_test, y_test)`` of that data, 40/10 in order.
- ``seeded_model``: a factory, ``seeded_model(seed=42)`` -> a fresh ``LinearRegressionModel``
  made right after ``torch.manual_seed(seed)`` (seed 42 starts at w 0.3367, b 0.1288).
- ``reference_loop``: full-batch L1 + SGD written out by hand, independent of ``helpers.train``
  (the bare loop that tools/bench_train.py times):
  ``reference_loop(model, X_train, y_train, X_test, y_test, lr, epochs)`` ->
  ``(train_losses, test_losses)``, Python floats, one per epoch (train loss before the step,
  test loss after it under ``eval()`` + ``inference_mode()``).
- ``inline_cells``: ``inline_cells(notebook, tag="inline-version")`` -> the sources of that
  notebook's code cells with the tag, in order (``notebook`` relative to notebooks/).
- ``run_cells``: ``run_cells(notebook, sources, **namespace)`` executes them in ``namespace``
  (``torch`` and ``nn`` provided) and returns it; tracebacks name the notebook.
- A test that takes an argument ``notebook_path`` runs once per notebook under notebooks/.

tools/ is put on ``sys.path``, so tests import the tools by name (``import lint_notebooks``).
torch, helpers and the tools are imported inside the fixtures: with ``pytest -n 2`` this
file is also loaded by the process that only hands out tests, which then starts its
workers seconds sooner.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import torch

    from helpers import LinearRegressionModel

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "tools"))


def pytest_generate_tests(metafunc):
    if "notebook_path" in metafunc.fixturenames:
        import lint_notebooks

        paths = lint_notebooks.notebook_paths(NOTEBOOKS)
        ids = [p.relative_to(ROOT).as_posix() for p in paths]
        metafunc.parametrize("notebook_path", paths, ids=ids)


@pytest.fixture
def line_data() -> tuple[torch.Tensor, torch.Tensor]:
    from helpers import make_linear_data

    return make_linear_data()


@pytest.fixture
def default_split(line_data) -> tuple[torch.Tensor, ...]:
    from helpers import split_data

    return split_data(*line_data)


def _seeded_model(seed: int = 42) -> LinearRegressionModel:
    import torch

    from helpers import LinearRegressionModel

    torch.manual_seed(seed)
    return LinearRegressionModel()


@pytest.fixture
def seeded_model() -> Callable[..., LinearRegressionModel]:
    return _seeded_model


@pytest.fixture
def reference_loop():
    import bench_train

    return bench_train.bare_loop


def _inline_cells(notebook: str, tag: str = "inline-version") -> list[str]:
    import nbformat

    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    sources = [
        cell.source
        for cell in nb.cells
        if cell.cell_type == "code" and tag in cell.metadata.get("tags", [])
    ]
    assert sources, f"{notebook} has no code cell tagged {tag!r}; tag the cells built by hand."
    return sources


def _run_cells(notebook: str, sources: list[str], **namespace) -> dict:
    import torch
    from torch import nn

    namespace = {"torch": torch, "nn": nn, **namespace}
    for number, source in enumerate(sources, start=1):
        exec(compile(source, f"{notebook} [tagged cell {number}]", "exec"), namespace)
    return namespace


@pytest.fixture(scope="session")
def inline_cells():
    return _inline_cells


@pytest.fixture(scope="session")
def run_cells():
    return _run_cells
