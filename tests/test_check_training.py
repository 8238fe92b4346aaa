"""The notebook-03 exercise checks: right answers pass, wrong ones get a hint.

What every check does (unfinished answers, the random state) is in test_check_common.py.
"""

import pytest
import torch
from torch import nn

import helpers.check.training as training_checks
from helpers import LinearRegressionModel, check, get_device, train
from helpers.check import ExerciseError


def line_model(weight, bias):
    model = LinearRegressionModel()
    with torch.no_grad():
        model.weights.fill_(weight)
        model.bias.fill_(bias)
    return model


def seeded_model():
    torch.manual_seed(42)
    return LinearRegressionModel()


def gradient_descent(model, X, y, loss_fn, lr, epochs):
    """A plain full-batch loop, written out here so the tests do not lean on helpers.train."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


# 03.1: fit y = 0.3x + 0.9


def test_03_1_accepts_a_model_trained_long_enough(capsys):
    def fit_line(X_train, y_train, X_test, y_test):
        return gradient_descent(seeded_model(), X_train, y_train, nn.L1Loss(), 0.01, 300)

    check.exercise_03_1(fit_line)
    out = capsys.readouterr().out
    assert out.startswith("Exercise 03.1 passed") and out.count("\n") == 1


def test_03_1_accepts_the_exact_line():
    check.exercise_03_1(lambda *data: line_model(0.3, 0.9))


def test_03_1_says_the_default_epochs_stop_too_early():
    def fit_line(X_train, y_train, X_test, y_test):
        return gradient_descent(seeded_model(), X_train, y_train, nn.L1Loss(), 0.01, 100)

    with pytest.raises(ExerciseError, match=r"y = 0\.5261x \+ 0\.8031[\s\S]*Hint: .*more epochs"):
        check.exercise_03_1(fit_line)


def test_03_1_notices_an_untrained_model():
    with pytest.raises(ExerciseError, match=r"starting values[\s\S]*Hint: train the model"):
        check.exercise_03_1(lambda *data: seeded_model())


def test_03_1_wants_the_model_back():
    def fit_line(X_train, y_train, X_test, y_test):
        model = gradient_descent(seeded_model(), X_train, y_train, nn.L1Loss(), 0.01, 300)
        model.weights.item()  # forgot to return it

    with pytest.raises(ExerciseError, match=r"type NoneType[\s\S]*Hint: return the model"):
        check.exercise_03_1(fit_line)


def test_03_1_reports_a_line_that_blew_up():
    with pytest.raises(ExerciseError, match=r"not a finite number[\s\S]*smaller learning rate"):
        check.exercise_03_1(lambda *data: line_model(float("nan"), 0.9))


# 03.2: mean squared error


def mse_history(model, X_train, y_train, X_test, y_test, lr=0.1, loss_fn=None):
    loss_fn = nn.MSELoss() if loss_fn is None else loss_fn
    return train(model, X_train, y_train, X_test, y_test, lr=lr, loss_fn=loss_fn, verbose=False)


def test_03_2_accepts_training_with_mse(capsys):
    check.exercise_03_2(mse_history)
    assert capsys.readouterr().out.startswith("Exercise 03.2 passed")


def test_03_2_accepts_a_hand_made_history_of_mse_losses():
    class Record:
        def __init__(self):
            self.train_loss, self.test_loss = [], []

    def by_hand(model, X_train, y_train, X_test, y_test):
        record = Record()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(50):
            loss = ((model(X_train) - y_train) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                test = ((model(X_test) - y_test) ** 2).mean()
            record.train_loss.append(loss.item())
            record.test_loss.append(test.item())
        return record

    check.exercise_03_2(by_hand)


def test_03_2_spots_the_default_l1_loss():
    def with_l1(model, *data):
        return mse_history(model, *data, loss_fn=nn.L1Loss())

    with pytest.raises(ExerciseError, match=r"mean absolute error[\s\S]*loss_fn=nn\.MSELoss\(\)"):
        check.exercise_03_2(with_l1)


def test_03_2_spots_a_divergence():
    with pytest.raises(ExerciseError, match=r"stopped at epoch \d+ because the loss blew up"):
        check.exercise_03_2(lambda model, *data: mse_history(model, *data, lr=2.0))


def test_03_2_wants_the_given_model_trained():
    def fresh_model(model, *data):
        return mse_history(LinearRegressionModel(), *data)

    with pytest.raises(ExerciseError, match=r"starting values[\s\S]*`model` argument"):
        check.exercise_03_2(fresh_model)


def test_03_2_wants_the_history_not_the_model():
    def returns_model(model, *data):
        mse_history(model, *data)
        return model

    with pytest.raises(ExerciseError, match=r"LinearRegressionModel[\s\S]*what train\(\.\.\.\)"):
        check.exercise_03_2(returns_model)


def test_03_2_wants_one_history_from_the_start():
    def trained_twice(model, *data):
        mse_history(model, *data)
        return mse_history(model, *data)

    with pytest.raises(ExerciseError, match=r"first training loss[\s\S]*once, from its starting"):
        check.exercise_03_2(trained_twice)


# 03.3: a learning rate that settles in 50 epochs


@pytest.mark.parametrize("lr", [0.03, 0.05, torch.tensor(0.03)])
def test_03_3_accepts_a_good_learning_rate(lr, capsys):
    check.exercise_03_3(lambda: lr)
    assert capsys.readouterr().out.startswith("Exercise 03.3 passed")


@pytest.mark.parametrize("lr", [0.0001, 0.01])
def test_03_3_says_when_steps_are_too_small(lr):
    with pytest.raises(ExerciseError, match=r"still creeping down[\s\S]*a few times larger"):
        check.exercise_03_3(lambda: lr)


@pytest.mark.parametrize("lr", [0.1, 1.0])
def test_03_3_says_when_steps_overshoot(lr):
    with pytest.raises(ExerciseError, match=r"jumps between[\s\S]*a few times smaller"):
        check.exercise_03_3(lambda: lr)


@pytest.mark.parametrize("lr", [0, -0.1, float("inf"), "0.01", True, None])
def test_03_3_rejects_what_is_not_a_learning_rate(lr):
    with pytest.raises(ExerciseError, match=r"positive number[\s\S]*return a plain number"):
        check.exercise_03_3(lambda: lr)


# 03.4: train on the best device


def train_anywhere(X_train, y_train, X_test, y_test):
    device = get_device()
    model = seeded_model().to(device)
    X_train, y_train = X_train.to(device), y_train.to(device)
    gradient_descent(model, X_train, y_train, nn.L1Loss(), 0.01, 100)
    model.eval()
    with torch.inference_mode():
        predictions = model(X_test.to(device))
    return model, predictions.cpu()


def test_03_4_accepts_device_agnostic_training(capsys):
    check.exercise_03_4(train_anywhere)
    out = capsys.readouterr().out
    assert out.startswith("Exercise 03.4 passed") and "test MAE 0.0569" in out


def test_03_4_wants_the_model_on_the_best_device(monkeypatch):
    monkeypatch.setattr(training_checks, "get_device", lambda: torch.device("meta"))
    with pytest.raises(ExerciseError, match=r"best device here is meta[\s\S]*\.to\(device\)"):
        check.exercise_03_4(train_anywhere)


def test_03_4_wants_predictions_without_gradients():
    def with_grad(*data):
        model, _ = train_anywhere(*data)
        return model, model(data[2])

    with pytest.raises(ExerciseError, match=r"track gradients[\s\S]*inference_mode"):
        check.exercise_03_4(with_grad)


def test_03_4_wants_eval_mode():
    def left_training(*data):
        model, predictions = train_anywhere(*data)
        return model.train(), predictions

    with pytest.raises(ExerciseError, match=r"training mode[\s\S]*model\.eval\(\)"):
        check.exercise_03_4(left_training)


def test_03_4_wants_the_pair():
    with pytest.raises(ExerciseError, match=r"not a pair[\s\S]*return model, predictions"):
        check.exercise_03_4(lambda *data: train_anywhere(*data)[0])


def test_03_4_wants_predictions_for_x_test():
    def on_train(X_train, y_train, X_test, y_test):
        model, _ = train_anywhere(X_train, y_train, X_test, y_test)
        with torch.inference_mode():
            return model, model(X_train)

    with pytest.raises(ExerciseError, match=r"shape \(40, 1\)[\s\S]*predict on X_test"):
        check.exercise_03_4(on_train)


def test_03_4_wants_a_trained_model():
    def untrained(X_train, y_train, X_test, y_test):
        model = seeded_model().eval()
        with torch.inference_mode():
            return model, model(X_test)

    with pytest.raises(ExerciseError, match=r"MAE\) is 0\.4945[\s\S]*train the model"):
        check.exercise_03_4(untrained)
