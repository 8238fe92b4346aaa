"""Self-checks for the notebooks' exercises: ``check.exercise_NN_K(your_function)``.

Each checker calls the learner's function, compares what it returns with an independent
answer (a closed form or known values, never the solution's code), prints one line when
it is right and raises :class:`ExerciseError` with a hint when it is not. Every checker runs
on a copy of the random state, so checking never shifts the numbers a notebook prints later.
One module per notebook.
"""

from ._core import ExerciseError
from .data import exercise_01_1, exercise_01_2, exercise_01_3, exercise_01_4
from .evaluation import exercise_04_1, exercise_04_2, exercise_04_3, exercise_04_4
from .model import exercise_02_1, exercise_02_2, exercise_02_3, exercise_02_4
from .real_data import exercise_06_1, exercise_06_2, exercise_06_3
from .save_load import (
    exercise_05_1,
    exercise_05_2,
    exercise_05_3,
    exercise_05_4,
    exercise_05_5,
)
from .training import exercise_03_1, exercise_03_2, exercise_03_3, exercise_03_4

__all__ = [
    "ExerciseError",
    "exercise_01_1",
    "exercise_01_2",
    "exercise_01_3",
    "exercise_01_4",
    "exercise_02_1",
    "exercise_02_2",
    "exercise_02_3",
    "exercise_02_4",
    "exercise_03_1",
    "exercise_03_2",
    "exercise_03_3",
    "exercise_03_4",
    "exercise_04_1",
    "exercise_04_2",
    "exercise_04_3",
    "exercise_04_4",
    "exercise_05_1",
    "exercise_05_2",
    "exercise_05_3",
    "exercise_05_4",
    "exercise_05_5",
    "exercise_06_1",
    "exercise_06_2",
    "exercise_06_3",
]
