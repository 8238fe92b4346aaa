"""Checks for notebook 05's exercises: a save/load round trip, resuming from a checkpoint,
refusing a booby-trapped file, keeping the best model, and training on a device.

Each check runs the learner's function inside its own temporary folder, so nothing is
left behind. Expected values come from independent runs of ``helpers.train`` (an
uninterrupted run, or one run with its full history) or a loop with the gradient written
out, never from the learner's files. While the learner's function runs, the checks note
each ``torch.load`` it makes, so that a file saved but never read back does not pass.
"""

from __future__ import annotations

import contextlib
import functools
import io
import numbers
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data import make_linear_data
from ..device import get_device
from ..model import LinearRegressionModel
from ..persistence import ModelFileError, load_model
from ..training import train
from ._core import (
    default_split,
    exercise,
    fail,
    keeps_random_state,
    line_model,
    mae_descent,
    passed,
    run_answer,
    unwrapped,
)


def _params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().cpu() for name, p in model.named_parameters()}


def _same_params(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _momentum_sgd(model: nn.Module) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def _require_module(result: Any) -> nn.Module:
    if not isinstance(result, nn.Module):
        fail(
            f"your function should return a model, but it returned a {type(result).__name__}.",
            "End the function with `return` and the model you loaded the numbers into.",
        )
    return result


@contextlib.contextmanager
def _watching_loads() -> Iterator[list[dict[str, Any]]]:
    """Note the arguments of every ``torch.load`` of a file (helpers' in-memory checks aside)."""
    calls: list[dict[str, Any]] = []
    real = torch.load

    @functools.wraps(real)
    def load(f: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(f, io.BytesIO):  # helpers test their own bytes before a save
            location = args[0] if args else kwargs.get("map_location")
            calls.append({"map_location": location, "weights_only": kwargs.get("weights_only")})
        return real(f, *args, **kwargs)

    torch.load = load
    try:
        yield calls
    finally:
        torch.load = real


def _refuse_unsafe_loads(calls: list[dict[str, Any]]) -> None:
    if any(call["weights_only"] is False for call in calls):
        fail(
            "your function loads with weights_only=False.",
            "Keep weights_only=True: a file of tensors never needs the unsafe kind of load.",
        )


def _as_float(value: Any, what: str) -> float:
    """A float from a Python, NumPy or one-element tensor number; anything else fails."""
    value = unwrapped(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        fail(
            f"your function should return {what}, got a {type(value).__name__}.",
            "Return a single number: a Python float (history.test_loss holds floats).",
        )
    return float(value)


# --- Exercise 05.1 ---------------------------------------------------------------------


@exercise("05.1")
def exercise_05_1(save_and_reload: Callable[[nn.Module, Path], Any]) -> None:
    """Check ``save_and_reload(model, path) -> new model`` holding the same numbers."""
    model = line_model(1.25, -0.5).eval()
    before = {name: p.clone() for name, p in _params(model).items()}
    X = torch.linspace(-1, 1, 9).unsqueeze(1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "round_trip.pt"
        with _watching_loads() as loads:
            result = _require_module(run_answer(save_and_reload, model, path))
        if not _same_params(_params(model), before):
            fail(
                "your function changed the parameters of the model it was given.",
                "Save the model as it is: torch.save(model.state_dict(), path) changes nothing.",
            )
        if not path.exists():
            fail(
                "there is no file at the path your function was given.",
                "Save to exactly that path: torch.save(..., path).",
            )
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            fail(
                "the file holds a pickled Python object, so it does not load with weights_only=True.",
                "Save model.state_dict() (only tensors), not the model object itself.",
            )
        if not isinstance(state, dict) or set(state) != {"weights", "bias"}:
            fail(
                "the file does not hold the model's state_dict.",
                "Save model.state_dict(): a dict with the keys 'weights' and 'bias'.",
            )
        if not all(isinstance(t, torch.Tensor) for t in state.values()) or not _same_params(
            {k: t.detach() for k, t in state.items()}, before
        ):
            fail(
                "the numbers in the file are not the given model's.",
                "Save the state_dict of the model your function was given, not of another one.",
            )
    _refuse_unsafe_loads(loads)
    if result is model:
        fail(
            "your function returned the same model it was given.",
            "Load the file into a fresh LinearRegressionModel(), so that its numbers can only "
            "have come from the file.",
        )
    if not loads:
        fail(
            "your function never read the file back (it made no torch.load).",
            "Load the new model's numbers from the file: "
            "new_model.load_state_dict(torch.load(path, weights_only=True)).",
        )
    shared = {p.data_ptr() for p in model.parameters()}
    if any(p.data_ptr() in shared for p in result.parameters()):
        fail(
            "the returned model shares its parameters' memory with the model it was given, so "
            "changing one changes the other.",
            "Make a new LinearRegressionModel() and load_state_dict() the file into it: that "
            "copies the numbers into the new model's own tensors.",
        )
    if not _same_params(_params(result), before):
        fail(
            "the returned model's parameters differ from the saved model's.",
            "After creating the fresh model, call its load_state_dict() with what torch.load returned.",
        )
    if result.training:
        fail(
            "the returned model is still in training mode.",
            "Call .eval() on the loaded model before returning it, ready for predictions.",
        )
    with torch.inference_mode():
        same = torch.equal(result(X.to(next(result.parameters()).device)).cpu(), model(X))
    if not same:
        fail(
            "the returned model predicts differently from the saved one.",
            "Return the model you loaded the state_dict into.",
        )
    passed("the reloaded model is a new object with identical predictions.")


# --- Exercise 05.2 ---------------------------------------------------------------------


def _contains_key(obj: Any, key: str) -> bool:
    if isinstance(obj, dict):
        return key in obj or any(_contains_key(v, key) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_contains_key(v, key) for v in obj)
    return False


def _momentum_run(first: int, second: int, device: torch.device, keep_optimizer: bool) -> dict:
    """Seed-42 model, SGD with momentum; optionally a fresh optimizer after ``first`` epochs."""
    data = default_split()
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


@exercise("05.2")
def exercise_05_2(train_with_restart: Callable[[Path, int, int], Any]) -> None:
    """Check ``train_with_restart(folder, first_epochs, second_epochs)`` against one unbroken run."""
    for first, second in [(20, 15), (7, 3)]:
        with tempfile.TemporaryDirectory() as folder:
            with keeps_random_state(), _watching_loads() as loads:
                result = run_answer(train_with_restart, Path(folder), first, second)
            result = _require_module(result)
            _refuse_unsafe_loads(loads)
            files = sorted(p for p in Path(folder).rglob("*") if p.is_file())
            if not files:
                fail(
                    "your function left no file in the folder it was given.",
                    "After the first part, save a checkpoint into that folder, then load it back.",
                )
            contents = []
            for file in files:
                try:
                    contents.append(torch.load(file, map_location="cpu", weights_only=True))
                except pickle.UnpicklingError:
                    fail(
                        f"the file {file.name} does not load with weights_only=True.",
                        "Save state_dicts and plain numbers, not model or optimizer objects.",
                    )
            if not any(_contains_key(c, "momentum_buffer") for c in contents):
                fail(
                    "the checkpoint does not contain the optimizer's state.",
                    "Save optimizer.state_dict() next to model.state_dict(): the momentum lives there.",
                )
            if not loads:
                fail(
                    "your function saved a checkpoint but never loaded it (it made no torch.load).",
                    "Resume from the file, as a new session would: load it into a new model and a "
                    "new optimizer, then train on.",
                )
        device = next(result.parameters()).device
        got = _params(result)
        if _same_params(got, _momentum_run(first, second, device, keep_optimizer=True)):
            continue
        if _same_params(got, _momentum_run(first, second, device, keep_optimizer=False)):
            fail(
                f"after {first} + {second} epochs you land where a restart with a fresh "
                "optimizer lands, not where an unbroken run does.",
                "Load the saved optimizer state into the new optimizer (optimizer.load_state_dict) "
                "before training on.",
            )
        fail(
            f"after {first} + {second} epochs your parameters differ from an unbroken run of "
            f"{first + second} epochs.",
            "Start from torch.manual_seed(42) and LinearRegressionModel(), use "
            "SGD(lr=0.01, momentum=0.9) and the default data and split, train `first_epochs`, "
            "save, load into a new model and optimizer, then train `second_epochs` more.",
        )
    passed("resumed training lands exactly where an unbroken run lands.")


# --- Exercise 05.3 ---------------------------------------------------------------------


class _HiddenCode:
    """Unpickling this calls os.mkdir(marker): harmless, but proof that code ran on load."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (os.mkdir, (self.marker,))


@exercise("05.3")
def exercise_05_3(load_if_safe: Callable[[Path], Any]) -> None:
    """Check ``load_if_safe(path)``: a plain file loads, hidden code gives None, no file raises."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        good = folder / "good.pt"
        torch.save({"weights": torch.tensor([0.7]), "bias": torch.tensor([0.3])}, good)
        loaded = run_answer(load_if_safe, good)
        if not (
            isinstance(loaded, dict)
            and set(loaded) == {"weights", "bias"}
            and torch.equal(loaded["weights"].cpu(), torch.tensor([0.7]))
            and torch.equal(loaded["bias"].cpu(), torch.tensor([0.3]))
        ):
            fail(
                "a file holding only tensors did not come back as saved.",
                "When loading with weights_only=True succeeds, return what torch.load returned.",
            )

        marker = folder / "hidden_code_ran"
        bad = folder / "from_the_internet.pt"
        torch.save({"weights": torch.tensor([0.7]), "bias": _HiddenCode(marker)}, bad)
        try:
            result = run_answer(load_if_safe, bad)
            escaped = None
        except (pickle.UnpicklingError, ModelFileError) as error:
            result, escaped = None, error
        if marker.exists():
            fail(
                "the code hidden in the file RAN while your function loaded it.",
                "Pass weights_only=True to torch.load, so that it refuses anything but tensors.",
            )
        if escaped is not None:
            fail(
                f"loading the unsafe file raised {type(escaped).__name__} out of your function.",
                "Catch the error torch.load raises when it refuses a file "
                "(pickle.UnpicklingError) and return None instead.",
            )
        if result is not None:
            fail(
                f"for a file with hidden code your function returned a {type(result).__name__}.",
                "Return None when torch.load refuses the file.",
            )

        missing = folder / "no_such_file.pt"
        try:
            result = run_answer(load_if_safe, missing)
        except FileNotFoundError:
            pass
        except Exception as error:  # noqa: BLE001 - any other error is the wrong answer
            fail(
                f"for a path with no file your function raised {type(error).__name__}, "
                "not FileNotFoundError.",
                "Let torch.load's own FileNotFoundError through: catch only the refusal.",
            )
        else:
            fail(
                f"for a path with no file your function returned {result!r} instead of raising "
                "FileNotFoundError.",
                "Catch only pickle.UnpicklingError (the refusal), not every Exception: a missing "
                "file is a different problem and must still raise its own error.",
            )
    passed(
        "the plain file loaded, the booby-trapped one was refused, nothing ran, and a missing "
        "file still raises FileNotFoundError.",
    )


# --- Exercise 05.4 ---------------------------------------------------------------------


@exercise("05.4")
def exercise_05_4(keep_best: Callable[[Path, int], Any]) -> None:
    """Check ``keep_best(folder, epochs)``: best.pt holds the lowest-test-loss model."""
    for epochs in (100, 40):
        with keeps_random_state(seed=42):
            reference = LinearRegressionModel()
        history = train(
            reference,
            *default_split(),
            epochs=epochs,
            optimizer=_momentum_sgd(reference),
            verbose=False,
        )
        best = int(np.argmin(history.test_loss))  # the first epoch with the lowest test loss
        with tempfile.TemporaryDirectory() as name:
            path = Path(name) / "best.pt"
            with keeps_random_state():
                got = run_answer(keep_best, Path(name), epochs)
            got = _as_float(got, "the lowest test loss")
            if not path.exists():
                fail(
                    "there is no best.pt in the folder your function was given.",
                    "Save with helpers.save_model(model, folder / 'best.pt') whenever the test "
                    "loss reaches a new low.",
                )
            try:
                saved = _params(load_model(line_model(0.0, 0.0), path, map_location="cpu"))
            except ModelFileError:
                fail(
                    "best.pt does not load with helpers.load_model.",
                    "Save just the model's state_dict (helpers.save_model does), not a checkpoint.",
                )
        if abs(got - history.test_loss[best]) > 1e-6:
            fail(
                f"over {epochs} epochs the lowest test loss is {history.test_loss[best]:.6f}, "
                f"you returned {got:.6f}.",
                "Keep track of the lowest test loss seen so far, epoch by epoch.",
            )
        if not _same_params(saved, history.params[best]):
            last = _same_params(saved, history.params[-1])
            fail(
                f"best.pt should hold the model of epoch {best + 1}, where the test loss was lowest.",
                "It holds the final model: save inside the loop, each time the test loss reaches "
                "a new low."
                if last
                else "Save the model right after the epoch whose test loss is the new lowest.",
            )
    passed("best.pt holds the epoch with the lowest test loss.")


# --- Exercise 05.5 ---------------------------------------------------------------------


def _devices_to_try() -> list[torch.device]:
    """The CPU, and the device ``get_device()`` picks when that is another one."""
    devices = [torch.device("cpu")]
    best = get_device()
    if best.type != "cpu":
        devices.append(best)
    return devices


def _saved_locations(path: Path) -> set[str]:
    """The device types the file's tensors were saved from ('cpu', 'cuda', ...)."""
    found: list[str] = []

    def note(storage: Any, location: str) -> Any:
        found.append(location.partition(":")[0])
        return storage

    torch.load(path, map_location=note, weights_only=True)
    return set(found)


def _hand_trained_line(X: torch.Tensor, y: torch.Tensor, steps: int, lr: float) -> torch.Tensor:
    """[w, b] after ``steps`` full-batch steps on the MAE from the seed-42 start, in float64."""
    return torch.cat(mae_descent(X.double(), y.double(), steps, lr))


def _line_of(model: nn.Module) -> torch.Tensor:
    """[w, b] of any one-input line model (LinearRegressionModel, nn.Linear, float64 or not)."""
    probe = torch.tensor([[0.0], [1.0]])
    first = next(model.parameters())
    with torch.inference_mode():
        at = model(probe.to(first.device, first.dtype)).detach().cpu().double().ravel()
    return torch.stack([at[1] - at[0], at[0]])


@exercise("05.5")
def exercise_05_5(train_and_reload: Callable[..., Any]) -> None:
    """Check ``train_and_reload(device, X, y, steps, path) -> model on the CPU``.

    The function trains a seed-42 line on ``device`` by hand (L1 loss, SGD with lr 0.1,
    full batch), saves its state_dict from there to ``path`` and returns a new model loaded
    from the file with ``map_location="cpu"``. It runs on the CPU and, where
    ``get_device()`` picks another device, there too; X and y arrive on the CPU, shape (N, 1).
    """
    lr = 0.1
    X_train, y_train, _, _ = default_split()
    X_noisy, y_noisy = make_linear_data(weight=-0.4, bias=0.9, noise_std=0.1, seed=5)
    for device in _devices_to_try():
        for X, y, steps in [(X_train, y_train, 3), (X_noisy, y_noisy, 20)]:
            X_given, y_given = X.clone(), y.clone()
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "trained_on_device.pt"
                try:
                    with keeps_random_state(), _watching_loads() as loads:
                        result = run_answer(train_and_reload, device, X_given, y_given, steps, path)
                except RuntimeError:
                    if device.type == "cpu":
                        raise
                    fail(
                        f"on the device {device} your function raised a RuntimeError (above).",
                        "The usual cause: one calculation mixes tensors from two devices. Move the "
                        "model (model.to(device)) and the data (X = X.to(device), y = y.to(device), "
                        "keeping the results) before the first prediction.",
                    )
                if not (
                    X_given.device.type == "cpu"
                    and torch.equal(X_given, X)
                    and torch.equal(y_given, y)
                ):
                    fail(
                        "your function changed the X or y it was given.",
                        "Keep the moved data in new names or the same local names "
                        "(X = X.to(device)); never write into the caller's tensors.",
                    )
                result = _require_module(result)
                if not path.exists():
                    fail(
                        "there is no file at the path your function was given.",
                        "After training, torch.save(model.state_dict(), path).",
                    )
                try:
                    locations = _saved_locations(path)
                except pickle.UnpicklingError:
                    fail(
                        "the file does not load with weights_only=True.",
                        "Save model.state_dict() (only tensors), not the model object itself.",
                    )
            if locations and locations != {device.type}:
                fail(
                    f"training was to run on {device.type}, but the file holds tensors saved from "
                    f"{', '.join(sorted(locations))}.",
                    "Move the model to the device before training (model.to(device)), and save "
                    "its state_dict straight from there; map_location brings it back on loading.",
                )
            _refuse_unsafe_loads(loads)
            if not loads:
                fail(
                    "your function never loaded the file it saved (it made no torch.load).",
                    "Return a new model loaded from the file: that is what another machine does.",
                )
            if any(call["map_location"] is None for call in loads):
                fail(
                    "your function loads the file without map_location. A file saved on a GPU "
                    "then only loads on a machine that has that GPU.",
                    'Pass map_location="cpu" to torch.load: the tensors then land on the CPU '
                    "whatever device saved them.",
                )
            off_cpu = {p.device.type for p in result.parameters()} - {"cpu"}
            if off_cpu:
                fail(
                    f"the returned model's parameters are on {', '.join(sorted(off_cpu))}, not the CPU.",
                    "Load the file into a new LinearRegressionModel() (made on the CPU) with "
                    'map_location="cpu", and return that model.',
                )
            got = _line_of(result)
            expected = _hand_trained_line(X, y, steps, lr)
            if not torch.allclose(got, expected, rtol=0, atol=1e-5):
                untrained = torch.allclose(got, _hand_trained_line(X, y, 0, lr), rtol=0, atol=1e-6)
                fail(
                    f"after {steps} steps on {device.type} the line should be "
                    f"w={expected[0]:.4f}, b={expected[1]:.4f}; yours is "
                    f"w={got[0]:.4f}, b={got[1]:.4f}.",
                    "It is still the starting line: run the steps (forward, loss, zero_grad, "
                    "backward, step) before saving."
                    if untrained
                    else "Start from torch.manual_seed(42) and LinearRegressionModel(), use "
                    "nn.L1Loss() on the X and y given, SGD with lr=0.1, and one step per pass "
                    "over all the data: forward, loss, zero_grad, backward, step.",
                )
    passed(
        "trained on the device, saved from there, loaded back on the CPU with the right numbers.",
    )
