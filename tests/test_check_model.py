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


# Wrong answers that passed before: inputs changed in place, storage shared with the original,
# answers checked on one case only. Right answers written differently still pass.


def test_02_1_accepts_a_numpy_integer():
    import numpy as np

    check.exercise_02_1(
        lambda m: np.int64(sum(p.numel() for p in m.parameters() if p.requires_grad))
    )


def test_02_1_rejects_unfreezing_while_counting():
    def count(model):
        for p in model.parameters():
            p.requires_grad_(True)
        return sum(p.numel() for p in model.parameters() if p.requires_grad) - 3 * (
            len(list(model.parameters())) == 2 and model.bias.shape == (3,)
        )

    with pytest.raises(ExerciseError, match="counting changed nn.Linear"):
        check.exercise_02_1(count)


def predict_properly(model, X):
    model.eval()
    with torch.inference_mode():
        return model(X)


def test_02_2_rejects_zeroing_x_in_place():
    def predict(model, X):
        X.zero_()
        return predict_properly(model, X)

    with pytest.raises(ExerciseError, match=r"changed the X it was given[\s\S]*X.zero_\(\)"):
        check.exercise_02_2(predict)


def test_02_2_rejects_changing_x_in_place():
    def predict(model, X):  # scaled in place, then the scaling undone on the predictions
        X.mul_(2.0)
        return (predict_properly(model, X) + model.bias) / 2

    with pytest.raises(ExerciseError, match="changed the X it was given"):
        check.exercise_02_2(predict)


def test_02_2_rejects_a_hard_coded_line():
    def predict(model, X):
        model.eval()
        return 0.5 * X - 0.25

    with pytest.raises(ExerciseError, match="not weights \\* x \\+ bias"):
        check.exercise_02_2(predict)


def test_02_2_accepts_no_grad_and_float64_inputs(capsys):
    def predict(model, X):
        model.eval()
        with torch.no_grad():
            return model(X.double())

    check.exercise_02_2(predict)
    assert capsys.readouterr().out.startswith("Exercise 02.2 passed")


def test_02_3_rejects_a_weight_that_is_a_view_of_the_original():
    def shared(model):
        new = LinearVersion()
        new.line.weight = nn.Parameter(model.weights.detach().view(1, 1))
        new.line.bias = nn.Parameter(model.bias.detach())
        return new

    with pytest.raises(ExerciseError, match=r"shares memory[\s\S]*changed the original"):
        check.exercise_02_3(shared)


def test_02_3_rejects_data_assignment():
    def shared(model):
        new = LinearVersion()
        new.line.weight.data = model.weights.data.view(1, 1)
        new.line.bias.data = model.bias.data
        return new

    with pytest.raises(ExerciseError, match=r"shares memory[\s\S]*\.copy_"):
        check.exercise_02_3(shared)


def test_02_3_rejects_a_bias_that_is_the_original_parameter():
    def shared(model):
        new = copied(model)
        new.line.bias = model.bias  # the very same Parameter: one storage, two models
        return new

    with pytest.raises(ExerciseError, match="shares memory"):
        check.exercise_02_3(shared)


def test_02_3_rejects_a_layer_made_in_inference_mode():
    def frozen_copy(model):
        with torch.inference_mode():
            return copied(model)

    with pytest.raises(ExerciseError, match=r"inference tensors[\s\S]*torch.no_grad\(\)"):
        check.exercise_02_3(frozen_copy)


def test_02_3_rejects_a_float64_layer():
    def double(model):
        return copied(model).double()

    with pytest.raises(ExerciseError, match="float64, but the original's are torch.float32"):
        check.exercise_02_3(double)


def test_02_3_hint_for_the_in_place_error_hides_torchs_own_traceback():
    def copy(model):
        new = LinearVersion()
        new.line.weight.copy_(model.weights.reshape(1, 1))
        new.line.bias.copy_(model.bias)
        return new

    with pytest.raises(ExerciseError, match="raised RuntimeError") as caught:
        check.exercise_02_3(copy)
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_02_3_passes_other_errors_through():
    def broken(model):
        raise RuntimeError("my own bug")

    with pytest.raises(RuntimeError, match="my own bug"):
        check.exercise_02_3(broken)


def test_02_3_accepts_a_bare_nn_linear_and_copying_in_inference_mode(capsys):
    def bare(model):
        layer = nn.Linear(1, 1)
        with torch.no_grad():
            layer.weight.fill_(model.weights.item())
            layer.bias.fill_(model.bias.item())
        return layer

    def in_inference_mode(model):
        new = LinearVersion()  # built outside: its parameters are ordinary tensors
        with torch.inference_mode():
            new.line.weight.copy_(model.weights.reshape(1, 1))
            new.line.bias.copy_(model.bias)
        return new

    def state_dict_copy(model):
        new = LinearVersion()
        new.load_state_dict({"line.weight": model.weights.reshape(1, 1), "line.bias": model.bias})
        return new

    for answer in (bare, in_inference_mode, state_dict_copy):
        check.exercise_02_3(answer)
    assert capsys.readouterr().out.count("Exercise 02.3 passed") == 3


def test_02_4_rejects_fixed_and_seeded_starting_values():
    class Zeros(Quadratic):
        def __init__(self):
            nn.Module.__init__(self)
            self.a = nn.Parameter(torch.zeros(1))
            self.b = nn.Parameter(torch.zeros(1))
            self.c = nn.Parameter(torch.zeros(1))

    class Seeded(Quadratic):
        def __init__(self):
            torch.manual_seed(0)
            super().__init__()

    for model in (Zeros, Seeded):
        with pytest.raises(ExerciseError, match=r"exactly the same a, b and c[\s\S]*randn"):
            check.exercise_02_4(model)


def test_02_4_rejects_a_forward_that_changes_x():
    class InPlace(Quadratic):
        def forward(self, x):
            x_squared = x.pow_(2)
            return self.a * x_squared + self.b * x_squared.sqrt() + self.c

    with pytest.raises(ExerciseError, match="forward changed the x it was given"):
        check.exercise_02_4(InPlace)


def test_02_4_accepts_float64_parameters(capsys):
    class Double(Quadratic):
        def __init__(self):
            nn.Module.__init__(self)
            self.a = nn.Parameter(torch.randn(1, dtype=torch.float64))
            self.b = nn.Parameter(torch.randn(1, dtype=torch.float64))
            self.c = nn.Parameter(torch.randn(1, dtype=torch.float64))

    check.exercise_02_4(Double)
    assert capsys.readouterr().out.startswith("Exercise 02.4 passed")
