"""The training dashboard, driven the way the browser drives it: by setting widget values.

Two oracles: :func:`helpers.train` itself, which the batched run of every learning rate
must reproduce number for number, and a hand-written gradient-descent loop in NumPy for
what the readout shows. (Under ipywidgets 7.7.1, what Colab ships: tests/test_ipywidgets_7.py.)
"""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import helpers
from helpers import make_linear_data, split_data, train, training_dashboard
from helpers.dashboard import runs

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NUMBER = r"(-?[0-9.]+(?:e[+-]?\d+)?)"


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


def shown(dashboard) -> dict:
    """The readout under the picture, parsed: loss, lr, epoch, w, b, losses, message."""
    text = dashboard.readout.value
    head = re.match(rf"<b>(\w+) loss, lr={NUMBER}, epoch (\d+)</b>: w={NUMBER}, b={NUMBER}", text)
    assert head, f"unexpected readout {text!r}"
    losses = re.search(rf"training loss {NUMBER}, test loss {NUMBER}", text)
    return {
        "loss": head[1],
        "lr": float(head[2]),
        "epoch": int(head[3]),
        "weight": float(head[4]),
        "bias": float(head[5]),
        "train_loss": float(losses[1]) if losses else None,
        "test_loss": float(losses[2]) if losses else None,
        "message": text.split("<br>", 1)[1] if "<br>" in text else "",
    }


@pytest.fixture(scope="module")
def sweep() -> runs.Sweep:
    torch.manual_seed(42)
    start = helpers.LinearRegressionModel()
    made = runs.Sweep(start.weights.item(), start.bias.item(), split_data(*make_linear_data()))
    made.train_to(120)
    made.train_to(300)  # in two steps, as the dashboard trains in a kernel
    return made


@pytest.fixture(scope="module")
def built_dashboard():
    made = training_dashboard(max_epochs=300)
    yield made
    made.close()


@pytest.fixture
def dashboard(built_dashboard):
    """This module's dashboard, moved back to where it opens: L1, lr 0.01, 100 epochs.

    The three moves are made inside an event loop, as a kernel would receive them, so
    they cost one redraw; that a position always looks the same is itself tested below.
    """

    async def reset():
        built_dashboard.loss_buttons.value = "L1"
        built_dashboard.lr_slider.value = 0.01
        built_dashboard.epochs_slider.value = 100
        for _ in range(3):
            await asyncio.sleep(0)

    asyncio.run(reset())
    assert shown(built_dashboard)["epoch"] == 100
    return built_dashboard


# --- the batched run equals helpers.train ----------------------------------------------


@pytest.mark.parametrize(
    ("loss", "lr"),
    [("L1", 1e-4), ("L1", 0.0126), ("L1", 0.1), ("L1", 1.0)]
    + [("MSE", 1e-4), ("MSE", 0.0126), ("MSE", 0.1), ("MSE", 0.631), ("MSE", 1.0)],
)
def test_the_batched_run_equals_train_for_that_rate(sweep, seeded_model, default_split, loss, lr):
    history = train(
        seeded_model(42), *default_split, lr=lr, epochs=300,
        loss_fn={"L1": nn.L1Loss, "MSE": nn.MSELoss}[loss](), device="cpu", verbose=False,
    )  # fmt: skip
    run = sweep.run(loss, lr)
    assert run.diverged_at == history.diverged_at
    assert run.message == history.message
    close = {"rtol": 1e-5, "atol": 1e-5}  # relative, for the huge numbers before a divergence
    np.testing.assert_allclose(run.train_loss, history.train_loss, **close)
    np.testing.assert_allclose(run.test_loss, history.test_loss, **close)
    np.testing.assert_allclose(run.weight, history.param("weights")[:, 0].numpy(), **close)
    np.testing.assert_allclose(run.bias, history.param("bias")[:, 0].numpy(), **close)
    assert len(run.train_loss) == len(history) == (300 if lr < 1 or loss == "L1" else 158)


def test_mse_at_lr_1_diverges_as_train_says(sweep):
    run = sweep.run("MSE", 1.0)
    assert run.diverged_at == 159
    assert run.message.startswith("Training stopped at epoch 159: the training loss became inf")


def test_the_rate_view_holds_each_rates_test_loss_after_that_epoch(
    sweep, seeded_model, default_split
):
    histories = {
        lr: train(seeded_model(42), *default_split, lr=lr, epochs=300, loss_fn=nn.MSELoss(),
                  device="cpu", verbose=False)
        for lr in (1e-4, 0.794, 1.0)
    }  # fmt: skip
    for epoch in (1, 158, 159, 300):
        loss_at, gone = sweep.losses_at("MSE", epoch)
        assert loss_at.shape == gone.shape == (41,)
        assert list(np.flatnonzero(gone)) == ([40] if epoch >= 159 else [])
        for lr, history in histories.items():
            i = runs.LEARNING_RATES.index(lr)
            if epoch < (history.diverged_at or 301):
                assert loss_at[i] == pytest.approx(history.test_loss[epoch - 1], rel=1e-5)
            else:
                assert np.isnan(loss_at[i]) and gone[i]


def test_the_learning_rates_are_the_sliders_41_notches():
    rates = runs.LEARNING_RATES
    assert len(rates) == 41 and (rates[0], rates[-1]) == (1e-4, 1.0)
    ratios = np.diff(np.log10(rates))
    assert np.allclose(ratios, 0.1, atol=0.003)
    assert runs.nearest_rate(10**-1.9) == 0.0126 and runs.nearest_rate(0.05) == 0.0501


# --- the dashboard --------------------------------------------------------------------


def test_it_opens_on_the_model_that_train_leaves_after_100_epochs():
    dash = training_dashboard()
    state = shown(dash)
    assert (state["loss"], state["lr"], state["epoch"]) == ("L1", 0.01, 100)
    assert (dash.lr_slider.value, dash.epochs_slider.value, dash.loss_buttons.value) == (
        0.01, 100, "L1",
    )  # fmt: skip
    assert (state["weight"], state["bias"]) == (0.5784, 0.3513)  # as notebook 03 prints
    oracle = gradient_descent(0.01, 100, "L1")
    for key, name in (("weight", "weight"), ("bias", "bias"), ("train_loss", "train")):
        assert state[key] == pytest.approx(oracle[name][-1], abs=5e-5)
    assert bytes(dash.image.value).startswith(PNG_SIGNATURE)
    dash.close()


@pytest.mark.parametrize(
    ("loss", "lr", "epochs"),
    [("L1", 0.01, 1), ("L1", 0.1, 57), ("MSE", 0.1, 300), ("MSE", 0.501, 40), ("L1", 1.0, 25)],
)
def test_moving_the_controls_shows_that_epoch_of_gradient_descent(dashboard, loss, lr, epochs):
    dashboard.loss_buttons.value = loss
    dashboard.lr_slider.value = lr
    dashboard.epochs_slider.value = epochs
    state = shown(dashboard)
    assert (state["loss"], state["lr"], state["epoch"]) == (loss, lr, epochs)
    oracle = gradient_descent(lr, epochs, loss)
    assert state["weight"] == pytest.approx(oracle["weight"][-1], abs=5e-5)
    assert state["bias"] == pytest.approx(oracle["bias"][-1], abs=5e-5)
    assert state["test_loss"] == pytest.approx(oracle["test"][-1], rel=1e-3, abs=5e-5)
    assert state["message"] == ""


def test_each_change_redraws_the_picture_and_a_position_always_looks_the_same(dashboard):
    rng_before = torch.get_rng_state()
    pictures = [bytes(dashboard.image.value)]
    for control, value in (
        (dashboard.epochs_slider, 101),
        (dashboard.lr_slider, 10**-1.5),  # where the slider's next notch would be
        (dashboard.loss_buttons, "MSE"),
    ):
        control.value = value
        pictures.append(bytes(dashboard.image.value))
    assert len(set(pictures)) == 4 and all(p.startswith(PNG_SIGNATURE) for p in pictures)
    dashboard.lr_slider.value = 0.01
    dashboard.loss_buttons.value = "L1"
    dashboard.epochs_slider.value = 100
    assert bytes(dashboard.image.value) == pictures[0]
    other = training_dashboard(lr=0.0316, epochs=101, loss="MSE", max_epochs=300)
    assert bytes(other.image.value) == pictures[3]
    other.close()
    assert torch.equal(torch.get_rng_state(), rng_before), "the learner's RNG was disturbed"


def test_a_learning_rate_moves_to_the_nearest_notch(dashboard):
    dashboard.lr_slider.value = 10**-1.9  # 0.012589..., shown as 0.0126 with ".3g"
    assert shown(dashboard)["lr"] == 0.0126
    assert f"{dashboard.lr_slider.value:{dashboard.lr_slider.readout_format}}" == "0.0126"
    dashboard.lr_slider.value = 0.05  # typed into the readout: between two notches
    assert dashboard.lr_slider.value == 0.0501 and shown(dashboard)["lr"] == 0.0501
    oracle = gradient_descent(0.0501, 100, "L1")
    assert shown(dashboard)["weight"] == pytest.approx(oracle["weight"][-1], abs=5e-5)


def test_no_control_trains_once_the_dashboard_is_built(dashboard, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("a control trained")

    monkeypatch.setattr(runs._Batch, "run", no_training)
    monkeypatch.setattr(helpers, "train", no_training)
    for loss in ("MSE", "L1"):
        dashboard.loss_buttons.value = loss
        for lr, epochs in ((1.0, 300), (1e-4, 1), (0.3, 150)):
            dashboard.lr_slider.value = lr
            dashboard.epochs_slider.value = epochs
    assert shown(dashboard)["epoch"] == 150


def test_divergence_shows_trains_message_and_the_last_finite_epoch(dashboard, seeded_model):
    dashboard.loss_buttons.value = "MSE"
    dashboard.lr_slider.value = 1.0
    dashboard.epochs_slider.value = 300
    history = train(seeded_model(42), *split_data(*make_linear_data()), lr=1.0, epochs=300,
                    loss_fn=nn.MSELoss(), device="cpu", verbose=False)  # fmt: skip
    state = shown(dashboard)
    assert state["message"] == history.message and history.diverged_at == 159
    assert state["epoch"] == 158
    oracle = gradient_descent(1.0, 158, "MSE")
    assert state["weight"] == pytest.approx(oracle["weight"][-1], rel=1e-3)
    diverged_picture = bytes(dashboard.image.value)
    dashboard.epochs_slider.value = 158  # the same parameters, before the divergence
    assert shown(dashboard)["message"] == "" and shown(dashboard)["epoch"] == 158
    assert bytes(dashboard.image.value) != diverged_picture  # the message is in the picture
    dashboard.loss_buttons.value = "L1"  # bounded gradients: lr = 1 does not diverge
    dashboard.epochs_slider.value = 300
    assert shown(dashboard)["epoch"] == 300 and shown(dashboard)["message"] == ""


def test_a_burst_of_moves_in_a_kernel_draws_once_with_the_latest_values(dashboard):
    drawn = []

    def record(change):
        drawn.append(change["new"])

    dashboard.image.observe(record, names="value")

    async def burst():
        # Inside an event loop, as in a kernel: the moves arrive before any redraw runs.
        for lr, epochs in ((0.1, 10), (0.2, 20), (0.0316, 30), (0.5, 250)):
            dashboard.lr_slider.value = lr
            dashboard.epochs_slider.value = epochs
        dashboard.loss_buttons.value = "MSE"
        assert drawn == []
        for _ in range(3):
            await asyncio.sleep(0)

    asyncio.run(burst())
    dashboard.image.unobserve(record, names="value")  # the dashboard is shared
    assert len(drawn) == 1
    assert shown(dashboard)[("lr")] == 0.501 and shown(dashboard)["epoch"] == 250
    fresh = training_dashboard(lr=0.501, epochs=250, loss="MSE", max_epochs=300)
    assert bytes(drawn[0]) == bytes(fresh.image.value)
    fresh.close()


def test_in_a_kernel_it_shows_the_first_epochs_at_once_and_trains_the_rest_later(dashboard):
    async def in_a_kernel():
        # Built inside an event loop, as in a kernel: the first picture needs only the
        # first 100 epochs; the rest are trained in steps while the loop is free.
        made = training_dashboard(max_epochs=300)
        first = bytes(made.image.value)
        made.epochs_slider.value = 300  # needed before the background is done: trained now
        await asyncio.sleep(0)
        at_300 = bytes(made.image.value)
        for _ in range(10):
            await asyncio.sleep(0)
        made.lr_slider.value = 0.1
        await asyncio.sleep(0)
        made.close()
        return first, at_300, bytes(made.image.value), made.readout.value

    first, at_300, moved, readout = asyncio.run(in_a_kernel())
    assert first == bytes(dashboard.image.value)
    dashboard.epochs_slider.value = 300
    assert at_300 == bytes(dashboard.image.value)
    dashboard.lr_slider.value = 0.1
    assert moved == bytes(dashboard.image.value) and readout == dashboard.readout.value


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"lr": 0.0}, "lr must be a number from 0.0001 to 1"),
        ({"lr": 2.0}, "lr must be a number from 0.0001 to 1"),
        ({"lr": float("nan")}, "lr must be a number"),
        ({"lr": "0.1"}, "lr must be a number"),
        ({"epochs": 0}, "epochs must be from 1 to 1000"),
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"epochs": 100, "max_epochs": 50}, "epochs must be from 1 to 50"),
        ({"loss": "L3"}, "loss must be one of 'L1', 'MSE'"),
        ({"max_epochs": 0}, "max_epochs must be a whole number of at least 1"),
        ({"seed": 0.5}, "seed must be a whole number"),
    ],
)
def test_bad_settings_get_one_clear_error(settings, match):
    with pytest.raises(ValueError, match=match):
        training_dashboard(**settings)


def test_display_gives_the_widget_and_a_picture_for_static_viewers(dashboard):
    bundle = dashboard._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == dashboard.widget.model_id
    assert (view["version_major"], view["version_minor"]) == (2, 0)
    assert base64.b64decode(bundle["image/png"]) == bytes(dashboard.image.value)
    assert bundle["text/plain"].startswith("TrainingDashboard(L1 loss, lr=0.01, epoch 100: w=")
    assert "<" not in bundle["text/plain"] and len(bundle["text/plain"]) < 120


def test_the_controls_are_core_widgets_that_update_while_dragged(dashboard):
    lr, epochs = dashboard.lr_slider, dashboard.epochs_slider
    assert type(lr).__name__ == "FloatLogSlider" and (lr.min, lr.max, lr.base) == (-4, 0, 10)
    assert type(epochs).__name__ == "IntSlider" and (epochs.min, epochs.max) == (1, 300)
    assert lr.continuous_update and epochs.continuous_update
    assert lr.readout and epochs.readout
    assert list(dashboard.loss_buttons.options) == ["L1", "MSE"]
    parts = (lr, epochs, dashboard.loss_buttons, dashboard.image, dashboard.readout)
    assert all(type(w).__module__.startswith("ipywidgets.") for w in (*parts, dashboard.widget))


def test_helpers_has_one_public_name_for_the_dashboard():
    assert helpers.dashboard.__all__ == ["training_dashboard"]
    assert "training_dashboard" in helpers.__all__


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": np.float32(0.1), "epochs": np.int64(20), "max_epochs": np.int64(40)},
        {"lr": torch.tensor(0.1), "epochs": torch.tensor(20), "seed": np.int32(42)},
    ],
)
def test_numpy_scalars_and_0d_tensors_are_accepted_as_train_accepts_them(settings):
    made = training_dashboard(**settings)
    assert made.lr_slider.value == pytest.approx(0.1, rel=1e-6)
    assert made.epochs_slider.value == 20 and type(made.epochs_slider.value) is int


def test_a_nan_epochs_value_gets_a_clear_error():
    with pytest.raises(ValueError, match=r"epochs must be a whole number, got nan"):
        training_dashboard(epochs=float("nan"))


def test_a_sweep_too_big_for_memory_is_refused_before_any_training():
    with pytest.raises(ValueError, match=r"max_epochs=10,000,000 would need about .* GiB"):
        training_dashboard(max_epochs=10**7)


def test_a_nan_on_the_learning_rate_slider_gets_a_clear_error_and_is_undone():
    made = training_dashboard(lr=0.1, epochs=10, max_epochs=50)
    with pytest.raises(ValueError, match=r"learning rate slider must hold a number > 0, got nan"):
        made.lr_slider.value = float("nan")
    assert made.lr_slider.value == pytest.approx(0.1)
