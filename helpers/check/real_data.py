"""Checks for notebook 06's exercises: a shuffled three-way split, standardising with the
training statistics only, and a mini-batch training loop written from scratch.

The checks use data of their own, made so that the usual slips show: validation and test
features far from the training ones (a leaky or per-part standardisation lands elsewhere),
and validation targets a little off the training rule (so a validation loss cannot pass for
a training loss). The loop's forward passes are recorded, so validation rows used for
training, full batches and unshuffled epochs are named as such. Expected values
come from NumPy in float64 (means, standard deviations, ``numpy.linalg.lstsq``), never from
the solutions' code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ._core import exercise, fail, flat64, keeps_random_state, passed, run_answer
from ._watch import watching


def _array(value: Any, what: str) -> np.ndarray:
    """A float64 NumPy copy of a tensor (any device, with grad or not), an array or a list."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(
            f"{what} should be a tensor, but it is a {type(value).__name__}.",
            "Return tensors (or NumPy arrays), one per part.",
        )


def _parts(value: Any, what: str) -> list[np.ndarray]:
    """Three arrays from a tuple or list of three; anything else fails."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        got = f"{len(value)} values" if isinstance(value, (tuple, list)) else type(value).__name__
        fail(
            f"your function should return three {what} (training, validation, test), got {got}.",
            f"End with `return train_part, val_part, test_part`, the three {what} in that order.",
        )
    return [_array(part, f"part {i + 1}") for i, part in enumerate(value)]


# --- Exercise 06.1 ---------------------------------------------------------------------


def _is_block(rows: np.ndarray) -> bool:
    """Whether the numbers are one unbroken run such as 266, 267, ..., 353 (in any order)."""
    return len(rows) > 1 and rows.max() - rows.min() == len(rows) - 1


@exercise("06.1")
def exercise_06_1(split_rows: Callable[[int, int], Any]) -> None:
    """Check ``split_rows(n_rows, seed) -> (train_rows, val_rows, test_rows)``: a seeded shuffle."""
    for n_rows in (442, 50, 13):
        n_val = n_test = n_rows // 5
        sizes = {"training": n_rows - n_val - n_test, "validation": n_val, "test": n_test}
        with keeps_random_state():
            got = run_answer(split_rows, n_rows, 0)
        parts = _parts(got, "sets of row numbers")
        for (name, size), part in zip(sizes.items(), parts, strict=True):
            if part.ndim != 1 or len(part) != size:
                fail(
                    f"for {n_rows} rows the {name} part should hold {size} row numbers, yours "
                    f"has shape {part.shape}.",
                    f"Validation and test get n_rows // 5 rows each ({n_rows} // 5 = {n_val}), "
                    "training gets the rest; each part is a 1-D tensor of row numbers.",
                )
        joined = np.concatenate(parts)
        if not np.array_equal(np.sort(joined), np.arange(n_rows)):
            fail(
                f"for {n_rows} rows the three parts together do not hold every row number from 0 "
                f"to {n_rows - 1} exactly once.",
                "Shuffle all the row numbers once (torch.randperm) and cut that one order into "
                "three pieces, so that no patient lands in two parts.",
            )
        if n_rows == 442 and any(_is_block(part) for part in parts):
            fail(
                "a part is one unbroken run of row numbers, so the rows were not shuffled.",
                "Cut a shuffled order (torch.randperm(n_rows, generator=...)), not the rows as "
                "they come in the file.",
            )
        with keeps_random_state():
            torch.rand(7)  # move the global random state on: only the seed may decide the split
            again = _parts(run_answer(split_rows, n_rows, 0), "sets of row numbers")
        if not all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True)):
            fail(
                "two calls with the same seed gave different splits.",
                "Draw the order from a generator seeded with `seed`: "
                "torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed)).",
            )
    with keeps_random_state():
        other = _parts(run_answer(split_rows, 442, 1), "sets of row numbers")
    first = _parts(run_answer(split_rows, 442, 0), "sets of row numbers")
    if np.array_equal(np.sort(other[0]), np.sort(first[0])):
        fail(
            "seeds 0 and 1 gave the same training rows.",
            "Seed the shuffle with the `seed` argument, not with a fixed number.",
        )
    passed("a seeded shuffle, cut into three parts that share no patient.")


# --- Exercise 06.2 ---------------------------------------------------------------------


def _features(rows: int, shift: float, seed: int) -> torch.Tensor:
    """Three features in very different units; ``shift`` moves every column's mean."""
    generator = torch.Generator().manual_seed(seed)
    scale = torch.tensor([2.0, 0.5, 30.0])
    centre = torch.tensor([5.0, -2.0, 100.0]) + shift * scale
    return centre + scale * torch.randn(rows, 3, generator=generator)


def _standardised(parts: Sequence[np.ndarray], mean: np.ndarray, std: np.ndarray) -> list:
    return [(part - mean) / std for part in parts]


@exercise("06.2")
def exercise_06_2(standardise_parts: Callable[..., Any]) -> None:
    """Check ``standardise_parts(X_train, X_val, X_test)``: all three with the training statistics."""
    given = [_features(40, 0.0, 1), _features(12, 1.5, 2), _features(12, -1.0, 3)]
    copies = [x.clone() for x in given]
    got = _parts(run_answer(standardise_parts, *given), "standardised tensors")
    if any(not torch.equal(x, c) for x, c in zip(given, copies, strict=True)):
        fail(
            "your function changed the tensors it was given.",
            "Compute new tensors, (X - mean) / std, instead of changing X in place (-=, /=).",
        )
    for name, part, x in zip(("training", "validation", "test"), got, given, strict=True):
        if part.shape != tuple(x.shape):
            fail(
                f"the standardised {name} part has shape {part.shape}, not {tuple(x.shape)}.",
                "Standardise each column: mean and std over the rows (dim=0), one per feature.",
            )
    parts64 = [x.double().numpy() for x in given]
    together = np.concatenate(parts64)

    def close_to(way_of_scaling: Callable[[np.ndarray, int], list[np.ndarray]]) -> list[bool]:
        """Which parts match, for the closer of the two usual stds (ddof 1 or 0)."""
        matches = []
        for ddof in (1, 0):  # dividing by N - 1 (torch's default) or by N (NumPy's): both right
            want = way_of_scaling(parts64[0], ddof)
            matches.append([np.allclose(g, w, atol=1e-4) for g, w in zip(got, want, strict=True)])
        return max(matches, key=sum)

    def training(first: np.ndarray, ddof: int) -> list[np.ndarray]:
        return _standardised(parts64, first.mean(axis=0), first.std(axis=0, ddof=ddof))

    def every_row(first: np.ndarray, ddof: int) -> list[np.ndarray]:
        return _standardised(parts64, together.mean(axis=0), together.std(axis=0, ddof=ddof))

    def each_its_own(first: np.ndarray, ddof: int) -> list[np.ndarray]:
        return [(p - p.mean(axis=0)) / p.std(axis=0, ddof=ddof) for p in parts64]

    right = close_to(training)
    if all(right):
        passed("every part is standardised with the training rows' mean and std.")
        return
    if all(close_to(every_row)):
        fail(
            "your mean and std come from all the rows, validation and test included: that "
            "leaks the held-out patients into the training.",
            "Compute mean and std from X_train alone, then use those same two for all three parts.",
        )
    if any(close_to(each_its_own)[1:]):
        fail(
            "the validation or test part was standardised with its own mean and std.",
            "New patients must be scaled like the training ones: reuse the training mean and std.",
        )
    if right[0]:
        fail(
            "the training part is right, but the validation or test part is not.",
            "Apply the very same (X - mean) / std, with the training mean and std, to X_val "
            "and X_test.",
        )
    fail(
        "the training part does not have mean 0 and standard deviation 1 in every column.",
        "Subtract the column means and divide by the column standard deviations: "
        "X_train.mean(dim=0) and X_train.std(dim=0).",
    )


# --- Exercise 06.3 ---------------------------------------------------------------------

_TRAIN_RULE = (np.array([1.5, -2.0, 0.5]), 0.3)
# The validation targets sit 0.2 higher, so their MSE (about 0.05) cannot pass for the
# training MSE (about 0.01) in the list the learner returns.
_VAL_RULE = (np.array([1.5, -2.0, 0.5]), 0.5)


def _rule_data(rows: int, rule: tuple[np.ndarray, float], seed: int) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(rows, 3, generator=generator)
    noise = 0.1 * torch.randn(rows, 1, generator=generator)
    weights, bias = torch.tensor(rule[0], dtype=torch.float32), rule[1]
    return X, X @ weights.unsqueeze(1) + bias + noise


def _least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The 3 weights, then the bias, that minimise the squared error (numpy.linalg.lstsq)."""
    A = np.hstack([X, np.ones((len(X), 1))])
    return np.linalg.lstsq(A, y, rcond=None)[0].ravel()


class _Batches:
    """Record the inputs of every forward pass that autograd records (grad on) while active."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.inputs: list[np.ndarray] = []

    def _record(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        if torch.is_grad_enabled() and args and isinstance(args[0], torch.Tensor):
            self.inputs.append(args[0].detach().cpu().double().numpy().reshape(len(args[0]), -1))

    def __enter__(self) -> _Batches:
        self._handle = self.model.register_forward_pre_hook(self._record)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._handle.remove()


def _rows_from(batch: np.ndarray, rows: np.ndarray) -> int:
    """How many rows of ``batch`` are rows of ``rows`` (to 1e-5)."""
    distances = np.abs(batch[:, None, :] - rows[None, :, :]).max(axis=2)
    return int((distances.min(axis=1) < 1e-5).sum())


def _parameters(model: nn.Linear) -> np.ndarray:
    return np.append(flat64(model.weight), flat64(model.bias))


@exercise("06.3")
def exercise_06_3(train_minibatch: Callable[..., Any]) -> None:
    """Check ``train_minibatch(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr)``."""
    epochs, batch_size, lr = 25, 16, 0.1
    X_train, y_train = _rule_data(96, _TRAIN_RULE, seed=1)
    X_val, y_val = _rule_data(32, _VAL_RULE, seed=2)
    with keeps_random_state(seed=0):
        model = nn.Linear(3, 1)
    start = _parameters(model)
    with _Batches(model) as seen, watching() as watched, keeps_random_state(seed=0):
        got = run_answer(
            train_minibatch, model, X_train, y_train, X_val, y_val, epochs, batch_size, lr
        )
    if watched.optimizers() - {"SGD"}:
        fail(
            f"your loop steps with {', '.join(sorted(watched.optimizers() - {'SGD'}))}, "
            "but the exercise asks for plain SGD.",
            "build the optimizer as torch.optim.SGD(model.parameters(), lr=lr).",
        )
    if isinstance(got, torch.Tensor):
        got = got.detach().cpu().ravel().tolist()
    if not isinstance(got, (list, tuple)) or len(got) != epochs:
        what = f"{len(got)} values" if isinstance(got, (list, tuple)) else type(got).__name__
        fail(
            f"your function should return {epochs} validation losses, one per epoch, got {what}.",
            "Append the validation loss (a float, loss.item()) to a list after every epoch and "
            "return the list.",
        )
    losses = [float(v.item() if isinstance(v, torch.Tensor) else v) for v in got]
    if np.allclose(_parameters(model), start):
        fail(
            "the model you were given still has its starting parameters.",
            "Train the `model` argument itself: build the optimizer from model.parameters().",
        )
    val64, train64 = X_val.double().numpy(), X_train.double().numpy()
    if any(_rows_from(batch, val64) for batch in seen.inputs):
        fail(
            "validation rows went through the model with gradients on, as if for training.",
            "Train on batches of X_train only; measure the validation loss in eval mode, under "
            "torch.inference_mode(), and never call backward() on it.",
        )
    steps = [batch for batch in seen.inputs if len(batch) <= batch_size]
    sizes = {len(batch) for batch in seen.inputs}
    if not steps and sizes and max(sizes) < len(X_train):
        fail(
            f"your batches hold {max(sizes)} rows, but batch_size is {batch_size}.",
            "pass the batch_size argument to the DataLoader instead of a fixed number.",
        )
    if not steps:
        fail(
            f"every forward pass with gradients on saw more than batch_size = {batch_size} rows: "
            "this is full-batch training.",
            "Wrap the training tensors in a TensorDataset and loop over "
            "DataLoader(..., batch_size=batch_size, shuffle=True), one step per batch.",
        )
    per_epoch = math.ceil(len(train64) / batch_size)
    if len(steps) != epochs * per_epoch:
        fail(
            f"{epochs} epochs of {len(train64)} rows in batches of {batch_size} make "
            f"{epochs * per_epoch} training steps; your model saw {len(steps)} batches.",
            "Each epoch is one pass over the DataLoader; run `epochs` of them.",
        )
    firsts = [steps[e * per_epoch] for e in range(epochs)]
    if all(np.array_equal(first, firsts[0]) for first in firsts):
        fail(
            "every epoch starts with the same batch, so the rows are never shuffled.",
            "Pass shuffle=True to the DataLoader: each epoch then visits the rows in a new order.",
        )
    param = next(model.parameters())
    with torch.inference_mode():
        final = model(X_val.to(param.device, param.dtype)).detach().cpu().double().numpy()
    final_mse = float(np.mean((final - y_val.double().numpy()) ** 2))
    if not any(math.isclose(final_mse, v, rel_tol=1e-3) for v in (losses[-1], min(losses))):
        fail(
            f"after the last epoch the validation MSE is {final_mse:.4f}, but your list ends "
            f"with {losses[-1]:.4f}.",
            "Measure nn.MSELoss() on X_val and y_val (not the training data) after each epoch.",
        )
    expected = _least_squares(train64, y_train.double().numpy())
    distance = np.abs(_parameters(model) - expected).max()
    if distance > 0.05:
        fail(
            f"after {epochs} epochs the parameters are {distance:.4f} away from the best fit to "
            "the training data; plain SGD with this learning rate gets within 0.05.",
            "Each step: loss = nn.MSELoss()(model(X_batch), y_batch), optimizer.zero_grad(), "
            "loss.backward(), optimizer.step(), with torch.optim.SGD(model.parameters(), lr=lr).",
        )
    passed("shuffled mini-batches of training rows, validated once per epoch.")
