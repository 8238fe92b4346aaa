"""Saving and loading: round trips, atomic saves, unsafe and broken files, exact resumes."""

import pickle
import stat

import pytest
import torch
from torch import nn

from helpers import (
    LinearRegressionModel,
    ModelFileError,
    UnsafeModelFileError,
    load_checkpoint,
    load_model,
    make_linear_data,
    save_checkpoint,
    save_model,
    split_data,
    train,
)


def fresh_model(seed=42):
    torch.manual_seed(seed)
    return LinearRegressionModel()


@pytest.fixture
def data():
    X, y = make_linear_data()
    return split_data(X, y)


@pytest.fixture
def trained(data):
    model = fresh_model()
    train(model, *data, epochs=50, verbose=False)
    return model


class CodeOnLoad:
    """Unpickling this would create the file ``target`` (it calls ``open(target, "w")``)."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


class WideModel(nn.Module):
    """Same parameter names as LinearRegressionModel, but ``weights`` has shape (2,)."""

    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(2))
        self.bias = nn.Parameter(torch.zeros(1))


def parameters_of(model):
    return {name: p.detach().clone() for name, p in model.named_parameters()}


# --- save_model / load_model ------------------------------------------------------------


def test_round_trip_gives_identical_predictions(tmp_path, trained, data):
    path = tmp_path / "model.pt"
    assert save_model(trained, path) == path
    loaded = load_model(fresh_model(seed=0), path)
    with torch.inference_mode():
        assert torch.equal(loaded(data[2]), trained(data[2]))
    assert torch.equal(loaded.weights, trained.weights) and torch.equal(loaded.bias, trained.bias)


def test_loaded_model_is_in_eval_mode_and_returned(tmp_path, trained):
    save_model(trained, tmp_path / "m.pt")
    target = fresh_model(seed=1).train()
    assert load_model(target, tmp_path / "m.pt") is target
    assert not target.training


def test_string_paths_and_map_location(tmp_path, trained):
    path = str(tmp_path / "m.pt")
    save_model(trained, path)
    loaded = load_model(fresh_model(seed=1), path, map_location="cpu")
    assert loaded.weights.device.type == "cpu"
    assert torch.equal(loaded.weights, trained.weights)


def test_the_file_is_a_plain_state_dict_loadable_by_torch(tmp_path, trained):
    path = tmp_path / "m.pt"
    save_model(trained, path)
    state = torch.load(path, weights_only=True)
    assert list(state) == ["weights", "bias"]
    assert torch.equal(state["weights"], trained.weights.detach())


def test_save_creates_parent_folders_and_leaves_nothing_else(tmp_path, trained):
    path = tmp_path / "runs" / "today" / "model.pt"
    save_model(trained, path)
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]


def test_saved_file_gets_ordinary_permissions(tmp_path, trained):
    reference = tmp_path / "reference.txt"
    reference.write_bytes(b"")  # created through the usual umask, like torch.save would
    save_model(trained, tmp_path / "m.pt")
    mode = stat.S_IMODE((tmp_path / "m.pt").stat().st_mode)
    assert mode == stat.S_IMODE(reference.stat().st_mode)


def test_saving_over_an_earlier_file_replaces_it(tmp_path, trained):
    path = tmp_path / "m.pt"
    save_model(fresh_model(seed=5), path)
    save_model(trained, path)
    assert torch.equal(load_model(fresh_model(seed=1), path).weights, trained.weights)


def test_save_that_fails_half_way_keeps_the_earlier_file(tmp_path, trained, monkeypatch):
    path = tmp_path / "m.pt"
    save_model(trained, path)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_model(fresh_model(seed=9), path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left
    assert torch.equal(load_model(fresh_model(seed=1), path).weights, trained.weights)


def test_interrupted_first_save_leaves_no_file_at_all(tmp_path, trained, monkeypatch):
    def interrupted(obj, f, *args, **kwargs):
        f.write(b"PK")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(trained, tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []


FUNCTIONS = {
    "save_model": save_model,
    "load_model": load_model,
    "save_checkpoint": save_checkpoint,
    "load_checkpoint": load_checkpoint,
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_path_first_is_one_clear_type_error(tmp_path, trained, name):
    before = parameters_of(trained)
    with pytest.raises(TypeError) as info:
        FUNCTIONS[name](tmp_path / "m.pt", trained)
    message = str(info.value)
    assert "nn.Module as its first argument" in message and "PosixPath" in message
    assert f"{name}(model, path)" in message
    assert list(tmp_path.iterdir()) == []
    assert all(torch.equal(p, before[n]) for n, p in parameters_of(trained).items())


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("path", [None, 3, ["m.pt"]], ids=["None", "int", "list"])
def test_a_path_that_is_not_a_path_is_a_type_error(trained, name, path):
    with pytest.raises(TypeError, match=rf"file path .* got {type(path).__name__}"):
        FUNCTIONS[name](trained, path)


def test_save_model_argument_errors(tmp_path, trained):
    with pytest.raises(TypeError, match="needs an nn.Module as its first argument.*OrderedDict"):
        save_model(trained.state_dict(), tmp_path / "m.pt")
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        save_model(trained, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere" / "model.pt"
    with pytest.raises(FileNotFoundError) as info:
        load_model(fresh_model(), path)
    assert str(path) in str(info.value) and "No file" in str(info.value)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model(fresh_model(), tmp_path)


def test_pickled_code_is_refused_and_never_runs(tmp_path):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pt"
    torch.save({"weights": CodeOnLoad(target)}, path)  # what a malicious download would hold
    assert not target.exists()
    model = fresh_model()
    before = parameters_of(model)

    with pytest.raises(UnsafeModelFileError) as info:
        load_model(model, path)

    assert not target.exists()  # nothing was executed
    assert str(path) in str(info.value) and "refused" in str(info.value)
    assert all(torch.equal(p, before[n]) for n, p in parameters_of(model).items())
    # The oracle: the same file unpickled without protection does run the code.
    torch.load(path, weights_only=False)["weights"].close()
    assert target.exists()


def test_plain_pickle_with_code_is_refused_too(tmp_path):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(CodeOnLoad(target), protocol=2))
    with pytest.raises(UnsafeModelFileError, match="nothing was executed"):
        load_model(fresh_model(), path)
    assert not target.exists()


def test_newer_pickle_protocol_is_refused_quietly(tmp_path):
    """A pickle in today's default protocol: refused without torch's protocol warning."""
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(CodeOnLoad(target), protocol=pickle.HIGHEST_PROTOCOL))
    with pytest.raises(ModelFileError, match=str(path)):  # filterwarnings=error catches leaks
        load_model(fresh_model(), path)
    assert not target.exists()


def test_unsafe_checkpoint_is_refused(tmp_path):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.ckpt"
    torch.save({"format": "linreg-checkpoint/1", "extra": CodeOnLoad(target)}, path)
    with pytest.raises(UnsafeModelFileError):
        load_checkpoint(fresh_model(), path)
    assert not target.exists()


def test_truncated_file_is_a_model_file_error(tmp_path, trained):
    path = tmp_path / "m.pt"
    save_model(trained, path)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(ModelFileError) as info:
        load_model(fresh_model(), path)
    assert not isinstance(info.value, UnsafeModelFileError)
    assert str(path) in str(info.value) and "truncated or corrupted" in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"hello, this is not a model", b'{"weights": 0.5}', b"\x80\x02garbage", b"PK\x03\x04junk"],
    ids=["text", "json", "bad-pickle", "zip-header-only"],
)
def test_files_that_are_not_pytorch_saves(tmp_path, content):
    """Junk is reported as damaged, never as dangerous, and never as a raw torch error."""
    path = tmp_path / "m.pt"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as info:
        load_model(fresh_model(), path)
    assert type(info.value) is ModelFileError
    message = str(info.value)
    assert str(path) in message and "corrupted" in message
    assert "weights_only" not in message  # no advice to switch off the safety check


def test_an_empty_file_says_so(tmp_path):
    path = tmp_path / "m.pt"
    path.write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"is empty \(0 bytes\)") as info:
        load_model(fresh_model(), path)
    assert type(info.value) is ModelFileError and str(path) in str(info.value)


def test_keys_that_do_not_match_are_named(tmp_path):
    path = tmp_path / "linear.pt"
    save_model(nn.Linear(1, 1), path)
    with pytest.raises(ModelFileError) as info:
        load_model(fresh_model(), path)
    message = str(info.value)
    assert str(path) in message and "LinearRegressionModel" in message
    assert "missing ['weights']" in message and "unexpected ['weight']" in message


def test_shapes_that_do_not_match_are_named(tmp_path):
    path = tmp_path / "wide.pt"
    save_model(WideModel(), path)
    model = fresh_model()
    before = parameters_of(model)
    with pytest.raises(ModelFileError) as info:
        load_model(model, path)
    assert "weights is (2,) in the file but (1,) in the model" in str(info.value)
    assert all(torch.equal(p, before[n]) for n, p in parameters_of(model).items())


def test_load_model_refuses_a_checkpoint_with_a_pointer(tmp_path, trained):
    save_checkpoint(trained, tmp_path / "c.pt")
    with pytest.raises(ModelFileError, match=r"training checkpoint; load it with load_checkpoint"):
        load_model(fresh_model(), tmp_path / "c.pt")


def test_file_holding_something_else_than_a_state_dict(tmp_path):
    path = tmp_path / "list.pt"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(ModelFileError, match="does not hold a state_dict"):
        load_model(fresh_model(), path)


# --- checkpoints ------------------------------------------------------------------------


def test_checkpoint_round_trip_with_extra_values(tmp_path, trained):
    optimizer = torch.optim.SGD(trained.parameters(), lr=0.1)
    path = tmp_path / "ckpt" / "c.pt"
    save_checkpoint(trained, path, optimizer, epoch=50, note="after 50", losses=[0.3, 0.2])
    model = fresh_model(seed=3).train()
    info = load_checkpoint(model, path, torch.optim.SGD(model.parameters(), lr=0.1))
    assert info == {"epoch": 50, "note": "after 50", "losses": [0.3, 0.2]}
    assert torch.equal(model.weights, trained.weights) and not model.training


def test_checkpoint_without_optimizer(tmp_path, trained):
    save_checkpoint(trained, tmp_path / "c.pt")
    model = fresh_model(seed=3)
    assert load_checkpoint(model, tmp_path / "c.pt") == {"epoch": None}
    assert torch.equal(model.bias, trained.bias)
    with pytest.raises(ModelFileError, match="saved without optimizer state"):
        load_checkpoint(model, tmp_path / "c.pt", torch.optim.SGD(model.parameters(), lr=0.1))


def test_resume_from_checkpoint_equals_uninterrupted_training(tmp_path, data):
    def momentum_sgd(model):
        return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    straight = fresh_model()
    straight_history = train(
        straight, *data, epochs=50, optimizer=momentum_sgd(straight), verbose=False
    )

    first = fresh_model()
    first_optimizer = momentum_sgd(first)
    first_history = train(first, *data, epochs=30, optimizer=first_optimizer, verbose=False)
    path = tmp_path / "epoch30.pt"
    save_checkpoint(first, path, first_optimizer, epoch=30)

    resumed = fresh_model(seed=7)  # different start, overwritten by the checkpoint
    resumed_optimizer = momentum_sgd(resumed)
    assert load_checkpoint(resumed, path, resumed_optimizer)["epoch"] == 30
    second_history = train(resumed, *data, epochs=20, optimizer=resumed_optimizer, verbose=False)

    assert first_history.train_loss + second_history.train_loss == straight_history.train_loss
    assert first_history.test_loss + second_history.test_loss == straight_history.test_loss
    assert torch.equal(resumed.weights, straight.weights)
    assert torch.equal(resumed.bias, straight.bias)


def test_resume_without_optimizer_state_differs(tmp_path, data):
    """The resume test above can fail: dropping the momentum changes the result."""

    def momentum_sgd(model):
        return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    straight = fresh_model()
    train(straight, *data, epochs=50, optimizer=momentum_sgd(straight), verbose=False)
    first = fresh_model()
    train(first, *data, epochs=30, optimizer=momentum_sgd(first), verbose=False)
    save_checkpoint(first, tmp_path / "c.pt", epoch=30)
    resumed = fresh_model()
    load_checkpoint(resumed, tmp_path / "c.pt")
    train(resumed, *data, epochs=20, optimizer=momentum_sgd(resumed), verbose=False)
    assert not torch.equal(resumed.weights, straight.weights)


def test_load_checkpoint_refuses_a_plain_state_dict(tmp_path, trained):
    save_model(trained, tmp_path / "m.pt")
    with pytest.raises(ModelFileError, match="not a checkpoint made by save_checkpoint"):
        load_checkpoint(fresh_model(), tmp_path / "m.pt")


def test_checkpoint_with_other_optimizer_class(tmp_path, trained):
    save_checkpoint(trained, tmp_path / "c.pt", torch.optim.SGD(trained.parameters(), lr=0.1))
    model = fresh_model()
    before = parameters_of(model)
    with pytest.raises(ModelFileError, match="holds SGD state but the optimizer given is Adam"):
        load_checkpoint(model, tmp_path / "c.pt", torch.optim.Adam(model.parameters()))
    assert all(torch.equal(p, before[n]) for n, p in parameters_of(model).items())


def test_checkpoint_shape_mismatch_changes_nothing(tmp_path):
    save_checkpoint(WideModel(), tmp_path / "c.pt")
    model = fresh_model()
    before = parameters_of(model)
    with pytest.raises(ModelFileError, match=r"weights is \(2,\) in the file but \(1,\)"):
        load_checkpoint(model, tmp_path / "c.pt")
    assert all(torch.equal(p, before[n]) for n, p in parameters_of(model).items())


def test_truncated_checkpoint(tmp_path, trained):
    path = tmp_path / "c.pt"
    save_checkpoint(trained, path, epoch=1)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        load_checkpoint(fresh_model(), path)


def test_checkpoint_extra_values_must_be_plain(tmp_path, trained):
    with pytest.raises(TypeError, match=r"history\['model'\] is a LinearRegressionModel"):
        save_checkpoint(trained, tmp_path / "c.pt", history={"model": trained})
    with pytest.raises(TypeError, match="needs an nn.Module as its first argument"):
        save_checkpoint({"weights": 1}, tmp_path / "c.pt")
    assert list(tmp_path.iterdir()) == []
