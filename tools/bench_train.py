"""Benchmark 3: ``helpers.train`` next to the bare loop it packages, on the same data and seed.

The bare loop does exactly the steps ``train`` documents (train mode, forward, L1 loss,
``zero_grad``, ``backward``, ``step``, eval mode, test loss under ``inference_mode``, both
losses recorded with ``.item()``) and nothing else, so the ratio of the two times is what
the bookkeeping of ``train`` (argument checks, per-epoch parameter copies, divergence
checks) costs. Runs alternate (train, loop, loop, train, ...) so drift hits both alike.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from dataclasses import dataclass

import torch
from bench_core import Row, Section, median, seconds
from torch import nn

from helpers import LinearRegressionModel, make_linear_data, split_data, train

SEED = 42
LR = 0.01
GOAL = 1.10


def course_data() -> tuple[torch.Tensor, ...]:
    """The default course data, split 40/10: ``X_train, y_train, X_test, y_test``, each (n, 1)."""
    return split_data(*make_linear_data())


def run_train(data: tuple[torch.Tensor, ...], epochs: int) -> nn.Module:
    """A seeded model trained by ``helpers.train`` (silent, on the CPU)."""
    torch.manual_seed(SEED)
    model = LinearRegressionModel()
    train(model, *data, lr=LR, epochs=epochs, verbose=False, device="cpu")
    return model


def bare_loop(
    model,
    X_train,
    y_train,
    X_test,
    y_test,
    lr,
    epochs,
    *,
    loss_fn=None,
    optimizer=None,
    params=None,
):
    """Full-batch L1 + SGD written out by hand: ``(train_losses, test_losses)``, one per epoch.

    Train loss before the step, test loss after it under ``eval()`` + ``inference_mode()``,
    both as Python floats. ``loss_fn`` and ``optimizer`` replace the L1 loss and SGD(lr); a
    list given as ``params`` receives each epoch's parameters (name -> tensor copy). The tests
    use it as their reference loop (tests/conftest.py).
    """
    loss_fn = nn.L1Loss() if loss_fn is None else loss_fn
    optimizer = torch.optim.SGD(model.parameters(), lr=lr) if optimizer is None else optimizer
    train_losses, test_losses = [], []
    for _ in range(epochs):
        model.train()
        loss = loss_fn(model(X_train), y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.inference_mode():
            test_loss = loss_fn(model(X_test), y_test)
        train_losses.append(loss.item())
        test_losses.append(test_loss.item())
        if params is not None:
            params.append({n: p.detach().clone() for n, p in model.named_parameters()})
    return train_losses, test_losses


def run_bare_loop(data: tuple[torch.Tensor, ...], epochs: int) -> nn.Module:
    """The same seeded model trained by :func:`bare_loop`, doing the same steps."""
    torch.manual_seed(SEED)
    model = LinearRegressionModel()
    bare_loop(model, *data, LR, epochs)
    return model


def same_parameters(a: nn.Module, b: nn.Module) -> bool:
    """Whether two models hold bit-for-bit equal parameters (``torch.equal``), name by name."""
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    return pa.keys() == pb.keys() and all(torch.equal(pa[k], pb[k]) for k in pa)


@dataclass
class TrainComparison:
    epochs: int
    train_times: list[float]
    loop_times: list[float]
    same_params: bool

    @property
    def ratio(self) -> float:
        """Median train time over median bare-loop time."""
        return median(self.train_times) / median(self.loop_times)

    @property
    def overhead_per_epoch(self) -> float:
        """Seconds per epoch that ``train`` spends beyond the bare loop (medians)."""
        return (median(self.train_times) - median(self.loop_times)) / self.epochs


def compare(epochs: int = 1000, repeats: int = 9) -> TrainComparison:
    """Time ``train`` and the bare loop, alternating, after one warm-up run of each."""
    data = course_data()
    run_train(data, epochs)
    run_bare_loop(data, epochs)
    times: dict[str, list[float]] = {"train": [], "loop": []}
    models: dict[str, nn.Module] = {}
    runners = {"train": run_train, "loop": run_bare_loop}
    for i in range(repeats):
        for name in ("train", "loop") if i % 2 == 0 else ("loop", "train"):
            start = time.perf_counter()
            models[name] = runners[name](data, epochs)
            times[name].append(time.perf_counter() - start)
    same = same_parameters(models["train"], models["loop"])
    return TrainComparison(epochs, times["train"], times["loop"], same)


STEPS = ("train mode", "forward", "loss", "zero_grad", "backward", "step", "eval mode",
         "test loss", ".item() x2")  # fmt: skip


def epoch_breakdown(epochs: int = 1000) -> dict[str, float]:
    """Median seconds of each step of the bare loop, clocked step by step over ``epochs``.

    The clock calls add a little to every step; the shares are what matters: they show
    where a 40-point epoch spends its time (PyTorch's per-call overhead, not arithmetic).
    """
    X_train, y_train, X_test, y_test = course_data()
    torch.manual_seed(SEED)
    model = LinearRegressionModel()
    loss_fn = nn.L1Loss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    clock = time.perf_counter
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    for _ in range(epochs):
        t0 = clock()
        model.train()
        t1 = clock()
        prediction = model(X_train)
        t2 = clock()
        loss = loss_fn(prediction, y_train)
        t3 = clock()
        optimizer.zero_grad()
        t4 = clock()
        loss.backward()
        t5 = clock()
        optimizer.step()
        t6 = clock()
        model.eval()
        t7 = clock()
        with torch.inference_mode():
            test_loss = loss_fn(model(X_test), y_test)
        t8 = clock()
        loss.item(), test_loss.item()
        t9 = clock()
        stamps = (t0, t1, t2, t3, t4, t5, t6, t7, t8, t9)
        for step, start, end in zip(STEPS, stamps, stamps[1:], strict=False):
            times[step].append(end - start)
    return {step: median(values) for step, values in times.items()}


def profile_train(epochs: int = 1000, top: int = 12) -> list[str]:
    """cProfile of one ``train`` run: the ``top`` functions by own time, as text lines."""
    data = course_data()
    run_train(data, 10)
    profiler = cProfile.Profile()
    profiler.runcall(run_train, data, epochs)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return [line for line in out.getvalue().splitlines() if line.strip()]


def section(quick: bool = False) -> Section:
    epochs, repeats = (50, 3) if quick else (1000, 9)
    result = Section("3. helpers.train vs a bare loop")
    result.say(f"## {result.title} ({epochs} epochs, {repeats} alternating runs each)")
    comparison = compare(epochs, repeats)
    t_train, t_loop = median(comparison.train_times), median(comparison.loop_times)
    result.say(f"train:     median {seconds(t_train)} ({seconds(t_train / epochs)} per epoch)")
    result.say(f"bare loop: median {seconds(t_loop)} ({seconds(t_loop / epochs)} per epoch)")
    result.say(
        f"ratio {comparison.ratio:.3f}; train's bookkeeping costs "
        f"{seconds(comparison.overhead_per_epoch)} per epoch"
    )
    result.say(f"same final parameters (torch.equal): {comparison.same_params}")
    breakdown = epoch_breakdown(epochs)
    result.say("Where one epoch of the bare loop goes (median per step, clocked step by step):")
    result.say("    " + ", ".join(f"{step} {seconds(t)}" for step, t in breakdown.items()))
    if comparison.ratio > GOAL and not quick:
        result.say("Ratio above the goal; where train spends its time (cProfile, own time):")
        for line in profile_train(epochs):
            result.say("    " + line)
    result.say()
    result.rows += [
        Row(
            f"train / bare loop, {epochs} epochs",
            f"{comparison.ratio:.3f} ({seconds(t_train)} vs {seconds(t_loop)})",
            f"<= {GOAL:.2f}",
            None if quick else comparison.ratio <= GOAL,  # too few epochs to judge
        ),
        Row(
            "train and bare loop reach the same parameters",
            "yes" if comparison.same_params else "NO",
            "torch.equal",
            comparison.same_params,
        ),
    ]
    return result
