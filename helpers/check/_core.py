"""Shared pieces of the exercise checkers: the error a wrong answer raises, the pass line,
a copy of the random state to check on, and a straight-line model with known parameters."""

from __future__ import annotations

import contextlib
import functools
import os
import types
from collections.abc import Callable
from typing import Any

import torch

from ..model import LinearRegressionModel

# Frames from files in this folder are the checkers' own (the spelling of __file__, as in tracebacks).
_CHECK_FOLDER = os.path.join(os.path.dirname(__file__), "")


class ExerciseError(AssertionError):
    """A learner's answer is not right yet; the message says what is wrong and hints at a fix."""


def run_answer(exercise: str, answer: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; an unfinished one raises its own NotImplementedError."""
    if not callable(answer):
        raise ExerciseError(
            f"Exercise {exercise}: pass the function you wrote (its name, without calling it), "
            f"not a {type(answer).__name__}."
        )
    return answer(*args, **kwargs)


def fail(exercise: str, problem: str, hint: str) -> None:
    """Raise the one error a wrong answer gets: what is wrong, then a hint (never the answer)."""
    raise ExerciseError(f"Exercise {exercise}: {problem}\nHint: {hint}")


def passed(exercise: str, detail: str = "") -> None:
    """Print the single line a correct answer gets."""
    print(f"Exercise {exercise} passed{': ' + detail if detail else '.'}")


class keeps_random_state:
    """Run a block, or a whole checker (``@keeps_random_state()``), on a copy of the random state.

    The copy (of the CPU state) starts from ``seed`` when one is given. However the block
    ends, the learner's own state is put back, so checking never shifts a notebook's numbers.
    As a decorator it also cuts the checkers' own frames out of any error's traceback.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._forks: list[contextlib.AbstractContextManager] = []

    def __enter__(self) -> None:
        fork = torch.random.fork_rng(devices=[])
        fork.__enter__()
        self._forks.append(fork)
        if self.seed is not None:
            torch.manual_seed(self.seed)

    def __exit__(self, *exc_info: Any) -> bool | None:
        return self._forks.pop().__exit__(*exc_info)

    def __call__(self, checker: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(checker)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # IPython and pytest leave this frame out of tracebacks
            try:
                with self:
                    return checker(*args, **kwargs)
            except Exception as error:
                error.with_traceback(_without_checker_frames(error.__traceback__))
                raise

        return wrapper


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
