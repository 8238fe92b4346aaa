"""Save and load models and training checkpoints, safely.

Every function takes the model first and the path second, as ``torch.save(obj, f)`` does;
``~`` in a path is the home folder. Saves are atomic (see ``helpers._atomic_write``), and
what they write always loads back with ``weights_only=True``: extra checkpoint values are
checked, and NumPy scalars turned into Python numbers, at save time. Loads never run code
from the file (see ``helpers._torch_file``); every failure is a ``FileNotFoundError``, a
:class:`ModelFileError` or an :class:`UnsafeModelFileError` that names the file and the
problem, and a load that fails leaves the model (and optimizer) unchanged.
"""

from __future__ import annotations

import copy
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ._atomic_write import write_atomically
from ._errors import ModelFileError, UnsafeModelFileError
from ._torch_file import safe_load, serialize
from ._validate import as_number

CHECKPOINT_FORMAT = "linreg-checkpoint/1"
_PARTS = ("model_state", "epoch", "extra")
_SCALARS = (type(None), bool, int, float, str)
_WHAT_FITS = (
    "checkpoints keep only None, bools, numbers, strings, tensors and lists, tuples or dicts "
    "of them, so that they load back with weights_only=True"
)

__all__ = [
    "ModelFileError",
    "UnsafeModelFileError",
    "load_checkpoint",
    "load_model",
    "save_checkpoint",
    "save_model",
]


def _user_path(func: str, model: Any, path: Any) -> Path:
    """Check the two arguments (one clear TypeError each) and expand ``~`` in the path."""
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"{func} needs an nn.Module as its first argument (the model), got "
            f"{type(model).__name__}; call {func}(model, path)."
        )
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise TypeError(
            f"{func} needs a file path (str or pathlib.Path) as its second argument, got "
            f"{type(path).__name__}; call {func}(model, path)."
        )
    return Path(os.path.expanduser(os.fspath(path)))


def _default_location(model: nn.Module) -> torch.device:
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def _save(obj: Any, path: Path) -> Path:
    data = serialize(obj)
    try:  # the promise: whatever is saved loads back safely
        torch.load(io.BytesIO(data), weights_only=True)
    except pickle.UnpicklingError:
        raise TypeError(
            f"Not saved to {path}: the model's state holds Python objects besides tensors, and "
            "a file with them would not load with weights_only=True."
        ) from None
    write_atomically(path, data)
    return path


def _plain(name: str, value: Any, inside: frozenset[int] = frozenset()) -> Any:
    """``value`` as weights_only=True loads it back (NumPy scalars as Python), or TypeError."""
    if type(value) in _SCALARS or isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.generic) and type(value.item()) in _SCALARS:
        return value.item()
    if type(value) in (list, tuple, dict):
        if id(value) in inside:
            raise ValueError(f"{name} contains itself; a checkpoint cannot store a cycle.")
        inside = inside | {id(value)}
        if type(value) is dict:
            return {_key(name, k): _plain(f"{name}[{k!r}]", v, inside) for k, v in value.items()}
        return type(value)(_plain(f"{name}[{i}]", v, inside) for i, v in enumerate(value))
    hint = " (turn it into a tensor with torch.as_tensor)" if isinstance(value, np.ndarray) else ""
    raise TypeError(f"{name} is a {type(value).__name__}{hint}; {_WHAT_FITS}.")


def _key(name: str, key: Any) -> str | int:
    key = key.item() if isinstance(key, np.generic) else key
    if type(key) not in (str, int):
        raise TypeError(f"{name} has a key {key!r} ({type(key).__name__}); use strings or ints.")
    return key


def _check_fits(path: Path, state: Any, model: nn.Module) -> None:
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelFileError(f"{path} does not hold a state_dict (a dict of tensors).")
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    problems = [f"missing {missing}"] if missing else []
    problems += [f"unexpected {unexpected}"] if unexpected else []
    problems += [
        f"{k} is {tuple(state[k].shape)} in the file but {tuple(expected[k].shape)} in the model"
        for k in expected
        if k in state and state[k].shape != expected[k].shape
    ]
    if problems:
        raise ModelFileError(
            f"{path} does not fit {type(model).__name__}: {'; '.join(problems)}. "
            "Load it into the same kind of model that saved it."
        )


def _param_shapes(optimizer: torch.optim.Optimizer) -> list[list[tuple[int, ...]]]:
    return [[tuple(p.shape) for p in group["params"]] for group in optimizer.param_groups]


def _check_optimizer(path: Path, checkpoint: dict, optimizer: torch.optim.Optimizer) -> None:
    saved_class, state = checkpoint.get("optimizer_class"), checkpoint.get("optimizer_state")
    given = type(optimizer).__name__
    if saved_class is None or state is None:
        raise ModelFileError(
            f"{path} was saved without optimizer state; call load_checkpoint without an optimizer."
        )
    if saved_class != given:
        raise ModelFileError(
            f"{path} holds {saved_class} state but the optimizer given is {given}."
        )
    groups = state.get("param_groups") if isinstance(state, dict) else None
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ModelFileError(f"{path} has a damaged optimizer state (no parameter groups).")
    saved = checkpoint.get("optimizer_param_shapes")
    saved = saved or [[None] * len(g.get("params", ())) for g in groups]
    live = _param_shapes(optimizer)
    fits = len(saved) == len(live) and all(
        len(s) == len(g) and all(a is None or tuple(a) == b for a, b in zip(s, g, strict=True))
        for s, g in zip(saved, live, strict=True)
    )
    if not fits:
        raise ModelFileError(
            f"{path} holds {given} state for parameters of shapes {saved}, but the optimizer "
            f"given holds {live}. Make the optimizer from the same model, in the same way, as "
            "the one that was saved."
        )


def save_model(model: nn.Module, path: str | os.PathLike) -> Path:
    """Save ``model.state_dict()`` (its tensors only) to ``path``; returns the expanded path.

    ``save_model(model, path)``: the model first, as in ``torch.save(model.state_dict(), path)``.
    """
    path = _user_path("save_model", model, path)
    return _save(model.state_dict(), path)


def load_model(model: nn.Module, path: str | os.PathLike, *, map_location: Any = None) -> nn.Module:
    """Load a state_dict saved by :func:`save_model` into ``model``; return it in eval mode.

    ``load_model(model, path)``: the model first, as in :func:`save_model`.
    ``map_location`` (a device name or ``torch.device``) defaults to the model's device.
    """
    path = _user_path("load_model", model, path)
    location = _default_location(model) if map_location is None else map_location
    state = safe_load(path, location)
    if isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT:
        raise ModelFileError(
            f"{path} is a training checkpoint; load it with load_checkpoint(model, path)."
        )
    _check_fits(path, state, model)
    model.load_state_dict(state)
    return model.eval()


def save_checkpoint(
    model: nn.Module,
    path: str | os.PathLike,
    optimizer: torch.optim.Optimizer | None = None,
    epoch: int | None = None,
    **extra: Any,
) -> Path:
    """Save model and optimizer state, the epoch and ``extra`` plain values to resume later.

    ``epoch`` is a whole number or ``None``; each ``extra`` value is None, a bool, number,
    string or tensor, or a list/tuple/dict of them (NumPy scalars become Python numbers).
    Anything else is a ``TypeError`` now, so the file always loads with :func:`load_checkpoint`.
    """
    path = _user_path("save_checkpoint", model, path)
    if epoch is not None:
        epoch = as_number("epoch", epoch, integer=True)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim optimizer, got {type(optimizer).__name__}."
        )
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "model_state": model.state_dict(),
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
        "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
        "optimizer_param_shapes": _param_shapes(optimizer) if optimizer is not None else None,
        "epoch": epoch,
        "extra": {key: _plain(key, value) for key, value in extra.items()},
    }
    return _save(checkpoint, path)


def load_checkpoint(
    model: nn.Module,
    path: str | os.PathLike,
    optimizer: torch.optim.Optimizer | None = None,
    *,
    map_location: Any = None,
) -> dict[str, Any]:
    """Restore a checkpoint from :func:`save_checkpoint` into ``model`` (and ``optimizer``).

    Returns ``{"epoch": ..., **extra}``; the model is left in eval mode. Nothing is
    changed unless everything in the file fits, the optimizer state included.
    """
    path = _user_path("load_checkpoint", model, path)
    location = _default_location(model) if map_location is None else map_location
    checkpoint = safe_load(path, location)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ModelFileError(
            f"{path} is not a checkpoint made by save_checkpoint; a plain state_dict loads "
            "with load_model."
        )
    missing = [part for part in _PARTS if part not in checkpoint]
    if missing or not isinstance(checkpoint["extra"], dict):
        raise ModelFileError(
            f"{path} is an incomplete checkpoint (missing or damaged: "
            f"{', '.join(missing) or 'extra'}); save it again with save_checkpoint."
        )
    _check_fits(path, checkpoint["model_state"], model)
    if optimizer is not None:
        _check_optimizer(path, checkpoint, optimizer)
    model_backup = copy.deepcopy(model.state_dict())
    optimizer_backup = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    try:
        model.load_state_dict(checkpoint["model_state"])
        if optimizer is not None:
            optimizer.load_state_dict(checkpoint["optimizer_state"])
    except (ValueError, KeyError, TypeError, RuntimeError) as exc:
        model.load_state_dict(model_backup)
        if optimizer is not None:
            optimizer.load_state_dict(optimizer_backup)
        raise ModelFileError(
            f"{path}: the saved state does not fit ({type(exc).__name__}); nothing was changed."
        ) from None
    model.eval()
    return {"epoch": checkpoint["epoch"], **checkpoint["extra"]}
