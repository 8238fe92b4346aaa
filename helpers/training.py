"""The training loop, and the per-epoch record it leaves behind."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from ._train_checks import as_data, check_history_fits, check_optimizer, check_pair
from ._validate import as_number, positive_int
from .device import get_device


@dataclass
class History:
    """What :func:`train` saw, one entry per completed epoch.

    ``train_loss[i]`` is epoch ``epochs[i]``'s loss on the training data before that
    epoch's update; ``test_loss[i]`` is the test loss after it. ``params[i]`` maps each
    parameter name to a CPU copy of its value after the epoch (shape as in the model,
    (1,) for ``LinearRegressionModel``); ``start_params`` holds the values before the
    first epoch. ``diverged_at`` is the epoch whose loss went non-finite (``None`` if
    training finished), and ``message`` says why training stopped early.
    """

    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    params: list[dict[str, torch.Tensor]] = field(default_factory=list)
    start_params: dict[str, torch.Tensor] = field(default_factory=dict)
    diverged_at: int | None = None
    message: str = ""

    def __len__(self) -> int:
        return len(self.epochs)

    def param(self, name: str) -> torch.Tensor:
        """The trajectory of one parameter: shape (epochs + 1, *param_shape), start first."""
        if name not in self.start_params:
            raise KeyError(f"No parameter {name!r}; recorded: {', '.join(self.start_params)}.")
        return torch.stack([self.start_params[name]] + [p[name] for p in self.params])


_CPU = torch.device("cpu")


def _cpu_copy(named: list[tuple[str, nn.Parameter]]) -> dict[str, torch.Tensor]:
    # Runs every epoch: a list of (name, parameter) made once and a parsed device keep it
    # cheap (named_parameters() and parsing "cpu" each cost microseconds per call).
    return {name: p.detach().to(_CPU, copy=True) for name, p in named}


def train(
    model: nn.Module,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    *,
    lr: float = 0.01,
    epochs: int = 100,
    loss_fn: nn.Module | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    log_every: int = 10,
    device: str | torch.device | None = None,
    verbose: bool = True,
) -> History:
    """Full-batch gradient descent on (N, 1) training data, with a test loss every epoch.

    Each epoch: ``model.train()``, forward on ``X_train``, loss, ``zero_grad``,
    ``backward``, ``step``; then ``model.eval()`` and the test loss under
    ``torch.inference_mode()``. Defaults: ``nn.L1Loss()`` and SGD with ``lr``. Model and
    data move to ``device`` (default :func:`get_device`), data cast to the model's dtype.
    With ``verbose`` a line is printed every ``log_every`` epochs and after the last.
    A non-finite loss (or an lr too large for the parameters' dtype) stops training at
    once: the model goes back to its last finite parameters, ``diverged_at`` records the
    epoch and ``message`` says why (printed only with ``verbose``). Refused up front, each
    with one ``ValueError``: targets not shaped like the predictions, inputs with the wrong
    number of features, NaN/inf in the data, an optimizer holding none of the model's
    parameters, and an epoch count whose History would not fit in memory. Numbers may be
    NumPy scalars or 0-d tensors (not bools).
    """
    epochs = positive_int("epochs", epochs)
    log_every = positive_int("log_every", log_every)
    parameters = list(model.parameters())
    if not parameters:
        raise ValueError("The model has no parameters to train.")
    if optimizer is None:
        lr = as_number("lr", lr)
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"lr must be a positive finite number, got {lr!r}; try lr=0.01.")
    else:
        check_optimizer(model, optimizer)
    check_history_fits(epochs, parameters)

    device = get_device(device)
    model.to(device)
    like = parameters[0]
    X_train = as_data("X_train", X_train, like, device)
    y_train = as_data("y_train", y_train, like, device)
    X_test = as_data("X_test", X_test, like, device)
    y_test = as_data("y_test", y_test, like, device)
    check_pair(model, "X_train", X_train, "y_train", y_train)
    check_pair(model, "X_test", X_test, "y_test", y_test)

    loss_fn = nn.L1Loss() if loss_fn is None else loss_fn
    optimizer = torch.optim.SGD(model.parameters(), lr=lr) if optimizer is None else optimizer
    named = list(model.named_parameters())
    history = History(start_params=_cpu_copy(named))

    epoch = 0
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            loss = loss_fn(model(X_train), y_train)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            train_loss = loss.item()

            model.eval()
            with torch.inference_mode():
                test_loss = loss_fn(model(X_test), y_test).item()

            if not (math.isfinite(train_loss) and math.isfinite(test_loss)):
                _stop_diverged(model, history, epoch, train_loss, test_loss, optimizer)
                break

            history.epochs.append(epoch)
            history.train_loss.append(train_loss)
            history.test_loss.append(test_loss)
            history.params.append(_cpu_copy(named))
            if verbose and (epoch % log_every == 0 or epoch == epochs):
                print(f"Epoch {epoch:>4} | train loss {train_loss:.4f} | test loss {test_loss:.4f}")

    except RuntimeError:
        # An lr beyond the parameters' dtype cannot even be applied (torch refuses to
        # convert it): the update overflows, which is divergence at this epoch.
        if not _lr_overflows(optimizer, like.dtype):
            raise
        _stop_diverged(model, history, epoch, float("inf"), float("inf"), optimizer)
    if verbose and history.diverged_at is not None:
        print(history.message)
    model.eval()
    return history


def _lr_overflows(optimizer: torch.optim.Optimizer, dtype: torch.dtype) -> bool:
    limit = torch.finfo(dtype).max
    return any(abs(float(g.get("lr", 0.0))) > limit for g in optimizer.param_groups)


def _stop_diverged(model, history, epoch, train_loss, test_loss, optimizer) -> None:
    """Put the model back to its last finite parameters and explain why training stopped."""
    last = history.params[-1] if history.params else history.start_params
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(last[name].to(p.device))
    optimizer.zero_grad()
    history.diverged_at = epoch
    history.message = divergence_message(
        epoch, train_loss, test_loss, optimizer.param_groups[0].get("lr")
    )


def divergence_message(epoch: int, train_loss: float, test_loss: float, lr: object) -> str:
    """Why training stopped at ``epoch``, where a loss first became non-finite.

    ``lr`` is named when it is a number (a scheduler may have made it a tensor or dropped it).
    The dashboard shows the same sentence for its own runs.
    """
    which = "training" if not math.isfinite(train_loss) else "test"
    value = train_loss if which == "training" else test_loss
    lr_text = f" with lr={lr:g}" if isinstance(lr, (int, float)) else ""
    return (
        f"Training stopped at epoch {epoch}: the {which} loss became {value}{lr_text}, so the "
        f"steps overshoot. The model keeps the parameters of epoch {epoch - 1}. "
        "Try a smaller learning rate (e.g. 10 times smaller)."
    )
