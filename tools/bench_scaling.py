"""Benchmark 4: how the cost of full-batch training grows with N, next to the closed form.

For N points on a noisy line (80/20 split), one epoch of ``helpers.train`` (forward,
L1 loss, backward, SGD step on the (0.8N, 1) training part, then the test loss on the
(0.2N, 1) rest) is timed on the CPU, with torch's default number of threads and with one
(on a busy machine, threads that wait for each other can cost more than they save), and on
the accelerator that ``get_device()`` finds, if any. Next to it: the least-squares solve ``torch.linalg.lstsq`` of the (0.8N, 2)
design matrix ``[x, 1]`` (building the matrix included), which gives the best line in
one go; the (weight, bias) it finds is shown, near the true (0.7, 0.3). Few epochs at
large N keep the run short: the work per epoch is what is measured.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from bench_core import Row, Section, median, seconds, table

from helpers import LinearRegressionModel, get_device, split_data, train
from helpers.plotting import COLORS

SIZES = tuple(10**k for k in range(2, 8))
QUICK_SIZES = (10**2, 10**3)


@dataclass
class ScalingPoint:
    device: str
    n: int
    epochs: int
    epoch_seconds: float  # median time of one epoch of train
    lstsq_seconds: float  # median time of one least-squares fit
    lstsq_line: tuple[float, float]  # (weight, bias) it found


def synchronize(device: torch.device) -> None:
    """Wait for queued accelerator work, so that the clock measures finished work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def line_data(n: int, device: torch.device) -> tuple[torch.Tensor, ...]:
    """``X_train, y_train, X_test, y_test`` for n points of y = 0.7x + 0.3 + noise, on device."""
    generator = torch.Generator().manual_seed(0)
    X = torch.linspace(0, 1, n).unsqueeze(1)
    y = 0.7 * X + 0.3 + 0.05 * torch.randn(X.shape, generator=generator)
    return tuple(t.to(device) for t in split_data(X, y))


def lstsq_line(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Least-squares (weight, bias) of y on X, both (n, 1): solves [X, 1] @ (w, b) ~ y.

    The QR driver ``gels`` (the only one on CUDA, so every device runs the same method):
    the CPU default ``gelsy`` treats singular values below eps * N as zero, which in
    float32 from about 2 * 10^6 rows on drops a direction and returns a wrong line.
    """
    design = torch.cat([X, torch.ones_like(X)], dim=1)
    return torch.linalg.lstsq(design, y, driver="gels").solution.flatten()


def epochs_for(n: int) -> int:
    """Enough epochs for a stable time, few enough that 10^7 points take seconds, not minutes."""
    return max(3, min(200, 10**6 // n))


def measure(
    n: int, device: torch.device, repeats: int = 3, epochs: int | None = None
) -> ScalingPoint:
    """Median seconds per epoch of ``train`` and per ``lstsq`` fit, at n points on device."""
    epochs = epochs_for(n) if epochs is None else epochs
    data = line_data(n, device)

    def fit_by_training() -> None:
        torch.manual_seed(0)
        model = LinearRegressionModel().to(device)
        train(model, *data, epochs=epochs, verbose=False, device=device)
        synchronize(device)

    def fit_by_lstsq() -> torch.Tensor:
        solution = lstsq_line(data[0], data[1])
        synchronize(device)
        return solution

    fit_by_training()  # warm-up: first-touch allocations, kernel selection
    solution = fit_by_lstsq()
    epoch_times, lstsq_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        fit_by_training()
        epoch_times.append((time.perf_counter() - start) / epochs)
        start = time.perf_counter()
        solution = fit_by_lstsq()
        lstsq_times.append(time.perf_counter() - start)
    weight, bias = solution.tolist()
    return ScalingPoint(
        str(device), n, epochs, median(epoch_times), median(lstsq_times), (weight, bias)
    )


def setups() -> list[tuple[torch.device, int]]:
    """(device, CPU threads) to measure: the CPU with torch's default number of threads and
    with one, plus the accelerator ``get_device()`` picks when there is one."""
    threads = torch.get_num_threads()
    found = [(torch.device("cpu"), threads)] + ([(torch.device("cpu"), 1)] if threads > 1 else [])
    best = get_device()
    if best.type != "cpu":
        found.append((best, threads))
    return found


@contextlib.contextmanager
def cpu_threads(count: int) -> Iterator[None]:
    """Let torch use ``count`` CPU threads inside the block."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def label(device: torch.device, threads: int) -> str:
    if device.type != "cpu":
        return str(device)
    return f"cpu, {threads} thread{'s' if threads > 1 else ''}"


def plot(points: list[ScalingPoint], path: Path) -> Path:
    """Log-log plot of seconds per epoch and per lstsq fit against N, saved to ``path``."""
    from matplotlib.figure import Figure  # drawn off-screen: no pyplot, no global state

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for i, device in enumerate(dict.fromkeys(p.device for p in points)):
        mine = sorted((p for p in points if p.device == device), key=lambda p: p.n)
        ns, line = [p.n for p in mine], ("-", ":", "--")[i % 3]
        ax.loglog(ns, [p.epoch_seconds for p in mine], marker="o", linestyle=line,
                  color=COLORS["train"], label=f"one epoch of train ({device})")  # fmt: skip
        ax.loglog(ns, [p.lstsq_seconds for p in mine], marker="s", linestyle=line,
                  color=COLORS["predictions"], label=f"lstsq fit ({device})")  # fmt: skip
    largest = max(points, key=lambda p: p.n)
    ns = sorted({p.n for p in points})
    proportional = [largest.epoch_seconds * n / largest.n for n in ns]
    ax.loglog(ns, proportional, color=COLORS["grey"], linewidth=0.8, label="proportional to N")
    ax.set_xlabel("N (points)")
    ax.set_ylabel("seconds")
    ax.set_title("Cost against data size")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def power_of_ten(n: int) -> str:
    """10**k written as "10^k" (other numbers as they are)."""
    k = len(str(n)) - 1
    return f"10^{k}" if n == 10**k else str(n)


def growth_span(points: list[ScalingPoint]) -> tuple[ScalingPoint, ScalingPoint]:
    """The two sizes the growth is read between: two decades below the largest, and it."""
    ordered = sorted(points, key=lambda p: p.n)
    return ordered[max(0, len(ordered) - 3)], ordered[-1]


def growth(points: list[ScalingPoint], attribute: str) -> float:
    """Slope of log(time) against log(N) over :func:`growth_span` (1 means linear in N)."""
    a, b = growth_span(points)
    return math.log(getattr(b, attribute) / getattr(a, attribute)) / math.log(b.n / a.n)


def section(quick: bool = False, plot_path: Path | None = None) -> Section:
    sizes, repeats = (QUICK_SIZES, 2) if quick else (SIZES, 3)
    result = Section("4. Scaling with N")
    result.say(
        f"## {result.title} (median of {repeats} runs; time per epoch includes the test loss)"
    )
    points = []
    for device, threads in setups():
        with cpu_threads(threads):
            for n in sizes:
                point = measure(n, device, repeats, 2 if quick else None)
                points.append(dataclasses.replace(point, device=label(device, threads)))
    rows = [
        [
            p.device,
            power_of_ten(p.n),
            p.epochs,
            seconds(p.epoch_seconds),
            f"{p.epoch_seconds / p.n * 1e9:.2f}",
            seconds(p.lstsq_seconds),
            f"{p.lstsq_seconds / p.epoch_seconds:.1f}",
            f"{p.lstsq_line[0]:.4f}, {p.lstsq_line[1]:.4f}",
        ]
        for p in points
    ]
    headers = [
        "device",
        "N",
        "epochs",
        "epoch",
        "epoch, ns per point",
        "lstsq",
        "lstsq / epoch",
        "lstsq line (w, b)",
    ]
    for line in table(headers, rows):
        result.say(line)
    if all(device.type == "cpu" for device, _ in setups()):
        result.say("No GPU found by get_device(): CPU only.")
    if plot_path is not None:
        result.say(f"Plot: {plot(points, plot_path)}")
    for device in dict.fromkeys(p.device for p in points):
        mine = sorted((p for p in points if p.device == device), key=lambda p: p.n)
        before, largest = growth_span(mine)
        slope_epoch, slope_lstsq = growth(mine, "epoch_seconds"), growth(mine, "lstsq_seconds")
        result.say(
            f"{device}: from N={power_of_ten(before.n)} to {power_of_ten(largest.n)} the time "
            f"grows as N^{slope_epoch:.2f} per epoch and N^{slope_lstsq:.2f} for lstsq"
        )
        result.rows.append(
            Row(
                f"{device}: one epoch / one lstsq fit at N={power_of_ten(largest.n)}",
                f"{seconds(largest.epoch_seconds)} / {seconds(largest.lstsq_seconds)}",
            )
        )
    result.say()
    return result
