"""The training dashboard, driven the way the browser drives it: by setting widget values.

The numbers it shows are checked against a hand-written gradient-descent loop in NumPy.
The same file also runs under ipywidgets 7.7.1 (what Colab ships), in a subprocess with
that version first on the path (see ``test_the_dashboard_works_under_ipywidgets_7``).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import helpers
from helpers import TrainingDashboard, make_linear_data, split_data, training_dashboard

ROOT = Path(__file__).resolve().parent.parent
IPYWIDGETS7 = ROOT / ".venv" / "ipywidgets7"
UNDER_7 = os.environ.get("DASHBOARD_IPYWIDGETS") == "7.7.1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def gradient_descent(lr: float, epochs: int, loss: str) -> dict[str, list[float]]:
    """Oracle: full-batch gradient descent on the course's data, written out by hand.

    Starts from the two numbers ``torch.manual_seed(42)`` draws first, in float32 like
    torch (so even L1's sign flips agree). Per epoch: the weight and bias after the
    update, the training loss before it and the test loss after it.
    """
    X, y = make_linear_data()
    X_train, y_train, X_test, y_test = (t.numpy()[:, 0] for t in split_data(X, y))
    torch.manual_seed(42)
    w, b = np.float32(torch.randn(1).item()), np.float32(torch.randn(1).item())
    step = np.float32(lr)
    measure = (lambda r: np.mean(np.abs(r))) if loss == "L1" else (lambda r: np.mean(r * r))
    out: dict[str, list[float]] = {"weight": [], "bias": [], "train": [], "test": []}
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            r = w * X_train + b - y_train
            g = np.sign(r) if loss == "L1" else 2 * r
            out["train"].append(float(measure(r)))
            w = w - step * np.mean(g * X_train, dtype=np.float32)
            b = b - step * np.mean(g, dtype=np.float32)
            out["test"].append(float(measure(w * X_test + b - y_test)))
            out["weight"].append(float(w))
            out["bias"].append(float(b))
    return out


@pytest.fixture
def dashboard():
    made = TrainingDashboard(max_epochs=300)
    yield made
    made.close()


@pytest.fixture(scope="module")
def unchanged_dashboard():
    """One dashboard for the tests that must leave it as it was."""
    made = TrainingDashboard(max_epochs=300)
    yield made
    made.close()


def test_it_opens_on_the_model_that_train_leaves_after_100_epochs():
    dash = training_dashboard()
    state = dash.state
    assert (state["loss"], state["lr"], state["epoch"]) == ("L1", 0.01, 100)
    assert (dash.lr_slider.value, dash.epochs_slider.value) == (0.01, 100)
    assert dash.loss_buttons.value == "L1"
    # Known values (notebook 03) and the hand-written loop agree with what is shown.
    assert state["weight"] == pytest.approx(0.5784, abs=1e-4)
    assert state["bias"] == pytest.approx(0.3513, abs=1e-4)
    oracle = gradient_descent(0.01, 100, "L1")
    assert state["weight"] == pytest.approx(oracle["weight"][-1], abs=1e-5)
    assert state["bias"] == pytest.approx(oracle["bias"][-1], abs=1e-5)
    assert state["train_loss"] == pytest.approx(oracle["train"][-1], abs=1e-5)
    assert state["test_loss"] == pytest.approx(oracle["test"][-1], abs=1e-5)
    assert dash.png.startswith(PNG_SIGNATURE)
    dash.close()


@pytest.mark.parametrize(
    ("loss", "lr", "epochs"),
    [("L1", 0.01, 1), ("L1", 0.1, 57), ("MSE", 0.1, 300), ("MSE", 0.5, 40), ("L1", 1.0, 25)],
)
def test_moving_the_sliders_shows_that_epoch_of_gradient_descent(dashboard, loss, lr, epochs):
    dashboard.loss_buttons.value = loss
    dashboard.lr_slider.value = lr
    dashboard.epochs_slider.value = epochs
    state = dashboard.state
    assert (state["loss"], state["lr"], state["epoch"]) == (loss, lr, epochs)
    oracle = gradient_descent(lr, epochs, loss)
    assert state["weight"] == pytest.approx(oracle["weight"][-1], abs=1e-5)
    assert state["bias"] == pytest.approx(oracle["bias"][-1], abs=1e-5)
    assert state["test_loss"] == pytest.approx(oracle["test"][-1], rel=1e-4, abs=1e-7)
    assert not state["diverged"] and state["message"] == ""


def test_each_change_redraws_the_picture(dashboard):
    pictures = [bytes(dashboard.image.value)]
    dashboard.epochs_slider.value = 101
    pictures.append(bytes(dashboard.image.value))
    dashboard.lr_slider.value = 10**-1.5  # where the slider's next notch would be
    pictures.append(bytes(dashboard.image.value))
    dashboard.loss_buttons.value = "MSE"
    pictures.append(bytes(dashboard.image.value))
    assert len(set(pictures)) == 4
    assert all(p.startswith(PNG_SIGNATURE) for p in pictures)
    assert bytes(dashboard.image.value) == dashboard.png


def test_the_learning_rate_is_rounded_to_what_the_readout_shows(dashboard):
    dashboard.lr_slider.value = 10**-1.9  # 0.012589..., shown as 0.0126 with ".3g"
    assert dashboard.state["lr"] == 0.0126
    assert dashboard.lr_slider.value == 0.0126
    assert f"{dashboard.lr_slider.value:{dashboard.lr_slider.readout_format}}" == "0.0126"
    oracle = gradient_descent(0.0126, 100, "L1")
    assert dashboard.state["weight"] == pytest.approx(oracle["weight"][-1], abs=1e-5)


def test_a_slider_position_always_shows_the_same_picture(dashboard):
    rng_before = torch.get_rng_state()
    dashboard.lr_slider.value = 0.05
    dashboard.epochs_slider.value = 80
    first = dashboard.png
    dashboard.lr_slider.value = 0.2
    dashboard.epochs_slider.value = 10
    dashboard.loss_buttons.value = "MSE"
    dashboard.loss_buttons.value = "L1"
    dashboard.lr_slider.value = 0.05
    dashboard.epochs_slider.value = 80
    assert dashboard.png == first
    other = TrainingDashboard(lr=0.05, epochs=80, max_epochs=300, cache_size=0)
    assert other.png == first
    other.close()
    assert torch.equal(torch.get_rng_state(), rng_before), "the learner's RNG was disturbed"


def test_epochs_redraw_from_the_recorded_trajectory_and_lr_retrains(dashboard, monkeypatch):
    import helpers.dashboard as module

    calls = []

    def counting_train(*args, **kwargs):
        calls.append(kwargs["lr"])
        return helpers.train(*args, **kwargs)

    monkeypatch.setattr(module, "train", counting_train)
    for epochs in (1, 150, 300, 2):
        dashboard.epochs_slider.value = epochs
    assert calls == []
    dashboard.lr_slider.value = 0.3
    dashboard.epochs_slider.value = 250
    assert calls == [0.3]
    dashboard.lr_slider.value = 0.01  # trained before: kept
    assert calls == [0.3]


def test_divergence_shows_a_message_and_the_last_finite_epoch(dashboard):
    dashboard.loss_buttons.value = "MSE"
    dashboard.lr_slider.value = 1.0
    dashboard.epochs_slider.value = 300
    state = dashboard.state
    assert state["diverged"]
    # The hand-written loop's loss overflows float32 in the same epoch.
    oracle = gradient_descent(1.0, 300, "MSE")
    finite = np.isfinite(oracle["train"]) & np.isfinite(oracle["test"])
    at = int(np.argmin(finite)) + 1
    assert 1 < at < 300 and state["diverged_at"] == at
    assert state["epoch"] == at - 1
    assert state["weight"] == pytest.approx(oracle["weight"][at - 2], rel=1e-4)
    assert np.isfinite([state["weight"], state["bias"], state["train_loss"]]).all()
    assert f"epoch {at}" in state["message"] and "smaller learning rate" in state["message"]
    diverged_picture = dashboard.png
    dashboard.epochs_slider.value = at - 1  # the same parameters, before the divergence
    assert dashboard.state["message"] == "" and not dashboard.state["diverged"]
    assert dashboard.png != diverged_picture  # so the message is part of the picture
    dashboard.loss_buttons.value = "L1"  # bounded gradients: lr = 1 does not diverge
    dashboard.epochs_slider.value = 300
    assert dashboard.state["diverged_at"] is None and not dashboard.state["diverged"]


@pytest.mark.parametrize(
    ("call", "value", "match"),
    [
        ("set_lr", 0.0, "lr must be a number from 0.0001 to 1"),
        ("set_lr", 2.0, "lr must be a number from 0.0001 to 1"),
        ("set_lr", float("nan"), "lr must be a number"),
        ("set_lr", "0.1", "lr must be a number"),
        ("set_epochs", 0, "epochs must be from 1 to 300"),
        ("set_epochs", 301, "epochs must be from 1 to 300"),
        ("set_epochs", 2.5, "epochs must be a whole number"),
        ("set_loss", "L3", "loss must be one of 'L1', 'MSE'"),
    ],
)
def test_bad_values_get_one_clear_error(unchanged_dashboard, call, value, match):
    before, picture = unchanged_dashboard.state, unchanged_dashboard.png
    with pytest.raises(ValueError, match=match):
        getattr(unchanged_dashboard, call)(value)
    assert unchanged_dashboard.state == before and unchanged_dashboard.png == picture


def test_bad_settings_get_one_clear_error():
    with pytest.raises(ValueError, match="max_epochs must be a whole number of at least 1"):
        TrainingDashboard(max_epochs=0)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        TrainingDashboard(seed=0.5)
    with pytest.raises(ValueError, match="epochs must be from 1 to 50"):
        TrainingDashboard(epochs=100, max_epochs=50)


def test_display_gives_the_widget_and_a_picture_for_static_viewers(dashboard):
    bundle = dashboard._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == dashboard.widget.model_id
    assert (view["version_major"], view["version_minor"]) == (2, 0)
    assert base64.b64decode(bundle["image/png"]) == dashboard.png
    assert bundle["text/plain"].startswith("TrainingDashboard(L1 loss, lr=0.01, epoch 100")
    assert len(bundle["text/plain"]) < 120


def test_the_controls_are_core_widgets_with_typeable_readouts(dashboard):
    lr, epochs = dashboard.lr_slider, dashboard.epochs_slider
    assert type(lr).__name__ == "FloatLogSlider" and (lr.min, lr.max, lr.base) == (-4, 0, 10)
    assert type(epochs).__name__ == "IntSlider" and (epochs.min, epochs.max) == (1, 300)
    assert lr.readout and epochs.readout
    assert list(dashboard.loss_buttons.options) == ["L1", "MSE"]
    assert all(
        type(w).__module__.startswith("ipywidgets.")
        for w in (lr, epochs, dashboard.loss_buttons, dashboard.image, dashboard.widget)
    )


def test_importing_helpers_does_not_import_ipywidgets():
    code = "import sys, helpers; helpers.training_dashboard; print('ipywidgets' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "False"


@pytest.mark.skipif(not UNDER_7, reason="only inside the ipywidgets 7.7.1 run")
def test_this_run_uses_ipywidgets_7_7_1():
    import ipywidgets

    assert ipywidgets.__version__ == "7.7.1"
    assert Path(ipywidgets.__file__).is_relative_to(IPYWIDGETS7)


@pytest.mark.skipif(UNDER_7, reason="this is the ipywidgets 7.7.1 run itself")
def test_the_dashboard_works_under_ipywidgets_7():
    if not (IPYWIDGETS7 / "ipywidgets").is_dir():
        pytest.skip(f"ipywidgets 7.7.1 is not installed in {IPYWIDGETS7}: run `make test`")
    env = dict(os.environ, DASHBOARD_IPYWIDGETS="7.7.1", PYTHONPATH=str(IPYWIDGETS7))
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(Path(__file__).relative_to(ROOT)),
        "-q",
        "-p",
        "no:cacheprovider",
        # ipywidgets 7 builds its comms with ipykernel's old Comm class, which warns.
        "-W",
        "ignore:The `ipykernel.comm.Comm` class has been deprecated:DeprecationWarning",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"under ipywidgets 7.7.1:\n{result.stdout[-4000:]}"
    assert " passed" in result.stdout and " failed" not in result.stdout
