"""Pick the torch device the course runs on.

Nothing is chosen at import time: call :func:`get_device` when you need a device.
"""

from __future__ import annotations

import os

import torch

#: Device names the course understands, in the order they are tried automatically.
DEVICE_NAMES = ("cuda", "mps", "cpu")
ENV_VAR = "LINREG_DEVICE"


def available_devices() -> list[str]:
    """Names from :data:`DEVICE_NAMES` that this machine can use right now."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    found.append("cpu")
    return found


def get_device(preferred: str | torch.device | None = None) -> torch.device:
    """Return the device to train on.

    The explicit ``preferred`` argument wins, then the ``LINREG_DEVICE`` environment
    variable, then the first available of cuda, mps and cpu. A name may carry an
    index (``"cuda:1"``). An unknown name raises ``ValueError``; a known device that
    this machine lacks raises ``RuntimeError`` listing what is available.
    """
    source = "argument"
    if preferred is None:
        preferred = os.environ.get(ENV_VAR) or None
        source = f"environment variable {ENV_VAR}"
    if preferred is None:
        return torch.device(available_devices()[0])

    text = str(preferred).strip().lower()
    kind, _, index = text.partition(":")
    if kind not in DEVICE_NAMES or (index and not index.isdigit()):
        raise ValueError(
            f"Unknown device {str(preferred)!r} (from the {source}); "
            f"choose one of {', '.join(DEVICE_NAMES)} (cuda may take an index, e.g. 'cuda:0')."
        )
    available = available_devices()
    if kind not in available:
        raise RuntimeError(
            f"Device {text!r} (from the {source}) is not available on this machine; "
            f"available: {', '.join(available)}. Pass one of those, or None to pick automatically."
        )
    if kind == "cuda" and index and int(index) >= torch.cuda.device_count():
        raise RuntimeError(
            f"Device {text!r} (from the {source}) does not exist: this machine has "
            f"{torch.cuda.device_count()} CUDA device(s), numbered from 0."
        )
    return torch.device(text)
