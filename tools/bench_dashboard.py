"""Benchmark 2: how quickly the training dashboard appears and answers its sliders.

Kernel side, in this process, inside an asyncio event loop as in a Jupyter kernel: a
slider move arrives in the kernel as a new ``value`` of the slider widget, whose observer
schedules the redraw; setting ``slider.value`` and yielding to the loop once runs exactly
that path, minus the network. Measured with ``max_epochs=1000``, after a warm-up build:
the first picture (building a dashboard: the first 100 epochs of every learning rate and
the first full draw; the other epochs are trained while the loop is idle, which the
benchmark waits for), 20 moves of the epochs slider dragged from 50 to 1000 taking turns
with 20 moves of the learning-rate slider across its notches, and after each move one bare
redraw of the same figure in the same state (rendered and encoded directly, no widgets,
on a twin dashboard).

Browser side: ``tests/test_browser.py`` (JupyterLab + Chromium) is run once and its
latencies (input event to new picture loaded) are read from ``build/browser/latency.json``.

Goals, as ratios within this run: learning-rate move <= 1.3 x epochs move (kernel, and in
the browser both by arrow keys and while dragging); epochs move <= 1.2 x bare redraw.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_core import Row, Section, median, seconds

ROOT = Path(__file__).resolve().parent.parent
LATENCY = ROOT / "build" / "browser" / "latency.json"
MAX_EPOCHS = 1000
EPOCH_MOVES = tuple(range(50, 1001, 50))  # 20 moves: a drag from left to right
LR_MOVES = tuple(10 ** (k / 10 - 4) for k in range(0, 41, 2))[1:]  # 20 notches, as sent
GOALS = {"lr / epochs": 1.3, "epochs / bare redraw": 1.2}
BROWSER_PAIRS = {  # (learning-rate key, epochs key) in latency.json
    "arrow keys": ("learning-rate key", "epochs key"),
    "dragging": ("learning-rate drag", "epochs drag"),
}


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


async def _build(max_epochs: int) -> tuple[float, object]:
    """Build a dashboard (timed: its first picture), then let its background work finish."""
    from helpers import training_dashboard

    made = []
    seconds_ = timed(
        lambda: made.append(training_dashboard(epochs=min(100, max_epochs), max_epochs=max_epochs))
    )
    while made[0]._later.gi_frame is not None:  # what the kernel does while it is idle
        await asyncio.sleep(0)
    return seconds_, made[0]


async def _session(max_epochs, epoch_moves, lr_moves, builds) -> dict[str, list[float]]:
    """In an event loop, as in a kernel: moves are redrawn by a callback, once per burst.

    The bare redraws draw the same states on a twin dashboard's figure, so that neither
    profits from the other's caches (Matplotlib keeps the layout of texts it has drawn).
    """
    from helpers.dashboard.runs import nearest_rate

    if builds > 1:  # a measured run: imports and the font cache first, as once per kernel
        _, warm = await _build(max_epochs)
        warm.close()
    first = []
    for _ in range(builds):
        seconds_, made = await _build(max_epochs)
        first.append(seconds_)
        made.close()
    _, dash = await _build(max_epochs)
    _, twin = await _build(max_epochs)
    times: dict[str, list[float]] = {"epochs": [], "learning rate": [], "bare": []}
    # Epochs and learning-rate moves take turns, so that both meet the same machine load.
    moves = [
        (name, slider, value)
        for pair in zip(epoch_moves, lr_moves, strict=False)
        for name, slider, value in (
            ("epochs", dash.epochs_slider, pair[0]),
            ("learning rate", dash.lr_slider, pair[1]),
        )
    ]
    for name, slider, value in moves:
        began = time.perf_counter()
        slider.value = value
        await asyncio.sleep(0)  # the coalesced redraw runs here
        times[name].append(time.perf_counter() - began)
        lr = nearest_rate(dash.lr_slider.value)
        frame = twin._frame(lr, dash.epochs_slider.value, dash.loss_buttons.value)
        times["bare"].append(timed(lambda frame=frame: twin._picture.render(frame)))
    dash.close()
    twin.close()
    return {"first picture": first, **times}


def measure(
    max_epochs: int = MAX_EPOCHS,
    epoch_moves: tuple[int, ...] = EPOCH_MOVES,
    lr_moves: tuple[float, ...] = LR_MOVES,
    builds: int = 3,
) -> dict[str, list[float]]:
    """Seconds: first pictures, epochs moves, lr moves, and a bare redraw after each move."""
    return asyncio.run(_session(max_epochs, epoch_moves, lr_moves, builds))


def browser(quick: bool) -> dict[str, list[float]] | str:
    """Run the browser test once and return its latencies (ms), or why there are none."""
    if quick:
        return "not run with --quick"
    if not Path("/usr/bin/chromium").exists():
        return "no Chromium at /usr/bin/chromium"
    LATENCY.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "-p", "no:cacheprovider",
               "tests/test_browser.py"]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900,
                            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))  # fmt: skip
    if result.returncode != 0 or not LATENCY.exists():
        return f"browser test failed: {result.stdout.strip().splitlines()[-1:]}"
    return json.loads(LATENCY.read_text())["all_ms"]


def ratio_row(name: str, top: list[float], bottom: list[float], goal: float, quick: bool) -> Row:
    value = median(top) / median(bottom)
    return Row(name, f"{value:.2f} ({seconds(median(top))} / {seconds(median(bottom))})",
               f"<= {goal}", None if quick else value <= goal)  # fmt: skip


def section(quick: bool = False) -> Section:
    result = Section("2. Dashboard: first picture and slider moves")
    result.say(f"## {result.title}")
    if quick:
        measured = measure(50, (10, 30, 50), (1e-3, 0.1), builds=1)
    else:
        measured = measure()
    for name, values in measured.items():
        result.say(f"{name:>14}: median {seconds(median(values))} (max {seconds(max(values))}, "
                   f"{len(values)} times)")  # fmt: skip
    result.rows.append(Row("dashboard: first picture (build), median",
                           seconds(median(measured["first picture"]))))  # fmt: skip
    result.rows.append(ratio_row("dashboard, kernel: lr move / epochs move (medians)",
                                 measured["learning rate"], measured["epochs"],
                                 GOALS["lr / epochs"], quick))  # fmt: skip
    result.rows.append(ratio_row("dashboard, kernel: epochs move / bare redraw (medians)",
                                 measured["epochs"], measured["bare"],
                                 GOALS["epochs / bare redraw"], quick))  # fmt: skip
    latencies = browser(quick)
    if isinstance(latencies, str):
        result.say(f"Browser: {latencies}.")
    else:
        for how, (lr_key, epochs_key) in BROWSER_PAIRS.items():
            lr_ms, epochs_ms = latencies.get(lr_key), latencies.get(epochs_key)
            if not lr_ms or not epochs_ms:
                result.say(f"Browser, {how}: not measured by tests/test_browser.py.")
                continue
            result.say(f"Browser, {how}: lr {median(lr_ms):.0f} ms, epochs "
                       f"{median(epochs_ms):.0f} ms (medians of {len(lr_ms)}, {len(epochs_ms)})")  # fmt: skip
            as_s = [v / 1000 for v in lr_ms], [v / 1000 for v in epochs_ms]
            result.rows.append(ratio_row(f"dashboard, browser ({how}): lr move / epochs move",
                                         *as_s, GOALS["lr / epochs"], quick))  # fmt: skip
    result.say()
    return result
