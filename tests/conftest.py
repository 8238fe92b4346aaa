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
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "tools"))

import bench_train  # noqa: E402
import lint_notebooks  # noqa: E402

from helpers import LinearRegressionModel, make_linear_data, split_data  # noqa: E402


def pytest_generate_tests(metafunc):
    if "notebook_path" in metafunc.fixturenames:
        paths = lint_notebooks.notebook_paths(NOTEBOOKS)
        ids = [p.relative_to(ROOT).as_posix() for p in paths]
        metafunc.parametrize("notebook_path", paths, ids=ids)


@pytest.fixture
def line_data() -> tuple[torch.Tensor, torch.Tensor]:
    return make_linear_data()


@pytest.fixture
def default_split(line_data) -> tuple[torch.Tensor, ...]:
    return split_data(*line_data)


def _seeded_model(seed: int = 42) -> LinearRegressionModel:
    torch.manual_seed(seed)
    return LinearRegressionModel()


@pytest.fixture
def seeded_model() -> Callable[..., LinearRegressionModel]:
    return _seeded_model


@pytest.fixture
def reference_loop():
    return bench_train.bare_loop


def _inline_cells(notebook: str, tag: str = "inline-version") -> list[str]:
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    sources = [
        cell.source
        for cell in nb.cells
        if cell.cell_type == "code" and tag in cell.metadata.get("tags", [])
    ]
    assert sources, f"{notebook} has no code cell tagged {tag!r}; tag the cells built by hand."
    return sources


def _run_cells(notebook: str, sources: list[str], **namespace) -> dict:
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
