"""Checks for notebook 05's exercises: a save/load round trip, resuming from a checkpoint,
refusing a booby-trapped file and keeping the best model.

Each check runs the learner's function inside its own temporary folder, so nothing is
left behind. Expected values come from independent runs of ``helpers.train`` (an
uninterrupted run, or one run with its full history), never from the learner's files.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data import make_linear_data, split_data
from ..model import LinearRegressionModel
from ..persistence import ModelFileError, load_model
from ..training import train
from ._core import fail, keeps_random_state, line_model, passed, run_answer


def _params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().cpu() for name, p in model.named_parameters()}


def _same_params(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _default_split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    return split_data(*make_linear_data())


def _momentum_sgd(model: nn.Module) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def _require_module(exercise: str, result: Any) -> nn.Module:
    if not isinstance(result, nn.Module):
        fail(
            exercise,
            f"your function should return a model, but it returned a {type(result).__name__}.",
            "End the function with `return` and the model you loaded the numbers into.",
        )
    return result


# --- Exercise 05.1 ---------------------------------------------------------------------


@keeps_random_state()
def exercise_05_1(save_and_reload: Callable[[nn.Module, Path], Any]) -> None:
    """Check ``save_and_reload(model, path) -> new model`` holding the same numbers."""
    ex = "05.1"
    model = line_model(1.25, -0.5).eval()
    X = torch.linspace(-1, 1, 9).unsqueeze(1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "round_trip.pt"
        result = _require_module(ex, run_answer(ex, save_and_reload, model, path))
        if not path.exists():
            fail(
                ex,
                "there is no file at the path your function was given.",
                "Save to exactly that path: torch.save(..., path).",
            )
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            fail(
                ex,
                "the file holds a pickled Python object, so it does not load with weights_only=True.",
                "Save model.state_dict() (only tensors), not the model object itself.",
            )
        if not isinstance(state, dict) or set(state) != {"weights", "bias"}:
            fail(
                ex,
                "the file does not hold the model's state_dict.",
                "Save model.state_dict(): a dict with the keys 'weights' and 'bias'.",
            )
    if result is model:
        fail(
            ex,
            "your function returned the same model it was given.",
            "Load the file into a fresh LinearRegressionModel(), so that its numbers can only "
            "have come from the file.",
        )
    if not _same_params(_params(result), _params(model)):
        fail(
            ex,
            "the returned model's parameters differ from the saved model's.",
            "After creating the fresh model, call its load_state_dict() with what torch.load returned.",
        )
    if result.training:
        fail(
            ex,
            "the returned model is still in training mode.",
            "Call .eval() on the loaded model before returning it, ready for predictions.",
        )
    with torch.inference_mode():
        same = torch.equal(result(X.to(next(result.parameters()).device)).cpu(), model(X))
    if not same:
        fail(
            ex,
            "the returned model predicts differently from the saved one.",
            "Return the model you loaded the state_dict into.",
        )
    passed(ex, "the reloaded model is a new object with identical predictions.")


# --- Exercise 05.2 ---------------------------------------------------------------------


def _contains_key(obj: Any, key: str) -> bool:
    if isinstance(obj, dict):
        return key in obj or any(_contains_key(v, key) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_contains_key(v, key) for v in obj)
    return False


def _momentum_run(first: int, second: int, device: torch.device, keep_optimizer: bool) -> dict:
    """Seed-42 model, SGD with momentum; optionally a fresh optimizer after ``first`` epochs."""
    data = _default_split()
    with keeps_random_state(seed=42):
        model = LinearRegressionModel()
    optimizer = _momentum_sgd(model)
    if keep_optimizer:
        train(
            model, *data, epochs=first + second, optimizer=optimizer, device=device, verbose=False
        )
    else:
        train(model, *data, epochs=first, optimizer=optimizer, device=device, verbose=False)
        train(
            model,
            *data,
            epochs=second,
            optimizer=_momentum_sgd(model),
            device=device,
            verbose=False,
        )
    return _params(model)


@keeps_random_state()
def exercise_05_2(train_with_restart: Callable[[Path, int, int], Any]) -> None:
    """Check ``train_with_restart(folder, first_epochs, second_epochs)`` against one unbroken run."""
    ex = "05.2"
    for first, second in [(20, 15), (7, 3)]:
        with tempfile.TemporaryDirectory() as folder:
            with keeps_random_state():
                result = run_answer(ex, train_with_restart, Path(folder), first, second)
            result = _require_module(ex, result)
            files = sorted(p for p in Path(folder).rglob("*") if p.is_file())
            if not files:
                fail(
                    ex,
                    "your function left no file in the folder it was given.",
                    "After the first part, save a checkpoint into that folder, then load it back.",
                )
            contents = []
            for file in files:
                try:
                    contents.append(torch.load(file, map_location="cpu", weights_only=True))
                except pickle.UnpicklingError:
                    fail(
                        ex,
                        f"the file {file.name} does not load with weights_only=True.",
                        "Save state_dicts and plain numbers, not model or optimizer objects.",
                    )
            if not any(_contains_key(c, "momentum_buffer") for c in contents):
                fail(
                    ex,
                    "the checkpoint does not contain the optimizer's state.",
                    "Save optimizer.state_dict() next to model.state_dict(): the momentum lives there.",
                )
        device = next(result.parameters()).device
        got = _params(result)
        if _same_params(got, _momentum_run(first, second, device, keep_optimizer=True)):
            continue
        if _same_params(got, _momentum_run(first, second, device, keep_optimizer=False)):
            fail(
                ex,
                f"after {first} + {second} epochs you land where a restart with a fresh "
                "optimizer lands, not where an unbroken run does.",
                "Load the saved optimizer state into the new optimizer (optimizer.load_state_dict) "
                "before training on.",
            )
        fail(
            ex,
            f"after {first} + {second} epochs your parameters differ from an unbroken run of "
            f"{first + second} epochs.",
            "Start from torch.manual_seed(42) and LinearRegressionModel(), use "
            "SGD(lr=0.01, momentum=0.9) and the default data and split, train `first_epochs`, "
            "save, load into a new model and optimizer, then train `second_epochs` more.",
        )
    passed(ex, "resumed training lands exactly where an unbroken run lands.")


# --- Exercise 05.3 ---------------------------------------------------------------------


class _HiddenCode:
    """Unpickling this calls os.mkdir(marker): harmless, but proof that code ran on load."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (os.mkdir, (self.marker,))


@keeps_random_state()
def exercise_05_3(load_if_safe: Callable[[Path], Any]) -> None:
    """Check ``load_if_safe(path)``: a plain file loads, hidden code gives None, no file raises."""
    ex = "05.3"
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        good = folder / "good.pt"
        torch.save({"weights": torch.tensor([0.7]), "bias": torch.tensor([0.3])}, good)
        loaded = run_answer(ex, load_if_safe, good)
        if not (
            isinstance(loaded, dict)
            and set(loaded) == {"weights", "bias"}
            and torch.equal(loaded["weights"].cpu(), torch.tensor([0.7]))
            and torch.equal(loaded["bias"].cpu(), torch.tensor([0.3]))
        ):
            fail(
                ex,
                "a file holding only tensors did not come back as saved.",
                "When loading with weights_only=True succeeds, return what torch.load returned.",
            )

        marker = folder / "hidden_code_ran"
        bad = folder / "from_the_internet.pt"
        torch.save({"weights": torch.tensor([0.7]), "bias": _HiddenCode(marker)}, bad)
        try:
            result = run_answer(ex, load_if_safe, bad)
            escaped = None
        except (pickle.UnpicklingError, ModelFileError) as error:
            result, escaped = None, error
        if marker.exists():
            fail(
                ex,
                "the code hidden in the file RAN while your function loaded it.",
                "Pass weights_only=True to torch.load, so that it refuses anything but tensors.",
            )
        if escaped is not None:
            fail(
                ex,
                f"loading the unsafe file raised {type(escaped).__name__} out of your function.",
                "Catch the error torch.load raises when it refuses a file "
                "(pickle.UnpicklingError) and return None instead.",
            )
        if result is not None:
            fail(
                ex,
                f"for a file with hidden code your function returned a {type(result).__name__}.",
                "Return None when torch.load refuses the file.",
            )

        missing = folder / "no_such_file.pt"
        try:
            result = run_answer(ex, load_if_safe, missing)
        except FileNotFoundError:
            pass
        except Exception as error:  # noqa: BLE001 - any other error is the wrong answer
            fail(
                ex,
                f"for a path with no file your function raised {type(error).__name__}, "
                "not FileNotFoundError.",
                "Let torch.load's own FileNotFoundError through: catch only the refusal.",
            )
        else:
            fail(
                ex,
                f"for a path with no file your function returned {result!r} instead of raising "
                "FileNotFoundError.",
                "Catch only pickle.UnpicklingError (the refusal), not every Exception: a missing "
                "file is a different problem and must still raise its own error.",
            )
    passed(
        ex,
        "the plain file loaded, the booby-trapped one was refused, nothing ran, and a missing "
        "file still raises FileNotFoundError.",
    )


# --- Exercise 05.4 ---------------------------------------------------------------------


@keeps_random_state()
def exercise_05_4(keep_best: Callable[[Path, int], Any]) -> None:
    """Check ``keep_best(folder, epochs)``: best.pt holds the lowest-test-loss model."""
    ex = "05.4"
    for epochs in (100, 40):
        with keeps_random_state(seed=42):
            reference = LinearRegressionModel()
        history = train(
            reference,
            *_default_split(),
            epochs=epochs,
            optimizer=_momentum_sgd(reference),
            verbose=False,
        )
        best = int(np.argmin(history.test_loss))  # the first epoch with the lowest test loss
        with tempfile.TemporaryDirectory() as name:
            path = Path(name) / "best.pt"
            with keeps_random_state():
                got = run_answer(ex, keep_best, Path(name), epochs)
            if isinstance(got, torch.Tensor) and got.numel() == 1:
                got = got.item()
            if not isinstance(got, (int, float)) or isinstance(got, bool):
                fail(
                    ex,
                    f"your function should return the lowest test loss, got a {type(got).__name__}.",
                    "Return the best test loss as a float (history.test_loss holds floats).",
                )
            if not path.exists():
                fail(
                    ex,
                    "there is no best.pt in the folder your function was given.",
                    "Save with helpers.save_model(model, folder / 'best.pt') whenever the test "
                    "loss reaches a new low.",
                )
            try:
                saved = _params(load_model(line_model(0.0, 0.0), path, map_location="cpu"))
            except ModelFileError:
                fail(
                    ex,
                    "best.pt does not load with helpers.load_model.",
                    "Save just the model's state_dict (helpers.save_model does), not a checkpoint.",
                )
        if abs(got - history.test_loss[best]) > 1e-6:
            fail(
                ex,
                f"over {epochs} epochs the lowest test loss is {history.test_loss[best]:.6f}, "
                f"you returned {got:.6f}.",
                "Keep track of the lowest test loss seen so far, epoch by epoch.",
            )
        if not _same_params(saved, history.params[best]):
            last = _same_params(saved, history.params[-1])
            fail(
                ex,
                f"best.pt should hold the model of epoch {best + 1}, where the test loss was lowest.",
                "It holds the final model: save inside the loop, each time the test loss reaches "
                "a new low."
                if last
                else "Save the model right after the epoch whose test loss is the new lowest.",
            )
    passed(ex, "best.pt holds the epoch with the lowest test loss.")
