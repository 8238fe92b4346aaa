"""train() against a hand-written loop, its History, its log lines, divergence and bad input."""

import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from helpers import History, LinearRegressionModel, make_linear_data, split_data, train


@pytest.fixture
def data():
    X, y = make_linear_data()
    return split_data(X, y)


def fresh_model(seed=42):
    torch.manual_seed(seed)
    return LinearRegressionModel()


def test_defaults_end_at_the_known_values(data):
    model = fresh_model()
    history = train(model, *data, verbose=False)
    assert isinstance(history, History)
    assert model.weights.item() == pytest.approx(0.5784, abs=1e-4)
    assert model.bias.item() == pytest.approx(0.3513, abs=1e-4)
    assert not model.training  # handed back in eval mode


def test_defaults_match_hand_written_l1_sgd_loop_exactly(data, reference_loop):
    history = train(fresh_model(), *data, verbose=False)
    params = []
    expected = reference_loop(fresh_model(), *data, 0.01, 100, params=params)
    assert history.train_loss == expected[0]
    assert history.test_loss == expected[1]
    for got, want in zip(history.params, params, strict=True):
        assert got.keys() == want.keys()
        assert all(torch.equal(got[k], want[k]) for k in want)


def test_given_loss_and_optimizer_are_used_exactly(data, reference_loop):
    model = fresh_model(3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = train(
        model, *data, epochs=40, loss_fn=nn.MSELoss(), optimizer=optimizer, verbose=False
    )

    oracle = fresh_model(3)
    oracle_optimizer = torch.optim.SGD(oracle.parameters(), lr=0.05, momentum=0.9)
    expected = reference_loop(
        oracle, *data, None, 40, loss_fn=nn.MSELoss(), optimizer=oracle_optimizer
    )
    assert history.train_loss == expected[0] and history.test_loss == expected[1]
    assert torch.equal(model.weights, oracle.weights) and torch.equal(model.bias, oracle.bias)


def test_history_records_every_epoch(data):
    model = fresh_model()
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    X_train, y_train, X_test, y_test = data
    with torch.inference_mode():
        first_train_loss = nn.L1Loss()(model(X_train), y_train).item()

    history = train(model, *data, epochs=25, verbose=False)

    assert len(history) == 25 and history.epochs == list(range(1, 26))
    assert len(history.train_loss) == len(history.test_loss) == len(history.params) == 25
    assert history.diverged_at is None and history.message == ""
    # train_loss is measured before the epoch's update ...
    assert history.train_loss[0] == pytest.approx(first_train_loss, abs=1e-7)
    # ... test_loss and params after it.
    with torch.inference_mode():
        last_test_loss = nn.L1Loss()(model(X_test), y_test).item()
    assert history.test_loss[-1] == pytest.approx(last_test_loss, abs=1e-7)
    assert all(torch.equal(history.params[-1][n], p) for n, p in model.named_parameters())
    assert all(torch.equal(history.start_params[n], start[n]) for n in start)


def test_history_params_are_independent_cpu_copies(data):
    model = fresh_model()
    history = train(model, *data, epochs=3, verbose=False)
    recorded = history.params[-1]["weights"].clone()
    with torch.no_grad():
        model.weights.add_(100.0)
    assert torch.equal(history.params[-1]["weights"], recorded)
    for snapshot in [history.start_params, *history.params]:
        for value in snapshot.values():
            assert value.device.type == "cpu" and not value.requires_grad
    assert history.params[0]["weights"] is not history.params[1]["weights"]


def test_param_trajectory_has_start_plus_one_row_per_epoch(data):
    history = train(fresh_model(), *data, epochs=10, verbose=False)
    weights = history.param("weights")
    assert weights.shape == (11, 1)
    assert torch.equal(weights[0], history.start_params["weights"])
    assert torch.equal(weights[-1], history.params[-1]["weights"])
    with pytest.raises(KeyError, match=r"No parameter 'slope'; recorded: weights, bias"):
        history.param("slope")


def test_verbose_prints_one_line_every_log_every_epochs(data, capsys):
    history = train(fresh_model(), *data, epochs=100, log_every=10)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 10
    pattern = re.compile(r"Epoch +(\d+) \| train loss (\d+\.\d{4}) \| test loss (\d+\.\d{4})$")
    for line, epoch in zip(lines, range(10, 101, 10), strict=True):
        match = pattern.match(line)
        assert match, line
        assert int(match[1]) == epoch
        assert match[2] == f"{history.train_loss[epoch - 1]:.4f}"
        assert match[3] == f"{history.test_loss[epoch - 1]:.4f}"


def test_verbose_logs_the_last_epoch_too(data, capsys):
    train(fresh_model(), *data, epochs=25, log_every=10)
    epochs = [int(line.split()[1]) for line in capsys.readouterr().out.splitlines()]
    assert epochs == [10, 20, 25]


def test_quiet_training_prints_nothing(data, capsys):
    train(fresh_model(), *data, epochs=20, verbose=False)
    assert capsys.readouterr().out == ""


def test_numpy_and_float64_inputs_are_accepted(data):
    as_numpy = [t.double().numpy() for t in data]
    history = train(fresh_model(), *as_numpy, epochs=5, verbose=False)
    reference = train(fresh_model(), *data, epochs=5, verbose=False)
    assert history.train_loss == reference.train_loss


def test_explicit_cpu_device(data):
    model = fresh_model()
    train(model, *data, epochs=2, device="cpu", verbose=False)
    assert model.weights.device.type == "cpu"


# --- divergence -------------------------------------------------------------------------


def test_mse_with_huge_learning_rate_stops_cleanly(data, capsys):
    model = fresh_model()
    history = train(model, *data, lr=10.0, loss_fn=nn.MSELoss(), epochs=100, verbose=False)

    assert history.diverged_at is not None and 1 <= history.diverged_at <= 100
    assert len(history) == history.diverged_at - 1  # only the finite epochs are recorded
    assert all(math.isfinite(v) for v in history.train_loss + history.test_loss)
    last = history.params[-1] if history.params else history.start_params
    for name, parameter in model.named_parameters():
        assert torch.isfinite(parameter).all()
        assert torch.equal(parameter.detach(), last[name])
        assert parameter.grad is None or torch.isfinite(parameter.grad).all()
    assert not model.training

    assert capsys.readouterr().out == ""  # quiet: the message is kept, not printed
    message = history.message.lower()
    assert f"epoch {history.diverged_at}" in message
    assert "learning rate" in message and "smaller" in message
    assert "lr=10" in message


def test_verbose_divergence_prints_the_message_once(data, capsys):
    history = train(fresh_model(), *data, lr=10.0, loss_fn=nn.MSELoss(), log_every=1000)
    out = capsys.readouterr().out
    assert history.diverged_at is not None
    assert out.splitlines()[-1] == history.message and out.count(history.message) == 1


def test_diverged_model_still_predicts_finite_values(data):
    model = fresh_model()
    train(model, *data, lr=10.0, loss_fn=nn.MSELoss(), verbose=False)
    with torch.inference_mode():
        assert torch.isfinite(model(data[2])).all()


def test_divergence_in_the_first_epoch_restores_the_start(data):
    model = fresh_model()
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    X_train, y_train, X_test, y_test = data
    huge = torch.full_like(y_train, 1e30)  # its squared error overflows float32 at once
    history = train(model, X_train, huge, X_test, y_test, loss_fn=nn.MSELoss(), verbose=False)
    assert history.diverged_at == 1 and len(history) == 0
    assert all(torch.equal(p.detach(), start[n]) for n, p in model.named_parameters())
    assert "training loss" in history.message


def test_l1_with_large_learning_rate_does_not_diverge(data):
    history = train(fresh_model(), *data, lr=1.0, epochs=50, verbose=False)
    assert history.diverged_at is None and len(history) == 50


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"epochs": 0}, "epochs must be a whole number of at least 1, got 0"),
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"epochs": True}, "epochs must be a whole number"),
        ({"log_every": 0}, "log_every must be a whole number of at least 1"),
        ({"lr": -0.1}, "lr must be a positive finite number, got -0.1"),
        ({"lr": 0}, "lr must be a positive finite number"),
        ({"lr": float("nan")}, "lr must be a positive finite number"),
    ],
)
def test_bad_settings_are_value_errors(data, kwargs, words):
    with pytest.raises(ValueError) as info:
        train(fresh_model(), *data, verbose=False, **kwargs)
    assert words in str(info.value)


def test_mismatched_training_rows_name_the_shapes(data):
    X_train, y_train, X_test, y_test = data
    with pytest.raises(ValueError) as info:
        train(fresh_model(), X_train, y_train[:-1], X_test, y_test, verbose=False)
    message = str(info.value)
    assert "X_train has shape (40, 1)" in message and "y_train has shape (39, 1)" in message


def test_mismatched_test_rows_name_the_shapes(data):
    X_train, y_train, X_test, y_test = data
    with pytest.raises(
        ValueError, match=r"X_test has shape \(10, 1\) but y_test has shape \(3, 1\)"
    ):
        train(fresh_model(), X_train, y_train, X_test, y_test[:3], verbose=False)


def test_empty_and_scalar_data_are_rejected(data):
    X_train, y_train, X_test, y_test = data
    with pytest.raises(ValueError, match="X_train is empty"):
        train(fresh_model(), X_train[:0], y_train[:0], X_test, y_test, verbose=False)
    with pytest.raises(ValueError, match="X_test must hold one row per example"):
        train(fresh_model(), X_train, y_train, 1.0, y_test, verbose=False)


def test_model_without_parameters_is_rejected(data):
    with pytest.raises(ValueError, match="no parameters"):
        train(nn.Identity(), *data, verbose=False)


def test_unknown_and_unavailable_devices(data, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="choose one of cuda, mps, cpu"):
        train(fresh_model(), *data, device="tpu", verbose=False)
    with pytest.raises(RuntimeError, match="not available"):
        train(fresh_model(), *data, device="cuda", verbose=False)


def test_losses_decrease_towards_the_least_squares_line(data):
    """Independent yardstick: the closed-form least-squares fit of the training points."""
    X_train, y_train, _, _ = data
    design = np.hstack([X_train.double().numpy(), np.ones((len(X_train), 1))])
    (w_best, b_best), *_ = np.linalg.lstsq(design, y_train.double().numpy()[:, 0], rcond=None)
    model = fresh_model()
    history = train(model, *data, lr=0.05, epochs=1000, loss_fn=nn.MSELoss(), verbose=False)
    assert history.train_loss[-1] < history.train_loss[0]
    assert model.weights.item() == pytest.approx(w_best, abs=0.02)
    assert model.bias.item() == pytest.approx(b_best, abs=0.02)
