"""The code that notebooks 04 and 05 write by hand agrees with independent computations and helpers.

Notebook 04's cell tagged ``inline-version`` defines ``regression_metrics``; it is executed
here as written and compared with NumPy formulas in float64 (and the score table the notebook
shows is recomputed the same way). Notebook 05's two ``inline-version`` cells save a
``state_dict`` with ``torch.save`` and load one with ``torch.load``; files written by hand must
load with ``helpers.load_model`` and the other way round, with identical predictions, and the
by-hand load must refuse a file that carries code.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from helpers import LinearRegressionModel, load_model, make_linear_data, save_model
from helpers import train as train_model

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NB05 = "05_save_load.ipynb"


# --- notebook 04: the metrics -----------------------------------------------------------


@pytest.fixture(scope="module")
def regression_metrics(inline_cells, run_cells):
    sources = inline_cells("04_evaluation.ipynb")
    assert len(sources) == 1, "04_evaluation.ipynb should tag exactly one cell inline-version"
    namespace = run_cells("04_evaluation.ipynb", sources)
    assert callable(namespace.get("regression_metrics")), "the cell defines no regression_metrics"
    return namespace["regression_metrics"]


def numpy_metrics(y_true, y_pred) -> dict[str, float]:
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    return {
        "mae": float(np.mean(np.abs(t - p))),
        "mse": float(np.mean((t - p) ** 2)),
        "r2": float(1 - np.mean((t - p) ** 2) / np.var(t)),
    }


def column(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float32)).reshape(-1, 1)


CASES = {
    "close": lambda rng: (t := rng.normal(size=30), t + rng.normal(scale=0.1, size=30)),
    "worse than the mean": lambda rng: (t := rng.normal(size=12), -t),
    "mean only": lambda rng: (t := rng.normal(size=8), np.full(8, t.astype(np.float32).mean())),
    "large offset": lambda rng: (t := 100 + rng.normal(size=50), t + 0.5),
}


@pytest.mark.parametrize("case", CASES)
def test_04_metrics_match_numpy(regression_metrics, case):
    y_true, y_pred = CASES[case](np.random.default_rng(len(case)))
    y_true, y_pred = column(y_true), column(y_pred)
    got = regression_metrics(y_true, y_pred)
    expected = numpy_metrics(y_true, y_pred)
    assert set(got) == {"mae", "mse", "r2"}
    assert all(isinstance(v, float) for v in got.values())
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key


def test_04_r2_of_a_least_squares_fit_is_the_squared_correlation(regression_metrics):
    X, y = make_linear_data(weight=-0.4, bias=1.0, noise_std=0.2, seed=5)
    x, t = X.double().numpy().ravel(), y.double().numpy().ravel()
    slope, intercept = np.polyfit(x, t, 1)
    got = regression_metrics(y, column(slope * x + intercept))
    assert got["r2"] == pytest.approx(np.corrcoef(x, t)[0, 1] ** 2, abs=1e-5)


def test_04_the_score_table_in_the_notebook_is_right(default_split, seeded_model):
    nb = nbformat.read(NOTEBOOKS / "04_evaluation.ipynb", as_version=4)
    shown = [
        output["text"]
        for cell in nb.cells
        if cell.cell_type == "code" and "regression_metrics(y_train" in cell.source
        for output in cell.outputs
        if output["output_type"] == "stream"
    ]
    assert shown, "no cell prints the score table from regression_metrics(y_train, ...)"
    rows = dict(re.findall(r"^(train|test)\s+(\S+\s+\S+\s+\S+)$", "".join(shown), re.M))

    X_train, y_train, X_test, y_test = default_split
    model = seeded_model(42)
    train_model(model, X_train, y_train, X_test, y_test, lr=0.01, epochs=100, verbose=False)
    with torch.inference_mode():
        parts = {"train": (y_train, model(X_train)), "test": (y_test, model(X_test))}
    for part, (targets, predictions) in parts.items():
        m = numpy_metrics(targets, predictions)
        assert rows[part].split() == [f"{m['mae']:.4f}", f"{m['mse']:.4f}", f"{m['r2']:.4f}"]


# --- notebook 05: saving and loading by hand and with helpers ---------------------------


@pytest.fixture(scope="module")
def save_and_load_cells(inline_cells):
    sources = inline_cells("05_save_load.ipynb")
    saves = [s for s in sources if "torch.save" in s]
    loads = [s for s in sources if "torch.load" in s]
    assert len(sources) == 2 and len(saves) == 1 and len(loads) == 1, (
        "05_save_load.ipynb should tag two cells inline-version: one torch.save, one torch.load"
    )
    return saves[0], loads[0]


def line(weight: float, bias: float) -> LinearRegressionModel:
    model = LinearRegressionModel()
    with torch.no_grad():
        model.weights.fill_(weight)
        model.bias.fill_(bias)
    return model.eval()


def predictions(model) -> torch.Tensor:
    with torch.inference_mode():
        return model(torch.linspace(-2, 2, 17).unsqueeze(1))


def test_05_a_file_saved_by_hand_loads_with_helpers(save_and_load_cells, tmp_path, run_cells):
    save_cell, _ = save_and_load_cells
    model = line(0.123456789, -3.14159)
    namespace = run_cells(NB05, [save_cell], model=model, folder=tmp_path)
    assert Path(namespace["model_path"]).parent == tmp_path
    loaded = load_model(line(0.0, 0.0).train(), namespace["model_path"])
    assert not loaded.training
    assert torch.equal(predictions(loaded), predictions(model))


def test_05_a_file_saved_by_helpers_loads_by_hand(save_and_load_cells, tmp_path, run_cells):
    _, load_cell = save_and_load_cells
    model = line(-0.987654321, 2.71828)
    path = save_model(model, tmp_path / "from_helpers.pt")
    fresh = line(0.0, 0.0).train()
    run_cells(
        NB05,
        [load_cell],
        model_path=path,
        device=torch.device("cpu"),
        fresh_model=fresh,
    )
    assert not fresh.training
    assert torch.equal(predictions(fresh), predictions(model))


class _LeavesAMark:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_05_the_by_hand_load_refuses_a_file_with_code(save_and_load_cells, tmp_path, run_cells):
    _, load_cell = save_and_load_cells
    marker = tmp_path / "code_ran"
    path = tmp_path / "trap.pt"
    torch.save({"weights": torch.tensor([0.5]), "bias": _LeavesAMark(marker)}, path)
    with pytest.raises(pickle.UnpicklingError):
        run_cells(
            NB05,
            [load_cell],
            model_path=path,
            device=torch.device("cpu"),
            fresh_model=line(0.0, 0.0),
        )
    assert not marker.exists()
