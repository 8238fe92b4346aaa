"""The notebook-03 exercise checks: right answers pass, wrong ones get a hint.

What every check does (unfinished answers, the random state) is in test_check_common.py.
"""

import contextlib
import functools

import numpy as np
import pytest
import torch
from torch import nn

import helpers.check.training as training_checks
from helpers import History, LinearRegressionModel, check, train
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


# 03.1: fit y = 0.3x + 0.9


def trained(reference_loop, model, data, epochs):
    """``model`` after ``epochs`` of the plain L1 loop at lr=0.01 on ``data``."""
    reference_loop(model, *data, 0.01, epochs)
    return model


def test_03_1_accepts_a_model_trained_long_enough(capsys, reference_loop):
    def fit_line(*data):
        return trained(reference_loop, seeded_model(), data, 300)

    check.exercise_03_1(fit_line)
    out = capsys.readouterr().out
    assert out.startswith("Exercise 03.1 passed") and out.count("\n") == 1


def test_03_1_accepts_the_exact_line():
    check.exercise_03_1(lambda *data: line_model(0.3, 0.9))


def test_03_1_says_the_default_epochs_stop_too_early(reference_loop):
    def fit_line(*data):
        return trained(reference_loop, seeded_model(), data, 100)

    with pytest.raises(ExerciseError, match=r"y = 0\.5261x \+ 0\.8031[\s\S]*Hint: .*more epochs"):
        check.exercise_03_1(fit_line)


def test_03_1_notices_an_untrained_model():
    with pytest.raises(ExerciseError, match=r"starting values[\s\S]*Hint: train the model"):
        check.exercise_03_1(lambda *data: seeded_model())


def test_03_1_wants_the_model_back(reference_loop):
    def fit_line(*data):
        model = trained(reference_loop, seeded_model(), data, 300)
        model.weights.item()  # forgot to return it

    with pytest.raises(ExerciseError, match=r"type NoneType[\s\S]*Hint: return the model"):
        check.exercise_03_1(fit_line)


def test_03_1_reports_a_line_that_blew_up():
    with pytest.raises(ExerciseError, match=r"not a finite number[\s\S]*smaller learning rate"):
        check.exercise_03_1(lambda *data: line_model(float("nan"), 0.9))


def test_03_1_rejects_a_model_that_is_not_a_line():
    class Bent(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1))

        def forward(self, x):  # right at x = 0 and x = 1, bent in between
            return self.scale * (0.9 + 0.3 * x**2)

    with pytest.raises(ExerciseError, match=r"not a straight line[\s\S]*Hint: return a Linear"):
        check.exercise_03_1(lambda *data: Bent())


def test_03_1_accepts_a_trained_nn_linear(reference_loop):
    def with_linear(*data):
        torch.manual_seed(0)
        return trained(reference_loop, nn.Linear(1, 1), data, 400)

    check.exercise_03_1(with_linear)


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
        for _ in range(100):
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


def test_03_2_rejects_a_poor_line_trained_too_briefly():
    """lr=0.01 for 100 epochs of MSE ends at about y = 0.46x + 0.37: the losses are honest,
    the test loss did go down, but the line is far from the data."""

    def too_slow(model, *data):
        return mse_history(model, *data, lr=0.01)

    with pytest.raises(
        ExerciseError,
        match=r"y = 0\.4600x \+ 0\.3675 is still far[\s\S]*0\.0215[\s\S]*Hint: .*lr=0\.1",
    ):
        check.exercise_03_2(too_slow)


def test_03_2_rejects_a_line_set_by_hand_with_a_made_up_history():
    class Record:
        pass

    def poor_line(model, X_train, y_train, X_test, y_test):
        with torch.no_grad():
            start = ((model(X_train) - y_train) ** 2).mean().item()
            model.weights.fill_(0.46)
            model.bias.fill_(0.37)
            record = Record()
            record.train_loss = [start]
            record.test_loss = [((model(X_test) - y_test) ** 2).mean().item()]
        return record

    with pytest.raises(ExerciseError, match=r"still far from the data"):
        check.exercise_03_2(poor_line)


def test_03_2_accepts_a_longer_run_that_gets_closer():
    check.exercise_03_2(
        lambda model, *data: train(
            model, *data, lr=0.3, epochs=300, loss_fn=nn.MSELoss(), verbose=False
        )
    )


def test_03_2_the_suggested_run_passes_with_room_to_spare():
    """The float64 oracle by the gradient formula agrees with what train reaches."""
    X_train, y_train, X_test, y_test = training_checks.default_split()
    w, b = training_checks._mse_descent(0.3367, 0.1288, X_train, y_train)
    oracle = ((w * X_test.double() + b - y_test.double()) ** 2).mean().item()
    torch.manual_seed(42)
    history = mse_history(LinearRegressionModel(), X_train, y_train, X_test, y_test)
    assert history.test_loss[-1] == pytest.approx(oracle, rel=1e-3)
    assert history.test_loss[-1] < training_checks.MSE_SLACK * oracle / 1.5


# 03.3: a learning rate that settles in 50 epochs


@pytest.mark.parametrize("lr", [0.03, 0.05, torch.tensor(0.03), np.float32(0.03), np.array(0.05)])
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


# 03.4: the training loop, written by the learner


def learners_loop(
    model,
    *data_and_settings,
    loss_fn=None,
    zero_grad="before_backward",
    record_train_loss="before_step",
    record_test_loss="after_step",
    test_under_eval=True,
    test_without_grad=True,
    train_mode_each_epoch=True,
):
    """The loop as the notebook teaches it; each keyword undoes one step of it, as a learner might.

    Called as my_train is: ``(model, X_train, y_train, X_test, y_test, lr, epochs)``.
    ``loss_fn`` replaces nn.L1Loss(); ``zero_grad`` is "before_backward", "before_step" (after
    backward, wiping the gradients) or "never"; the losses are recorded "before_step" or
    "after_step" (the training loss then recomputed); the test loss runs under eval() and
    inference_mode() unless told not to; model.train() starts every epoch, or is called once.
    """
    X_train, y_train, X_test, y_test, lr, epochs = data_and_settings
    loss_fn = nn.L1Loss() if loss_fn is None else loss_fn
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    train_losses, test_losses = [], []

    def record_test():
        if test_under_eval:
            model.eval()
        with torch.inference_mode() if test_without_grad else contextlib.nullcontext():
            test_losses.append(loss_fn(model(X_test), y_test).item())

    if not train_mode_each_epoch:
        model.train()  # only once, before the loop
    for _ in range(epochs):
        if record_test_loss == "before_step":
            record_test()
        if train_mode_each_epoch:
            model.train()
        loss = loss_fn(model(X_train), y_train)
        if zero_grad == "before_backward":
            optimizer.zero_grad()
        loss.backward()
        if zero_grad == "before_step":
            optimizer.zero_grad()
        optimizer.step()
        if record_test_loss == "after_step":
            record_test()
        if record_train_loss == "after_step":
            with torch.inference_mode():
                loss = loss_fn(model(X_train), y_train)  # too late: the next epoch's parameters
        train_losses.append(loss.item())
    return train_losses, test_losses


def test_03_4_accepts_the_loop_of_the_notebook(capsys):
    check.exercise_03_4(learners_loop)
    out = capsys.readouterr().out
    assert out.startswith("Exercise 03.4 passed") and "bit for bit" in out
    assert out.count("\n") == 1


def test_03_4_accepts_a_loop_written_differently():
    """abs().mean() in place of nn.L1Loss (bit-identical here: the L1 gradient is sign / N
    either way), zero_grad(set_to_none=False), model.train() at the end of the epoch,
    no_grad for the test loss, tensors of losses returned."""

    def written_differently(model, X_train, y_train, X_test, y_test, lr, epochs):
        optimizer = torch.optim.SGD(params=model.parameters(), lr=lr)
        train_losses, test_losses = torch.zeros(epochs), []
        for epoch in range(epochs):
            loss = (model(X_train) - y_train).abs().mean()
            optimizer.zero_grad(set_to_none=False)
            loss.backward()
            optimizer.step()
            train_losses[epoch] = loss.detach()
            model.eval()
            with torch.no_grad():
                test_losses.append(torch.mean(torch.abs(y_test - model(X_test))))
            model.train()
        return train_losses, test_losses

    check.exercise_03_4(written_differently)


def test_03_4_accepts_numpy_arrays_and_a_hand_made_update():
    def with_numpy(model, X_train, y_train, X_test, y_test, lr, epochs):
        train_losses, test_losses = np.zeros(epochs, dtype=np.float32), []
        for epoch in range(epochs):
            model.train()
            loss = nn.functional.l1_loss(model(X_train), y_train)
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= lr * p.grad
            train_losses[epoch] = loss.item()
            model.eval()
            with torch.inference_mode():
                test_losses.append(np.float32(nn.functional.l1_loss(model(X_test), y_test)))
        return list(train_losses), np.array(test_losses)

    check.exercise_03_4(with_numpy)


forgets_zero_grad = functools.partial(learners_loop, zero_grad="never")


def test_03_4_spots_gradients_that_pile_up():
    with pytest.raises(ExerciseError, match=r"never clears the gradients[\s\S]*Hint: .*zero_grad"):
        check.exercise_03_4(forgets_zero_grad)


def test_03_4_spots_the_training_loss_measured_after_the_step():
    loss_after_step = functools.partial(learners_loop, record_train_loss="after_step")
    with pytest.raises(ExerciseError, match=r"after optimizer\.step\(\)[\s\S]*before the step"):
        check.exercise_03_4(loss_after_step)


def test_03_4_spots_the_test_loss_measured_before_the_step():
    test_first = functools.partial(learners_loop, record_test_loss="before_step")
    with pytest.raises(ExerciseError, match=r"lag one epoch behind[\s\S]*after the step"):
        check.exercise_03_4(test_first)


def test_03_4_spots_the_squared_error():
    with_mse = functools.partial(learners_loop, loss_fn=nn.MSELoss())
    with pytest.raises(ExerciseError, match=r"mean squared errors[\s\S]*nn\.L1Loss"):
        check.exercise_03_4(with_mse)


def test_03_4_spots_the_test_loss_computed_with_gradients():
    with_grad = functools.partial(learners_loop, test_without_grad=False)  # graph recorded
    with pytest.raises(ExerciseError, match=r"gradient tracking on[\s\S]*inference_mode"):
        check.exercise_03_4(with_grad)


def test_03_4_spots_the_test_loss_computed_in_training_mode():
    no_eval = functools.partial(learners_loop, test_under_eval=False)
    with pytest.raises(ExerciseError, match=r"X_test in training mode[\s\S]*model\.eval\(\)"):
        check.exercise_03_4(no_eval)


def test_03_4_spots_a_missing_model_train():
    train_once = functools.partial(learners_loop, train_mode_each_epoch=False)
    with pytest.raises(
        ExerciseError, match=r"pass 2 ran with the model in eval[\s\S]*model\.train"
    ):
        check.exercise_03_4(train_once)


def test_03_4_spots_gradients_wiped_before_the_step():
    wiped = functools.partial(learners_loop, zero_grad="before_step")  # after backward
    with pytest.raises(ExerciseError, match=r"still has its starting values[\s\S]*wipes"):
        check.exercise_03_4(wiped)


def test_03_4_spots_a_fixed_learning_rate(reference_loop):
    def fixed_lr(model, X_train, y_train, X_test, y_test, lr, epochs):
        return reference_loop(model, X_train, y_train, X_test, y_test, 0.01, epochs)

    with pytest.raises(ExerciseError, match=r"lr=0\.1 and epochs=12, the training loss of epoch 2"):
        check.exercise_03_4(fixed_lr)


def test_03_4_spots_an_extra_step_after_the_loop(reference_loop):
    def one_more(model, X_train, y_train, X_test, y_test, lr, epochs):
        losses = reference_loop(model, X_train, y_train, X_test, y_test, lr, epochs)
        with torch.no_grad():
            model.bias -= lr * model.bias.grad
        return losses

    with pytest.raises(ExerciseError, match=r"losses are right, but the model's bias[\s\S]*once"):
        check.exercise_03_4(one_more)


def test_03_4_spots_a_fresh_model_in_place_of_the_given_one(reference_loop):
    def fresh(model, *data_and_settings):
        torch.manual_seed(42)
        return reference_loop(LinearRegressionModel(), *data_and_settings)

    with pytest.raises(ExerciseError, match=r"still has its starting values[\s\S]*`model` arg"):
        check.exercise_03_4(fresh)


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (lambda h: h, r"returned a History, not the two lists[\s\S]*return train_losses, test"),
        (lambda h: h.train_loss, r"not a pair of lists"),
        (lambda h: (h.train_loss[:-1], h.test_loss), r"\d+ training losses for epochs=40"),
        (lambda h: (h.train_loss, "0.5"), r"test losses are of type str"),
        (lambda h: (h.train_loss, [None] * 40), r"entry of type NoneType[\s\S]*loss\.item\(\)"),
    ],
    ids=["history", "one-list", "short", "string", "none"],
)
def test_03_4_explains_a_wrong_return_value(returned, message, reference_loop):
    def answer(model, *data_and_settings):
        history = History()
        history.train_loss, history.test_loss = reference_loop(model, *data_and_settings)
        return returned(history)

    with pytest.raises(ExerciseError, match=message):
        check.exercise_03_4(answer)


def test_03_4_wants_the_loop_written_out_not_helpers_train():
    def leans_on_train(model, X_train, y_train, X_test, y_test, lr, epochs):
        history = train(
            model, X_train, y_train, X_test, y_test, lr=lr, epochs=epochs, verbose=False
        )
        return history.train_loss, history.test_loss  # bit for bit right, but not a loop

    with pytest.raises(ExerciseError, match=r"calls helpers\.train[\s\S]*write the epochs out"):
        check.exercise_03_4(leans_on_train)


def test_03_4_leaves_helpers_train_as_it_was():
    original = training_checks._training.History
    check.exercise_03_4(learners_loop)
    with pytest.raises(ExerciseError):
        check.exercise_03_4(forgets_zero_grad)
    assert training_checks._training.History is original is History
