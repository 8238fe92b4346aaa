"""What every exercise check does, whatever its notebook.

An unfinished answer's own NotImplementedError comes through, a value passed instead of
the function is explained, the learner's random state is the same after a check (even when
the answer reseeds it), and every checker a module defines is exported. The tests run over
every ``exercise_*`` name in ``helpers.check.__all__``, so a new checker is covered without
being listed here.
"""

import importlib
import pkgutil
import re

import pytest
import torch
from torch import nn

from helpers import check
from helpers.check import ExerciseError, _core

EXERCISES = [name for name in check.__all__ if name.startswith("exercise_")]


def unfinished(*args, **kwargs):
    raise NotImplementedError("Exercise: not done yet")


class UnfinishedModel(nn.Module):
    def __init__(self):
        super().__init__()
        raise NotImplementedError("Exercise: not done yet")


#: The unfinished answer of an exercise whose answer is not a function (02.4 takes a class).
UNFINISHED = {"exercise_02_4": UnfinishedModel}


def label(exercise):
    """``exercise_04_2`` -> ``04.2``, as the checker's messages name it."""
    return exercise.removeprefix("exercise_").replace("_", ".")


def checker_modules():
    return [
        importlib.import_module(f"{check.__name__}.{info.name}")
        for info in pkgutil.iter_modules(check.__path__)
        if not info.name.startswith("_")
    ]


def test_every_checker_a_module_defines_is_exported():
    modules = checker_modules()
    assert modules
    defined = {}
    for module in modules:
        names = [
            name
            for name, value in vars(module).items()
            if name.startswith("exercise_")
            and getattr(value, "__module__", None) == module.__name__
        ]
        assert names, f"{module.__name__} defines no exercise_* checker"
        assert len({name[: len("exercise_NN")] for name in names}) == 1, names  # one notebook
        defined.update({name: getattr(module, name) for name in names})
    assert sorted(check.__all__) == sorted(["ExerciseError", *defined])
    for name, checker in defined.items():
        assert re.fullmatch(r"exercise_\d\d_\d", name)
        assert getattr(check, name) is checker


def test_every_special_unfinished_answer_belongs_to_an_exercise():
    assert set(UNFINISHED) <= set(EXERCISES)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_unfinished_answer_raises_its_own_error(exercise):
    with pytest.raises(NotImplementedError, match="not done yet"):
        getattr(check, exercise)(UNFINISHED.get(exercise, unfinished))


@pytest.mark.parametrize(
    "called", [0.03, (torch.zeros(2, 1), torch.zeros(2, 1))], ids=["float", "tuple"]
)
@pytest.mark.parametrize("exercise", EXERCISES)
def test_passing_what_the_function_returns_is_explained(exercise, called):
    expected = (
        f"Exercise {label(exercise)}: pass the function you wrote (its name, without calling "
        f"it), not a {type(called).__name__}."
    )
    with pytest.raises(ExerciseError, match=f"^{re.escape(expected)}$"):
        getattr(check, exercise)(called)


def reseeding_wrong_answer(*args, **kwargs):
    """A wrong answer that, like many real ones, seeds and draws from the global generator."""
    torch.manual_seed(0)
    torch.rand(5)
    return "not an answer"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_check_leaves_the_random_state_alone(exercise):
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    with pytest.raises(ExerciseError, match=rf"^Exercise {re.escape(label(exercise))}: "):
        getattr(check, exercise)(reseeding_wrong_answer)
    assert torch.equal(torch.rand(3), expected)


def float64_setting_wrong_answer(*args, **kwargs):
    """A wrong answer that switches torch's default dtype, as a learner's experiment might."""
    torch.set_default_dtype(torch.float64)
    return "not an answer"


@pytest.mark.parametrize("learners_dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_check_leaves_the_default_dtype_alone(exercise, learners_dtype):
    torch.set_default_dtype(learners_dtype)
    try:
        with pytest.raises(ExerciseError, match=rf"^Exercise {re.escape(label(exercise))}: "):
            getattr(check, exercise)(float64_setting_wrong_answer)
        assert torch.get_default_dtype() == learners_dtype
    finally:
        torch.set_default_dtype(torch.float32)


def runs_forever(*args, **kwargs):
    while True:
        pass


class BuildsForever(nn.Module):
    def __init__(self):
        super().__init__()
        runs_forever()


@pytest.mark.parametrize("exercise", EXERCISES)
def test_an_answer_that_never_returns_is_stopped_with_a_message(exercise, monkeypatch):
    monkeypatch.setattr(_core, "ANSWER_SECONDS", 0.01)
    answer = BuildsForever if exercise in UNFINISHED else runs_forever
    with pytest.raises(ExerciseError, match=r"still running after 0\.01 seconds[\s\S]*Hint: "):
        getattr(check, exercise)(answer)


def test_the_time_limit_puts_back_a_longer_alarm_set_before_it():
    import signal

    previous = signal.signal(signal.SIGALRM, lambda *_: None)
    signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        assert _core.run_answer(lambda: 5) == 5
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25.0 < left <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
