"""Benchmark 2: how long the training dashboard's kernel takes to answer a slider move.

A slider move arrives in the kernel as a new ``value`` of the slider widget, whose
observer (``on_epochs_change`` / ``on_lr_change``) updates the picture; setting
``slider.value`` here runs exactly that path, minus the network. Timed on a fresh
dashboard with ``max_epochs=1000`` (after a warm-up on another one): 20 moves of the
epochs slider, dragged from 50 to 1000, then 10 moves of the learning-rate slider to
learning rates not seen before, with the epochs at 1000. The time of every
``helpers.train`` call made meanwhile is recorded, which splits each move into training
and the rest (drawing the figure, encoding the PNG, updating the widgets).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from unittest import mock

from bench_core import Row, Section, median, seconds

MAX_EPOCHS = 1000
EPOCH_MOVES = tuple(range(50, 1001, 50))  # 20 moves: a drag from left to right
LR_EXPONENTS = (-4.0, -3.6, -3.1, -2.7, -2.2, -1.8, -1.3, -0.9, -0.4, 0.0)  # 10 new rates
GOALS = {"epochs": 0.070, "learning rate": 0.200}


def dashboard_module():
    """``helpers.dashboard``, or None when it does not exist (yet)."""
    try:
        return importlib.import_module("helpers.dashboard")
    except ImportError:
        return None


@dataclass
class Moves:
    """Seconds per slider move, and the seconds spent inside ``helpers.train`` per move."""

    values: list = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    training: list[float] = field(default_factory=list)
    train_calls: list[int] = field(default_factory=list)

    @property
    def drawing(self) -> list[float]:
        """Everything but training: figure, PNG, widget updates."""
        return [t - s for t, s in zip(self.total, self.training, strict=True)]


def move(dashboard, slider, values, train_seconds: list[float]) -> Moves:
    """Set ``slider`` to each value in turn as the browser would; time each answer."""
    moves = Moves()
    for value in values:
        train_seconds.clear()
        start = time.perf_counter()
        slider.value = value
        moves.total.append(time.perf_counter() - start)
        moves.values.append(value)
        moves.training.append(sum(train_seconds))
        moves.train_calls.append(len(train_seconds))
    return moves


def measure(
    max_epochs: int = MAX_EPOCHS,
    epoch_moves: tuple[int, ...] = EPOCH_MOVES,
    lr_exponents: tuple[float, ...] = LR_EXPONENTS,
    warmup: bool = True,
) -> dict[str, Moves]:
    """Time the epochs and learning-rate moves on a fresh dashboard, after a warm-up."""
    module = dashboard_module()
    train_seconds: list[float] = []
    real_train = module.train

    def timed_train(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real_train(*args, **kwargs)
        finally:
            train_seconds.append(time.perf_counter() - start)

    with mock.patch.object(module, "train", timed_train):
        start_epochs = min(100, max_epochs)
        if warmup:  # imports, font cache, first draws: what a learner waits for only once
            warm = module.training_dashboard(epochs=start_epochs, max_epochs=max_epochs)
            move(warm, warm.epochs_slider, [max_epochs // 2], train_seconds)
            move(warm, warm.lr_slider, [0.05], train_seconds)
            warm.close()

        dashboard = module.training_dashboard(epochs=start_epochs, max_epochs=max_epochs)
        epochs = move(dashboard, dashboard.epochs_slider, epoch_moves, train_seconds)
        rates = [10**e for e in lr_exponents]
        learning_rate = move(dashboard, dashboard.lr_slider, rates, train_seconds)
        dashboard.close()
    return {"epochs": epochs, "learning rate": learning_rate}


def section(quick: bool = False) -> Section:
    result = Section("2. Dashboard latency (kernel side)")
    result.say(f"## {result.title}")
    if dashboard_module() is None:
        result.say("dashboard not available (no helpers/dashboard.py)")
        result.rows.append(Row("dashboard latency", "dashboard not available"))
        result.say()
        return result
    max_epochs = 50 if quick else MAX_EPOCHS
    try:
        measured = measure(50, (10, 30, 50), (-3.0, -1.0)) if quick else measure()
    except Exception as error:  # the dashboard is young: report a changed API, go on
        result.say(f"dashboard could not be measured: {type(error).__name__}: {error}")
        result.rows.append(Row("dashboard latency", f"not measured ({type(error).__name__})"))
        result.say()
        return result
    result.say(f"max_epochs={max_epochs}; medians (max) per move:")
    for name, moves in measured.items():
        result.say(
            f"{name:>13} slider, {len(moves.total):>2} moves: {seconds(median(moves.total))} "
            f"(max {seconds(max(moves.total))}); training {seconds(median(moves.training))}, "
            f"drawing and the rest {seconds(median(moves.drawing))}"
        )
        goal = GOALS[name]
        over = [v for v, t in zip(moves.values, moves.total, strict=True) if t > goal]
        if over:
            shown = ", ".join(f"{v:.3g}" for v in over)
            result.say(
                f"{'':>13} {len(over)} of {len(moves.total)} moves over {seconds(goal)}: to {shown}"
            )
        result.rows.append(
            Row(
                f"dashboard: {name} slider, median (max) of {len(moves.total)} moves",
                f"{seconds(median(moves.total))} ({seconds(max(moves.total))}); "
                f"train {seconds(median(moves.training))} + draw {seconds(median(moves.drawing))}",
                f"median <= {seconds(goal)}",
                None if quick else median(moves.total) <= goal,
            )
        )
    epochs = measured["epochs"]
    slowest = sorted(zip(epochs.total, epochs.values, strict=True), reverse=True)[:4]
    listed = ", ".join(f"to {value} ({seconds(total)})" for total, value in slowest)
    result.say(f"Slowest epochs moves: {listed}")
    result.say()
    return result
