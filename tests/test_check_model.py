"""The notebook-02 exercise checks: right answers pass, wrong ones get a hint.

What every check does (unfinished answers, the random state) is in test_check_common.py.
"""

import pytest
import torch
from torch import nn

from helpers import LinearRegressionModel, check
from helpers.check import ExerciseError

# 02.1: count the learnable numbers


def test_02_1_accepts_a_count_of_trainable_numbers(capsys):
    def count(model):
        total = 0
        for p in model.parameters():
            if p.requires_grad:
                total += p.numel()
        return total

    check.exercise_02_1(count)
    assert capsys.readouterr().out.startswith("Exercise 02.1 passed")


def test_02_1_rejects_counting_tensors():
    with pytest.raises(ExerciseError, match=r"counted parameter tensors[\s\S]*numel"):
        check.exercise_02_1(lambda m: len(list(m.parameters())))


def test_02_1_rejects_counting_frozen_numbers():
    def count_all(model):
        return sum(p.numel() for p in model.parameters())

    with pytest.raises(ExerciseError, match=r"bias frozen you counted 9[\s\S]*requires_grad=False"):
        check.exercise_02_1(count_all)


def test_02_1_rejects_a_float_and_a_hard_coded_two():
    with pytest.raises(ExerciseError, match="not a whole number"):
        check.exercise_02_1(lambda m: 2.0)
    with pytest.raises(ExerciseError, match=r"nn.Linear\(3, 2\) you counted 2"):
        check.exercise_02_1(lambda m: 2)


# 02.2: predictions without a graph


def test_02_2_accepts_inference_mode(capsys):
    def predict(model, X):
        model.eval()
        with torch.inference_mode():
            return model(X)

    check.exercise_02_2(predict)
    assert capsys.readouterr().out.startswith("Exercise 02.2 passed")


def test_02_2_rejects_a_recorded_forward_pass():
    def predict(model, X):
        model.eval()
        return model(X)

    with pytest.raises(ExerciseError, match=r"require grad[\s\S]*inference_mode"):
        check.exercise_02_2(predict)


def test_02_2_rejects_training_mode_and_a_new_model():
    def no_eval(model, X):
        with torch.inference_mode():
            return model(X)

    with pytest.raises(ExerciseError, match=r"model.eval\(\)"):
        check.exercise_02_2(no_eval)

    def new_model(model, X):
        with torch.inference_mode():
            return LinearRegressionModel().eval()(X)

    with pytest.raises(ExerciseError, match="do not build or train a new one"):
        check.exercise_02_2(new_model)


def test_02_2_rejects_a_list_of_numbers():
    def as_list(model, X):
        with torch.inference_mode():
            return model.eval()(X).tolist()

    with pytest.raises(ExerciseError, match="not a tensor"):
        check.exercise_02_2(as_list)


# 02.3: the same line with nn.Linear


class LinearVersion(nn.Module):
    def __init__(self):
        super().__init__()
        self.line = nn.Linear(1, 1)

    def forward(self, x):
        return self.line(x)


def copied(model):
    new = LinearVersion()
    with torch.no_grad():
        new.line.weight.copy_(model.weights.reshape(1, 1))
        new.line.bias.copy_(model.bias)
    return new


def test_02_3_accepts_a_copy_made_under_no_grad(capsys):
    check.exercise_02_3(copied)
    assert capsys.readouterr().out.startswith("Exercise 02.3 passed")


def test_02_3_leaves_the_global_random_state_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    check.exercise_02_3(copied)
    assert torch.equal(torch.rand(3), expected)


def test_02_3_turns_the_in_place_error_into_a_hint():
    def copy(model):
        new = LinearVersion()
        new.line.weight.copy_(model.weights.reshape(1, 1))
        return new

    with pytest.raises(ExerciseError, match=r"torch.no_grad\(\)"):
        check.exercise_02_3(copy)


def test_02_3_rejects_an_uncopied_layer_and_swapped_values():
    with pytest.raises(ExerciseError, match="copy model.weights into linear.weight"):
        check.exercise_02_3(lambda model: LinearVersion())

    def swapped(model):
        new = LinearVersion()
        with torch.no_grad():
            new.line.weight.fill_(model.bias.item())
            new.line.bias.fill_(model.weights.item())
        return new

    with pytest.raises(ExerciseError, match="instead of"):
        check.exercise_02_3(swapped)


def test_02_3_rejects_returning_the_original_and_changing_it():
    with pytest.raises(ExerciseError, match="no nn.Linear layer"):
        check.exercise_02_3(lambda model: model)

    def overwrite(model):
        new = LinearVersion()
        with torch.no_grad():
            model.weights.copy_(new.line.weight.reshape(1))
            model.bias.copy_(new.line.bias)
        return new

    with pytest.raises(ExerciseError, match="the model you were given changed"):
        check.exercise_02_3(overwrite)


# 02.4: a quadratic model


class Quadratic(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(1))
        self.b = nn.Parameter(torch.randn(1))
        self.c = nn.Parameter(torch.randn(1))

    def forward(self, x):
        return self.a * x**2 + self.b * x + self.c


def test_02_4_accepts_three_parameters(capsys):
    check.exercise_02_4(Quadratic)
    assert capsys.readouterr().out.startswith("Exercise 02.4 passed")


def test_02_4_rejects_plain_tensors():
    class Plain(Quadratic):
        def __init__(self):
            nn.Module.__init__(self)
            self.a = torch.randn(1, requires_grad=True)
            self.b = torch.randn(1, requires_grad=True)
            self.c = torch.randn(1, requires_grad=True)

    with pytest.raises(
        ExerciseError, match=r"no parameters[\s\S]*a, b, c are plain tensors[\s\S]*nn.Parameter"
    ):
        check.exercise_02_4(Plain)


def test_02_4_rejects_a_wrong_forward():
    class Swapped(Quadratic):
        def forward(self, x):
            return self.c * x**2 + self.b * x + self.a

    with pytest.raises(ExerciseError, match=r"self.a \* x\*\*2"):
        check.exercise_02_4(Swapped)


def test_02_4_rejects_names_shapes_and_item():
    class Named(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = nn.Parameter(torch.randn(3))

    with pytest.raises(ExerciseError, match=r"\['weights'\], not a, b and c"):
        check.exercise_02_4(Named)

    class Scalars(Quadratic):
        def __init__(self):
            nn.Module.__init__(self)
            self.a = nn.Parameter(torch.randn(()))
            self.b = nn.Parameter(torch.randn(()))
            self.c = nn.Parameter(torch.randn(()))

    with pytest.raises(ExerciseError, match=r"shape \(\), not \(1,\)"):
        check.exercise_02_4(Scalars)

    class Item(Quadratic):
        def forward(self, x):
            return self.a * x**2 + self.b * x + self.c.item()

    with pytest.raises(ExerciseError, match=r"c got no gradient[\s\S]*\.item\(\)"):
        check.exercise_02_4(Item)


def test_02_4_rejects_a_reduced_output():
    class Summed(Quadratic):
        def forward(self, x):
            return (self.a * x**2 + self.b * x + self.c).sum()

    with pytest.raises(ExerciseError, match="returned \\(\\)"):
        check.exercise_02_4(Summed)
