"""Shared pieces of the exercise checkers: the error a wrong answer raises, the pass line,
a copy of the random state to check on, and a straight-line model with known parameters."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import torch

from ..model import LinearRegressionModel

# A checker's frames are set ``__tracebackhide__ = True``: IPython (and pytest) then leave them
# out of a traceback, so a learner sees their own cell and the message, not the checker's code.


class ExerciseError(AssertionError):
    """A learner's answer is not right yet; the message says what is wrong and hints at a fix."""


def run_answer(exercise: str, answer: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; an unfinished one raises its own NotImplementedError."""
    __tracebackhide__ = True
    if not callable(answer):
        raise ExerciseError(
            f"Exercise {exercise}: pass the function you wrote (its name, without calling it), "
            f"not a {type(answer).__name__}."
        )
    return answer(*args, **kwargs)


def fail(exercise: str, problem: str, hint: str) -> None:
    """Raise the one error a wrong answer gets: what is wrong, then a hint (never the answer)."""
    __tracebackhide__ = True
    raise ExerciseError(f"Exercise {exercise}: {problem}\nHint: {hint}")


def passed(exercise: str, detail: str = "") -> None:
    """Print the single line a correct answer gets."""
    print(f"Exercise {exercise} passed{': ' + detail if detail else '.'}")


class keeps_random_state:
    """Run a block, or a whole checker (``@keeps_random_state()``), on a copy of the random state.

    The copy (of the CPU state) starts from ``seed`` when one is given. However the block
    ends, the learner's own state is put back, so checking never shifts a notebook's numbers.
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
            __tracebackhide__ = True
            with self:
                return checker(*args, **kwargs)

        return wrapper


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
