"""Saves keep what a plain write keeps; loads tell each kind of bad file apart (issue-15 cases)."""

import errno
import os
import pickle
import re
import stat
import time
import warnings
import zipfile

import pytest
import torch
from torch import nn

import helpers._atomic_write as atomic
from helpers import (
    ModelFileError,
    UnsafeModelFileError,
    load_checkpoint,
    load_model,
    save_checkpoint,
    save_model,
)

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


class CodeOnLoad:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def weights_of(model):
    return [p.detach().clone() for p in model.parameters()]


def same(model, weights):
    return all(torch.equal(p, w) for p, w in zip(model.parameters(), weights, strict=True))


# --- what a plain write keeps -----------------------------------------------------------


def test_replacing_a_file_keeps_its_permissions(tmp_path, seeded_model):
    path = tmp_path / "m.pt"
    save_model(seeded_model(1), path)
    path.chmod(0o640)
    save_model(seeded_model(2), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert torch.equal(load_model(seeded_model(0), path).weights, seeded_model(2).weights)


@pytest.mark.skipif(ROOT_USER, reason="root may write to a read-only file, as open() lets it")
def test_a_write_protected_file_is_refused_like_open(tmp_path, seeded_model):
    path = tmp_path / "m.pt"
    save_model(seeded_model(1), path)
    before = path.read_bytes()
    path.chmod(0o444)
    with pytest.raises(PermissionError) as info:
        save_model(seeded_model(2), path)
    assert str(path) in str(info.value) and atomic.TEMP_PREFIX not in str(info.value)
    assert path.read_bytes() == before


def test_write_protection_check_is_the_one_open_makes(tmp_path, seeded_model, monkeypatch):
    """Simulated for root too: the same refusal open(path, 'r+b') gives becomes the error."""
    path = tmp_path / "m.pt"
    save_model(seeded_model(1), path)
    before = path.read_bytes()
    real_open = open

    def guarded(file, mode="r", *args, **kwargs):
        if os.fspath(file) == str(path) and mode == "r+b":
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded)
    with pytest.raises(PermissionError, match=f"Could not save {path}: Permission denied"):
        save_model(seeded_model(2), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_a_symlink_is_written_through(tmp_path, seeded_model):
    real = tmp_path / "real" / "m.pt"
    real.parent.mkdir()
    link = tmp_path / "link.pt"
    link.symlink_to(real)
    save_model(seeded_model(3), link)
    assert link.is_symlink() and real.is_file()
    assert torch.equal(load_model(seeded_model(0), real).bias, seeded_model(3).bias)


def test_hard_links_all_see_the_new_content(tmp_path, seeded_model):
    path, other = tmp_path / "m.pt", tmp_path / "also.pt"
    save_model(seeded_model(1), path)
    os.link(path, other)
    save_model(seeded_model(2), path)
    assert path.stat().st_ino == other.stat().st_ino and path.stat().st_nlink == 2
    assert torch.equal(load_model(seeded_model(0), other).weights, seeded_model(2).weights)


def test_a_name_near_the_length_limit_still_saves(tmp_path, seeded_model):
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    path = tmp_path / ("m" * (limit - 3) + ".pt")
    assert len(path.name) == limit
    save_model(seeded_model(4), path)
    assert torch.equal(load_model(seeded_model(0), path).weights, seeded_model(4).weights)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_stale_temporary_files_are_cleaned_fresh_ones_kept(tmp_path, seeded_model):
    stale = tmp_path / f"{atomic.TEMP_PREFIX}dead{atomic.TEMP_SUFFIX}"
    fresh = tmp_path / f"{atomic.TEMP_PREFIX}busy{atomic.TEMP_SUFFIX}"
    mine = tmp_path / "notes.tmp"
    for f in (stale, fresh, mine):
        f.write_bytes(b"x")
    old = time.time() - atomic.STALE_AFTER_S - 60
    os.utime(stale, (old, old))
    os.utime(mine, (old, old))
    save_model(seeded_model(), tmp_path / "m.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, mine.name, "m.pt"])


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_has_its_own_message(tmp_path, seeded_model, monkeypatch, code):
    path = tmp_path / "m.pt"
    save_model(seeded_model(1), path)
    before = path.read_bytes()

    def full(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        save_model(seeded_model(2), path)
    monkeypatch.undo()
    message = str(info.value)
    assert info.value.errno == code and "No space left to save" in message
    assert str(path) in message and atomic.TEMP_PREFIX not in message
    assert "truncated" not in message and path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_a_folder_that_cannot_be_written_names_the_users_path(tmp_path, seeded_model, monkeypatch):
    real_open = open

    def denied(file, mode="r", *args, **kwargs):
        if atomic.TEMP_PREFIX in os.fspath(file):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", denied)
    with pytest.raises(PermissionError) as info:
        save_model(seeded_model(), tmp_path / "m.pt")
    monkeypatch.undo()
    assert str(tmp_path / "m.pt") in str(info.value)
    assert atomic.TEMP_PREFIX not in str(info.value)


def test_tilde_is_the_home_folder(tmp_path, seeded_model, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    returned = save_model(seeded_model(5), "~/models/m.pt")
    assert returned == tmp_path / "models" / "m.pt" and returned.is_file()
    assert torch.equal(
        load_model(seeded_model(0), "~/models/m.pt").weights, seeded_model(5).weights
    )
    save_checkpoint(seeded_model(5), "~/c.pt", epoch=1)
    assert load_checkpoint(seeded_model(0), "~/c.pt") == {"epoch": 1}


# --- kinds of file, each with its own message --------------------------------------------


def test_torchscript_archive_has_its_own_message(tmp_path):
    path = tmp_path / "scripted.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated in 2.13
        warnings.simplefilter("ignore", FutureWarning)  # and says so with a FutureWarning in 2.15
        torch.jit.save(torch.jit.script(nn.Linear(1, 1)), path)
    with pytest.raises(ModelFileError, match="torch.jit.save.*torch.jit.load") as info:
        load_model(nn.Linear(1, 1), path)
    assert type(info.value) is ModelFileError and str(path) in str(info.value)


def test_raw_pickle_with_code_is_unsafe_and_names_the_global(tmp_path, seeded_model):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(CodeOnLoad(target), protocol=4))
    with pytest.raises(UnsafeModelFileError) as info:
        load_model(seeded_model(), path)
    message = str(info.value)
    assert "raw Python pickle" in message and re.search(r"(io|builtins)\.open", message)
    assert "corrupted" not in str(info.value) and not target.exists()


def test_raw_pickle_without_code_is_not_a_torch_file(tmp_path, seeded_model):
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"weights": [0.5], "bias": [0.1]}))
    with pytest.raises(
        ModelFileError, match="plain Python pickle, not a file written by torch.save"
    ):
        load_model(seeded_model(), path)


@pytest.mark.parametrize("protocol", [2, 4])
def test_code_in_a_torch_zip_is_refused_with_any_protocol(tmp_path, seeded_model, protocol):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pt"
    torch.save({"weights": CodeOnLoad(target)}, path, pickle_protocol=protocol)
    model = seeded_model()
    before = weights_of(model)
    with pytest.raises(UnsafeModelFileError, match=r"(io|builtins)\.open"):
        load_model(model, path)
    assert not target.exists() and same(model, before)


def test_without_torchs_scanner_the_outcome_is_the_same(tmp_path, seeded_model, monkeypatch):
    target = tmp_path / "pwned.txt"
    evil, good = tmp_path / "evil.pt", tmp_path / "good.pt"
    torch.save({"weights": CodeOnLoad(target)}, evil)
    save_model(seeded_model(6), good)
    monkeypatch.delattr(torch.serialization, "get_unsafe_globals_in_checkpoint")
    with pytest.raises(UnsafeModelFileError, match=r"(io|builtins)\.open"):
        load_model(seeded_model(), evil)
    assert torch.equal(load_model(seeded_model(0), good).weights, seeded_model(6).weights)
    assert not target.exists()


def test_the_old_non_zip_torch_format_loads_and_is_scanned(tmp_path, seeded_model):
    path = tmp_path / "legacy.pt"
    torch.save(seeded_model(7).state_dict(), path, _use_new_zipfile_serialization=False)
    assert torch.equal(load_model(seeded_model(0), path).weights, seeded_model(7).weights)
    target = tmp_path / "pwned.txt"
    torch.save({"w": CodeOnLoad(target)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeModelFileError):
        load_model(seeded_model(), path)
    assert not target.exists()


def test_a_zip_that_is_not_a_torch_save(tmp_path, seeded_model):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match="truncated or corrupted") as info:
        load_model(seeded_model(), path)
    assert type(info.value) is ModelFileError


@pytest.mark.parametrize(
    ("location", "error", "words"),
    [
        ("tpu", ValueError, "map_location='tpu' cannot be used: Unknown device"),
        (3, TypeError, "map_location must be a device name"),
        ({"cuda:0": "cpu"}, TypeError, "got dict"),
    ],
)
def test_bad_map_location_is_named(tmp_path, seeded_model, location, error, words):
    path = tmp_path / "m.pt"
    save_model(seeded_model(), path)
    with pytest.raises(error, match=words):
        load_model(seeded_model(), path, map_location=location)


def test_unavailable_map_location(tmp_path, seeded_model, monkeypatch):
    path = tmp_path / "m.pt"
    save_model(seeded_model(), path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="map_location='cuda' cannot be used.*not available"):
        load_model(seeded_model(), path, map_location="cuda")


@pytest.mark.parametrize("location", ["cpu", torch.device("cpu"), "CPU"])
def test_map_location_written_differently_is_accepted(tmp_path, seeded_model, location):
    path = tmp_path / "m.pt"
    save_model(seeded_model(8), path)
    loaded = load_model(seeded_model(0), path, map_location=location)
    assert torch.equal(loaded.weights, seeded_model(8).weights)


def test_model_state_with_python_objects_is_refused_at_save(tmp_path):
    class WithExtraState(nn.Linear):
        def get_extra_state(self):
            return CodeOnLoad(tmp_path / "x")

        def set_extra_state(self, state):
            pass

    with pytest.raises(TypeError, match="would not load with weights_only=True"):
        save_model(WithExtraState(1, 1), tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []
