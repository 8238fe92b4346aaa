"""Shared pieces of the exercise checkers: the error a wrong answer raises, and the pass line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


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
