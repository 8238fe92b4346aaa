"""Checks for notebook 04's exercises: R², the gap to least squares, residuals, a shuffled split.

Every expected value comes from an independent computation: NumPy formulas in float64
(R² as a squared correlation, the least-squares line from covariance over variance) or
a training loop written out by hand with the gradient of the mean absolute error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..data import make_linear_data, split_data
from ._core import (
    exercise,
    fail,
    flat64,
    keeps_random_state,
    least_squares_line,
    line_model,
    mae_descent,
    passed,
    run_answer,
)


def _column(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).unsqueeze(1)


def _as_number(value: Any, what: str) -> float:
    """A Python float from a float, an int or a one-element tensor; anything else fails."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.detach().cpu().item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        fail(
            f"{what} should be a single number, but your function returned a {type(value).__name__}.",
            "Turn a one-element tensor into a Python number with .item().",
        )
    return float(value)


def _as_numbers(value: Any, keys: tuple[str, ...]) -> dict[str, float]:
    """A dict of Python floats from a dict with exactly ``keys``; anything else fails."""
    if not isinstance(value, dict) or set(value) != set(keys):
        got = sorted(value) if isinstance(value, dict) else type(value).__name__
        quoted = [repr(key) for key in keys]
        fail(
            f"expected a dict with the keys {', '.join(quoted[:-1])} and {quoted[-1]}, got {got}.",
            "Return {" + ", ".join(f'"{key}": ...' for key in keys) + "}.",
        )
    return {key: _as_number(value[key], f"got[{key!r}]") for key in value}


def _refuse_changed_inputs(given: tuple, originals: tuple) -> None:
    """Fail when the learner's function wrote into the tensors it was given."""
    if not all(torch.equal(g, o) for g, o in zip(given, originals, strict=True)):
        fail(
            "your function changed a tensor it was given, in place.",
            "Compute new tensors (errors = y_true - y_pred) instead of writing into the "
            "arguments (-=, or methods ending in _ such as sub_): the caller still needs them.",
        )


def _noisy_line(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    return make_linear_data(weight=0.7, bias=0.3, noise_std=0.05, seed=seed)


# --- Exercise 04.1 ---------------------------------------------------------------------


@exercise("04.1")
def exercise_04_1(r_squared: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``r_squared(y_true, y_pred) -> float`` on cases whose R² is known."""
    y = _column([1.0, 2.0, 3.0, 4.0])
    X_noisy, y_noisy = _noisy_line(seed=4)
    slope, intercept = least_squares_line(X_noisy, y_noisy)
    x64, t64 = flat64(X_noisy), flat64(y_noisy)
    fitted = torch.tensor(slope * x64 + intercept, dtype=torch.float32).unsqueeze(1)
    cases = [
        # (targets, predictions, expected R², what the case is, hint when it is wrong)
        (
            y,
            y.clone(),
            1.0,
            "perfect predictions",
            "When every prediction equals its target nothing is left unexplained, so R² is 1.",
        ),
        (
            y,
            torch.full_like(y, 2.5),
            0.0,
            "always predicting the mean of y_true (2.5)",
            "R² compares the model with always predicting the mean of y_true: measure the "
            "targets' spread around their mean (not around 0), and take it from y_true.",
        ),
        (
            y,
            _column([4.0, 3.0, 2.0, 1.0]),
            -3.0,
            "predictions that are worse than the mean",
            "R² has no lower limit: a model worse than predicting the mean gets a negative R². "
            "Do not clip it or take an absolute value.",
        ),
        (
            y_noisy,
            fitted,
            float(np.corrcoef(x64, t64)[0, 1] ** 2),
            "the least-squares line on noisy data",
            "Use squared errors on both sides of the ratio, each summed (or each averaged) "
            "over all points, and subtract the ratio from 1.",
        ),
    ]
    for targets, predictions, expected, what, hint in cases:
        given = (targets.clone(), predictions.clone())
        got = run_answer(r_squared, *given)
        _refuse_changed_inputs(given, (targets, predictions))
        got = _as_number(got, "R²")
        if not math.isfinite(got):
            fail(
                f"for {what} your R² is {got}.",
                "A division by zero gives inf or nan: is the spread at the bottom of the "
                "ratio taken from y_true (the first argument)?",
            )
        if abs(got - expected) > 1e-4:
            fail(f"for {what} R² should be {expected:.4f}, yours is {got:.4f}.", hint)
    passed("perfect 1, the mean 0, worse below 0, right on noisy data.")


# --- Exercise 04.2 ---------------------------------------------------------------------


@exercise("04.2")
def exercise_04_2(gap_to_least_squares: Callable[..., Any]) -> None:
    """Check ``gap_to_least_squares(model, X, y) -> float``: model MSE minus the best line's MSE."""
    X, y = _noisy_line(seed=7)
    slope, intercept = least_squares_line(X, y)
    x64, t64 = flat64(X), flat64(y)
    best_mse = float(np.mean((slope * x64 + intercept - t64) ** 2))
    for weight, bias in [(0.5, 0.4), (0.9, 0.1), (slope, intercept)]:
        model = line_model(weight, bias).eval()
        w32, b32 = model.weights.item(), model.bias.item()
        expected = float(np.mean((w32 * x64 + b32 - t64) ** 2)) - best_mse
        given = (X.clone(), y.clone())
        got = run_answer(gap_to_least_squares, model, *given)
        _refuse_changed_inputs(given, (X, y))
        got = _as_number(got, "The gap")
        if model.weights.item() != w32 or model.bias.item() != b32:
            fail(
                "your function changed the model's parameters.",
                "Measure the model as it is; fit the least-squares line separately with "
                "torch.linalg.lstsq and leave the model alone.",
            )
        if got < -1e-6:
            fail(
                f"the gap for the line w={w32:.4f}, b={b32:.4f} is negative ({got:.6f}).",
                "No straight line has a smaller squared error than the least-squares line, so "
                "subtract its MSE from the model's MSE: the gap is 0 or more.",
            )
        if abs(got - expected) > 1e-6 + 1e-3 * abs(expected):
            fail(
                f"for the line w={w32:.4f}, b={b32:.4f} the gap should be {expected:.6f}, "
                f"yours is {got:.6f}.",
                "Compare mean squared errors on the given (X, y): the model's predictions and "
                "the least-squares line's predictions, fitted with a column of x and a column of ones.",
            )
    passed("the gap is right, and 0 for the least-squares line itself.")


# --- Exercise 04.3 ---------------------------------------------------------------------


@exercise("04.3")
def exercise_04_3(residual_stats: Callable[[torch.Tensor, torch.Tensor], Any]) -> None:
    """Check ``residual_stats(y_true, y_pred) -> {"mean", "std", "max_abs"}`` of y_true - y_pred."""
    X_noisy, y_noisy = _noisy_line(seed=11)
    noisy_pred = (0.65 * X_noisy + 0.32).float()
    cases = [
        (_column([1.0, 2.0, 3.0, 4.0, 5.0]), _column([1.5, 2.0, 2.5, 4.0, 6.0])),
        (y_noisy, noisy_pred),
    ]
    for y_true, y_pred in cases:
        given = (y_true.clone(), y_pred.clone())
        got = run_answer(residual_stats, *given)
        _refuse_changed_inputs(given, (y_true, y_pred))
        values = _as_numbers(got, ("mean", "std", "max_abs"))
        r = (y_true.double() - y_pred.double()).numpy().ravel()
        if abs(values["mean"] - r.mean()) > 1e-5:
            flipped = abs(values["mean"] + r.mean()) <= 1e-5
            fail(
                f"the mean residual should be {r.mean():.4f}, yours is {values['mean']:.4f}.",
                "A residual is the target minus the prediction (positive when the model guessed "
                "too low)."
                if flipped
                else "Average the residuals themselves, keeping their signs.",
            )
        if abs(values["max_abs"] - np.abs(r).max()) > 1e-5:
            fail(
                f"max_abs should be {np.abs(r).max():.4f}, yours is {values['max_abs']:.4f}.",
                "max_abs is the size of the largest miss, whichever its sign: take the absolute "
                "values before the maximum.",
            )
        spreads = (r.std(ddof=0), r.std(ddof=1))  # dividing by N or by N - 1: both accepted
        if min(abs(values["std"] - s) for s in spreads) > 1e-5:
            fail(
                f"std should be {spreads[1]:.4f} (or {spreads[0]:.4f} dividing by N), yours is "
                f"{values['std']:.4f}.",
                "std measures how the residuals spread around their own mean; tensor.std() does it.",
            )
    passed("mean, spread and largest miss of the residuals are right.")


# --- Exercise 04.4 ---------------------------------------------------------------------


def _hand_trained_mae(shuffle: bool, seed: int) -> dict:
    """Train/test MAE after train's default run (100 epochs, lr 0.01), gradients written out."""
    X, y = make_linear_data()
    X_train, y_train, X_test, y_test = split_data(X, y, shuffle=shuffle, seed=seed)
    w, b = mae_descent(X_train, y_train, steps=100, lr=0.01)
    return {
        "train_mae": (w * X_train + b - y_train).abs().mean().item(),
        "test_mae": (w * X_test + b - y_test).abs().mean().item(),
    }


@exercise("04.4")
def exercise_04_4(evaluate_split: Callable[..., Any]) -> None:
    """Check ``evaluate_split(shuffle, seed=0) -> {"train_mae", "test_mae"}`` after training."""
    for shuffle, seed in [(False, 0), (True, 0), (True, 3)]:
        expected = _hand_trained_mae(shuffle, seed)
        with keeps_random_state():
            got = run_answer(evaluate_split, shuffle, seed=seed)
        values = _as_numbers(got, ("train_mae", "test_mae"))
        for key in ("train_mae", "test_mae"):
            if abs(values[key] - expected[key]) > 1e-4:
                hint = (
                    "Pass shuffle and seed on to split_data(X, y, shuffle=shuffle, seed=seed)."
                    if shuffle
                    else "Use make_linear_data() with its defaults, torch.manual_seed(42) just "
                    "before LinearRegressionModel(), train() with its defaults, and measure the "
                    "MAE after training, in eval mode under torch.inference_mode()."
                )
                fail(
                    f"with shuffle={shuffle}, seed={seed} the {key} should be "
                    f"{expected[key]:.4f}, yours is {values[key]:.4f}.",
                    hint,
                )
    passed("both splits evaluated correctly; compare their test MAEs.")
