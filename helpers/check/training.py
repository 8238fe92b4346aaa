"""Checks for the exercises of notebook 03 (training): fit a new line, MSE, a learning rate, a device.

The expected answers come from outside the learner's code: the least-squares line worked
out in closed form, loss values recomputed from the learned weight and bias with the
formulas for mean absolute and mean squared error, and fixed targets (a test loss below a
threshold). Every checker runs on a copy of the random state, so checking never shifts the
numbers a notebook prints afterwards.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..data import make_linear_data, split_data
from ..device import get_device
from ..model import LinearRegressionModel
from ..training import train
from ._core import fail, keeps_random_state, passed, run_answer

#: Exercise 03.1: how far the learned weight and bias may be from the best line.
FIT_TOLERANCE = 0.02
#: Exercise 03.3: epochs trained, how many final epochs are looked at, and their bound.
LR_EPOCHS = 50
LR_LAST = 5
LR_TARGET = 0.06
#: Exercise 03.4: the test MAE a trained line must beat.
DEVICE_TARGET = 0.1


def _default_split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    return split_data(*make_linear_data())


def _seeded_model() -> LinearRegressionModel:
    """The notebook's starting model, from seed 42.

    Unlike ``_core.line_model`` it draws on the checker's own copy of the random state and
    reseeds it, so what is drawn after it, by the learner's answer too, is the same every time.
    """
    torch.manual_seed(42)
    return LinearRegressionModel()


def _line_of(ex: str, model: Any, name: str) -> tuple[float, float]:
    """The (weight, bias) of a straight-line model, read from its outputs at x = 0 and x = 1."""
    if not isinstance(model, nn.Module):
        fail(
            ex,
            f"{name} is of type {type(model).__name__}, not a model.",
            "return the model you trained (the object you called train on).",
        )
    first = next(iter(model.parameters()), None)
    if first is None:
        fail(ex, f"{name} has no parameters.", "return a LinearRegressionModel that you trained.")
    x = torch.tensor([[0.0], [1.0]], device=first.device, dtype=first.dtype)
    with torch.no_grad():
        out = model(x).detach().to("cpu", torch.float64).reshape(-1)
    bias = out[0].item()
    return out[1].item() - bias, bias


def _least_squares(X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """The line that minimises the squared error on (X, y), in closed form (float64)."""
    x, t = X.double().reshape(-1), y.double().reshape(-1)
    slope = ((x - x.mean()) * (t - t.mean())).sum() / ((x - x.mean()) ** 2).sum()
    return slope.item(), (t.mean() - slope * x.mean()).item()


def _errors(weight: float, bias: float, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean absolute and mean squared error of the line ``weight * x + bias`` on (X, y)."""
    miss = weight * X.double().reshape(-1) + bias - y.double().reshape(-1)
    return miss.abs().mean().item(), (miss**2).mean().item()


def _line_text(weight: float, bias: float) -> str:
    sign = "-" if bias < 0 else "+"
    return f"y = {weight:.4f}x {sign} {abs(bias):.4f}"


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-5 + 1e-4 * abs(b)


@keeps_random_state()
def exercise_03_1(answer: Callable[..., nn.Module]) -> None:
    """``answer(X_train, y_train, X_test, y_test)`` trains a model on y = 0.3x + 0.9 and returns it."""
    ex = "03.1"
    X, y = make_linear_data(weight=0.3, bias=0.9, step=0.01)
    X_train, y_train, X_test, y_test = split_data(X, y)
    model = run_answer(ex, answer, X_train.clone(), y_train.clone(), X_test.clone(), y_test.clone())
    weight, bias = _line_of(ex, model, "what fit_line returned")
    if not (math.isfinite(weight) and math.isfinite(bias)):
        fail(
            ex,
            "the model's weight or bias is not a finite number: training blew up.",
            "use a smaller learning rate.",
        )
    start_weight, start_bias = _line_of(ex, _seeded_model(), "the starting model")
    if abs(weight - start_weight) < 1e-6 and abs(bias - start_bias) < 1e-6:
        fail(
            ex,
            f"the model still has its starting values (weight {weight:.4f}, bias {bias:.4f}).",
            "train the model (with train(...) or your own loop) before returning it.",
        )
    best_weight, best_bias = _least_squares(X_train, y_train)
    off = max(abs(weight - best_weight), abs(bias - best_bias))
    if off > FIT_TOLERANCE:
        fail(
            ex,
            f"the learned line is {_line_text(weight, bias)}, but the best line through the "
            f"training points is {_line_text(best_weight, best_bias)} (off by {off:.4f}; "
            f"within {FIT_TOLERANCE} passes).",
            "plot the loss curves: if they are still falling at the end, the model needs more "
            "epochs (or somewhat bigger steps).",
        )
    passed(ex, f"learned {_line_text(weight, bias)}, close to y = 0.3x + 0.9.")


@keeps_random_state()
def exercise_03_2(answer: Callable[..., Any]) -> None:
    """``answer(model, X_train, y_train, X_test, y_test)`` trains with MSE and returns the History."""
    ex = "03.2"
    X_train, y_train, X_test, y_test = _default_split()
    model = _seeded_model()
    start_weight, start_bias = _line_of(ex, model, "the starting model")
    history = run_answer(
        ex, answer, model, X_train.clone(), y_train.clone(), X_test.clone(), y_test.clone()
    )
    train_loss = getattr(history, "train_loss", None)
    test_loss = getattr(history, "test_loss", None)
    if train_loss is None or test_loss is None:
        fail(
            ex,
            f"train_with_mse returned an object of type {type(history).__name__}, not the History "
            "of training.",
            "return what train(...) gives back.",
        )
    if getattr(history, "diverged_at", None) is not None or not all(
        math.isfinite(v) for v in list(train_loss) + list(test_loss)
    ):
        stopped_at = getattr(history, "diverged_at", None)
        when = f" at epoch {stopped_at}" if stopped_at is not None else ""
        fail(
            ex,
            f"training stopped{when} because the loss blew up.",
            "squared errors give bigger gradients than absolute ones; try a smaller learning "
            "rate, such as 0.1.",
        )
    if len(test_loss) == 0 or len(train_loss) == 0:
        fail(ex, "the History is empty.", "train for some epochs, e.g. epochs=100.")
    weight, bias = _line_of(ex, model, "the model you were given")
    if abs(weight - start_weight) < 1e-6 and abs(bias - start_bias) < 1e-6:
        fail(
            ex,
            "the model you were given still has its starting values.",
            "train the `model` argument itself rather than a new model.",
        )
    first_mae, first_mse = _errors(start_weight, start_bias, X_train, y_train)
    last_mae, last_mse = _errors(weight, bias, X_test, y_test)
    recorded_first, recorded_last = float(train_loss[0]), float(test_loss[-1])
    if not _close(recorded_last, last_mse):
        if _close(recorded_last, last_mae):
            fail(
                ex,
                f"the last test loss, {recorded_last:.4f}, is the mean absolute error of the "
                f"learned line, not its mean squared error ({last_mse:.4f}).",
                "train uses nn.L1Loss unless you give it another loss function; pass "
                "loss_fn=nn.MSELoss().",
            )
        fail(
            ex,
            f"the last test loss, {recorded_last:.4f}, is not the mean squared error of the "
            f"learned line on the test data ({last_mse:.4f}).",
            "return the History from training the `model` argument with loss_fn=nn.MSELoss().",
        )
    if not _close(recorded_first, first_mse):
        fail(
            ex,
            f"the first training loss, {recorded_first:.4f}, is not the mean squared error of the "
            f"starting line ({first_mse:.4f}).",
            "train the `model` argument once, from its starting values, and return that History.",
        )
    if last_mse >= _errors(start_weight, start_bias, X_test, y_test)[1]:
        fail(
            ex,
            f"the test loss did not go down (it ended at {last_mse:.4f}).",
            "check the learning rate: too small barely moves, too large overshoots.",
        )
    passed(
        ex,
        f"final test MSE {recorded_last:.4f} is the squared error of {_line_text(weight, bias)}.",
    )


@keeps_random_state()
def exercise_03_3(answer: Callable[[], float]) -> None:
    """``answer()`` returns a learning rate that settles the test loss below the target quickly."""
    ex = "03.3"
    lr = run_answer(ex, answer)
    if isinstance(lr, torch.Tensor) and lr.numel() == 1:
        lr = lr.item()
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        fail(
            ex,
            f"pick_learning_rate returned {lr!r}; a learning rate is a positive number.",
            "return a plain number, for example `return 0.01`.",
        )
    lr = float(lr)
    history = train(
        _seeded_model(), *_default_split(), lr=lr, epochs=LR_EPOCHS, device="cpu", verbose=False
    )
    last = history.test_loss[-LR_LAST:]
    if history.diverged_at is None and len(last) == LR_LAST and max(last) < LR_TARGET:
        passed(
            ex,
            f"with lr={lr:g} the test loss stays below {LR_TARGET} in the last {LR_LAST} of "
            f"{LR_EPOCHS} epochs (at most {max(last):.4f}).",
        )
        return
    if history.diverged_at is None and all(
        b <= a for a, b in zip(last[:-1], last[1:], strict=True)
    ):
        fail(
            ex,
            f"with lr={lr:g} the test loss is still {last[-1]:.4f} after {LR_EPOCHS} epochs and "
            "still creeping down: the steps are too small to get there in time.",
            "try a learning rate a few times larger.",
        )
    fail(
        ex,
        f"with lr={lr:g} the test loss jumps between {min(last):.4f} and {max(last):.4f} in the "
        "last epochs: the steps overshoot the best line.",
        "try a learning rate a few times smaller.",
    )


@keeps_random_state()
def exercise_03_4(answer: Callable[..., Any]) -> None:
    """``answer(X_train, y_train, X_test, y_test)`` returns ``(model, predictions)``, device-agnostic."""
    ex = "03.4"
    X_train, y_train, X_test, y_test = _default_split()
    result = run_answer(
        ex, answer, X_train.clone(), y_train.clone(), X_test.clone(), y_test.clone()
    )
    if not (isinstance(result, tuple) and len(result) == 2):
        fail(
            ex,
            f"train_anywhere returned an object of type {type(result).__name__}, not a pair.",
            "end with `return model, predictions`.",
        )
    model, predictions = result
    weight, bias = _line_of(ex, model, "the first thing returned")
    device = get_device()
    where = next(iter(model.parameters())).device
    if where.type != device.type:
        fail(
            ex,
            f"the model's parameters are on {where}, but the best device here is {device}.",
            "pick the device with get_device() and move the model there with .to(device).",
        )
    if not isinstance(predictions, torch.Tensor):
        fail(
            ex,
            f"the predictions are of type {type(predictions).__name__}, not a tensor.",
            "return the tensor the model gives for X_test (moved to the CPU).",
        )
    if predictions.device.type != "cpu":
        fail(
            ex,
            f"the predictions are on {predictions.device}; NumPy and Matplotlib only read tensors "
            "in the computer's main memory.",
            "move them back with .cpu() before returning.",
        )
    if predictions.requires_grad:
        fail(
            ex,
            "the predictions still track gradients, so PyTorch recorded a graph for them.",
            "predict inside `with torch.inference_mode():`.",
        )
    if model.training:
        fail(
            ex,
            "the model is still in training mode.",
            "call model.eval() before predicting.",
        )
    if tuple(predictions.shape) != tuple(X_test.shape):
        fail(
            ex,
            f"the predictions have shape {tuple(predictions.shape)}, but X_test has shape "
            f"{tuple(X_test.shape)}.",
            "predict on X_test and return the result without reshaping it.",
        )
    expected = weight * X_test.double() + bias
    if not torch.allclose(predictions.double(), expected, atol=1e-5):
        fail(
            ex,
            "the predictions are not what the returned model gives for X_test.",
            "predict with the trained model, on X_test, after training.",
        )
    mae = (expected - y_test.double()).abs().mean().item()
    if mae >= DEVICE_TARGET:
        fail(
            ex,
            f"the test loss (MAE) is {mae:.4f}; a trained line gets below {DEVICE_TARGET}.",
            "train the model before predicting, for example 100 epochs with lr=0.01.",
        )
    passed(
        ex,
        f"model on device: {device.type}, predictions on the CPU without gradients, "
        f"test MAE {mae:.4f}.",
    )
