"""Make the straight-line data set and split it into train and test parts."""

from __future__ import annotations

import math

import torch


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
    RNG is left untouched. Raises ``ValueError`` for a step <= 0, end <= start,
    a negative noise level or any non-finite number.
    """
    numbers = {"weight": weight, "bias": bias, "start": start, "end": end, "step": step}
    numbers["noise_std"] = noise_std
    for name, value in numbers.items():
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}; try step=0.02.")
    if end <= start:
        raise ValueError(f"end ({end}) must be greater than start ({start}).")
    if noise_std < 0:
        raise ValueError(f"noise_std must be 0 or more, got {noise_std}.")

    X = torch.arange(start, end, step, dtype=torch.float32).unsqueeze(1)
    y = weight * X + bias
    if noise_std > 0:
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        y = y + noise_std * torch.randn(X.shape, generator=generator)
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
    if not isinstance(train_fraction, (int, float)) or not 0 < train_fraction < 1:
        raise ValueError(
            f"train_fraction must lie strictly between 0 and 1, got {train_fraction!r}."
        )
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
