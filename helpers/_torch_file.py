"""Open a file from ``torch.save`` without ever running code from it.

Before anything is unpickled the file is identified by its bytes: a zip archive written
by ``torch.save`` (or by ``torch.jit.save``: refused with its own message), the older
non-zip torch format, a raw pickle, or something else. The globals the pickle would
import are listed statically (``torch.serialization.get_unsafe_globals_in_checkpoint``
where torch has it, an equivalent ``pickletools`` scan where it does not or cannot
parse the file) and any not on torch's ``weights_only`` allow-list make the file
:class:`UnsafeModelFileError`. Only then does ``torch.load(..., weights_only=True)`` run.
No decision here reads the wording of a torch error message.
"""

from __future__ import annotations

import io
import pickle
import pickletools
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from ._errors import ModelFileError, UnsafeModelFileError
from .device import get_device

#: What a plain save needs, for a torch without its allow-list (the list is private).
_FALLBACK_ALLOWED = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch.FloatStorage",
    "torch.DoubleStorage",
    "torch.LongStorage",
}
_STRINGS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING"}
_STRINGS |= {"BINSTRING", "SHORT_BINSTRING"}
_LEGACY_MAGIC = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)


def _allowed_globals() -> set[str]:
    try:
        from torch import _weights_only_unpickler as unpickler

        return set(unpickler._get_allowed_globals()) | set(unpickler._get_user_allowed_globals())
    except (ImportError, AttributeError):
        return set(_FALLBACK_ALLOWED)


def globals_in_pickle(stream: io.BufferedIOBase) -> set[str]:
    """Every global one pickle in ``stream`` would import, read without unpickling.

    ``STACK_GLOBAL`` takes its names from the two strings pushed before it (through the
    memo too); a name that cannot be told statically is reported as ``"<unknown>"``.
    Raises ``ValueError`` for a stream that is not a complete pickle.
    """
    found: set[str] = set()
    pushed: list[Any] = []
    memo: dict[Any, Any] = {}
    for opcode, arg, _ in pickletools.genops(stream):
        name = opcode.name
        if name in {"GLOBAL", "INST"}:
            found.add(arg.replace(" ", "."))
        elif name == "STACK_GLOBAL":
            module, attr = pushed[-2:] if len(pushed) >= 2 else (None, None)
            ok = isinstance(module, str) and isinstance(attr, str)
            found.add(f"{module}.{attr}" if ok else "<unknown>")
        elif name.startswith("EXT"):
            found.add(f"<extension code {arg}>")
        if name in _STRINGS:
            pushed.append(arg if isinstance(arg, str) else arg.decode("latin-1"))
        elif name in {"MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"}:
            memo[len(memo) if name == "MEMOIZE" else arg] = pushed[-1] if pushed else None
        elif name in {"GET", "BINGET", "LONG_BINGET"}:
            pushed.append(memo.get(arg))
        elif name not in {"PROTO", "FRAME", "STOP"}:
            pushed.append(None)
    return found


def _data_pickle(archive: zipfile.ZipFile) -> bytes:
    names = archive.namelist()
    if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
        raise _TorchScript
    data = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not data:
        raise ValueError("no data.pkl record")
    return archive.read(data[0])


class _TorchScript(Exception):
    pass


def _unsafe_in_zip(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        data = _data_pickle(archive)
    finder = getattr(torch.serialization, "get_unsafe_globals_in_checkpoint", None)
    if finder is not None:
        try:
            return set(finder(str(path)))
        except Exception:  # noqa: BLE001 - torch's scanner knows fewer opcodes; ours decides
            pass
    return globals_in_pickle(io.BytesIO(data)) - _allowed_globals()


def _unsafe_in_pickles(path: Path, legacy: bool) -> set[str]:
    found: set[str] = set()
    with open(path, "rb") as stream:
        # The old torch format is five pickles (magic, protocol, system info, the object,
        # storage keys) followed by raw tensor bytes; anything else is one plain pickle.
        for _ in range(5 if legacy else 1):
            found |= globals_in_pickle(stream)
    return found - _allowed_globals()


def _refuse_unsafe(path: Path, unsafe: set[str], raw: bool) -> None:
    if unsafe:
        names = ", ".join(sorted(unsafe))
        kind = "a raw Python pickle" if raw else "a PyTorch file"
        raise UnsafeModelFileError(
            f"{path} is {kind} that would import {names} when loaded, which can run code. "
            "It was refused and nothing was executed. Only open such a file with "
            "torch.load(..., weights_only=False) if you trust where it came from."
        )


def _inspect(path: Path) -> None:
    """Raise the right error for a file that must not, or cannot, be loaded safely."""
    with open(path, "rb") as stream:
        head = stream.read(len(_LEGACY_MAGIC))
    if not head:
        raise ModelFileError(f"{path} is empty (0 bytes): it is not a saved model.")
    damaged = f"{path} is not a complete PyTorch save (it may be truncated or corrupted)"
    if zipfile.is_zipfile(path):
        try:
            unsafe = _unsafe_in_zip(path)
        except _TorchScript:
            raise ModelFileError(
                f"{path} was saved with torch.jit.save (a TorchScript archive); load it "
                "with torch.jit.load, or save the model's state_dict with save_model."
            ) from None
        except (ValueError, EOFError, zipfile.BadZipFile, KeyError, OSError):
            raise ModelFileError(f"{damaged}.") from None
        _refuse_unsafe(path, unsafe, raw=False)
        return
    if head.startswith(b"PK"):
        raise ModelFileError(f"{damaged}: its zip archive is cut short or damaged.")
    legacy = head == _LEGACY_MAGIC
    try:
        unsafe = _unsafe_in_pickles(path, legacy)
    except (ValueError, EOFError, IndexError, UnicodeDecodeError):
        raise ModelFileError(f"{damaged}, or it is not a PyTorch file at all.") from None
    _refuse_unsafe(path, unsafe, raw=not legacy)
    if not legacy:
        raise ModelFileError(
            f"{path} is a plain Python pickle, not a file written by torch.save; "
            "save models with save_model (or torch.save)."
        )


def _location(map_location: Any) -> torch.device:
    if not isinstance(map_location, (str, torch.device)):
        raise TypeError(
            f"map_location must be a device name such as 'cpu' or 'cuda', or a torch.device; "
            f"got {type(map_location).__name__}."
        )
    try:
        return get_device(map_location)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"map_location={str(map_location)!r} cannot be used: {exc}") from None


def safe_load(path: Path, map_location: Any) -> Any:
    """``torch.load(path, weights_only=True)`` after the checks above; ``path`` is expanded."""
    location = _location(map_location)
    if not path.exists():
        raise FileNotFoundError(f"No file at {path}: check the path, or save a model there first.")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a saved model file.")
    _inspect(path)
    try:
        with warnings.catch_warnings():
            # Files pickled with a newer protocol load fine; torch's note about it is noise.
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location=location, weights_only=True)
    except pickle.UnpicklingError:
        raise ModelFileError(
            f"{path} holds something the safe loader (weights_only=True) refuses to build; "
            "it was not loaded and nothing was executed."
        ) from None
    except Exception as exc:  # noqa: BLE001 - a damaged file can fail inside torch in many ways
        raise ModelFileError(
            f"{path} is not a complete PyTorch save (it may be truncated or corrupted): "
            f"{type(exc).__name__}."
        ) from None


def serialize(obj: Any) -> bytes:
    """``torch.save`` into bytes."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()
