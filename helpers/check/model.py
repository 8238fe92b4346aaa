"""Checks for the exercises of notebook 02 (model): parameters, predictions, nn.Linear, a new model.

The expected answers are worked out by hand here (parameter counts of layers whose sizes
are known, predictions from ``a * x**2 + b * x + c`` in NumPy), never taken from the
solution's code. Every checker runs on a copy of the random state seeded with 0
(``keeps_random_state``), so its own draws are the same every time and the learner's random
state is the same afterwards as before.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ..model import LinearRegressionModel
from ._core import exercise, fail, flat64, passed, run_answer


def _line_model(weight: float, bias: float) -> LinearRegressionModel:
    """A LinearRegressionModel whose two parameters are set to known values.

    Unlike ``_core.line_model`` it draws its (overwritten) starting values from the checker's
    own seed-0 random state, and the layers a learner's answer builds are drawn after them:
    making it on a copy instead would change the numbers printed for an uncopied layer in 02.3.
    """
    model = LinearRegressionModel()
    with torch.no_grad():
        model.weights.fill_(weight)
        model.bias.fill_(bias)
    return model


def _x_column() -> torch.Tensor:
    return torch.linspace(-2.0, 2.0, 9).unsqueeze(1)


def _snapshot(model: nn.Module) -> dict[str, tuple[torch.Tensor, bool]]:
    """Each parameter's values (copied) and its requires_grad flag, to compare later."""
    return {name: (p.detach().clone(), p.requires_grad) for name, p in model.named_parameters()}


def _unchanged(model: nn.Module, snapshot: dict[str, tuple[torch.Tensor, bool]]) -> bool:
    now = _snapshot(model)
    return now.keys() == snapshot.keys() and all(
        torch.equal(now[k][0], v) and now[k][1] == grad for k, (v, grad) in snapshot.items()
    )


@exercise("02.1", seed=0)
def exercise_02_1(answer: Callable[[nn.Module], int]) -> None:
    """``answer(model)`` counts the numbers training would change (parameters with grad)."""
    frozen = nn.Linear(2, 3)
    frozen.bias.requires_grad_(False)
    cases = [
        ("LinearRegressionModel()", LinearRegressionModel(), 2),
        ("nn.Linear(3, 2)", nn.Linear(3, 2), 3 * 2 + 2),
        (
            "nn.Sequential(nn.Linear(1, 4), nn.Linear(4, 1))",
            nn.Sequential(nn.Linear(1, 4), nn.Linear(4, 1)),
            8 + 5,
        ),
        ("nn.Linear(2, 3) with its bias frozen", frozen, 2 * 3),
    ]
    for label, model, expected in cases:
        before = _snapshot(model)
        count = run_answer(answer, model)
        if not _unchanged(model, before):
            fail(
                f"counting changed {label}: a parameter's values or its requires_grad flag.",
                "only read the parameters (p.numel(), p.requires_grad); do not call "
                "requires_grad_() or change their values.",
            )
        if isinstance(count, torch.Tensor) and count.numel() == 1:
            count = count.item()
        if isinstance(count, bool) or not isinstance(count, numbers.Integral):
            fail(
                f"for {label} your function returned a {type(count).__name__}, not a whole number.",
                "add up p.numel() for the parameters; numel() already returns a Python int.",
            )
        if count == expected:
            continue
        tensors = sum(1 for p in model.parameters() if p.requires_grad)
        if count == tensors:
            hint = (
                "you counted parameter tensors; count the numbers inside each one with .numel() "
                "(a (3, 2) weight holds 6)."
            )
        elif count == sum(p.numel() for p in model.parameters()):
            hint = "a parameter with requires_grad=False is frozen: training will not change it, so skip it."
        else:
            hint = (
                "loop over model.parameters() and add up p.numel() for those with p.requires_grad."
            )
        fail(f"for {label} you counted {count}, but training changes {expected} numbers.", hint)
    passed("2, 8, 13 and 6 learnable numbers, frozen ones left out.")


@exercise("02.2", seed=0)
def exercise_02_2(answer: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> None:
    """``answer(model, X)`` returns predictions without recording a graph (no grad).

    The expected predictions are ``weight * x + bias`` for an X of shape (9, 1) copied before
    the call, for two lines, and X itself must come back unchanged.
    """
    for weight, bias in ((0.5, -0.25), (-1.25, 0.75)):
        model = _line_model(weight, bias)
        X = _x_column()
        x = flat64(X)
        predictions = run_answer(answer, model, X)
        if not np.array_equal(flat64(X), x):
            fail(
                "your function changed the X it was given, so the caller's data is spoilt.",
                "only call the model on X; do not write into X (no X.zero_(), X -= ..., X[:] = ...).",
            )
        if not isinstance(predictions, torch.Tensor):
            fail(
                f"your function returned a {type(predictions).__name__}, not a tensor of "
                "predictions.",
                "return what model(X) gives back.",
            )
        if tuple(predictions.shape) != tuple(X.shape):
            fail(
                f"the predictions have shape {tuple(predictions.shape)} but X has shape "
                f"{tuple(X.shape)}.",
                "return model(X) as it is: one prediction per row of X, without reshaping.",
            )
        if not np.allclose(flat64(predictions), weight * x + bias, atol=1e-6):
            fail(
                "the predictions are not weights * x + bias for the model you were given.",
                "call the model passed in on the X passed in; do not build or train a new one.",
            )
        if predictions.requires_grad:
            fail(
                "the predictions require grad, so autograd recorded the forward pass for nothing.",
                "call the model inside `with torch.inference_mode():`.",
            )
        if model.training:
            fail(
                "the model is still in training mode.",
                "switch it to evaluation mode with model.eval() before predicting.",
            )
        if model.weights.item() != weight or model.bias.item() != bias:
            fail(
                "predicting changed the model's parameters.",
                "predicting should only call the model.",
            )
    passed("predictions equal w * x + b, without grad, model in eval mode.")


def _find_linear(model: nn.Module) -> nn.Linear | None:
    return next((m for m in model.modules() if isinstance(m, nn.Linear)), None)


def _works_without_recording(answer: Callable, weight: float, bias: float) -> bool:
    """Whether the answer runs once recording is paused: then its error was the in-place copy's.

    Judged by running it again under ``torch.no_grad()``, not by torch's wording, which
    changes between versions.
    """
    with torch.no_grad():
        try:
            run_answer(answer, _line_model(weight, bias))
        except Exception:
            return False
    return True


def _expect_own_storage(original: nn.Module, copy: nn.Module, X: torch.Tensor) -> None:
    """Changing either model must leave the other's predictions as they were.

    A copy made with ``.view``, ``.data =`` or by reusing the original's tensors shares memory
    with it: it predicts right today, but training one would silently move the other.
    """
    with torch.no_grad():
        before_original, before_copy = original(X).clone(), copy(X).clone()
        for p in copy.parameters():
            p.add_(1.0)
        moved_original = not torch.equal(original(X), before_original)
        for p in copy.parameters():
            p.sub_(1.0)
        for p in original.parameters():
            p.add_(1.0)
        moved_copy = not torch.equal(copy(X), before_copy)
        for p in original.parameters():
            p.sub_(1.0)
    if moved_original or moved_copy:
        fail(
            "your model shares memory with the one you were given: changing "
            + (
                "the copy changed the original."
                if moved_original
                else "the original changed the copy."
            ),
            "copy the values into the new layer's own parameters with .copy_(...) under "
            "torch.no_grad(); .view(...), .data = ... or reusing the original's tensors shares them.",
        )


@exercise("02.3", seed=0)
def exercise_02_3(answer: Callable[[nn.Module], nn.Module]) -> None:
    """``answer(model)`` returns a new nn.Linear-based model predicting exactly like ``model``."""
    X = _x_column()
    for weight, bias in ((0.25, -1.5), (-0.75, 2.0)):
        original = _line_model(weight, bias)
        refused = None
        try:
            copy = run_answer(answer, original)
        except RuntimeError as error:
            if not _works_without_recording(answer, weight, bias):
                raise
            refused = type(error).__name__
        if refused is not None:  # failed out here, so torch's own traceback is not chained on
            fail(
                f"copying into the nn.Linear parameters raised {refused}: a parameter (it "
                "requires grad) cannot be changed in place while autograd is recording.",
                "do the copying inside `with torch.no_grad():`.",
            )
        if not isinstance(copy, nn.Module):
            fail(
                f"your function returned a {type(copy).__name__}, not a model (an nn.Module).",
                "build the nn.Linear model, copy the values into it and return the model itself.",
            )
        if copy is original or _find_linear(copy) is None:
            fail(
                "the model you returned has no nn.Linear layer inside it.",
                "return a new model built from nn.Linear(in_features=1, out_features=1).",
            )
        if original.weights.item() != weight or original.bias.item() != bias:
            fail(
                "the model you were given changed.",
                "copy values out of it into the new model, not the other way round.",
            )
        params = [p for p in copy.parameters() if p.requires_grad]
        if sum(p.numel() for p in params) != 2:
            fail(
                f"your model has {sum(p.numel() for p in params)} learnable numbers, not 2.",
                "one nn.Linear(1, 1) holds exactly one weight and one bias; keep them trainable.",
            )
        if any(p.is_inference() for p in params):
            fail(
                "your model's parameters were made under torch.inference_mode(), so they are "
                "inference tensors: no optimizer could ever update them.",
                "build the new model outside any inference_mode block, and copy the values "
                "under torch.no_grad().",
            )
        dtypes = {p.dtype for p in copy.parameters()}
        if dtypes != {original.weights.dtype}:
            fail(
                f"your model's parameters are {', '.join(sorted(map(str, dtypes)))}, but the "
                f"original's are {original.weights.dtype}, so it cannot take the same inputs.",
                "keep nn.Linear's default dtype: copy the values in, do not convert the layer.",
            )
        with torch.no_grad():
            predictions = copy(X)
        if tuple(predictions.shape) != tuple(X.shape):
            fail(
                f"for X of shape {tuple(X.shape)} your model returns shape {tuple(predictions.shape)}.",
                "nn.Linear(1, 1) maps (N, 1) to (N, 1); keep its weight of shape (1, 1).",
            )
        expected = weight * flat64(X) + bias
        if not np.allclose(flat64(predictions), expected, atol=1e-6):
            fail(
                f"for a model with weight {weight} and bias {bias} your copy predicts "
                f"{flat64(predictions)[0]:.4f} at x = -2 instead of {expected[0]:.4f}.",
                "copy model.weights into linear.weight (shape (1, 1)) and model.bias into "
                "linear.bias (shape (1,)).",
            )
        _expect_own_storage(original, copy, X)
    passed("the nn.Linear copy predicts exactly as the original, for two lines.")


@exercise("02.4", seed=0)
def exercise_02_4(answer: Callable[[], nn.Module]) -> None:
    """``answer()`` builds a model ``y = a * x**2 + b * x + c`` with parameters a, b, c of shape (1,)."""
    model = run_answer(answer)
    if not isinstance(model, nn.Module):
        fail(
            f"calling it gave a {type(model).__name__}, not an nn.Module.",
            "write the class as `class QuadraticModel(nn.Module):` and call super().__init__().",
        )
    names = dict(model.named_parameters())
    if not names:
        plain = [k for k, v in vars(model).items() if isinstance(v, torch.Tensor)]
        fail(
            "the model has no parameters, so an optimizer would have nothing to train"
            + (f" ({', '.join(plain)} are plain tensors)." if plain else "."),
            "wrap each starting value in nn.Parameter(...); plain tensors are not registered.",
        )
    if sorted(names) != ["a", "b", "c"]:
        fail(
            f"the model's parameters are called {sorted(names)}, not a, b and c.",
            "create exactly three attributes, self.a, self.b and self.c, each an nn.Parameter.",
        )
    for name, param in names.items():
        if tuple(param.shape) != (1,):
            fail(
                f"parameter {name} has shape {tuple(param.shape)}, not (1,).",
                "start each one from torch.randn(1), like weights and bias in the notebook.",
            )
        if not param.requires_grad:
            fail(
                f"parameter {name} does not require grad.",
                "leave requires_grad at its default, True.",
            )
    other = run_answer(answer)
    other_names = dict(other.named_parameters()) if isinstance(other, nn.Module) else {}
    if other_names.keys() == names.keys() and all(
        torch.equal(p, other_names[k]) for k, p in names.items()
    ):
        fail(
            "two models built one after the other start from exactly the same a, b and c.",
            "start each parameter from torch.randn(1), with no fixed values and no seeding "
            "inside the class.",
        )
    X = _x_column()
    x = flat64(X)
    for a, b, c in ((2.0, -3.0, 0.5), (-0.5, 0.0, 1.25)):
        with torch.no_grad():
            names["a"].fill_(a)
            names["b"].fill_(b)
            names["c"].fill_(c)
        output = model(X)
        if not np.array_equal(flat64(X), x):
            fail(
                "forward changed the x it was given.",
                "compute a new tensor (self.a * x**2 + ...); do not change x in place (x.pow_(2), x *= ...).",
            )
        if not isinstance(output, torch.Tensor) or tuple(output.shape) != tuple(X.shape):
            shape = (
                tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
            )
            fail(
                f"for x of shape {tuple(X.shape)} forward returned {shape}.",
                "return a tensor the same shape as x: work element by element, no sums or reshapes.",
            )
        expected = a * x**2 + b * x + c
        got = flat64(output)
        if not np.allclose(got, expected, atol=1e-5):
            worst = int(np.argmax(np.abs(got - expected)))
            fail(
                f"with a={a}, b={b}, c={c} forward gives {got[worst]:.4f} at x = {x[worst]:.4f}, "
                f"but a*x^2 + b*x + c = {expected[worst]:.4f}.",
                "forward should return self.a * x**2 + self.b * x + self.c.",
            )
    output.sum().backward()
    missing = [name for name, param in names.items() if param.grad is None]
    if missing:
        fail(
            f"after backward() {', '.join(missing)} got no gradient, so training could not change "
            + ("it." if len(missing) == 1 else "them."),
            "use the parameters themselves in forward, not numbers taken out of them with .item().",
        )
    passed("a, b, c of shape (1,); forward is a*x^2 + b*x + c; gradients flow.")
