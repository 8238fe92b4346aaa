"""Both widgets under ipywidgets 7.7.1, the version Colab ships (Python side only).

What differs under 7.7.1 is checked, not the whole widget again: its widget classes and
their keyword arguments, its traitlets sync (observers, value echo) and display through
ipykernel's old Comm class. One fresh interpreter, with .venv/ipywidgets7 first on the
path, builds and moves the training dashboard and the fit-by-hand widget and prints what
it saw as JSON; the losses fit-by-hand shows are checked here against NumPy.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
IPYWIDGETS7 = ROOT / ".venv" / "ipywidgets7"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BY_HAND_SETTINGS = [(0.0, 0.0), (-1.0, 1.5), (1.5, -0.5), (0.25, 0.9)]
DASHBOARD_MOVES = [("epochs_slider", 150), ("lr_slider", 0.1), ("loss_buttons", "MSE"),
                   ("lr_slider", 0.05)]  # fmt: skip

SCRIPT = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.filterwarnings("ignore", "The `ipykernel.comm.Comm` class", DeprecationWarning)
    import torch
    from helpers import fit_by_hand, training_dashboard
    lazy = "ipywidgets" not in sys.modules
    import ipywidgets

    dash = training_dashboard(max_epochs=200)
    pictures, readouts = [bytes(dash.image.value)], [dash.readout.value]
    for name, value in DASHBOARD_MOVES:
        getattr(dash, name).value = value
        pictures.append(bytes(dash.image.value))
        readouts.append(dash.readout.value)
    dash_bundle = dash._repr_mimebundle_()
    dashboard = {
        "distinct_pictures": len(set(pictures)), "readouts": readouts,
        "lr": dash.lr_slider.value,
        "continuous": [dash.lr_slider.continuous_update, dash.epochs_slider.continuous_update],
        "bundle_id_matches": dash_bundle["application/vnd.jupyter.widget-view+json"]["model_id"]
        == dash.widget.model_id,
    }
    dash.close()

    X = torch.linspace(0, 1, 20).reshape(-1, 1)
    y = 0.7 * X + 0.3 + 0.05 * torch.sin(17 * X)
    box = fit_by_hand(X, y)
    by_hand = {"readouts": [], "markers": [], "x": X[:, 0].tolist(), "y": y[:, 0].tolist()}
    for w, b in BY_HAND_SETTINGS:
        box.weight_slider.value, box.bias_slider.value = w, b
        by_hand["readouts"].append(box.readout.value)
        by_hand["markers"].append([list(v) for v in box.picture.marker.get_data()])
    by_hand["png"] = box._repr_mimebundle_()["image/png"][:20]
    print(json.dumps({"lazy": lazy, "version": ipywidgets.__version__,
                      "file": ipywidgets.__file__, "dashboard": dashboard, "by_hand": by_hand}))
    """
)


@pytest.fixture(scope="module")
def under_7() -> dict:
    """What the script saw, run once for this file's tests."""
    if not (IPYWIDGETS7 / "ipywidgets").is_dir():
        pytest.skip(f"ipywidgets 7.7.1 is not installed in {IPYWIDGETS7}: run `make test`")
    env = dict(os.environ, PYTHONPATH=str(IPYWIDGETS7))
    script = f"DASHBOARD_MOVES = {DASHBOARD_MOVES!r}\nBY_HAND_SETTINGS = {BY_HAND_SETTINGS!r}\n"
    command = [sys.executable, "-c", script + SCRIPT]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"under ipywidgets 7.7.1:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout)


def test_the_script_ran_ipywidgets_7_and_helpers_imported_it_lazily(under_7):
    assert under_7["version"] == "7.7.1" and Path(under_7["file"]).is_relative_to(IPYWIDGETS7)
    assert under_7["lazy"], "importing helpers imported ipywidgets"


def test_the_dashboard_works_under_ipywidgets_7(under_7):
    dashboard = under_7["dashboard"]
    readouts = dashboard["readouts"]
    assert dashboard["distinct_pictures"] == len(set(readouts)) == 1 + len(DASHBOARD_MOVES)
    assert readouts[0].startswith("<b>L1 loss, lr=0.01, epoch 100</b>")
    assert dashboard["lr"] == 0.0501  # 0.05 typed: moved to the nearest notch
    assert readouts[-1].startswith("<b>MSE loss, lr=0.0501, epoch 150")
    assert dashboard["continuous"] == [True, True]
    assert dashboard["bundle_id_matches"]


def test_fit_by_hand_works_under_ipywidgets_7(under_7):
    by_hand = under_7["by_hand"]
    x, t = np.array(by_hand["x"]), np.array(by_hand["y"])
    losses = [np.mean(np.abs(w * x + b - t)) for w, b in BY_HAND_SETTINGS]
    assert by_hand["readouts"] == [f"mean absolute error (L1): {loss:.4f}" for loss in losses]
    assert by_hand["markers"] == [[[w], [b]] for w, b in BY_HAND_SETTINGS]
    png = base64.b64decode(by_hand["png"] + "=" * (-len(by_hand["png"]) % 4))
    assert png.startswith(PNG_SIGNATURE)
