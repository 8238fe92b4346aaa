"""Checks shared by the helpers: numbers written any sensible way, finite data, memory.

A "number" is a Python ``int``/``float``, a NumPy scalar (``np.float32(0.7)``,
``np.int64(5)``) or a 0-d torch tensor (``torch.tensor(0.01)``); ``True``/``False`` are
not numbers here. Each check returns a plain Python value or raises one ``ValueError``
that names the argument, says what it got and what to pass instead.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np
import torch


def _plain(value: Any) -> Any:
    """A NumPy scalar or 0-d tensor as the Python scalar it holds; anything else unchanged."""
    if isinstance(value, np.generic) or (isinstance(value, torch.Tensor) and value.ndim == 0):
        return value.item()
    return value


def as_number(name: str, value: Any, *, integer: bool = False) -> int | float:
    """``value`` as a Python int (``integer=True``) or float, refusing bools and non-numbers."""
    plain = _plain(value)
    kind = "a whole number" if integer else "a number"
    wanted = numbers.Integral if integer else numbers.Real
    if isinstance(plain, bool) or not isinstance(plain, wanted):
        raise ValueError(f"{name} must be {kind}, got {value!r} ({type(value).__name__}).")
    return int(plain) if integer else float(plain)


def positive_int(name: str, value: Any) -> int:
    number = as_number(name, value, integer=True)
    if number < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}.")
    return number


def finite_float(name: str, value: Any) -> float:
    try:
        number = as_number(name, value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    return number


def check_finite(name: str, tensor: torch.Tensor) -> None:
    """Refuse NaN or infinite entries in data: bad data, named, before any training."""
    if tensor.is_floating_point() or tensor.is_complex():
        bad = ~torch.isfinite(tensor)
        if bad.any():
            row = int(bad.reshape(len(tensor), -1).any(dim=1).nonzero()[0]) if tensor.ndim else 0
            raise ValueError(
                f"{name} holds {int(bad.sum())} NaN or infinite value(s) (the first in row "
                f"{row}). That is bad data, not a training problem: fix or drop those rows."
            )


def physical_memory() -> int | None:
    """Bytes of RAM on this machine, or ``None`` where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(what: str, estimate: float, advice: str) -> None:
    """Refuse up front a request whose ``estimate`` in bytes exceeds half of this machine's RAM."""
    ram = physical_memory()
    if ram is not None and estimate > ram / 2:
        raise ValueError(
            f"{what} would need about {estimate / 2**30:,.1f} GiB of memory, more than half of "
            f"this machine's {ram / 2**30:,.1f} GiB. {advice}"
        )
