"""Matplotlib pictures of the data, the predictions and the loss curves.

Every function takes ``ax=None`` (meaning the current Axes), returns the Axes it drew
on and never calls ``plt.show()``. Inputs may be tensors on any device, with or
without grad, NumPy arrays or lists. Colours come from the Okabe-Ito palette, which
stays distinct for colour-blind readers, and every series has its own marker too.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

#: Okabe-Ito colours, safe for the common kinds of colour blindness.
COLORS = {
    "train": "#0072B2",  # blue
    "test": "#E69F00",  # orange
    "predictions": "#D55E00",  # vermillion
    "truth": "#009E73",  # bluish green
    "grey": "#999999",
}
MARKERS = {"train": "o", "test": "s", "predictions": "^"}


def to_numpy(values: Any, name: str = "values") -> np.ndarray:
    """A 1-D float NumPy copy of ``values``: a tensor (any device, grad or not), array or list.

    Shapes (N,) and (N, 1) are accepted; anything else raises ``ValueError``.
    """
    if isinstance(values, torch.Tensor):
        # To the CPU first, then float64: MPS tensors cannot be cast to float64 on the device.
        values = values.detach().cpu().to(torch.float64).numpy()
    elif isinstance(values, (list, tuple)):
        # e.g. a list of per-epoch losses kept as tensors (maybe with grad, maybe on a GPU)
        values = [
            to_numpy(v.reshape(-1), name) if isinstance(v, torch.Tensor) else v for v in values
        ]
    array = np.asarray(values, dtype=float)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must have shape (N,) or (N, 1), got {array.shape}.")
    return array


def _check_finite(name: str, array: np.ndarray) -> None:
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name} contains NaN or infinite values, so there is nothing sensible to plot; "
            "if they come from a model, its training probably diverged (try a smaller learning rate)."
        )


def plot_predictions(
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    predictions: Any = None,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Scatter the training and test points, and the model's predictions for ``X_test``.

    Each argument has shape (N,) or (N, 1); ``predictions`` must match ``X_test``.
    Raises ``ValueError`` naming the shapes when lengths differ, and when any value is
    NaN or infinite.
    """
    arrays = {
        "X_train": to_numpy(X_train, "X_train"),
        "y_train": to_numpy(y_train, "y_train"),
        "X_test": to_numpy(X_test, "X_test"),
        "y_test": to_numpy(y_test, "y_test"),
    }
    if predictions is not None:
        arrays["predictions"] = to_numpy(predictions, "predictions")
    pairs = [("X_train", "y_train"), ("X_test", "y_test"), ("X_test", "predictions")]
    for a, b in pairs:
        if b in arrays and len(arrays[a]) != len(arrays[b]):
            raise ValueError(
                f"{a} has {len(arrays[a])} values but {b} has {len(arrays[b])} "
                f"(shapes {arrays[a].shape} and {arrays[b].shape}); they must match."
            )
    for name, array in arrays.items():
        _check_finite(name, array)

    ax = plt.gca() if ax is None else ax
    series = [("X_train", "y_train", "train", 16, "training data")]
    series.append(("X_test", "y_test", "test", 22, "test data"))
    if "predictions" in arrays:
        series.append(("X_test", "predictions", "predictions", 28, "predictions"))
    for x_name, y_name, kind, size, label in series:
        ax.scatter(
            arrays[x_name],
            arrays[y_name],
            s=size,
            c=COLORS[kind],
            marker=MARKERS[kind],
            label=label,
        )
    ax.set_xlabel("x (input)")
    ax.set_ylabel("y (target)")
    ax.legend(loc="upper left")
    return ax


def plot_loss_curves(history: Any, *, ax: Axes | None = None) -> Axes:
    """Plot training and test loss against the epoch.

    ``history`` is a :class:`helpers.History` or anything with ``train_loss`` and
    ``test_loss`` sequences of equal length (and optionally ``epochs``). If training
    diverged, a dotted vertical line marks the epoch where it stopped.
    """
    try:
        train_loss = to_numpy(history.train_loss, "history.train_loss")
        test_loss = to_numpy(history.test_loss, "history.test_loss")
    except AttributeError:
        raise TypeError(
            "plot_loss_curves needs the History returned by train(), "
            f"or an object with train_loss and test_loss; got {type(history).__name__}."
        ) from None
    epochs = getattr(history, "epochs", None)
    epochs = np.arange(1, len(train_loss) + 1) if epochs is None else to_numpy(epochs, "epochs")
    if not len(train_loss) == len(test_loss) == len(epochs):
        raise ValueError(
            f"history has {len(epochs)} epochs, {len(train_loss)} training losses and "
            f"{len(test_loss)} test losses; they must be the same length."
        )
    diverged_at = getattr(history, "diverged_at", None)
    if len(epochs) == 0 and diverged_at is None:
        raise ValueError("history is empty: train for at least one epoch before plotting.")

    ax = plt.gca() if ax is None else ax
    every = max(1, len(epochs) // 10)
    for name, losses, style in (("train", train_loss, "-"), ("test", test_loss, "--")):
        ax.plot(
            epochs,
            losses,
            color=COLORS[name],
            marker=MARKERS[name],
            markevery=every,
            linestyle=style,
            label=f"{'training' if name == 'train' else 'test'} loss",
        )
    if diverged_at is not None:
        ax.axvline(
            diverged_at,
            color=COLORS["predictions"],
            linestyle=":",
            label=f"diverged at epoch {diverged_at}",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(loc="upper right")
    return ax
