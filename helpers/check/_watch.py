"""What a learner's function did while it ran, for slips its return value cannot show.

``with watching(device, forbidden) as seen:`` records, for every module with parameters,
each forward pass (``seen.forwards``: the input's values as a flat float64 array, whether
the module was in training mode, whether autograd was recording) and the inputs that a
backward pass later reached (``seen.backward_inputs``); every optimizer step
(``seen.steps``: the optimizer's class name, its lr and momentum); which ``forbidden``
functions were called (``seen.called``, by name); and each ``Tensor.to`` to ``device``
(``seen.moved_parameters``). On the CPU such a move changes nothing, so the data moved
there is handed back as a copy: a learner who drops the moved tensor (``X.to(device)``
without ``X =``) then calls the model on the very tensor they were given, which the
checks can see (``seen.called_on(X)``) without a GPU.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook
from torch.overrides import TorchFunctionMode


@dataclass
class Forward:
    """One forward pass of a module with parameters: its input and the state it ran in."""

    values: np.ndarray
    training: bool
    grad: bool
    input_id: int


@dataclass
class Seen:
    forwards: list[Forward] = field(default_factory=list)
    backward_inputs: list[np.ndarray] = field(default_factory=list)
    steps: list[tuple[str, float, float]] = field(default_factory=list)
    called: set[str] = field(default_factory=set)
    moved_parameters: int = 0
    _kept: list[torch.Tensor] = field(default_factory=list)

    def called_on(self, tensor: torch.Tensor) -> bool:
        """Whether a forward pass got this very tensor object as its input."""
        return any(f.input_id == id(tensor) for f in self.forwards)

    def optimizers(self) -> set[str]:
        return {name for name, _, _ in self.steps}


def _values(x: Any) -> np.ndarray | None:
    if isinstance(x, torch.Tensor) and x.is_floating_point() and x.device.type != "meta":
        return x.detach().to("cpu", torch.float64).numpy().reshape(-1).copy()
    return None


class _Moves(TorchFunctionMode):
    """Note each ``Tensor.to`` to ``device``; on the CPU hand moved data back as a copy."""

    def __init__(self, seen: Seen, device: torch.device) -> None:
        super().__init__()
        self.seen, self.device = seen, device

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if func is torch.Tensor.to and args and isinstance(args[0], torch.Tensor):
            target = torch._C._nn._parse_to(*args[1:], **(kwargs or {}))[0]
            if target is not None and target.type == self.device.type:
                if isinstance(args[0], nn.Parameter):
                    self.seen.moved_parameters += 1
                elif result is args[0]:
                    result = result.clone()
                    self.seen._kept.append(result)  # keep its id from being reused
        return result


@contextlib.contextmanager
def watching(
    device: torch.device | None = None, forbidden: tuple[Callable, ...] = ()
) -> Iterator[Seen]:
    """Record what the block does (see the module's docstring); every hook is removed after."""
    seen = Seen()
    codes = {function.__code__: function.__name__ for function in forbidden}

    def forward(module: nn.Module, args: tuple, output: Any) -> None:
        if next(module.parameters(recurse=False), None) is None or not args:
            return
        values = _values(args[0])
        if values is None:
            return
        seen.forwards.append(Forward(values, module.training, torch.is_grad_enabled(), id(args[0])))
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(lambda grad: seen.backward_inputs.append(values))

    def step(optimizer: torch.optim.Optimizer, args: tuple, kwargs: dict) -> None:
        group = optimizer.param_groups[0]
        lr, momentum = group.get("lr", 0.0), group.get("momentum", group.get("betas", (0,))[0])
        seen.steps.append((type(optimizer).__name__, float(lr), float(momentum)))

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes:
            seen.called.add(codes[frame.f_code])

    handles = [
        nn.modules.module.register_module_forward_hook(forward),
        register_optimizer_step_pre_hook(step),
    ]
    previous = sys.getprofile()
    if codes:
        sys.setprofile(profile)
    moves = _Moves(seen, device) if device is not None else contextlib.nullcontext()
    try:
        with moves:
            yield seen
    finally:
        sys.setprofile(previous)
        for handle in handles:
            handle.remove()
