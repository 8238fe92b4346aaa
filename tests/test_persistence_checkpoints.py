"""Checkpoints: what is saved always loads, and a misfit at load is a clear error that changes nothing."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from helpers import ModelFileError, load_checkpoint, save_checkpoint, train


def state_of(model, optimizer):
    return copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())


def unchanged(model, optimizer, before):
    model_state, optimizer_state = before
    same_model = all(torch.equal(v, model_state[k]) for k, v in model.state_dict().items())
    return same_model and repr(optimizer.state_dict()) == repr(optimizer_state)


def test_numpy_scalars_become_python_numbers(tmp_path, seeded_model, default_split):
    model = seeded_model()
    history = train(model, *default_split, epochs=5, verbose=False)
    best = np.min(history.test_loss)  # the common case: a NumPy float64
    path = tmp_path / "c.pt"
    save_checkpoint(
        model,
        path,
        epoch=np.int64(5),
        best=best,
        flags=[np.bool_(True)],
        lr=np.float32(0.5),
        name=np.str_("run"),
        by={np.int64(1): np.float16(2)},
    )
    info = load_checkpoint(seeded_model(0), path)
    assert info == {
        "epoch": 5,
        "best": float(best),
        "flags": [True],
        "lr": 0.5,
        "name": "run",
        "by": {1: 2.0},
    }
    assert type(info["best"]) is float and type(info["epoch"]) is int
    assert type(info["flags"][0]) is bool and type(info["name"]) is str


def test_tensor_extras_load_back(tmp_path, seeded_model):
    stats = {"mean": torch.tensor([1.5]), "std": torch.tensor(2.0)}
    save_checkpoint(seeded_model(), tmp_path / "c.pt", stats=stats, shape=(3, 1), nothing=None)
    info = load_checkpoint(seeded_model(), tmp_path / "c.pt")
    assert torch.equal(info["stats"]["mean"], stats["mean"]) and info["shape"] == (3, 1)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (np.array([1.0, 2.0]), r"ndarray \(turn it into a tensor with torch.as_tensor\)"),
        ({1, 2}, "is a set"),
        (np.datetime64("2026-01-01"), "datetime64"),
        (nn.Linear(1, 1), "is a Linear"),
        (1 + 2j, "is a complex"),
    ],
)
def test_values_that_would_not_load_are_refused_at_save(tmp_path, seeded_model, value, words):
    with pytest.raises(TypeError, match=words) as info:
        save_checkpoint(seeded_model(), tmp_path / "c.pt", thing=value)
    assert "weights_only=True" in str(info.value) or "key" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_cycle_and_odd_keys_are_refused(tmp_path, seeded_model):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        save_checkpoint(seeded_model(), tmp_path / "c.pt", loop=loop)
    with pytest.raises(TypeError, match="has a key 1.5"):
        save_checkpoint(seeded_model(), tmp_path / "c.pt", table={1.5: 2})


@pytest.mark.parametrize("epoch", [True, 2.5, "3", np.float64(4.0)])
def test_epoch_must_be_a_whole_number(tmp_path, seeded_model, epoch):
    with pytest.raises(ValueError, match="epoch must be a whole number"):
        save_checkpoint(seeded_model(), tmp_path / "c.pt", epoch=epoch)


@pytest.mark.parametrize("epoch", [7, np.int64(7), torch.tensor(7)])
def test_epoch_written_differently_is_accepted(tmp_path, seeded_model, epoch):
    save_checkpoint(seeded_model(), tmp_path / "c.pt", epoch=epoch)
    got = load_checkpoint(seeded_model(), tmp_path / "c.pt")["epoch"]
    assert got == 7 and type(got) is int


def two_groups(model):
    return torch.optim.SGD(
        [{"params": [model.weights]}, {"params": [model.bias]}], lr=0.1, momentum=0.9
    )


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda m: two_groups(m),
            r"shapes \[\[\(1,\), \(1,\)\]\].*holds \[\[\(1,\)\], \[\(1,\)\]\]",
        ),
        (lambda m: torch.optim.SGD([m.weights], lr=0.1, momentum=0.9), r"holds \[\[\(1,\)\]\]"),
        (
            lambda m: torch.optim.Adam(m.parameters()),
            "holds SGD state but the optimizer given is Adam",
        ),
        (lambda m: torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1), r"\(1, 2\)"),
    ],
    ids=["group-count", "group-size", "class", "shapes"],
)
def test_an_optimizer_state_that_does_not_fit_changes_nothing(
    tmp_path, seeded_model, default_split, make, words
):
    saved = seeded_model()
    optimizer = torch.optim.SGD(saved.parameters(), lr=0.1, momentum=0.9)
    train(saved, *default_split, epochs=3, optimizer=optimizer, verbose=False)
    save_checkpoint(saved, tmp_path / "c.pt", optimizer, epoch=3)
    model = seeded_model(1)
    other = make(model)
    before = state_of(model, other)
    with pytest.raises(ModelFileError, match=words):
        load_checkpoint(model, tmp_path / "c.pt", other)
    assert unchanged(model, other, before)


def write_raw(path, checkpoint):
    torch.save(checkpoint, path)


@pytest.mark.parametrize("part", ["model_state", "extra", "epoch"])
def test_a_checkpoint_missing_a_part(tmp_path, seeded_model, part):
    checkpoint = {
        "format": "linreg-checkpoint/1",
        "model_state": seeded_model().state_dict(),
        "epoch": 1,
        "extra": {},
    }
    del checkpoint[part]
    write_raw(tmp_path / "c.pt", checkpoint)
    with pytest.raises(ModelFileError, match=f"incomplete checkpoint .*{part}"):
        load_checkpoint(seeded_model(), tmp_path / "c.pt")


def test_damaged_optimizer_state(tmp_path, seeded_model):
    checkpoint = {
        "format": "linreg-checkpoint/1",
        "model_state": seeded_model().state_dict(),
        "epoch": 1,
        "extra": {},
        "optimizer_class": "SGD",
        "optimizer_state": {"x": 1},
    }
    write_raw(tmp_path / "c.pt", checkpoint)
    model = seeded_model(1)
    with pytest.raises(ModelFileError, match="damaged optimizer state"):
        load_checkpoint(model, tmp_path / "c.pt", torch.optim.SGD(model.parameters(), lr=0.1))
