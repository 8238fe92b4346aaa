"""The notebook-06 exercise checks: right answers pass however they are written, wrong ones
get a hint that names the slip.

What every check does (unfinished answers, the random state) is in test_check_common.py.
"""

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers import check
from helpers.check import ExerciseError


def assert_passed(capsys, exercise):
    out = capsys.readouterr().out
    assert out.startswith(f"Exercise {exercise} passed") and out.count("\n") == 1


# 06.1: a seeded, shuffled three-way split


def cut(order, n_rows):
    fifth = n_rows // 5
    return order[: n_rows - 2 * fifth], order[n_rows - 2 * fifth : n_rows - fifth], order[-fifth:]


def split_with_torch(n_rows, seed):
    return cut(torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed)), n_rows)


def split_with_numpy(n_rows, seed):
    # NumPy's generator, sorted parts, the parts as arrays in another order of cutting
    order = np.random.default_rng(seed).permutation(n_rows)
    fifth = n_rows // 5
    return np.sort(order[2 * fifth :]), order[:fifth], list(order[fifth : 2 * fifth])


def split_with_global_seed(n_rows, seed):
    torch.manual_seed(seed)
    return cut(torch.randperm(n_rows), n_rows)


@pytest.mark.parametrize("answer", [split_with_torch, split_with_numpy, split_with_global_seed])
def test_06_1_accepts_seeded_shuffles_written_in_several_ways(answer, capsys):
    check.exercise_06_1(answer)
    assert_passed(capsys, "06.1")


def unshuffled(n_rows, seed):
    return cut(torch.arange(n_rows), n_rows)


def unseeded(n_rows, seed):
    return cut(torch.randperm(n_rows), n_rows)


def fixed_seed(n_rows, seed):
    return split_with_torch(n_rows, 0)


def with_replacement(n_rows, seed):
    return cut(
        torch.randint(n_rows, (n_rows,), generator=torch.Generator().manual_seed(seed)), n_rows
    )


def rounded_fifths(n_rows, seed):
    order = torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed))
    fifth = round(0.2 * n_rows)  # 3 of 13 rows, where the exercise asks for 13 // 5 = 2
    return order[: n_rows - 2 * fifth], order[n_rows - 2 * fifth : n_rows - fifth], order[-fifth:]


def two_parts(n_rows, seed):
    return split_with_torch(n_rows, seed)[:2]


@pytest.mark.parametrize(
    "answer, message",
    [
        (unshuffled, "(?s)not shuffled.*randperm"),
        (unseeded, "(?s)same seed gave different splits.*manual_seed\\(seed\\)"),
        (fixed_seed, "seeds 0 and 1 gave the same training rows"),
        (with_replacement, "(?s)exactly once.*no patient lands in two parts"),
        (rounded_fifths, "(?s)13 rows the training part should hold 9.*13 // 5 = 2"),
        (two_parts, "three sets of row numbers .training, validation, test., got 2 values"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_06_1_wrong_splits_are_named(answer, message):
    with pytest.raises(ExerciseError, match=message):
        check.exercise_06_1(answer)


# 06.2: standardise with the training statistics only


def standardise_with_torch(X_train, X_val, X_test):
    mean, std = X_train.mean(dim=0), X_train.std(dim=0)
    return tuple((X - mean) / std for X in (X_train, X_val, X_test))


def standardise_with_numpy_float64(X_train, X_val, X_test):
    parts = [X.numpy().astype(np.float64) for X in (X_train, X_val, X_test)]
    mean, std = parts[0].mean(axis=0), parts[0].std(axis=0)  # NumPy divides by N
    return [(part - mean) / std for part in parts]


@pytest.mark.parametrize("answer", [standardise_with_torch, standardise_with_numpy_float64])
def test_06_2_accepts_the_training_statistics_in_torch_or_numpy(answer, capsys):
    check.exercise_06_2(answer)
    assert_passed(capsys, "06.2")


def leaky(X_train, X_val, X_test):
    every_row = torch.cat([X_train, X_val, X_test])
    mean, std = every_row.mean(dim=0), every_row.std(dim=0)
    return tuple((X - mean) / std for X in (X_train, X_val, X_test))


def leaky_in_numpy(X_train, X_val, X_test):
    parts = [X.numpy() for X in (X_train, X_val, X_test)]
    every_row = np.concatenate(parts)
    return [(part - every_row.mean(axis=0)) / every_row.std(axis=0) for part in parts]


def each_with_its_own(X_train, X_val, X_test):
    return tuple((X - X.mean(dim=0)) / X.std(dim=0) for X in (X_train, X_val, X_test))


def each_with_its_own_in_numpy(X_train, X_val, X_test):
    parts = [X.numpy() for X in (X_train, X_val, X_test)]
    return [(part - part.mean(axis=0)) / part.std(axis=0) for part in parts]


def in_place(X_train, X_val, X_test):
    mean, std = X_train.mean(dim=0), X_train.std(dim=0)
    for X in (X_train, X_val, X_test):
        X -= mean
        X /= std
    return X_train, X_val, X_test


def only_centred(X_train, X_val, X_test):
    mean = X_train.mean(dim=0)
    return tuple(X - mean for X in (X_train, X_val, X_test))


def whole_table_statistics(X_train, X_val, X_test):
    mean, std = X_train.mean(), X_train.std()  # one number for all columns
    return tuple((X - mean) / std for X in (X_train, X_val, X_test))


def validation_left_raw(X_train, X_val, X_test):
    mean, std = X_train.mean(dim=0), X_train.std(dim=0)
    return (X_train - mean) / std, X_val, (X_test - mean) / std


@pytest.mark.parametrize(
    "answer, message",
    [
        (leaky, "(?s)from all the rows.*leaks.*X_train alone"),
        (leaky_in_numpy, "(?s)from all the rows.*leaks"),
        (each_with_its_own_in_numpy, "its own mean and std"),
        (each_with_its_own, "(?s)its own mean and std.*reuse the training mean"),
        (in_place, "changed the tensors it was given"),
        (only_centred, "(?s)mean 0 and standard deviation 1.*X_train.std\\(dim=0\\)"),
        (whole_table_statistics, "(?s)mean 0 and standard deviation 1.*column"),
        (validation_left_raw, "(?s)training part is right.*X_val"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_06_2_wrong_standardisations_are_named(answer, message):
    with pytest.raises(ExerciseError, match=message):
        check.exercise_06_2(answer)


# 06.3: the mini-batch training loop


def loop_with_dataloader(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    val_losses = []
    for _ in range(epochs):
        model.train()
        for X_batch, y_batch in loader:
            loss = loss_fn(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.inference_mode():
            val_losses.append(loss_fn(model(X_val), y_val).item())
    return val_losses


def loop_by_hand_in_float64(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    # its own shuffle with randperm, MSE written out, float64 model and data, a tensor returned
    model.double()
    X_train, y_train, X_val, y_val = (t.double() for t in (X_train, y_train, X_val, y_val))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    val_losses = []
    for _ in range(epochs):
        order = torch.randperm(len(X_train))
        for start in range(0, len(X_train), batch_size):
            rows = order[start : start + batch_size]
            loss = ((model(X_train[rows]) - y_train[rows]) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            val_losses.append(((model(X_val) - y_val) ** 2).mean())
    return torch.stack(val_losses)


def loop_keeping_the_best(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    losses, best = [], None
    for _ in range(epochs):
        losses += loop_with_dataloader(model, X_train, y_train, X_val, y_val, 1, batch_size, lr)
        if losses[-1] == min(losses):
            best = {name: t.clone() for name, t in model.state_dict().items()}
    model.load_state_dict(best)
    return losses


@pytest.mark.parametrize(
    "answer", [loop_with_dataloader, loop_by_hand_in_float64, loop_keeping_the_best]
)
def test_06_3_accepts_mini_batch_loops_written_in_several_ways(answer, capsys):
    check.exercise_06_3(answer)
    assert_passed(capsys, "06.3")


def full_batch(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    return loop_with_dataloader(model, X_train, y_train, X_val, y_val, epochs, len(X_train), lr)


def trains_on_validation_rows_too(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    X_all, y_all = torch.cat([X_train, X_val]), torch.cat([y_train, y_val])
    return loop_with_dataloader(model, X_all, y_all, X_val, y_val, epochs, batch_size, lr)


def validation_loss_with_gradients(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    # one step on the validation loss each epoch: the leak hides in one extra line
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        losses += loop_with_dataloader(model, X_train, y_train, X_val, y_val, 1, batch_size, lr)
        optimizer.zero_grad()
        nn.MSELoss()(model(X_val), y_val).backward()
        optimizer.step()
    return losses


def unshuffled(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    val_losses = []
    for _ in range(epochs):
        for X_batch, y_batch in loader:
            optimizer.zero_grad()
            nn.MSELoss()(model(X_batch), y_batch).backward()
            optimizer.step()
        with torch.inference_mode():
            val_losses.append(nn.MSELoss()(model(X_val), y_val).item())
    return val_losses


def gradients_pile_up(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    val_losses = []
    for _ in range(epochs):
        for X_batch, y_batch in loader:
            nn.MSELoss()(model(X_batch), y_batch).backward()  # no zero_grad()
            optimizer.step()
        with torch.inference_mode():
            val_losses.append(nn.MSELoss()(model(X_val), y_val).item())
    return val_losses


def returns_training_losses(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    return loop_with_dataloader(model, X_train, y_train, X_train, y_train, epochs, batch_size, lr)


def trains_a_new_model(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    fresh = nn.Linear(X_train.shape[1], 1)
    return loop_with_dataloader(fresh, X_train, y_train, X_val, y_val, epochs, batch_size, lr)


def one_epoch_too_few(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    losses = loop_with_dataloader(model, X_train, y_train, X_val, y_val, epochs - 1, batch_size, lr)
    return losses + losses[-1:]


def returns_nothing(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
    loop_with_dataloader(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr)


@pytest.mark.parametrize(
    "answer, message",
    [
        (full_batch, "(?s)full-batch training.*DataLoader"),
        (trains_on_validation_rows_too, "(?s)validation rows went through the model.*X_train only"),
        (validation_loss_with_gradients, "validation rows went through the model"),
        (unshuffled, "(?s)never shuffled.*shuffle=True"),
        (gradients_pile_up, "(?s)away from the best fit.*zero_grad"),
        (returns_training_losses, "(?s)validation MSE is .* your list ends.*X_val"),
        (trains_a_new_model, "(?s)still has its starting parameters.*model.parameters"),
        (one_epoch_too_few, "make 150 training steps; your model saw 144 batches"),
        (returns_nothing, "return 25 validation losses, one per epoch, got NoneType"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_06_3_wrong_loops_are_named(answer, message):
    with pytest.raises(ExerciseError, match=message):
        check.exercise_06_3(answer)


def test_06_3_names_adam_where_sgd_is_asked():
    def with_adam(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        loader = DataLoader(TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True)
        losses = []
        for _ in range(epochs):
            model.train()
            for X_batch, y_batch in loader:
                loss = nn.MSELoss()(model(X_batch), y_batch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            model.eval()
            with torch.inference_mode():
                losses.append(nn.MSELoss()(model(X_val), y_val).item())
        return losses

    with pytest.raises(ExerciseError, match=r"steps with Adam[\s\S]*torch\.optim\.SGD"):
        check.exercise_06_3(with_adam)


def test_06_3_names_a_fixed_batch_size_of_32():
    def batches_of_32(model, X_train, y_train, X_val, y_val, epochs, batch_size, lr):
        return loop_with_dataloader(model, X_train, y_train, X_val, y_val, epochs, 32, lr)

    with pytest.raises(ExerciseError, match=r"hold 32 rows, but batch_size is 16"):
        check.exercise_06_3(batches_of_32)
