"""Checks for the exercises of notebook 03 (training): a new line, MSE, a learning rate, the loop.

The expected answers come from outside the learner's code: the least-squares line worked
out in closed form, loss values recomputed from the learned weight and bias with the
formulas for mean absolute and mean squared error, gradient descent on the squared error
written out in float64 from its formula, fixed targets (a test loss below a threshold), and
for the hand-written loop ``helpers.train`` itself, run from an identical copy of the model.
Every checker runs on a copy of the random state, so checking never shifts the numbers a
notebook prints afterwards.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import training as _training
from ..data import make_linear_data, split_data
from ..model import LinearRegressionModel
from ..training import History, train
from ._core import default_split, exercise, fail, least_squares_line, passed, run_answer, unwrapped

#: Exercise 03.1: how far the learned weight and bias may be from the best line.
FIT_TOLERANCE = 0.02
#: Exercise 03.3: epochs trained, how many final epochs are looked at, and their bound.
LR_EPOCHS = 50
LR_LAST = 5
LR_TARGET = 0.06
#: Exercise 03.2: the run the exercise suggests (lr, epochs); a line must get within this
#: factor of the test MSE that run reaches (worked out in float64 from the MSE gradient).
MSE_LR, MSE_EPOCHS, MSE_SLACK = 0.1, 100, 2.0
#: Exercise 03.4: the (lr, epochs) the learner's loop is run with, each against helpers.train.
LOOP_RUNS = ((0.01, 40), (0.1, 12))


def _seeded_model() -> LinearRegressionModel:
    """The notebook's starting model, from seed 42.

    Unlike ``_core.line_model`` it draws on the checker's own copy of the random state and
    reseeds it, so what is drawn after it, by the learner's answer too, is the same every time.
    """
    torch.manual_seed(42)
    return LinearRegressionModel()


def _line_of(model: Any, name: str) -> tuple[float, float]:
    """The (weight, bias) of a straight-line model, read from its outputs at x = 0 and x = 1."""
    if not isinstance(model, nn.Module):
        fail(
            f"{name} is of type {type(model).__name__}, not a model.",
            "return the model you trained (the object you called train on).",
        )
    first = next(iter(model.parameters()), None)
    if first is None:
        fail(f"{name} has no parameters.", "return a LinearRegressionModel that you trained.")
    x = torch.tensor([[0.0], [1.0], [0.5]], device=first.device, dtype=first.dtype)
    with torch.no_grad():
        out = model(x).detach().to("cpu", torch.float64).reshape(-1)
    if out.numel() != 3:
        fail(
            f"{name} gives {out.numel()} numbers for 3 inputs of shape (3, 1).",
            "return a model with one input and one output, such as LinearRegressionModel.",
        )
    bias, weight = out[0].item(), out[1].item() - out[0].item()
    middle = bias + weight / 2
    if abs(out[2].item() - middle) > 1e-4 * (1 + abs(middle)):
        fail(
            f"{name} is not a straight line: at x = 0.5 it gives {out[2].item():.4f}, halfway "
            f"between its values at 0 and 1 is {middle:.4f}.",
            "return a LinearRegressionModel (or one nn.Linear(1, 1)) that you trained.",
        )
    return weight, bias


def _errors(weight: float, bias: float, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean absolute and mean squared error of the line ``weight * x + bias`` on (X, y)."""
    miss = weight * X.double().reshape(-1) + bias - y.double().reshape(-1)
    return miss.abs().mean().item(), (miss**2).mean().item()


def _line_text(weight: float, bias: float) -> str:
    sign = "-" if bias < 0 else "+"
    return f"y = {weight:.4f}x {sign} {abs(bias):.4f}"


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-5 + 1e-4 * abs(b)


def _mse_descent(
    weight: float, bias: float, X: torch.Tensor, y: torch.Tensor
) -> tuple[float, float]:
    """The line after ``MSE_EPOCHS`` steps of gradient descent on the mean squared error.

    Written out from the gradient's formula in float64 (d/dw = 2 mean(miss * x),
    d/db = 2 mean(miss)), so it leans on neither ``train`` nor ``nn.MSELoss``.
    """
    x, t = X.double().reshape(-1), y.double().reshape(-1)
    for _ in range(MSE_EPOCHS):
        miss = weight * x + bias - t
        weight, bias = (
            weight - MSE_LR * 2 * (miss * x).mean().item(),
            bias - MSE_LR * 2 * miss.mean().item(),
        )
    return weight, bias


@exercise("03.1")
def exercise_03_1(answer: Callable[..., nn.Module]) -> None:
    """``answer(X_train, y_train, X_test, y_test)`` trains a model on y = 0.3x + 0.9 and returns it."""
    X, y = make_linear_data(weight=0.3, bias=0.9, step=0.01)
    X_train, y_train, X_test, y_test = split_data(X, y)
    model = run_answer(answer, X_train.clone(), y_train.clone(), X_test.clone(), y_test.clone())
    weight, bias = _line_of(model, "what fit_line returned")
    if not (math.isfinite(weight) and math.isfinite(bias)):
        fail(
            "the model's weight or bias is not a finite number: training blew up.",
            "use a smaller learning rate.",
        )
    start_weight, start_bias = _line_of(_seeded_model(), "the starting model")
    if abs(weight - start_weight) < 1e-6 and abs(bias - start_bias) < 1e-6:
        fail(
            f"the model still has its starting values (weight {weight:.4f}, bias {bias:.4f}).",
            "train the model (with train(...) or your own loop) before returning it.",
        )
    best_weight, best_bias = least_squares_line(X_train, y_train)
    off = max(abs(weight - best_weight), abs(bias - best_bias))
    if off > FIT_TOLERANCE:
        fail(
            f"the learned line is {_line_text(weight, bias)}, but the best line through the "
            f"training points is {_line_text(best_weight, best_bias)} (off by {off:.4f}; "
            f"within {FIT_TOLERANCE} passes).",
            "plot the loss curves: if they are still falling at the end, the model needs more "
            "epochs (or somewhat bigger steps).",
        )
    passed(f"learned {_line_text(weight, bias)}, close to y = 0.3x + 0.9.")


@exercise("03.2")
def exercise_03_2(answer: Callable[..., Any]) -> None:
    """``answer(model, X_train, y_train, X_test, y_test)`` trains with MSE and returns the History."""
    X_train, y_train, X_test, y_test = default_split()
    model = _seeded_model()
    start_weight, start_bias = _line_of(model, "the starting model")
    history = run_answer(
        answer, model, X_train.clone(), y_train.clone(), X_test.clone(), y_test.clone()
    )
    train_loss = getattr(history, "train_loss", None)
    test_loss = getattr(history, "test_loss", None)
    if train_loss is None or test_loss is None:
        fail(
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
            f"training stopped{when} because the loss blew up.",
            "squared errors give bigger gradients than absolute ones; try a smaller learning "
            "rate, such as 0.1.",
        )
    if len(test_loss) == 0 or len(train_loss) == 0:
        fail("the History is empty.", "train for some epochs, e.g. epochs=100.")
    weight, bias = _line_of(model, "the model you were given")
    if abs(weight - start_weight) < 1e-6 and abs(bias - start_bias) < 1e-6:
        fail(
            "the model you were given still has its starting values.",
            "train the `model` argument itself rather than a new model.",
        )
    first_mse = _errors(start_weight, start_bias, X_train, y_train)[1]
    last_mae, last_mse = _errors(weight, bias, X_test, y_test)
    recorded_first, recorded_last = float(train_loss[0]), float(test_loss[-1])
    if not _close(recorded_last, last_mse):
        if _close(recorded_last, last_mae):
            fail(
                f"the last test loss, {recorded_last:.4f}, is the mean absolute error of the "
                f"learned line, not its mean squared error ({last_mse:.4f}).",
                "train uses nn.L1Loss unless you give it another loss function; pass "
                "loss_fn=nn.MSELoss().",
            )
        fail(
            f"the last test loss, {recorded_last:.4f}, is not the mean squared error of the "
            f"learned line on the test data ({last_mse:.4f}).",
            "return the History from training the `model` argument with loss_fn=nn.MSELoss().",
        )
    if not _close(recorded_first, first_mse):
        fail(
            f"the first training loss, {recorded_first:.4f}, is not the mean squared error of the "
            f"starting line ({first_mse:.4f}).",
            "train the `model` argument once, from its starting values, and return that History.",
        )
    if last_mse >= _errors(start_weight, start_bias, X_test, y_test)[1]:
        fail(
            f"the test loss did not go down (it ended at {last_mse:.4f}).",
            "check the learning rate: too small barely moves, too large overshoots.",
        )
    suggested = _errors(*_mse_descent(start_weight, start_bias, X_train, y_train), X_test, y_test)[
        1
    ]
    if last_mse > MSE_SLACK * suggested:
        fail(
            f"the learned line {_line_text(weight, bias)} is still far from the data: its test "
            f"MSE is {last_mse:.4f}, while lr={MSE_LR:g} for {MSE_EPOCHS} epochs reaches "
            f"{suggested:.4f} (at most {MSE_SLACK * suggested:.4f} passes).",
            "the loss curves are still falling: train with a larger learning rate or for more "
            f"epochs (lr={MSE_LR:g} and epochs={MSE_EPOCHS} work).",
        )
    passed(
        f"test MSE {recorded_last:.4f} is the squared error of {_line_text(weight, bias)}.",
    )


@exercise("03.3")
def exercise_03_3(answer: Callable[[], float]) -> None:
    """``answer()`` returns a learning rate that settles the test loss below the target quickly."""
    lr = unwrapped(run_answer(answer))
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        fail(
            f"pick_learning_rate returned {lr!r}; a learning rate is a positive number.",
            "return a plain number, for example `return 0.01`.",
        )
    lr = float(lr)
    history = train(
        _seeded_model(), *default_split(), lr=lr, epochs=LR_EPOCHS, device="cpu", verbose=False
    )
    last = history.test_loss[-LR_LAST:]
    if history.diverged_at is None and len(last) == LR_LAST and max(last) < LR_TARGET:
        passed(
            f"lr={lr:g}: last {LR_LAST} of {LR_EPOCHS} test losses below {LR_TARGET} "
            f"(max {max(last):.4f}).",
        )
        return
    if history.diverged_at is None and all(
        b <= a for a, b in zip(last[:-1], last[1:], strict=True)
    ):
        fail(
            f"with lr={lr:g} the test loss is still {last[-1]:.4f} after {LR_EPOCHS} epochs and "
            "still creeping down: the steps are too small to get there in time.",
            "try a learning rate a few times larger.",
        )
    fail(
        f"with lr={lr:g} the test loss jumps between {min(last):.4f} and {max(last):.4f} in the "
        "last epochs: the steps overshoot the best line.",
        "try a learning rate a few times smaller.",
    )


class _Forwards:
    """Record every forward pass of ``model`` while the block runs: (rows, training, grad on).

    The rows of the input tell a pass over the training data (40 rows) from one over the
    test data (10 rows); ``training`` is the model's mode and ``grad`` whether autograd was
    recording (it is off under ``torch.inference_mode()`` and ``torch.no_grad()``).
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.calls: list[tuple[int | None, bool, bool]] = []

    def _record(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        x = args[0] if args else None
        rows = x.shape[0] if isinstance(x, torch.Tensor) and x.dim() > 0 else None
        self.calls.append((rows, module.training, torch.is_grad_enabled()))

    def __enter__(self) -> _Forwards:
        self._handle = self.model.register_forward_pre_hook(self._record)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._handle.remove()

    def on(self, rows: int) -> list[tuple[bool, bool]]:
        return [(training, grad) for r, training, grad in self.calls if r == rows]


class _WatchTrain:
    """Notice, while the block runs, whether ``helpers.train`` was called (it builds a History)."""

    called = False

    def __enter__(self) -> _WatchTrain:
        watch = self

        class Watched(History):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                watch.called = True
                super().__init__(*args, **kwargs)

        self._original = _training.History
        _training.History = Watched
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _training.History = self._original


def _loop_variant(
    model: nn.Module,
    data: tuple[torch.Tensor, ...],
    lr: float,
    epochs: int,
    *,
    zero_grad: bool = True,
    train_after_step: bool = False,
    test_before_step: bool = False,
    loss_fn: nn.Module | None = None,
) -> tuple[list[float], list[float]]:
    """The training loop with one of the slips learners make, to name the slip a loop made."""
    X_train, y_train, X_test, y_test = data
    loss_fn = nn.L1Loss() if loss_fn is None else loss_fn
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    train_losses, test_losses = [], []
    for _ in range(epochs):
        if test_before_step:
            with torch.inference_mode():
                test_losses.append(loss_fn(model(X_test), y_test).item())
        loss = loss_fn(model(X_train), y_train)
        if zero_grad:
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.inference_mode():
            if train_after_step:
                loss = loss_fn(model(X_train), y_train)
            if not test_before_step:
                test_losses.append(loss_fn(model(X_test), y_test).item())
        train_losses.append(loss.item())
    return train_losses, test_losses


#: Slips a loop's losses can be matched against, each with the hint for it.
_SLIPS = (
    (
        {"zero_grad": False},
        "the losses are those of a loop that never clears the gradients: backward() adds to "
        ".grad, so the steps grow epoch after epoch.",
        "call optimizer.zero_grad() every epoch, before loss.backward().",
    ),
    (
        {"train_after_step": True},
        "the training losses are measured after optimizer.step(), so each one belongs to the "
        "next epoch's parameters.",
        "record the loss you called backward() on (loss.item()), computed before the step.",
    ),
    (
        {"test_before_step": True},
        "the test losses are measured before optimizer.step(), so they lag one epoch behind.",
        "measure the test loss after the step, at the end of the epoch.",
    ),
    (
        {"loss_fn": nn.MSELoss()},
        "the losses are mean squared errors, but this loop trains with the mean absolute error.",
        "use nn.L1Loss() (or (predictions - targets).abs().mean()) for both losses.",
    ),
)


def _all_close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9) for x, y in zip(a, b, strict=True)
    )


def _losses(values: Any, name: str, epochs: int) -> list[float]:
    """A learner's record of losses (list of floats or 0-d tensors, a tensor, an array) as floats."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().reshape(-1).tolist()
    elif isinstance(values, np.ndarray):
        values = values.reshape(-1).tolist()
    if not isinstance(values, (list, tuple)):
        fail(
            f"the {name} losses are of type {type(values).__name__}, not a list of numbers.",
            "start with an empty list before the loop and append loss.item() every epoch.",
        )
    numbers_found = []
    for value in map(unwrapped, values):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            fail(
                f"the {name} losses hold an entry of type {type(value).__name__}, not a number.",
                "append loss.item(), the loss as a plain float, every epoch.",
            )
        numbers_found.append(float(value))
    if len(numbers_found) != epochs:
        fail(
            f"there are {len(numbers_found)} {name} losses for epochs={epochs}.",
            "record one training and one test loss in every epoch, inside the loop.",
        )
    return numbers_found


def _first_difference(mine: list[float], theirs: list[float]) -> int:
    return next(i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b)


def _check_loop_run(answer: Callable[..., Any], lr: float, epochs: int) -> None:
    """Run the learner's loop and ``train`` from identical copies and compare them bit for bit."""
    data = default_split()
    start = _seeded_model()
    model, reference = copy.deepcopy(start), copy.deepcopy(start)
    setting = f"with lr={lr:g} and epochs={epochs}"
    with _Forwards(model) as seen, _WatchTrain() as watched:
        result = run_answer(answer, model, *(t.clone() for t in data), lr, epochs)
    if watched.called:
        fail(
            "my_train calls helpers.train, so the loop is not yours yet.",
            "write the epochs out yourself: a for loop with the forward pass, loss, zero_grad, "
            "backward and step, then the test loss.",
        )
    if hasattr(result, "train_loss"):
        fail(
            f"my_train returned a {type(result).__name__}, not the two lists of losses.",
            "end with `return train_losses, test_losses`.",
        )
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        fail(
            f"my_train returned an object of type {type(result).__name__}, not a pair of lists.",
            "end with `return train_losses, test_losses`.",
        )
    train_losses = _losses(result[0], "training", epochs)
    test_losses = _losses(result[1], "test", epochs)
    if all(torch.equal(p, q) for p, q in zip(model.parameters(), start.parameters(), strict=True)):
        fail(
            f"{setting}, the model you were given still has its starting values.",
            "train the `model` argument: build the optimizer from model.parameters() and call "
            "optimizer.step() after loss.backward() (a zero_grad() between them wipes the "
            "gradients).",
        )
    history = train(reference, *data, lr=lr, epochs=epochs, device="cpu", verbose=False)
    if train_losses != history.train_loss or test_losses != history.test_loss:
        for changes, problem, hint in _SLIPS:
            slipped = _loop_variant(copy.deepcopy(start), data, lr, epochs, **changes)
            if _all_close(train_losses, slipped[0]) and _all_close(test_losses, slipped[1]):
                fail(f"{setting}, {problem}", hint)
        if _all_close(train_losses, history.train_loss) and _all_close(
            test_losses, history.test_loss
        ):
            fail(
                f"{setting}, the losses agree with train's to 6 digits but not bit for bit.",
                "the same operations in the same order give the same bits: use nn.L1Loss() "
                "and torch.optim.SGD(model.parameters(), lr=lr) on the model as given.",
            )
        which, mine, theirs = (
            ("training", train_losses, history.train_loss)
            if train_losses != history.train_loss
            else ("test", test_losses, history.test_loss)
        )
        at = _first_difference(mine, theirs)
        fail(
            f"{setting}, the {which} loss of epoch {at + 1} is {mine[at]:.4f}, but train "
            f"records {theirs[at]:.4f} (the epochs before it agree).",
            "every epoch: forward on X_train, loss, zero_grad, backward, step, then the test "
            "loss; record loss.item() for both, and use the lr you are given.",
        )
    for name, p in model.named_parameters():
        if not torch.equal(p.detach().cpu(), dict(reference.named_parameters())[name].detach()):
            fail(
                f"{setting}, the losses are right, but the model's {name} ends at "
                f"{p.detach().reshape(-1)[0].item():.4f}, not where train leaves it "
                f"({dict(reference.named_parameters())[name].reshape(-1)[0].item():.4f}).",
                "change the parameters only with optimizer.step(), once per epoch.",
            )
    _check_modes(seen, len(data[0]), len(data[2]))


def _check_modes(seen: _Forwards, train_rows: int, test_rows: int) -> None:
    """The test loss under eval() without gradients, every training pass in training mode."""
    on_test = seen.on(test_rows)
    if not on_test:
        fail(
            "the model was never called on X_test.",
            "compute the test loss from model(X_test), so that model.eval() applies to it.",
        )
    if any(grad for _, grad in on_test):
        fail(
            "the model ran on X_test with gradient tracking on, so PyTorch recorded a graph "
            "for a backward() that never comes.",
            "compute it inside `with torch.inference_mode():`.",
        )
    if any(training for training, _ in on_test):
        fail(
            "the model ran on X_test in training mode; the test loss must see the model as "
            "it predicts.",
            "call model.eval() before the test forward pass.",
        )
    on_train = seen.on(train_rows)
    late = next((i for i, (training, _) in enumerate(on_train) if not training), None)
    if late is not None:
        fail(
            f"training forward pass {late + 1} ran with the model in eval mode: after the test "
            "loss of the epoch before, nothing switched it back.",
            "call model.train() at the start of every epoch.",
        )


@exercise("03.4")
def exercise_03_4(answer: Callable[..., Any]) -> None:
    """``answer(model, X_train, y_train, X_test, y_test, lr, epochs)`` -> (train_losses, test_losses).

    The learner's loop must give bit for bit the losses and final parameters of
    ``helpers.train`` from an identical copy of the seed-42 model, for each of ``LOOP_RUNS``,
    with the test loss measured in eval mode without gradients and every training pass in
    training mode.
    """
    for lr, epochs in LOOP_RUNS:
        _check_loop_run(answer, lr, epochs)
    passed(f"losses and final line equal train's, bit for bit, in all {len(LOOP_RUNS)} runs.")
