"""Checks for the exercises of notebook 01 (data): build, split and shuffle straight-line data.

The expected answers come from NumPy closed forms and known sizes, never from the
solution's code. Every checker calls the learner's function, prints one pass line when it
is right and raises :class:`~helpers.check.ExerciseError` with a hint when it is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .. import data as _data
from ._core import exercise, fail, flat64, passed, run_answer
from ._watch import watching


def _as_pair(result: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(result, tuple) or len(result) != 2:
        fail(
            f"your function returned a {type(result).__name__}, not a pair (X, y).",
            "end the function with `return X, y`.",
        )
    for name, value in zip(("X", "y"), result, strict=True):
        if not isinstance(value, torch.Tensor):
            fail(
                f"{name} is a {type(value).__name__}, not a torch tensor.",
                "build X with torch.arange and compute y from X, so both stay tensors.",
            )
        if not value.is_floating_point():
            fail(
                f"{name} has dtype {value.dtype}; a model needs floating-point numbers.",
                "give torch.arange float arguments (0.0, 1.0, ...) so it makes float32 values.",
            )
    return result


def _as_split(result: Any) -> tuple[torch.Tensor, ...]:
    names = ("X_train", "y_train", "X_test", "y_test")
    if not isinstance(result, tuple) or len(result) != 4:
        fail(
            f"your function returned a {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, tuple) else "")
            + ", not the four tensors X_train, y_train, X_test, y_test.",
            "end the function with `return X_train, y_train, X_test, y_test` (in that order).",
        )
    for name, value in zip(names, result, strict=True):
        if not isinstance(value, torch.Tensor):
            fail(
                f"{name} is a {type(value).__name__}, not a torch tensor.",
                "slice the tensors you were given (X[:n], X[n:]) instead of converting them.",
            )
    return result


def _column(name: str, value: torch.Tensor, rows: int) -> np.ndarray:
    """Check a tensor is an (rows, 1) column and return it as a flat float64 array."""
    if value.ndim == 1 and len(value) == rows:
        fail(
            f"{name} has shape {tuple(value.shape)}: the right numbers, but not a column.",
            "make it shape (N, 1), one row per example, with .unsqueeze(dim=1).",
        )
    if value.ndim != 2 or value.shape[1] != 1:
        fail(
            f"{name} has shape {tuple(value.shape)}, but it should be a column of shape ({rows}, 1).",
            "one row per example and one feature per row; .unsqueeze(dim=1) turns (N,) into (N, 1).",
        )
    if value.shape[0] != rows:
        fail(
            f"{name} has {value.shape[0]} rows, but it should have {rows}.",
            "check the start, end and step you give torch.arange (the end is not included).",
        )
    return flat64(value)


def _run_on_copies(answer: Callable, X: torch.Tensor, y: torch.Tensor, *args: Any) -> Any:
    """Call ``answer(X, y, *args)`` on copies of X and y; fail if it changed either copy.

    A function that shuffles or rescales its inputs in place can return the right numbers and
    still spoil the caller's data for every later cell, so that counts as wrong.
    """
    X_given, y_given = X.clone(), y.clone()
    result = run_answer(answer, X_given, y_given, *args)
    for name, given, original in (("X", X_given, X), ("y", y_given, y)):
        if not torch.equal(given, original):
            fail(
                f"your function changed the {name} it was given (its rows are no longer the "
                "ones passed in), so the caller's data is spoilt for every later cell.",
                f"build new tensors, e.g. {name}[order] or {name}[:n_train], instead of writing "
                f"into {name} (no {name}[:] = ..., {name}.copy_(...) or other in-place changes).",
            )
    return result


def _default_line() -> tuple[torch.Tensor, torch.Tensor]:
    """The notebook's 50 points on y = 0.7x + 0.3, built here from NumPy."""
    x = (np.arange(50) * 0.02).astype(np.float32)
    X = torch.from_numpy(x).unsqueeze(1)
    return X, 0.7 * X + 0.3


@exercise("01.1")
def exercise_01_1(answer: Callable[[], tuple[torch.Tensor, torch.Tensor]]) -> None:
    """``answer()`` returns X, y for y = 0.3x + 0.9 at x = 0, 0.01, ..., 0.99, each (100, 1)."""
    X, y = _as_pair(run_answer(answer))
    x = _column("X", X, 100)
    y_values = _column("y", y, 100)
    expected_x = np.arange(100) * 0.01
    if not np.allclose(x, expected_x, atol=1e-5):
        fail(
            f"X should run 0.00, 0.01, ..., 0.99 but starts {x[0]:.4f}, {x[1]:.4f} "
            f"and ends {x[-1]:.4f}.",
            "use torch.arange with start 0, end 1 and step 0.01.",
        )
    if np.allclose(y_values, 0.7 * x + 0.3, atol=1e-5):
        fail(
            "y still follows the notebook's line y = 0.7x + 0.3.",
            "change the weight to 0.3 and the bias to 0.9.",
        )
    if not np.allclose(y_values, 0.3 * x + 0.9, atol=1e-5):
        worst = int(np.argmax(np.abs(y_values - (0.3 * x + 0.9))))
        fail(
            f"at x = {x[worst]:.4f}, y is {y_values[worst]:.4f} but 0.3x + 0.9 "
            f"is {0.3 * x[worst] + 0.9:.4f}.",
            "compute y = weight * X + bias with weight 0.3 and bias 0.9, and add no noise.",
        )
    passed("100 points on y = 0.3x + 0.9, X and y both of shape (100, 1).")


def _expect_ordered_split(answer: Callable, X: torch.Tensor, y: torch.Tensor, n_train: int) -> None:
    parts = _as_split(_run_on_copies(answer, X, y))
    n = len(X)
    right = (X[:n_train], y[:n_train], X[n_train:], y[n_train:])
    if _same_parts_in_another_order(parts, right):
        fail(
            "your four tensors are the right parts, but in the wrong order.",
            "return X_train, y_train, X_test, y_test, in exactly that order.",
        )
    X_train, y_train, X_test, y_test = parts
    for name, value, rows in (
        ("X_train", X_train, n_train),
        ("y_train", y_train, n_train),
        ("X_test", X_test, n - n_train),
        ("y_test", y_test, n - n_train),
    ):
        if value.shape[1:] != X.shape[1:] or value.ndim != X.ndim:
            fail(
                f"{name} has shape {tuple(value.shape)}; the rows should keep shape (N, 1).",
                "slice rows only, as in X[:n_train], without reshaping.",
            )
        if len(value) != rows:
            share = len(X_train) / n if n else 0.0
            fail(
                f"with {n} rows, {name} should have {rows} rows but has {len(value)} "
                f"(your training share is {share:.0%}).",
                "compute n_train = int(0.7 * len(X)) from the data you are given, "
                "train on the rows before it and test on the rest.",
            )
    expected_x = flat64(X)
    got_x = flat64(torch.cat([X_train, X_test]))
    if not np.array_equal(got_x, expected_x):
        fail(
            "the rows are not the first 70 % for training and the last 30 % for testing, in order.",
            "this split keeps the order: no shuffling, X[:n_train] trains and X[n_train:] tests.",
        )
    got_y = flat64(torch.cat([y_train, y_test]))
    if not np.array_equal(got_y, flat64(y)):
        fail(
            "the X rows are right, but the y rows do not belong to them.",
            "split y at the same place as X.",
        )


def _same_parts_in_another_order(parts: tuple, right: tuple) -> bool:
    """Whether ``parts`` is ``right`` reordered (each part equal to a different one of them)."""
    if all(_equal(a, b) for a, b in zip(parts, right, strict=True)):
        return False
    return all(any(_equal(part, other) for other in right) for part in parts)


def _equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and np.array_equal(flat64(a), flat64(b))


@exercise("01.2")
def exercise_01_2(answer: Callable[..., tuple[torch.Tensor, ...]]) -> None:
    """``answer(X, y)`` splits in order: the first 70 % of rows train, the rest test."""
    X, y = _default_line()
    _expect_ordered_split(answer, X, y, n_train=35)
    X_long = torch.arange(100, dtype=torch.float32).unsqueeze(1) / 100
    _expect_ordered_split(answer, X_long, 2 * X_long - 1, n_train=70)
    passed("35 training and 15 test rows from 50 (and 70/30 from 100), order kept.")


def _shuffled_split(
    answer: Callable, X: torch.Tensor, weight: float, bias: float, seed: int
) -> tuple[torch.Tensor, ...]:
    """Run ``answer(X, weight * X + bias, seed)`` and check it is an 80/20 split of shuffled rows.

    X holds distinct values in increasing order. The test rows of a real shuffle are scattered
    over the whole range; those of an ordered split, a reversed or rotated one, or one that
    shuffled only the training (or only the test) rows, form one unbroken stretch of X.
    """
    y = weight * X + bias
    split = _as_split(_run_on_copies(answer, X, y, seed))
    X_train, y_train, X_test, y_test = split
    n = len(X)
    n_train = int(0.8 * n)
    for name, value, rows in (
        ("X_train", X_train, n_train),
        ("y_train", y_train, n_train),
        ("X_test", X_test, n - n_train),
        ("y_test", y_test, n - n_train),
    ):
        if tuple(value.shape) != (rows, 1):
            fail(
                f"{name} has shape {tuple(value.shape)}, but an 80/20 split of {n} rows "
                f"gives ({rows}, 1).",
                "shuffle whole rows (index with a permutation), then use n_train = int(0.8 * len(X)) "
                "from the data you are given.",
            )
    x_original = flat64(X)
    x_all, y_all = flat64(torch.cat([X_train, X_test])), flat64(torch.cat([y_train, y_test]))
    if not np.allclose(np.sort(x_all), x_original, atol=1e-6):
        fail(
            f"the X values are not the original {n} values, each used once.",
            "reorder the rows with one permutation, e.g. torch.randperm(len(X)); do not draw new values.",
        )
    if np.array_equal(x_all, x_original):
        fail(
            "the rows come back in their original order, so nothing was shuffled.",
            "index X and y with a random permutation of the row numbers before splitting.",
        )
    if not np.allclose(y_all, weight * x_all + bias, atol=1e-5):
        broken = int(np.sum(~np.isclose(y_all, weight * x_all + bias, atol=1e-5)))
        fail(
            f"{broken} of {n} rows no longer satisfy y = {weight}x + {bias}: X and y were "
            "shuffled apart.",
            "make ONE permutation and index both X and y with it, so each x keeps its y.",
        )
    # Row number of each test value in the original X, then: is that set one cyclic stretch?
    test_rows = np.sort(np.searchsorted(x_original, x_all[n_train:] - 1e-6))
    gaps = np.diff(np.concatenate([test_rows, [test_rows[0] + n]]))
    if np.count_nonzero(gaps != 1) <= 1:
        test_x = x_original[test_rows]
        wraps = test_rows[0] == 0 and test_rows[-1] == n - 1 and len(test_rows) < n
        span = (
            ", running off the end of the data and on from its start"
            if wraps
            else f", x from {test_x.min():.4f} to {test_x.max():.4f}"
        )
        fail(
            f"the {n - n_train} test rows were neighbours in the original order (one unbroken "
            f"stretch{span}), so they are not a random sample of the data.",
            "shuffle ALL rows first with one random permutation, then split; do not split first "
            "and shuffle only one part, and do not just roll or reverse the rows.",
        )
    return split


@exercise("01.3")
def exercise_01_3(answer: Callable[..., tuple[torch.Tensor, ...]]) -> None:
    """``answer(X, y, seed)`` shuffles rows (keeping X and y together), then splits 80/20."""
    X, _ = _default_line()
    with watching(forbidden=(_data.split_data,)) as seen:
        first = _shuffled_split(answer, X, 0.7, 0.3, 0)
    if seen.called:
        fail(
            "your function calls helpers.split_data, which does the shuffling for you.",
            "write it yourself: order = torch.randperm(len(X), generator=...), then index "
            "X and y with that order and slice at n_train.",
        )
    again = _shuffled_split(answer, X, 0.7, 0.3, 0)
    if not all(torch.equal(a, b) for a, b in zip(first, again, strict=True)):
        fail(
            "two calls with the same seed gave different splits.",
            "seed the shuffle with the seed argument (e.g. a torch.Generator().manual_seed(seed)).",
        )
    other = _shuffled_split(answer, X, 0.7, 0.3, 1)
    if all(torch.equal(a, b) for a, b in zip(first, other, strict=True)):
        fail(
            "seeds 0 and 1 gave exactly the same split.",
            "use the seed argument you are given rather than a fixed number.",
        )
    X_short = torch.arange(30, dtype=torch.float32).unsqueeze(1) / 30
    _shuffled_split(answer, X_short, -2.0, 1.0, 0)
    passed("shuffled 40/10 and 24/6 splits, pairs kept, same seed same split.")


def _noisy_fit(answer: Callable, noise_std: float, seed: int) -> tuple[np.ndarray, ...]:
    X, y = _as_pair(run_answer(answer, noise_std, seed))
    x = _column("X", X, 50)
    y_values = _column("y", y, 50)
    if not np.allclose(x, np.arange(50) * 0.02, atol=1e-6):
        fail(
            "X is not 0.00, 0.02, ..., 0.98.",
            "keep X exactly as in the notebook and add the noise to y only.",
        )
    return x, y_values


@exercise("01.4")
def exercise_01_4(answer: Callable[[float, int], tuple[torch.Tensor, torch.Tensor]]) -> None:
    """``answer(noise_std, seed)`` returns the 50 notebook points with Gaussian noise on y.

    Judged by a least-squares line fitted with ``np.polyfit``, by the spread of the
    residuals, and by their mean and spread pooled over 20 seeds at ``noise_std=0.3``, with
    bounds several standard errors wide, so any correct generator passes.
    """
    x, y_clean = _noisy_fit(answer, 0.0, 0)
    if not np.allclose(y_clean, 0.7 * x + 0.3, atol=1e-5):
        fail(
            "with noise_std=0 the points should lie exactly on y = 0.7x + 0.3, but they do not.",
            "start from y = 0.7 * X + 0.3 and add noise_std times standard normal noise.",
        )
    x, y_values = _noisy_fit(answer, 0.1, 0)
    spread = float(np.std(y_values - (0.7 * x + 0.3)))
    shift = float(np.mean(y_values - (0.7 * x + 0.3)))
    if spread < 1e-6 and abs(shift) > 1e-6:
        fail(
            f"with noise_std=0.1 every point moved by the same amount ({shift:.4f}): one "
            "noise value was drawn and added to all of them.",
            "draw one noise value per point: torch.randn(X.shape, generator=...) or "
            "torch.randn_like(y), times noise_std.",
        )
    if spread < 1e-6:
        fail(
            "with noise_std=0.1 the points still lie exactly on the line.",
            "add noise to y: noise_std * torch.randn(...) with the same shape as y.",
        )
    if not 0.05 <= spread <= 0.15:
        fail(
            f"with noise_std=0.1 the points scatter {spread:.4f} around the line on average; "
            "expected about 0.1.",
            "multiply standard normal noise (torch.randn) by noise_std, and do not square it.",
        )
    slope, intercept = np.polyfit(x, y_values, deg=1)
    if abs(slope - 0.7) > 0.2 or abs(intercept - 0.3) > 0.15:
        fail(
            f"a least-squares line through your points has slope {slope:.4f} and intercept "
            f"{intercept:.4f}, far from 0.7 and 0.3.",
            "noise should have mean zero: use torch.randn (normal), not torch.rand (uniform on [0, 1)).",
        )
    _, y_again = _noisy_fit(answer, 0.1, 0)
    if not np.array_equal(y_values, y_again):
        fail(
            "two calls with the same seed gave different noise.",
            "seed the random numbers with the seed argument.",
        )
    _, y_other = _noisy_fit(answer, 0.1, 1)
    if np.array_equal(y_values, y_other):
        fail(
            "seeds 0 and 1 gave the same noise.",
            "use the seed argument you are given rather than a fixed number.",
        )
    # Pooled over 20 seeds (1000 points) the noise's mean and spread are pinned down tightly:
    # 4 standard errors, so a right generator passes and a wrong scale or distribution does not.
    residuals = np.concatenate(
        [_noisy_fit(answer, 0.3, seed)[1] - (0.7 * x + 0.3) for seed in range(20)]
    )
    mean, pooled = float(residuals.mean()), float(residuals.std())
    if abs(mean) > 0.04:
        fail(
            f"with noise_std=0.3, over 20 seeds your noise averages {mean:.4f}, not about 0.",
            "noise should have mean zero: noise_std * torch.randn(...), with nothing added to it.",
        )
    if not 0.27 <= pooled <= 0.33:
        fail(
            f"with noise_std=0.3, over 20 seeds your points scatter {pooled:.4f} around the "
            "line, not about 0.3.",
            "multiply standard normal noise (torch.randn, spread 1) by noise_std itself; "
            "uniform noise or another scale gives a different spread.",
        )
    passed(f"spread {spread:.4f} (asked 0.1); fit {slope:.4f}x + {intercept:.4f} (truth 0.7, 0.3).")
