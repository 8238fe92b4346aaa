"""What every exercise check does, whatever its notebook.

An unfinished answer gets one friendly line (no traceback, no error), a value passed instead of
the function is explained, the learner's random state is the same after a check (even when
the answer reseeds it), and every checker a module defines is exported. The tests run over
every ``exercise_*`` name in ``helpers.check.__all__``, so a new checker is covered without
being listed here.
"""

import importlib
import json
import pkgutil
import re
import traceback
from pathlib import Path

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


def _stub_names():
    """The names of the functions and classes the notebooks' exercise cells hand to a check."""
    names = set()
    for notebook in (Path(__file__).parent.parent / "notebooks").glob("*.ipynb"):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            names.update(re.findall(r"check\.exercise_\d\d_\d\((\w+)\)", source))
    return names


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
def test_an_unfinished_answer_gets_one_friendly_line_and_no_error(exercise, capsys):
    answer = UNFINISHED.get(exercise, unfinished)
    assert getattr(check, exercise)(answer) is None
    out, err = capsys.readouterr()
    name = answer.__name__
    assert out == (
        f"Exercise {label(exercise)} is not done yet: write {name} above and run this cell again.\n"
    )
    assert err == "" and len(out.rstrip("\n")) <= 88


def test_the_unfinished_line_fits_for_every_notebook_stub():
    names = _stub_names()
    assert len(names) >= len(EXERCISES) - 1  # one stub name is shared by two exercises
    for name in names:
        assert len(_core.unfinished_line("04.2", name)) <= 88, name


def test_a_not_implemented_error_from_torch_is_a_wrong_answer_not_a_stub():
    class NoForward(nn.Module):  # forgot forward: torch's Module raises NotImplementedError
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = (nn.Parameter(torch.randn(1)) for _ in range(3))

    with pytest.raises(NotImplementedError, match="forward") as raised:
        check.exercise_02_4(NoForward)
    files = [entry.filename for entry in traceback.extract_tb(raised.value.__traceback__)]
    assert not any("helpers/check" in file for file in files), files


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
