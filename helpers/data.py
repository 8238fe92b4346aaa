"""Make the straight-line data set and split it into train and test parts."""

from __future__ import annotations

import math

import torch

from ._validate import as_number, check_memory, finite_float


def make_linear_data(
    weight: float = 0.7,
    bias: float = 0.3,
    start: float = 0.0,
    end: float = 1.0,
    step: float = 0.02,
    noise_std: float = 0.0,
    seed: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Points on the line ``y = weight * x + bias``, optionally with Gaussian noise.

    ``X = torch.arange(start, end, step)`` as a column, so both tensors are float32 of
    shape (N, 1); the defaults give N = 50. Noise comes from a private generator
    seeded with ``seed``, so the same seed gives the same data and the global torch
    RNG is left untouched; the tensors are float32 whatever torch's default dtype. Numbers
    may be NumPy scalars or 0-d tensors (not bools). Raises ``ValueError`` for a step <= 0,
    end <= start, a negative noise level, any non-finite number, x values that float32
    cannot tell apart, a y that overflows float32, or more points than memory holds.
    """
    weight, bias = finite_float("weight", weight), finite_float("bias", bias)
    start, end = finite_float("start", start), finite_float("end", end)
    step, noise_std = finite_float("step", step), finite_float("noise_std", noise_std)
    seed = None if seed is None else as_number("seed", seed, integer=True)
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}; try step=0.02.")
    if end <= start:
        raise ValueError(f"end ({end}) must be greater than start ({start}).")
    if noise_std < 0:
        raise ValueError(f"noise_std must be 0 or more, got {noise_std}.")
    count = math.ceil((end - start) / step)
    check_memory(f"{count:,} points", count * 16.0, "Use a larger step or a shorter range.")

    X = torch.arange(start, end, step, dtype=torch.float32).unsqueeze(1)
    y = weight * X + bias
    if noise_std > 0:
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        y = y + noise_std * torch.randn(X.shape, generator=generator, dtype=torch.float32)
    distinct = len(torch.unique(X))
    if distinct < len(X):
        raise ValueError(
            f"x from {start} to {end} in steps of {step} gives {distinct} distinct "
            f"float32 value(s) for {len(X)} points: the step is below float32's resolution "
            "there. Use a larger step or values nearer 0."
        )
    if not torch.isfinite(y).all():
        raise ValueError(
            f"y = {weight} * x + {bias} overflows float32 for x up to {end}; use smaller numbers."
        )
    return X, y


def split_data(
    X: torch.Tensor,
    y: torch.Tensor,
    train_fraction: float = 0.8,
    shuffle: bool = False,
    seed: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split (N, ...) tensors into ``X_train, y_train, X_test, y_test``.

    Without ``shuffle`` the first ``int(train_fraction * N)`` rows train and the rest
    test (40/10 on the default data), so the test asks the model to extrapolate.
    With ``shuffle`` rows are permuted by a private generator seeded with ``seed``
    first, so the test points lie among the training points (interpolation).
    Raises ``ValueError`` for different lengths, a fraction outside (0, 1), or a
    split that would leave either part empty.
    """
    if len(X) != len(y):
        raise ValueError(
            f"X and y must have the same number of rows: X has shape {tuple(X.shape)}, "
            f"y has shape {tuple(y.shape)}."
        )
    seed = None if seed is None else as_number("seed", seed, integer=True)
    try:
        fraction = as_number("train_fraction", train_fraction)
    except ValueError:
        fraction = math.nan  # not a number: refused below with the range message
    if not 0 < fraction < 1:
        raise ValueError(
            f"train_fraction must lie strictly between 0 and 1, got {train_fraction!r}."
        )
    train_fraction = fraction
    n_train = int(train_fraction * len(X))
    if n_train == 0 or n_train == len(X):
        raise ValueError(
            f"train_fraction={train_fraction} of {len(X)} rows leaves "
            f"{n_train} for training and {len(X) - n_train} for testing; both need at least one."
        )
    if shuffle:
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        order = torch.randperm(len(X), generator=generator).to(X.device)
        X, y = X[order], y[order.to(y.device)]
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]
