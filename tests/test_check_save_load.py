"""The notebook-05 exercise checks: right answers pass, wrong ones get a hint.

What every check does (unfinished answers, the random state) is in test_check_common.py.
"""

import pickle

import numpy as np
import pytest
import torch
from torch import nn

from helpers import (
    LinearRegressionModel,
    check,
    load_checkpoint,
    load_model,
    make_linear_data,
    save_checkpoint,
    save_model,
    split_data,
    train,
)
from helpers.check import ExerciseError


def assert_passed(capsys, exercise):
    out = capsys.readouterr().out
    assert out.startswith(f"Exercise {exercise} passed") and out.count("\n") == 1


def momentum_sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def seeded_model():
    torch.manual_seed(42)
    return LinearRegressionModel()


# 05.1: save and reload


def test_05_1_accepts_a_state_dict_round_trip(capsys):
    def round_trip(model, path):
        torch.save(model.state_dict(), path)
        fresh = LinearRegressionModel()
        fresh.load_state_dict(torch.load(path, weights_only=True))
        return fresh.eval()

    check.exercise_05_1(round_trip)
    assert_passed(capsys, "05.1")


def test_05_1_saving_the_whole_model_is_refused():
    def whole_model(model, path):
        torch.save(model, path)
        return model

    with pytest.raises(ExerciseError, match="(?s)pickled Python object.*state_dict"):
        check.exercise_05_1(whole_model)


def test_05_1_returning_the_same_model_is_caught():
    def same(model, path):
        torch.save(model.state_dict(), path)
        return model

    with pytest.raises(ExerciseError, match="fresh LinearRegressionModel"):
        check.exercise_05_1(same)


def test_05_1_forgetting_to_load_is_caught():
    def not_loaded(model, path):
        torch.save(model.state_dict(), path)
        torch.load(path, weights_only=True)  # read, but never put into the new model
        return LinearRegressionModel().eval()

    with pytest.raises(ExerciseError, match="(?s)parameters differ.*load_state_dict"):
        check.exercise_05_1(not_loaded)


def test_05_1_training_mode_is_caught():
    def left_in_training(model, path):
        torch.save(model.state_dict(), path)
        fresh = LinearRegressionModel()
        fresh.load_state_dict(torch.load(path, weights_only=True))
        return fresh

    with pytest.raises(ExerciseError, match=r"(?s)training mode.*\.eval\(\)"):
        check.exercise_05_1(left_in_training)


# 05.2: resume from a checkpoint


def restart(folder, first, second, *, restore_optimizer=True, by_hand=False):
    data = split_data(*make_linear_data())
    model = seeded_model()
    optimizer = momentum_sgd(model)
    train(model, *data, epochs=first, optimizer=optimizer, verbose=False)
    path = folder / "checkpoint.pt"
    if by_hand:
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": first}
        torch.save(state, path)
    else:
        save_checkpoint(model, path, optimizer, epoch=first)

    torch.manual_seed(0)
    resumed = LinearRegressionModel()
    new_optimizer = momentum_sgd(resumed)
    state = torch.load(path, weights_only=True)
    resumed.load_state_dict(state["model"] if by_hand else state["model_state"])
    if restore_optimizer:
        new_optimizer.load_state_dict(state["optimizer"] if by_hand else state["optimizer_state"])
    train(resumed, *data, epochs=second, optimizer=new_optimizer, verbose=False)
    return resumed


@pytest.mark.parametrize("by_hand", [False, True])
def test_05_2_accepts_a_restored_checkpoint(capsys, by_hand):
    check.exercise_05_2(
        lambda folder, first, second: restart(folder, first, second, by_hand=by_hand)
    )
    assert_passed(capsys, "05.2")


def test_05_2_a_fresh_optimizer_gets_the_momentum_hint():
    def forgets(folder, first, second):
        return restart(folder, first, second, restore_optimizer=False)

    with pytest.raises(ExerciseError, match="(?s)fresh optimizer.*optimizer.load_state_dict"):
        check.exercise_05_2(forgets)


def test_05_2_a_model_only_checkpoint_is_caught():
    def model_only(folder, first, second):
        model = restart(folder, first, second)
        for file in folder.iterdir():
            file.unlink()
        save_model(model, folder / "model.pt")
        return model

    with pytest.raises(ExerciseError, match="optimizer's state"):
        check.exercise_05_2(model_only)


def test_05_2_no_file_is_caught():
    def no_file(folder, first, second):
        data = split_data(*make_linear_data())
        model = seeded_model()
        train(model, *data, epochs=first + second, optimizer=momentum_sgd(model), verbose=False)
        return model

    with pytest.raises(ExerciseError, match="no file"):
        check.exercise_05_2(no_file)


def test_05_2_a_wrong_start_gets_the_recipe():
    def wrong_seed(folder, first, second):
        model = restart(folder, first, second)
        with torch.no_grad():
            model.weights.add_(0.1)
        return model

    with pytest.raises(ExerciseError, match="(?s)unbroken run.*manual_seed\\(42\\)"):
        check.exercise_05_2(wrong_seed)


# 05.3: refuse a file with hidden code


def test_05_3_accepts_a_weights_only_loader(capsys):
    def load_if_safe(path):
        try:
            return torch.load(path, weights_only=True)
        except pickle.UnpicklingError:
            return None

    check.exercise_05_3(load_if_safe)
    assert_passed(capsys, "05.3")


def test_05_3_an_unsafe_load_runs_the_code_and_is_caught():
    def trusting(path):
        return torch.load(path, weights_only=False)

    with pytest.raises(ExerciseError, match="(?s)RAN.*weights_only=True"):
        check.exercise_05_3(trusting)


def test_05_3_letting_the_refusal_escape_gets_the_catch_hint():
    with pytest.raises(ExerciseError, match="(?s)raised UnpicklingError.*return None"):
        check.exercise_05_3(lambda path: torch.load(path, weights_only=True))


def test_05_3_refusing_everything_is_caught():
    with pytest.raises(ExerciseError, match="only tensors did not come back"):
        check.exercise_05_3(lambda path: None)


# 05.4: keep the best model


def keep_best(folder, epochs, *, save_last=False):
    data = split_data(*make_linear_data())
    model = seeded_model()
    optimizer = momentum_sgd(model)
    best = float("inf")
    for _ in range(epochs):
        loss = train(model, *data, epochs=1, optimizer=optimizer, verbose=False).test_loss[-1]
        if loss < best:
            best = loss
            if not save_last:
                save_model(model, folder / "best.pt")
    if save_last:
        save_model(model, folder / "best.pt")
    return best


def test_05_4_accepts_saving_at_each_new_low(capsys):
    check.exercise_05_4(keep_best)
    assert_passed(capsys, "05.4")


def test_05_4_accepts_picking_the_best_from_the_history(capsys):
    def from_history(folder, epochs):
        data = split_data(*make_linear_data())
        model = seeded_model()
        history = train(model, *data, epochs=epochs, optimizer=momentum_sgd(model), verbose=False)
        best = int(np.argmin(history.test_loss))
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(history.params[best][name])
        save_model(model, folder / "best.pt")
        return history.test_loss[best]

    check.exercise_05_4(from_history)
    assert_passed(capsys, "05.4")


def test_05_4_saving_the_final_model_gets_the_loop_hint():
    with pytest.raises(ExerciseError, match="holds the final model"):
        check.exercise_05_4(lambda folder, epochs: keep_best(folder, epochs, save_last=True))


def test_05_4_a_checkpoint_instead_of_a_model_file_is_caught():
    def as_checkpoint(folder, epochs):
        best = keep_best(folder, epochs)
        save_checkpoint(LinearRegressionModel(), folder / "best.pt", epoch=0)
        return best

    with pytest.raises(ExerciseError, match="does not load with helpers.load_model"):
        check.exercise_05_4(as_checkpoint)


def test_05_3_catching_every_exception_is_caught():
    def catch_all(path):
        try:
            return torch.load(path, weights_only=True)
        except Exception:
            return None

    with pytest.raises(ExerciseError, match="(?s)no file.*returned None.*not every Exception"):
        check.exercise_05_3(catch_all)


def test_05_3_turning_a_missing_file_into_another_error_is_caught():
    def renames_errors(path):
        try:
            return torch.load(path, weights_only=True)
        except pickle.UnpicklingError:
            return None
        except OSError as error:
            raise RuntimeError("could not load") from error

    with pytest.raises(ExerciseError, match="(?s)raised RuntimeError, not FileNotFoundError"):
        check.exercise_05_3(renames_errors)


# 05.1: holes a round trip must not slip through


def test_05_1_changing_the_given_model_is_caught():
    def zeroes_then_saves(model, path):
        with torch.no_grad():
            model.weights.zero_()
        torch.save(model.state_dict(), path)
        fresh = LinearRegressionModel()
        fresh.load_state_dict(torch.load(path, weights_only=True))
        return fresh.eval()

    with pytest.raises(ExerciseError, match="changed the parameters of the model it was given"):
        check.exercise_05_1(zeroes_then_saves)


def test_05_1_a_shallow_copy_that_never_reads_the_file_is_caught():
    import copy

    def copies(model, path):
        torch.save(model.state_dict(), path)
        return copy.copy(model).eval()

    with pytest.raises(ExerciseError, match="never read the file back"):
        check.exercise_05_1(copies)


def test_05_1_parameters_shared_with_the_original_are_caught():
    def shares(model, path):
        torch.save(model.state_dict(), path)
        fresh = LinearRegressionModel()
        fresh.load_state_dict(torch.load(path, weights_only=True))
        fresh.weights, fresh.bias = model.weights, model.bias
        return fresh.eval()

    with pytest.raises(ExerciseError, match="shares its parameters' memory"):
        check.exercise_05_1(shares)


def test_05_1_saving_another_model_is_caught():
    def wrong_model(model, path):
        other = LinearRegressionModel()
        torch.save(other.state_dict(), path)
        fresh = LinearRegressionModel()
        fresh.load_state_dict(model.state_dict())
        torch.load(path, weights_only=True)
        return fresh.eval()

    with pytest.raises(ExerciseError, match="numbers in the file are not the given model's"):
        check.exercise_05_1(wrong_model)


def test_05_1_accepts_helpers_and_a_deep_copy_to_load_into(capsys):
    import copy

    def with_helpers(model, path):
        save_model(model, path)
        return load_model(copy.deepcopy(model), path)

    check.exercise_05_1(with_helpers)
    assert_passed(capsys, "05.1")


# 05.2: a checkpoint that is written but never read


def test_05_2_training_on_without_loading_is_caught():
    def never_loads(folder, first, second):
        data = split_data(*make_linear_data())
        model = seeded_model()
        optimizer = momentum_sgd(model)
        train(model, *data, epochs=first, optimizer=optimizer, verbose=False)
        save_checkpoint(model, folder / "checkpoint.pt", optimizer, epoch=first)
        train(model, *data, epochs=second, optimizer=optimizer, verbose=False)
        return model

    with pytest.raises(ExerciseError, match="never loaded it"):
        check.exercise_05_2(never_loads)


def test_05_2_accepts_the_checkpoint_helpers(capsys):
    def with_helpers(folder, first, second):
        data = split_data(*make_linear_data())
        model = seeded_model()
        optimizer = momentum_sgd(model)
        train(model, *data, epochs=first, optimizer=optimizer, verbose=False)
        save_checkpoint(model, folder / "checkpoint.pt", optimizer, epoch=first)
        resumed = LinearRegressionModel()
        resumed_optimizer = momentum_sgd(resumed)
        load_checkpoint(resumed, folder / "checkpoint.pt", resumed_optimizer)
        train(resumed, *data, epochs=second, optimizer=resumed_optimizer, verbose=False)
        return resumed

    check.exercise_05_2(with_helpers)
    assert_passed(capsys, "05.2")


# 05.4: the lowest loss may come back as a NumPy number


@pytest.mark.parametrize("as_numpy", [np.float32, np.float64, np.asarray])
def test_05_4_accepts_a_numpy_number(capsys, as_numpy):
    check.exercise_05_4(lambda folder, epochs: as_numpy(keep_best(folder, epochs)))
    assert_passed(capsys, "05.4")


def test_05_4_a_list_is_not_a_number():
    with pytest.raises(ExerciseError, match="should return the lowest test loss, got a list"):
        check.exercise_05_4(lambda folder, epochs: [keep_best(folder, epochs)])


# 05.5: train on a device, load on the CPU


def train_and_reload(
    device,
    X,
    y,
    steps,
    path,
    *,
    move_model=True,
    move_data=True,
    map_location="cpu",
    dtype=torch.float32,
    module=LinearRegressionModel,
):
    torch.manual_seed(42)
    model = LinearRegressionModel()
    if module is nn.Linear:  # the same start, in an nn.Linear
        start = model
        model = nn.Linear(1, 1)
        with torch.no_grad():
            model.weight.copy_(start.weights.reshape(1, 1))
            model.bias.copy_(start.bias)
    model = model.to(dtype)
    if move_model:
        model.to(device)
    if move_data:
        X, y = X.to(device), y.to(device)
    X, y = X.to(dtype), y.to(dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.L1Loss()
    for _ in range(steps):
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.save(model.state_dict(), path)
    fresh = module(1, 1) if module is nn.Linear else module()
    fresh = fresh.to(dtype)
    if map_location is None:
        fresh.load_state_dict(torch.load(path, weights_only=True))
    else:
        fresh.load_state_dict(torch.load(path, map_location=map_location, weights_only=True))
    return fresh.eval()


@pytest.mark.parametrize(
    "options",
    [{}, {"dtype": torch.float64}, {"module": nn.Linear}],
    ids=["float32", "float64", "nn.Linear"],
)
def test_05_5_accepts_a_loop_by_hand(capsys, options):
    check.exercise_05_5(lambda *args: train_and_reload(*args, **options))
    assert_passed(capsys, "05.5")


def test_05_5_accepts_numpy_gradients_written_out(capsys):
    def by_numpy(device, X, y, steps, path):
        torch.manual_seed(42)
        model = LinearRegressionModel().to(device)
        x, t = X.numpy().astype(np.float64), y.numpy().astype(np.float64)
        w, b = model.weights.item(), model.bias.item()
        for _ in range(steps):
            sign = np.sign(w * x + b - t)
            w, b = w - 0.1 * (sign * x).mean(), b - 0.1 * sign.mean()
        with torch.no_grad():
            model.weights.fill_(w)
            model.bias.fill_(b)
        save_model(model, path)
        return load_model(LinearRegressionModel(), path, map_location="cpu")

    check.exercise_05_5(by_numpy)
    assert_passed(capsys, "05.5")


def test_05_5_loading_without_map_location_is_caught():
    with pytest.raises(ExerciseError, match='(?s)without map_location.*map_location="cpu"'):
        check.exercise_05_5(lambda *args: train_and_reload(*args, map_location=None))


def test_05_5_skipping_the_steps_gets_the_training_hint():
    with pytest.raises(ExerciseError, match="still the starting line"):
        check.exercise_05_5(
            lambda device, X, y, steps, path: train_and_reload(device, X, y, 0, path)
        )


def test_05_5_a_wrong_learning_rate_gets_the_recipe():
    def slow(device, X, y, steps, path):
        torch.manual_seed(42)
        model = LinearRegressionModel().to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        for _ in range(steps):
            loss = (model(X.to(device)) - y.to(device)).abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        torch.save(model.state_dict(), path)
        fresh = LinearRegressionModel()
        fresh.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return fresh

    with pytest.raises(ExerciseError, match=r"(?s)after 3 steps.*lr=0\.1"):
        check.exercise_05_5(slow)


def test_05_5_returning_the_model_still_on_the_device_is_caught(monkeypatch):
    """A stand-in second device: the checker's get_device() says meta (shapes, no numbers)."""

    def no_reload(device, X, y, steps, path):
        torch.manual_seed(42)
        model = LinearRegressionModel().to(device)
        X, y = X.to(device), y.to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(steps):
            loss = (model(X) - y).abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        torch.save(model.state_dict(), path)
        torch.load(path, map_location="cpu", weights_only=True)  # loaded, then not used
        return model

    monkeypatch.setattr("helpers.check.save_load.get_device", lambda: torch.device("meta"))
    with pytest.raises(ExerciseError, match="parameters are on meta, not the CPU"):
        check.exercise_05_5(no_reload)


@pytest.mark.parametrize(
    "options, problem",
    [
        ({"move_model": False}, "raised a RuntimeError"),
        ({"move_data": False}, "raised a RuntimeError"),
        ({"move_model": False, "move_data": False}, "holds tensors saved from cpu"),
    ],
    ids=["model left behind", "data left behind", "nothing moved"],
)
def test_05_5_a_model_or_data_not_moved_is_caught(monkeypatch, options, problem):
    """On a second device (meta stands in for a GPU here) every slip about moving shows."""
    monkeypatch.setattr("helpers.check.save_load.get_device", lambda: torch.device("meta"))
    with pytest.raises(ExerciseError, match=f"(?s){problem}.*model.to\\(device\\)"):
        check.exercise_05_5(lambda *args: train_and_reload(*args, **options))


def test_05_5_changing_the_given_data_is_caught():
    def in_place(device, X, y, steps, path):
        X[0] = 0.5  # "tidying" the caller's data in place
        return train_and_reload(device, X, y, steps, path)

    with pytest.raises(ExerciseError, match="changed the X or y it was given"):
        check.exercise_05_5(in_place)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_05_5_on_a_real_gpu_data_left_on_the_cpu_is_caught():
    with pytest.raises(ExerciseError, match="raised a RuntimeError"):
        check.exercise_05_5(lambda *args: train_and_reload(*args, move_data=False))
