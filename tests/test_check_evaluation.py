"""The notebook-04 exercise checks: right answers pass, wrong ones get a hint.

What every check does (unfinished answers, the random state) is in test_check_common.py.
"""

import pytest
import torch

from helpers import LinearRegressionModel, check, make_linear_data, split_data, train
from helpers.check import ExerciseError


def assert_passed(capsys, exercise):
    out = capsys.readouterr().out
    assert out.startswith(f"Exercise {exercise} passed") and out.count("\n") == 1


# 04.1: R² by hand


def test_04_1_accepts_sums_or_means_and_a_tensor_result(capsys):
    def r2_sums(y_true, y_pred):
        return 1 - ((y_true - y_pred) ** 2).sum() / ((y_true - y_true.mean()) ** 2).sum()

    def r2_means(y_true, y_pred):
        return (1 - ((y_true - y_pred) ** 2).mean() / y_true.var(correction=0)).item()

    check.exercise_04_1(r2_sums)
    assert_passed(capsys, "04.1")
    check.exercise_04_1(r2_means)
    assert_passed(capsys, "04.1")


def test_04_1_spread_around_zero_gets_the_mean_hint():
    def around_zero(y_true, y_pred):
        return (1 - ((y_true - y_pred) ** 2).sum() / (y_true**2).sum()).item()

    with pytest.raises(
        ExerciseError, match="(?s)always predicting the mean.*spread around their mean"
    ):
        check.exercise_04_1(around_zero)


def test_04_1_clipping_at_zero_is_caught():
    def clipped(y_true, y_pred):
        r2 = 1 - ((y_true - y_pred) ** 2).sum() / ((y_true - y_true.mean()) ** 2).sum()
        return max(0.0, r2.item())

    with pytest.raises(ExerciseError, match="(?s)should be -3.0000.*no lower limit"):
        check.exercise_04_1(clipped)


def test_04_1_spread_of_the_predictions_gets_the_division_hint():
    def swapped(y_true, y_pred):
        return (1 - ((y_true - y_pred) ** 2).sum() / ((y_pred - y_pred.mean()) ** 2).sum()).item()

    with pytest.raises(ExerciseError, match="division by zero"):
        check.exercise_04_1(swapped)


def test_04_1_a_list_is_not_a_number():
    with pytest.raises(ExerciseError, match=r"(?s)should be a single number.*\.item\(\)"):
        check.exercise_04_1(lambda y_true, y_pred: [1.0])


# 04.2: the gap to the least-squares line


def mse(model, X, y):
    with torch.inference_mode():
        return ((model(X) - y) ** 2).mean().item()


def best_line(X, y):
    A = torch.cat([X, torch.ones_like(X)], dim=1)
    return torch.linalg.lstsq(A, y).solution


def test_04_2_accepts_the_mse_difference(capsys):
    def gap(model, X, y):
        w, b = best_line(X, y)
        return mse(model, X, y) - ((w * X + b - y) ** 2).mean().item()

    check.exercise_04_2(gap)
    assert_passed(capsys, "04.2")


def test_04_2_the_wrong_way_round_is_negative():
    def reversed_gap(model, X, y):
        w, b = best_line(X, y)
        return ((w * X + b - y) ** 2).mean().item() - mse(model, X, y)

    with pytest.raises(ExerciseError, match="(?s)negative.*gap is 0 or more"):
        check.exercise_04_2(reversed_gap)


def test_04_2_a_parameter_distance_is_not_the_gap():
    def parameter_gap(model, X, y):
        w, b = best_line(X, y)
        return (abs(model.weights - w) + abs(model.bias - b)).item()

    with pytest.raises(ExerciseError, match="Compare mean squared errors"):
        check.exercise_04_2(parameter_gap)


def test_04_2_changing_the_model_is_caught():
    def overwrite(model, X, y):
        w, b = best_line(X, y)
        with torch.no_grad():
            model.weights.copy_(w)
            model.bias.copy_(b)
        return 0.0

    with pytest.raises(ExerciseError, match="changed the model's parameters"):
        check.exercise_04_2(overwrite)


# 04.3: residual statistics


@pytest.mark.parametrize("correction", [0, 1])
def test_04_3_accepts_either_std_convention(capsys, correction):
    def stats(y_true, y_pred):
        r = y_true - y_pred
        return {"mean": r.mean(), "std": r.std(correction=correction), "max_abs": r.abs().max()}

    check.exercise_04_3(stats)
    assert_passed(capsys, "04.3")


def test_04_3_prediction_minus_target_gets_the_sign_hint():
    def flipped(y_true, y_pred):
        r = y_pred - y_true
        return {"mean": r.mean(), "std": r.std(), "max_abs": r.abs().max()}

    with pytest.raises(ExerciseError, match="target minus the prediction"):
        check.exercise_04_3(flipped)


def test_04_3_max_without_abs_is_caught():
    def signed_max(y_true, y_pred):
        r = y_true - y_pred
        return {"mean": r.mean(), "std": r.std(), "max_abs": r.max()}

    with pytest.raises(ExerciseError, match="(?s)max_abs should be 1.0000.*absolute values"):
        check.exercise_04_3(signed_max)


def test_04_3_missing_keys_are_named():
    with pytest.raises(ExerciseError, match="'max_abs'"):
        check.exercise_04_3(lambda y_true, y_pred: {"mean": 0.0, "std": 0.0})


# 04.4: a shuffled split


def trained_maes(shuffle, seed, *, train_first=True):
    X_train, y_train, X_test, y_test = split_data(*make_linear_data(), shuffle=shuffle, seed=seed)
    torch.manual_seed(42)
    model = LinearRegressionModel()
    if train_first:
        train(model, X_train, y_train, X_test, y_test, verbose=False)
    model.eval()
    with torch.inference_mode():
        return {
            "train_mae": (model(X_train) - y_train).abs().mean().item(),
            "test_mae": (model(X_test) - y_test).abs().mean().item(),
        }


def test_04_4_accepts_the_trained_model(capsys):
    check.exercise_04_4(lambda shuffle, seed=0: trained_maes(shuffle, seed))
    assert_passed(capsys, "04.4")


def test_04_4_ignoring_shuffle_gets_the_split_hint():
    with pytest.raises(ExerciseError, match="(?s)shuffle=True.*Pass shuffle and seed"):
        check.exercise_04_4(lambda shuffle, seed=0: trained_maes(False, seed))


def test_04_4_measuring_before_training_is_caught():
    with pytest.raises(ExerciseError, match="(?s)shuffle=False.*after training"):
        check.exercise_04_4(lambda shuffle, seed=0: trained_maes(shuffle, seed, train_first=False))


# Inputs written into in place, and right answers written differently


def test_04_1_an_in_place_subtraction_is_caught():
    def in_place(y_true, y_pred):
        y_pred -= y_true  # the errors, written over the predictions
        return (1 - (y_pred**2).sum() / ((y_true - y_true.mean()) ** 2).sum()).item()

    with pytest.raises(ExerciseError, match="changed a tensor it was given"):
        check.exercise_04_1(in_place)


def test_04_2_centring_x_in_place_is_caught():
    def centres(model, X, y):
        shift = X.mean()
        X -= shift  # "centre x first", in the caller's tensor
        A = torch.cat([X, torch.ones_like(X)], dim=1)
        w, b = torch.linalg.lstsq(A, y).solution
        best = ((w * X + b - y) ** 2).mean().item()
        return mse(model, X + shift, y) - best

    with pytest.raises(ExerciseError, match="changed a tensor it was given"):
        check.exercise_04_2(centres)


def test_04_3_an_in_place_residual_is_caught():
    def in_place(y_true, y_pred):
        r = y_true.sub_(y_pred)
        return {"mean": r.mean(), "std": r.std(), "max_abs": r.abs().max()}

    with pytest.raises(ExerciseError, match="changed a tensor it was given"):
        check.exercise_04_3(in_place)


def test_04_1_accepts_numpy_and_float64(capsys):
    def r2_numpy(y_true, y_pred):
        t, p = y_true.numpy(), y_pred.numpy()
        return 1 - ((t - p) ** 2).sum() / ((t - t.mean()) ** 2).sum()

    def r2_float64(y_true, y_pred):
        t, p = y_true.double(), y_pred.double()
        return 1 - ((t - p) ** 2).mean() / t.var(correction=0)

    for answer in (r2_numpy, r2_float64):
        check.exercise_04_1(answer)
        assert_passed(capsys, "04.1")


def test_04_2_accepts_numpy_polyfit(capsys):
    import numpy as np

    def gap_numpy(model, X, y):
        x, t = X.double().numpy().ravel(), y.double().numpy().ravel()
        slope, intercept = np.polyfit(x, t, 1)
        with torch.inference_mode():
            p = model(X).double().numpy().ravel()
        return np.mean((p - t) ** 2) - np.mean((slope * x + intercept - t) ** 2)

    check.exercise_04_2(gap_numpy)
    assert_passed(capsys, "04.2")


def test_04_3_accepts_numpy_values(capsys):
    def stats_numpy(y_true, y_pred):
        r = (y_true - y_pred).numpy()
        return {"mean": r.mean(), "std": r.std(ddof=1), "max_abs": abs(r).max()}

    check.exercise_04_3(stats_numpy)
    assert_passed(capsys, "04.3")
