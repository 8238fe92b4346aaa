"""train() refuses what cannot be right, up front, and accepts numbers written any sensible way."""

import math

import numpy as np
import pytest
import torch
from torch import nn

import helpers._validate as validate
from helpers import train


def test_targets_of_shape_n_are_refused_naming_both_shapes(seeded_model, default_split):
    X_train, y_train, X_test, y_test = default_split
    model = seeded_model()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError) as info:
        train(model, X_train, y_train.squeeze(1), X_test, y_test, verbose=False)
    message = str(info.value)
    assert "predictions of shape (40, 1)" in message and "y_train has shape (40,)" in message
    assert "unsqueeze(1)" in message
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))


def test_test_targets_are_checked_too(seeded_model, default_split):
    X_train, y_train, X_test, y_test = default_split
    with pytest.raises(
        ValueError, match=r"predictions of shape \(10, 1\).*y_test has shape \(10,\)"
    ):
        train(seeded_model(), X_train, y_train, X_test, y_test.squeeze(1), verbose=False)


def test_wrong_number_of_features_names_the_shape(default_split):
    X_train, y_train, X_test, y_test = default_split
    with pytest.raises(ValueError, match=r"cannot take X_train of shape \(40, 2\).*features"):
        train(nn.Linear(1, 1), X_train.repeat(1, 2), y_train, X_test, y_test, verbose=False)


def test_wide_input_to_the_broadcasting_model_is_refused(seeded_model, default_split):
    X_train, y_train, X_test, y_test = default_split
    with pytest.raises(
        ValueError, match=r"X_train of shape \(40, 3\) into predictions of shape \(40, 3\)"
    ):
        train(seeded_model(), X_train.repeat(1, 3), y_train, X_test, y_test, verbose=False)


@pytest.mark.parametrize("which", [0, 1, 2, 3])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_or_inf_in_the_data_is_bad_data(seeded_model, default_split, which, bad):
    data = [t.clone() for t in default_split]
    data[which][3, 0] = bad
    name = ["X_train", "y_train", "X_test", "y_test"][which]
    with pytest.raises(ValueError) as info:
        train(seeded_model(), *data, verbose=False)
    message = str(info.value)
    assert message.startswith(f"{name} holds 1 NaN or infinite") and "row 3" in message
    assert "bad data" in message and "learning rate" not in message


@pytest.mark.parametrize("lr", [1e39, 1e308, np.float64(1e300)])
def test_huge_learning_rates_end_in_the_divergence_message(seeded_model, default_split, lr, capsys):
    model = seeded_model()
    start = [p.detach().clone() for p in model.parameters()]
    history = train(model, *default_split, lr=lr, verbose=False)
    assert history.diverged_at == 1 and len(history) == 0
    assert "smaller" in history.message and capsys.readouterr().out == ""
    assert all(torch.equal(p, s) for p, s in zip(model.parameters(), start, strict=True))


def test_huge_learning_rate_in_float64_diverges_through_the_loss(default_split):
    model = nn.Linear(1, 1).double()
    history = train(model, *default_split, lr=1e308, loss_fn=nn.MSELoss(), verbose=False)
    assert history.diverged_at is not None
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_an_absurd_epoch_count_is_refused_with_the_estimate(seeded_model, default_split):
    with pytest.raises(ValueError, match=r"epochs=10,000,000,000,000 .*bytes per epoch.*GiB"):
        train(seeded_model(), *default_split, epochs=10**13, verbose=False)


def test_the_estimate_is_against_this_machines_memory(seeded_model, default_split, monkeypatch):
    monkeypatch.setattr(validate, "physical_memory", lambda: 2**16)  # a 64 KiB machine
    with pytest.raises(ValueError, match="of this machine's 0.0 GiB"):
        train(seeded_model(), *default_split, epochs=100, verbose=False)
    monkeypatch.setattr(validate, "physical_memory", lambda: None)  # the OS does not say
    assert len(train(seeded_model(), *default_split, epochs=100, verbose=False)) == 100


def test_an_optimizer_for_another_model_is_refused(seeded_model, default_split):
    other = torch.optim.SGD(seeded_model(1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="holds none of the model's parameters"):
        train(seeded_model(), *default_split, optimizer=other, verbose=False)
    with pytest.raises(ValueError, match="must be a torch.optim optimizer"):
        train(seeded_model(), *default_split, optimizer="sgd", verbose=False)


def test_an_optimizer_over_part_of_the_model_is_fine(seeded_model, default_split):
    model = seeded_model()
    bias = model.bias.detach().clone()
    train(model, *default_split, optimizer=torch.optim.SGD([model.weights], lr=0.1), verbose=False)
    assert torch.equal(model.bias.detach(), bias)


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": np.float32(0.01), "epochs": np.int64(30), "log_every": np.int32(10)},
        {"lr": torch.tensor(0.01), "epochs": torch.tensor(30), "log_every": torch.tensor(10)},
    ],
    ids=["numpy", "0-d tensors"],
)
def test_numbers_written_differently_give_the_hand_written_loop(
    seeded_model, default_split, reference_loop, settings
):
    history = train(seeded_model(), *default_split, verbose=False, **settings)
    lr = float(np.float32(0.01)) if isinstance(settings["lr"], np.generic) else 0.01
    lr = settings["lr"].item() if isinstance(settings["lr"], torch.Tensor) else lr
    expected = reference_loop(seeded_model(), *default_split, lr, 30)
    assert (history.train_loss, history.test_loss) == expected


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"lr": True}, "lr must be a number"),
        ({"epochs": np.float64(5.0)}, "epochs must be a whole number"),
        ({"epochs": torch.tensor(5.0)}, "epochs must be a whole number"),
        ({"log_every": np.bool_(True)}, "log_every must be a whole number"),
        ({"lr": torch.tensor([0.1, 0.2])}, "lr must be a number"),
        ({"lr": np.float32("inf")}, "lr must be a positive finite number"),
    ],
)
def test_bools_and_non_numbers_are_refused(seeded_model, default_split, kwargs, words):
    with pytest.raises(ValueError, match=words):
        train(seeded_model(), *default_split, verbose=False, **kwargs)


def test_data_as_lists_or_float64_is_accepted(seeded_model, default_split, reference_loop):
    X_train, y_train, X_test, y_test = default_split
    history = train(
        seeded_model(),
        X_train.tolist(),
        y_train.double(),
        X_test.numpy(),
        y_test,
        epochs=5,
        verbose=False,
    )
    assert (history.train_loss, history.test_loss) == reference_loop(
        seeded_model(), *default_split, 0.01, 5
    )
