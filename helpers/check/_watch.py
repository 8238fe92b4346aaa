"""What a learner's function did while it ran, for slips its return value cannot show.

``with watching(forbidden) as seen:`` records every optimizer step (``seen.steps``: the
optimizer's class name, its lr and momentum, or Adam's first beta) and which ``forbidden``
functions were called (``seen.called``, by name). Every hook is removed afterwards.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook


@dataclass
class Seen:
    steps: list[tuple[str, float, float]] = field(default_factory=list)
    called: set[str] = field(default_factory=set)

    def optimizers(self) -> set[str]:
        """The class names of the optimizers that took a step."""
        return {name for name, _, _ in self.steps}


@contextlib.contextmanager
def watching(forbidden: tuple[Callable, ...] = ()) -> Iterator[Seen]:
    """Record the block's optimizer steps and calls to ``forbidden`` functions."""
    seen = Seen()
    codes = {function.__code__: function.__name__ for function in forbidden}

    def step(optimizer: torch.optim.Optimizer, args: tuple, kwargs: dict) -> None:
        group = optimizer.param_groups[0]
        lr, momentum = group.get("lr", 0.0), group.get("momentum", group.get("betas", (0,))[0])
        seen.steps.append((type(optimizer).__name__, float(lr), float(momentum)))

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes:
            seen.called.add(codes[frame.f_code])

    handle = register_optimizer_step_pre_hook(step)
    previous = sys.getprofile()
    if codes:
        sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(previous)
        handle.remove()
