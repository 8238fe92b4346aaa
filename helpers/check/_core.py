"""What every exercise checker shares, so that a checker holds only its cases and hints.

``@exercise("03.4")`` makes a function a checker: it runs on a copy of the learner's random
state and default dtype, its own frames are cut from tracebacks, and inside it ``fail``,
``passed`` and ``run_answer`` name the exercise. ``run_answer`` calls the learner's function
under a time limit; ``line_model`` is a straight-line model with known parameters and
``default_split`` the course's default data, split as the notebooks split it;
``least_squares_line`` is the best straight line through points, in closed form, and
``unwrapped`` takes the number out of a one-element tensor or array, ``flat64`` a tensor's
values out as a flat float64 array; ``mae_descent`` is
gradient descent on the mean absolute error, the gradient written out.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import signal
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..data import make_linear_data, split_data
from ..model import LinearRegressionModel

# Frames from files in this folder are the checkers' own (the spelling of __file__, as in tracebacks).
_CHECK_FOLDER = os.path.join(os.path.dirname(__file__), "")

# Frames from these folders are library code: a NotImplementedError raised there is not a stub's.
_LIBRARY_FOLDERS = tuple(
    os.path.join(folder, "")
    for folder in (os.path.dirname(torch.__file__), os.path.dirname(np.__file__))
) + (os.path.join(os.path.dirname(os.path.dirname(__file__)), ""),)

_LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("exercise", default="?")

#: Seconds a learner's function may run before the check stops it (every answer needs < 5).
ANSWER_SECONDS = 60.0


class ExerciseError(AssertionError):
    """A learner's answer is not right yet; the message says what is wrong and hints at a fix."""


def exercise(label: str, *, seed: int | None = None) -> Callable[[Callable], Callable]:
    """Decorate the checker of exercise ``label`` (e.g. ``"03.4"``).

    The checker runs inside :class:`keeps_random_state` (from ``seed`` if given), with
    ``label`` as the exercise that ``fail``, ``passed`` and ``run_answer`` name, and any error
    it raises reaches the learner without the checkers' own traceback frames. A stub's own
    NotImplementedError (raised in the learner's code, not in a library) prints
    :func:`unfinished_line` instead: no traceback, and the notebook runs on.
    """

    def decorate(checker: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(checker)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # IPython and pytest leave this frame out of tracebacks
            token = _LABEL.set(label)
            try:
                with keeps_random_state(seed):
                    return checker(*args, **kwargs)
            except NotImplementedError as error:
                if not _raised_by_learner(error.__traceback__):
                    error.with_traceback(_without_checker_frames(error.__traceback__))
                    raise
                name = getattr(args[0] if args else None, "__name__", "your function")
                print(unfinished_line(label, name))
                return None
            except Exception as error:
                error.with_traceback(_without_checker_frames(error.__traceback__))
                raise
            finally:
                _LABEL.reset(token)

        return wrapper

    return decorate


def unfinished_line(label: str, name: str) -> str:
    """The one line an exercise whose stub still raises NotImplementedError gets."""
    return f"Exercise {label} is not done yet: write {name} above and run this cell again."


def _raised_by_learner(tb: types.TracebackType | None) -> bool:
    """Whether the innermost frame is the learner's (a stub), not torch's, NumPy's or ours."""
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_filename if tb is not None else ""
    return not where.startswith(_LIBRARY_FOLDERS)


def run_answer(answer: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function (an unfinished one's NotImplementedError is ``exercise``'s).

    One that is still running after ``ANSWER_SECONDS`` is stopped with an ExerciseError
    (where the platform has ``SIGALRM`` and the check runs in the main thread, as in a kernel).
    """
    if not callable(answer):
        raise ExerciseError(
            f"Exercise {_LABEL.get()}: pass the function you wrote (its name, without calling it), "
            f"not a {type(answer).__name__}."
        )
    with _time_limit(ANSWER_SECONDS):
        return answer(*args, **kwargs)


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise ExerciseError in the running code after ``seconds``; an earlier alarm is kept."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    earlier = signal.getitimer(signal.ITIMER_REAL) if usable else (0.0, 0.0)
    if not usable or 0 < earlier[0] <= seconds:  # no alarms here, or one already comes first
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        __tracebackhide__ = True
        fail(
            f"your function was still running after {seconds:g} seconds, so the check stopped it.",
            "look for a loop whose condition never turns false, or many more epochs than the "
            "exercise asks for. If a cell ever hangs, interrupt the kernel (the square button).",
        )

    previous = signal.signal(signal.SIGALRM, stop)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if earlier[0] > 0:  # put back a longer alarm set by someone else (e.g. pytest-timeout)
            left = max(earlier[0] - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, earlier[1])


def fail(problem: str, hint: str) -> None:
    """Raise the one error a wrong answer gets: what is wrong, then a hint (never the answer)."""
    raise ExerciseError(f"Exercise {_LABEL.get()}: {problem}\nHint: {hint}")


def passed(detail: str = "") -> None:
    """Print the single line a correct answer gets."""
    print(f"Exercise {_LABEL.get()} passed{': ' + detail if detail else '.'}")


class keeps_random_state:
    """Run a block on a copy of the learner's random state and default dtype.

    The copy of the (CPU) random state starts from ``seed`` when one is given, and the block
    runs with torch's default dtype float32, the course's. However the block ends, the
    learner's own random state and default dtype are put back, so checking never shifts a
    notebook's numbers, and a learner who set float64 gets the same verdict as one who did not.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._saved: list[tuple[contextlib.AbstractContextManager, torch.dtype]] = []

    def __enter__(self) -> None:
        fork = torch.random.fork_rng(devices=[])
        fork.__enter__()
        self._saved.append((fork, torch.get_default_dtype()))
        torch.set_default_dtype(torch.float32)
        if self.seed is not None:
            torch.manual_seed(self.seed)

    def __exit__(self, *exc_info: Any) -> bool | None:
        fork, dtype = self._saved.pop()
        torch.set_default_dtype(dtype)
        return fork.__exit__(*exc_info)


def _without_checker_frames(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback minus the checkers' own frames: a learner sees their cell and the message."""
    kept = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_CHECK_FOLDER):
            kept.append(tb)
        tb = tb.tb_next
    trimmed = None
    for frame in reversed(kept):
        trimmed = types.TracebackType(trimmed, frame.tb_frame, frame.tb_lasti, frame.tb_lineno)
    return trimmed


def line_model(weight: float, bias: float) -> LinearRegressionModel:
    """A LinearRegressionModel set to ``weight`` and ``bias``.

    Its random starting values, overwritten at once, are drawn on a copy of the random
    state, so making it uses up none of the learner's random numbers.
    """
    with keeps_random_state():
        model = LinearRegressionModel()
    with torch.no_grad():
        model.weights.fill_(weight)
        model.bias.fill_(bias)
    return model


def default_split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """X_train, y_train, X_test, y_test of the notebooks' default line, split in order."""
    return split_data(*make_linear_data())


def flat64(tensor: torch.Tensor) -> np.ndarray:
    """A tensor's values (any device, with grad or not) as a flat float64 NumPy array."""
    return tensor.detach().to("cpu", torch.float64).numpy().reshape(-1)


def least_squares_line(X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Slope and intercept minimising the squared error, from covariance over variance (float64)."""
    x, t = flat64(X), flat64(y)
    slope = float(np.mean((x - x.mean()) * (t - t.mean())) / np.mean((x - x.mean()) ** 2))
    return slope, float(t.mean() - slope * x.mean())


def unwrapped(value: Any) -> Any:
    """The Python number in a one-element tensor (any device) or NumPy array; else ``value``."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.item()
    return value


def mae_descent(
    X: torch.Tensor, y: torch.Tensor, steps: int, lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """w and b (shape (1,), in X's dtype) after ``steps`` full-batch steps on the MAE.

    They start where the seed-42 LinearRegressionModel starts. The gradient of
    mean(|w*x + b - y|) is mean(sign(r) * x) for w and mean(sign(r)) for b, where r is the
    prediction minus the target.
    """
    with keeps_random_state(seed=42):
        w, b = torch.randn(1).to(X.dtype), torch.randn(1).to(X.dtype)
    for _ in range(steps):
        sign = torch.sign(w * X + b - y)
        w, b = w - lr * (sign * X).mean(), b - lr * sign.mean()
    return w, b
