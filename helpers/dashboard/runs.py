"""Every learning rate the dashboard offers, for both losses, trained in one batched run.

The model ``y = w * x + b`` has one weight and one bias, so K copies of it are two
vectors of shape (K, 1). One forward pass on the (1, N) training inputs gives (K, N)
predictions, one ``backward`` of the summed per-row losses gives each row its own
gradient (rows never mix), and one in-place update applies each row's learning rate.
The arithmetic is the same, operation for operation in float32, as :func:`helpers.train`
with ``torch.optim.SGD`` for that learning rate and loss, so every recorded number equals
what ``train`` records (the tests check this); a row whose loss goes non-finite stops
where ``train`` would stop, with the message ``train`` would give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..training import divergence_message

#: The learning-rate slider's notches: 10**-4 to 1 in steps of 10**0.1, rounded as shown.
LR_EXPONENTS = (-4.0, 0.0, 0.1)
LEARNING_RATES = tuple(float(f"{10 ** (k / 10 - 4):.3g}") for k in range(41))
#: The losses offered, in the order of the buttons. L1's gradient is bounded, so it never
#: diverges for lr <= 1; MSE with a learning rate near 1 overshoots further every epoch.
LOSSES = ("L1", "MSE")


def nearest_rate(lr: float) -> float:
    """The notch of :data:`LEARNING_RATES` nearest to ``lr`` on the log scale."""
    index = round((math.log10(lr) - LR_EXPONENTS[0]) / LR_EXPONENTS[2])
    return LEARNING_RATES[min(max(index, 0), len(LEARNING_RATES) - 1)]


@dataclass(frozen=True)
class Run:
    """One learning rate's training, as NumPy float64 copies of the float32 numbers.

    ``weight`` and ``bias`` have shape (E + 1,), the start first; ``train_loss`` and
    ``test_loss`` have shape (E,). Without divergence E is the number of epochs trained;
    otherwise E = ``diverged_at - 1`` (the arrays stop at the last finite epoch) and
    ``message`` is what :func:`helpers.train` says in ``History.message``.
    """

    loss: str
    lr: float
    weight: np.ndarray
    bias: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    diverged_at: int | None
    message: str


class Sweep:
    """All rates of both losses from one start ``(weight, bias)``, trained epoch by epoch.

    ``data`` is ``(X_train, y_train, X_test, y_test)``, each (N, 1) float32. Nothing is
    trained until :meth:`train_to` asks for it, so a caller can train the first epochs,
    show them, and train the rest later; :attr:`trained` counts the epochs done. Then
    :meth:`run` returns one rate's :class:`Run` and :meth:`losses_at` every rate's test
    loss after one epoch (the learning-rate view).
    """

    def __init__(self, weight: float, bias: float, data: tuple) -> None:
        rates = torch.tensor(LEARNING_RATES * len(LOSSES), dtype=torch.float32).unsqueeze(1)
        self._batch = _Batch(torch.tensor(weight), torch.tensor(bias), rates, data)
        self.trained = 0
        self._arrays()

    def train_to(self, epochs: int) -> None:
        """Train every rate until ``epochs`` epochs are done (nothing if they already are)."""
        if epochs > self.trained:
            self._batch.run(epochs - self.trained)
            self.trained = epochs
            self._arrays()

    def _arrays(self) -> None:
        columns = self._batch.recorded()
        self._weight, self._bias, self._train, self._test = (c.double().numpy() for c in columns)
        finite = np.isfinite(self._train) & np.isfinite(self._test)  # (epochs, K)
        # The first non-finite epoch of each row (1-based), or 0 when every epoch is finite.
        first = np.argmin(finite, axis=0) + 1 if len(finite) else 0
        self._diverged = np.where(finite.all(0), 0, first)
        self._runs: dict[tuple[str, float], Run] = {}

    def _column(self, loss: str, lr: float) -> int:
        return LOSSES.index(loss) * len(LEARNING_RATES) + LEARNING_RATES.index(lr)

    def run(self, loss: str, lr: float) -> Run:
        """The run of ``loss`` at ``lr`` (one of :data:`LEARNING_RATES`), as ``train`` records it."""
        key = (loss, lr)
        if key not in self._runs:
            k = self._column(loss, lr)
            at = int(self._diverged[k]) or None
            end = self.trained if at is None else at - 1
            message = "" if at is None else divergence_message(
                at, self._train[at - 1, k], self._test[at - 1, k], lr
            )  # fmt: skip
            self._runs[key] = Run(
                loss, lr, self._weight[: end + 1, k], self._bias[: end + 1, k],
                self._train[:end, k], self._test[:end, k], at, message,
            )  # fmt: skip
        return self._runs[key]

    def losses_at(self, loss: str, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """Each rate's test loss after epoch ``epoch`` (shape (41,)), NaN where it diverged by then.

        Also returns which rates diverged by then, as a boolean array of shape (41,).
        """
        columns = slice(self._column(loss, LEARNING_RATES[0]), self._column(loss, 1.0) + 1)
        diverged = self._diverged[columns]
        gone = (diverged > 0) & (diverged <= epoch)
        return np.where(gone, np.nan, self._test[epoch - 1, columns]), gone


class _Batch:
    """Full-batch SGD of K = len(rates) lines at once, continued by each :meth:`run`.

    Rows 0..40 use the L1 loss, rows 41..81 MSE. Per row the operations are those of
    ``train``: ``mean(|w x + b - y|)`` or ``mean((w x + b - y)**2)``, autograd's gradient,
    ``p.add_(grad, alpha=-lr)`` as ``addcmul_(-lr, grad)``, then the test loss.
    """

    def __init__(self, weight, bias, rates: torch.Tensor, data: tuple) -> None:
        self.data = tuple(t.detach().float().T for t in data)  # each (1, N)
        self.w = weight.reshape(1, 1).repeat(len(rates), 1).requires_grad_()
        self.b = bias.reshape(1, 1).repeat(len(rates), 1).requires_grad_()
        self.step = -rates
        self.weights, self.biases = [self.w.detach().clone()], [self.b.detach().clone()]
        self.train_losses: list[torch.Tensor] = []
        self.test_losses: list[torch.Tensor] = []

    def run(self, epochs: int) -> None:
        X_train, y_train, X_test, y_test = self.data
        w, b, count = self.w, self.b, len(LEARNING_RATES)
        for _ in range(epochs):
            residual = w * X_train + b - y_train
            l1, mse = residual[:count].abs().mean(1), residual[count:].square().mean(1)
            w.grad = b.grad = None
            (l1.sum() + mse.sum()).backward()
            with torch.no_grad():
                w.addcmul_(self.step, w.grad)
                b.addcmul_(self.step, b.grad)
                test = w * X_test + b - y_test
                test = torch.cat([test[:count].abs().mean(1), test[count:].square().mean(1)])
            self.test_losses.append(test)
            self.train_losses.append(torch.cat([l1.detach(), mse.detach()]))
            self.weights.append(w.detach().clone())
            self.biases.append(b.detach().clone())

    def recorded(self) -> tuple[torch.Tensor, ...]:
        """(E + 1, K) weights and biases, (E, K) training and test losses."""
        empty = self.w.new_empty(0, len(self.w))
        return (
            torch.stack(self.weights)[..., 0], torch.stack(self.biases)[..., 0],
            torch.stack(self.train_losses) if self.train_losses else empty,
            torch.stack(self.test_losses) if self.test_losses else empty,
        )  # fmt: skip
