"""What :func:`helpers.train` checks before its loop, so the loop itself stays bare.

Each check raises one ``ValueError`` that names the argument, the shapes or values it
saw and what to do. Nothing here changes the model's parameters.
"""

from __future__ import annotations

import torch
from torch import nn

from ._validate import check_finite, check_memory

#: Rough bytes History keeps per epoch: the lists' entries, one dict, per-tensor overhead.
_EPOCH_BYTES, _TENSOR_BYTES = 400, 600


def as_data(name: str, value, like: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``value`` as a finite tensor with one row per example, on ``device`` in ``like``'s dtype."""
    tensor = torch.as_tensor(value)
    if tensor.ndim == 0:
        raise ValueError(f"{name} must hold one row per example, got a scalar.")
    check_finite(name, tensor)
    return tensor.to(device=device, dtype=like.dtype)


def check_pair(
    model: nn.Module, x_name: str, X: torch.Tensor, y_name: str, y: torch.Tensor
) -> None:
    """Same number of rows, at least one, and targets shaped like the model's predictions.

    The predictions' shape comes from one forward pass on the first two rows, in eval mode
    under ``no_grad`` (the model's mode is put back). A mismatch such as y of shape (N,)
    against predictions (N, 1) would broadcast to (N, N) and train on a wrong loss.
    """
    if len(X) != len(y):
        raise ValueError(
            f"{x_name} has shape {tuple(X.shape)} but {y_name} has shape {tuple(y.shape)}; "
            "they need the same number of rows."
        )
    if len(X) == 0:
        raise ValueError(f"{x_name} is empty; training needs at least one example.")
    was_training = model.training
    try:
        with torch.no_grad():
            sample = model.eval()(X[:2])
    except RuntimeError as exc:
        raise ValueError(
            f"The model cannot take {x_name} of shape {tuple(X.shape)}: check that each row "
            "has as many features (columns) as the model expects (nn.Linear(in_features, 1))."
        ) from exc
    finally:
        model.train(was_training)
    predicted = (len(X), *sample.shape[1:])
    if len(sample) != len(X[:2]) or tuple(y.shape) != predicted:
        raise ValueError(
            f"The model turns {x_name} of shape {tuple(X.shape)} into predictions of shape "
            f"{predicted}, but {y_name} has shape {tuple(y.shape)}; they must match (for y "
            f"of shape (N,), pass {y_name}.unsqueeze(1)), or the loss broadcasts to the wrong size."
        )


def check_optimizer(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(
            f"optimizer must be a torch.optim optimizer, got {type(optimizer).__name__}."
        )
    mine = {id(p) for p in model.parameters()}
    if not any(id(p) in mine for group in optimizer.param_groups for p in group["params"]):
        raise ValueError(
            "The optimizer holds none of the model's parameters, so training would change "
            "nothing; make it from this model: torch.optim.SGD(model.parameters(), lr=...)."
        )


def check_history_fits(epochs: int, parameters: list[torch.Tensor]) -> None:
    """Refuse an epoch count whose History (a CPU copy of every parameter per epoch) won't fit."""
    per_epoch = _EPOCH_BYTES + sum(_TENSOR_BYTES + p.numel() * p.element_size() for p in parameters)
    check_memory(
        f"epochs={epochs:,} (History keeps about {per_epoch:,} bytes per epoch)",
        epochs * per_epoch,
        "Use fewer epochs, or train in several shorter calls.",
    )
