"""Save and load models and training checkpoints, safely.

Saves are atomic: the file is written next to its destination under a temporary name
and moved into place with ``os.replace``, so a save that fails half way leaves any
earlier file untouched. Loads use ``torch.load(..., weights_only=True)``, which refuses
to run code hidden in a pickle, and every failure becomes one :class:`ModelFileError`
(or ``FileNotFoundError``) that names the file and the problem.
"""

from __future__ import annotations

import os
import pickle
import re
import uuid
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

CHECKPOINT_FORMAT = "linreg-checkpoint/1"


class ModelFileError(ValueError):
    """A saved file that cannot be loaded into the model: corrupt, unsafe or a mismatch."""


class UnsafeModelFileError(ModelFileError):
    """A saved file that would run code when unpickled; it was refused, nothing ran."""


def _atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder; give a file name such as {path / 'model.pt'}."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique name opened with "xb" (not mkstemp, whose 0600 mode would make the saved
    # file private to its owner): the file gets the usual permissions from the umask.
    tmp_name = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp_name, "xb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


#: Parts of torch's weights-only refusals that mean "this file would run code or build objects".
_UNSAFE_MARKERS = (
    "GLOBAL",
    "Trying to call reduce",
    "Can only create new object",
    "Can only build",
)


def _safe_load(path: str | os.PathLike, map_location: Any) -> Any:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No file at {path}: check the path, or save a model there first.")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a saved model file.")
    try:
        with warnings.catch_warnings():
            # Files pickled with a newer protocol load fine; torch's note about it is noise.
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch wraps *every* unpickling failure in "Weights only load failed ...", so only
        # the markers of a refused global/call/object mean the file holds code.
        text = str(exc)
        if any(marker in text for marker in _UNSAFE_MARKERS):
            found = re.search(r"GLOBAL ([\w.]+)", text)
            what = f" (it refers to {found.group(1)})" if found else ""
            raise UnsafeModelFileError(
                f"{path} holds pickled Python objects{what}, not just tensors. Loading it could run "
                "code, so it was refused and nothing was executed. Only load such a file if you "
                "trust where it came from."
            ) from None
        found = re.search(r"WeightsUnpickler error:\s*(.+)", text)
        detail = found.group(1).strip() if found else text.splitlines()[0]
        raise ModelFileError(
            f"{path} is not a readable PyTorch file (it may be corrupted): {detail}"
        ) from None
    except Exception as exc:  # a damaged file can make torch.load fail in many ways
        detail = str(exc) or type(exc).__name__
        raise ModelFileError(
            f"{path} is not a complete PyTorch save (it may be truncated or corrupted): {detail}"
        ) from None


def _default_location(model: nn.Module) -> torch.device:
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def _check_fits(path: Path, state: Any, model: nn.Module) -> None:
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelFileError(f"{path} does not hold a state_dict (a dict of tensors).")
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [
        f"{k} is {tuple(state[k].shape)} in the file but {tuple(expected[k].shape)} in the model"
        for k in expected
        if k in state and state[k].shape != expected[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing {missing}")
    if unexpected:
        problems.append(f"unexpected {unexpected}")
    problems += wrong
    if problems:
        raise ModelFileError(
            f"{path} does not fit {type(model).__name__}: {'; '.join(problems)}. "
            "Load it into the same kind of model that saved it."
        )


def _check_args(func: str, model: Any, path: Any) -> None:
    """One clear TypeError when a model or a path is not where it belongs."""
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"{func} needs an nn.Module as its first argument (the model), got "
            f"{type(model).__name__}; call {func}(model, path)."
        )
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{func} needs a file path (str or pathlib.Path) as its second argument, got "
            f"{type(path).__name__}; call {func}(model, path)."
        )


def save_model(model: nn.Module, path: str | os.PathLike) -> Path:
    """Save ``model.state_dict()`` (its tensors only) to ``path``; returns the path.

    The model comes first, as in ``torch.save(model.state_dict(), path)``.
    """
    _check_args("save_model", model, path)
    return _atomic_save(model.state_dict(), path)


def load_model(model: nn.Module, path: str | os.PathLike, *, map_location: Any = None) -> nn.Module:
    """Load a state_dict saved by :func:`save_model` into ``model`` and return it in eval mode.

    ``load_model(model, path)``: the model first, as in :func:`save_model`.
    ``map_location`` defaults to the device the model's parameters are on.
    """
    _check_args("load_model", model, path)
    location = _default_location(model) if map_location is None else map_location
    state = _safe_load(path, location)
    if isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT:
        raise ModelFileError(
            f"{path} is a training checkpoint; load it with load_checkpoint(model, path)."
        )
    _check_fits(Path(path), state, model)
    model.load_state_dict(state)
    return model.eval()


def _check_plain(name: str, value: Any) -> None:
    if value is None or isinstance(value, (bool, int, float, str, torch.Tensor)):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(f"{name}[{i}]", item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(f"{name}[{key!r}]", item)
        return
    raise TypeError(
        f"{name} is a {type(value).__name__}; checkpoints keep only numbers, strings, tensors "
        "and lists or dicts of them, so that they load safely with weights_only=True."
    )


def save_checkpoint(
    model: nn.Module,
    path: str | os.PathLike,
    optimizer: torch.optim.Optimizer | None = None,
    epoch: int | None = None,
    **extra: Any,
) -> Path:
    """Save model and optimizer state, the epoch and any ``extra`` plain values to resume later."""
    _check_args("save_checkpoint", model, path)
    for key, value in extra.items():
        _check_plain(key, value)
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "model_state": model.state_dict(),
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
        "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
        "epoch": epoch,
        "extra": extra,
    }
    return _atomic_save(checkpoint, path)


def load_checkpoint(
    model: nn.Module,
    path: str | os.PathLike,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    map_location: Any = None,
) -> dict[str, Any]:
    """Restore a checkpoint from :func:`save_checkpoint` into ``model`` (and ``optimizer``).

    Returns ``{"epoch": ..., **extra}``; the model is left in eval mode. Nothing is
    changed unless everything in the file fits.
    """
    _check_args("load_checkpoint", model, path)
    location = _default_location(model) if map_location is None else map_location
    checkpoint = _safe_load(path, location)
    path = Path(path)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ModelFileError(
            f"{path} is not a checkpoint made by save_checkpoint; a plain state_dict loads with load_model."
        )
    _check_fits(path, checkpoint["model_state"], model)
    if optimizer is not None:
        saved_class = checkpoint["optimizer_class"]
        if saved_class is None:
            raise ModelFileError(
                f"{path} was saved without optimizer state; call load_checkpoint without an optimizer."
            )
        if saved_class != type(optimizer).__name__:
            raise ModelFileError(
                f"{path} holds {saved_class} state but the optimizer given is {type(optimizer).__name__}."
            )
    backup = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(checkpoint["model_state"])
    if optimizer is not None:
        try:
            optimizer.load_state_dict(checkpoint["optimizer_state"])
        except (ValueError, KeyError) as exc:
            model.load_state_dict(backup)
            raise ModelFileError(
                f"{path}: the optimizer state does not fit this optimizer ({exc})."
            ) from None
    model.eval()
    return {"epoch": checkpoint["epoch"], **checkpoint["extra"]}
