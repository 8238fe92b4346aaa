"""Self-checks for the notebooks' exercises: ``check.exercise_NN_K(your_function)``.

Each checker calls the learner's function, compares what it returns with an independent
answer (a closed form or known values, never the solution's code), prints one line when
it is right and raises :class:`ExerciseError` with a hint when it is not. One module per
notebook.
"""

from ._core import ExerciseError

__all__ = ["ExerciseError"]
