"""The dashboard's picture: the data and the fitted line, the loss curves, loss against lr.

One Matplotlib figure with three panels, rendered to PNG bytes without pyplot. What never
changes for a loss and an epoch axis (axes, data points, legends) is drawn once and kept
as a bitmap; each new picture restores that bitmap and paints only the moving parts (the
line, the curves, the texts) on top, which is what keeps a slider move as cheap as one
redraw. Colours are the course's Okabe-Ito ones, and every series has its own marker.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from .._widget_picture import canvas_png
from ..plotting import COLORS, MARKERS, to_numpy
from .runs import LEARNING_RATES, Run

#: Fixed loss-axis limits, so that pictures for different learning rates compare.
LOSS_LIMITS = {"L1": (1e-4, 3.0), "MSE": (1e-14, 1e4)}
TRUE_WEIGHT, TRUE_BIAS = 0.7, 0.3
_FAR = 1e6  # coordinates beyond this are off the picture anyway; keeps Agg's numbers sane
_MOVING = {"animated": True}  # left out of full draws, painted by each update
_MARK = "#CC79A7"  # reddish purple (Okabe-Ito): the current learning rate


def fmt(x: float) -> str:
    """Four decimals for everyday numbers, scientific notation for tiny or huge ones."""
    return f"{x:.4f}" if x == 0 or 1e-3 <= abs(x) < 1e4 else f"{x:.3e}"


@dataclass(frozen=True)
class Frame:
    """What one picture shows: ``run`` after ``epoch`` epochs, the slider at ``chosen``.

    ``epoch`` is ``chosen``, or the last finite epoch when the run diverged before it.
    ``rate_loss`` (41,) is every rate's test loss after epoch ``chosen`` (NaN where that
    rate diverged by then, which ``rate_gone`` marks).
    """

    run: Run
    epoch: int
    chosen: int
    axis_end: int
    rate_loss: np.ndarray
    rate_gone: np.ndarray

    @property
    def message(self) -> str:
        """``train``'s divergence message once the slider is past the divergence, else ""."""
        at = self.run.diverged_at
        return self.run.message if at is not None and self.chosen >= at else ""


class DataView:
    """Left panel: training and test data, the true line, the fitted line, its predictions."""

    def __init__(self, ax: Any, data: tuple) -> None:
        X_train, y_train, X_test, y_test = (to_numpy(t) for t in data)
        self.x_test = X_test
        xs, ys = np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test])
        x_pad, y_pad = 0.05 * np.ptp(xs), 0.25 * np.ptp(ys)
        self.x_line = np.array([xs.min() - x_pad, xs.max() + x_pad])
        ax.set_xlim(*self.x_line)
        ax.set_ylim(ys.min() - y_pad, ys.max() + y_pad)
        ax.scatter(X_train, y_train, s=14, c=COLORS["train"], marker=MARKERS["train"])
        ax.scatter(X_test, y_test, s=20, c=COLORS["test"], marker=MARKERS["test"])
        true_y = TRUE_WEIGHT * self.x_line + TRUE_BIAS
        ax.plot(self.x_line, true_y, color=COLORS["truth"], linestyle="--", label="true line")
        for key, name in (("train", "training data"), ("test", "test data")):
            ax.plot([], [], linestyle="", marker=MARKERS[key], color=COLORS[key], label=name)
        ax.plot([], [], color=COLORS["predictions"], label="fitted line")
        ax.plot([], [], linestyle="", marker=MARKERS["predictions"],
                color=COLORS["predictions"], label="predictions")  # fmt: skip
        ax.legend(loc="upper left", fontsize=8)
        ax.set_xlabel("x (input)")
        ax.set_ylabel("y (target)")
        (self.line,) = ax.plot([], [], color=COLORS["predictions"], **_MOVING)
        self.points = ax.scatter(X_test, y_test, s=30, c=COLORS["predictions"],
                                 marker=MARKERS["predictions"], **_MOVING)  # fmt: skip
        box = {"boxstyle": "round", "facecolor": "white", "edgecolor": COLORS["grey"]}
        self.params = ax.text(0.98, 0.04, "", transform=ax.transAxes, ha="right", va="bottom",
                              family="monospace", fontsize=9, bbox=box, **_MOVING)  # fmt: skip
        self.title = ax.text(0.5, 1.03, "", transform=ax.transAxes, ha="center", fontsize=10,
                             **_MOVING)  # fmt: skip

    def update(self, frame: Frame) -> list[Any]:
        run, shown = frame.run, frame.epoch
        w, b = float(run.weight[shown]), float(run.bias[shown])
        self.line.set_data(self.x_line, np.clip(w * self.x_line + b, -_FAR, _FAR))
        predictions = np.clip(w * self.x_test + b, -_FAR, _FAR)
        self.points.set_offsets(np.column_stack([self.x_test, predictions]))
        self.params.set_text(
            f"w = {fmt(w):>10}   true {TRUE_WEIGHT:.4f}\nb = {fmt(b):>10}   true {TRUE_BIAS:.4f}"
        )
        self.title.set_text(f"after epoch {shown}  ({run.loss} loss, lr = {run.lr:g})")
        return [self.line, self.points, self.params, self.title]


class LossView:
    """Middle panel: training and test loss (log scale) up to the shown epoch."""

    def __init__(self, ax: Any) -> None:
        self.ax = ax
        styles = {"train": "-", "test": "--"}
        self.curves = {
            key: ax.plot([], [], color=COLORS[key], linestyle=styles[key], marker=MARKERS[key],
                         markersize=4, markevery=0.1, **_MOVING)[0]
            for key in styles
        }  # fmt: skip
        for key, name in (("train", "training loss"), ("test", "test loss")):
            ax.plot([], [], color=COLORS[key], linestyle=styles[key], marker=MARKERS[key],
                    markersize=4, label=name)  # fmt: skip
        self.diverged = ax.axvline(1, color=COLORS["predictions"], linestyle=":", **_MOVING)
        ax.set_yscale("log")
        ax.yaxis.set_minor_locator(NullLocator())  # fewer ticks: a quicker first picture
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (log scale)")
        ax.legend(loc="upper right", fontsize=8)
        self.title = ax.text(0.5, 1.03, "", transform=ax.transAxes, ha="center", fontsize=10,
                             **_MOVING)  # fmt: skip

    def axis(self, loss: str, axis_end: int) -> None:
        self.ax.set_xlim(0, axis_end)
        self.ax.set_ylim(*LOSS_LIMITS[loss])

    def update(self, frame: Frame) -> list[Any]:
        run, shown = frame.run, frame.epoch
        epochs = np.arange(1, shown + 1)
        low = LOSS_LIMITS[run.loss][0]  # a loss of exactly 0 stays on the log axis
        self.curves["train"].set_data(epochs, np.maximum(run.train_loss[:shown], low))
        self.curves["test"].set_data(epochs, np.maximum(run.test_loss[:shown], low))
        if shown:
            now = fmt(run.train_loss[shown - 1]), fmt(run.test_loss[shown - 1])
            self.title.set_text(f"loss: train {now[0]}, test {now[1]}")
        else:
            self.title.set_text("loss: no finite value")
        artists = [*self.curves.values(), self.title]
        if frame.message:
            self.diverged.set_xdata([run.diverged_at, run.diverged_at])
            artists.append(self.diverged)
        return artists


class RateView:
    """Right panel: every rate's test loss after the chosen epoch, against lr (log-log)."""

    def __init__(self, ax: Any) -> None:
        self.ax = ax
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xlim(LEARNING_RATES[0] / 1.5, LEARNING_RATES[-1] * 1.5)
        style = {"color": COLORS["test"], "marker": MARKERS["test"], "markersize": 4}
        (self.curve,) = ax.plot([], [], **style, **_MOVING)
        gone = {"color": COLORS["predictions"], "marker": "X", "linestyle": "", "markersize": 7}
        (self.gone,) = ax.plot([], [], **gone, **_MOVING)
        mark = {"color": _MARK, "marker": "D", "linestyle": "", "markersize": 9}
        (self.mark,) = ax.plot([], [], **mark, markerfacecolor="none", markeredgewidth=2,
                               **_MOVING)  # fmt: skip
        self.line = ax.axvline(1, color=_MARK, linestyle=":", **_MOVING)
        ax.plot([], [], **style, label="test loss")
        ax.plot([], [], **gone, label="diverged")
        ax.plot([], [], **mark, markerfacecolor="none", markeredgewidth=2, label="this lr")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("test loss (log scale)")
        ax.legend(loc="lower left", fontsize=8)
        self.title = ax.text(0.5, 1.03, "", transform=ax.transAxes, ha="center", fontsize=10,
                             **_MOVING)  # fmt: skip

    def axis(self, loss: str) -> None:
        self.ax.set_ylim(*LOSS_LIMITS[loss])

    def update(self, frame: Frame) -> list[Any]:
        low, high = LOSS_LIMITS[frame.run.loss]
        rates = np.asarray(LEARNING_RATES)
        top = high / 3  # diverged rates sit on a row just under the top of the axis
        self.curve.set_data(rates, np.clip(frame.rate_loss, low, high))
        self.gone.set_data(rates[frame.rate_gone], np.full(frame.rate_gone.sum(), top))
        i = LEARNING_RATES.index(frame.run.lr)
        self.mark.set_data([rates[i]], [top if frame.rate_gone[i] else
                                        np.clip(frame.rate_loss[i], low, high)])  # fmt: skip
        self.line.set_xdata([rates[i], rates[i]])
        self.title.set_text(f"test loss after epoch {frame.chosen}, every lr")
        return [self.curve, self.gone, self.line, self.mark, self.title]


class Picture:
    """The three panels in one figure; :meth:`render` turns a :class:`Frame` into PNG bytes."""

    def __init__(self, data: tuple) -> None:
        self.figure = Figure(figsize=(12, 3.6), dpi=96)
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.05, right=0.99, bottom=0.14, top=0.88, wspace=0.25)
        data_ax, loss_ax, rate_ax = self.figure.subplots(1, 3)
        self.views = DataView(data_ax, data), LossView(loss_ax), RateView(rate_ax)
        warning = {"boxstyle": "round,pad=0.8", "facecolor": "#fff3e0", "edgecolor": "#D55E00"}
        self.warning = self.figure.text(0.5, 0.5, "", ha="center", va="center", fontsize=11,
                                        bbox=warning, **_MOVING)  # fmt: skip
        self._backgrounds: dict[tuple[str, int], Any] = {}

    def render(self, frame: Frame) -> bytes:
        """Restore (or draw once) the still parts, paint the moving ones, encode a PNG."""
        self._background(frame.run.loss, frame.axis_end)
        artists = [artist for view in self.views for artist in view.update(frame)]
        if frame.message:
            self.warning.set_text(textwrap.fill(frame.message, 72))
            artists.append(self.warning)
        for artist in artists:
            self.figure.draw_artist(artist)
        return canvas_png(self.canvas)

    def _background(self, loss: str, axis_end: int) -> None:
        """Set the axes for this loss and epoch axis; restore their still parts, drawn once.

        The first visit draws the whole figure (the slow part) and keeps it as a bitmap.
        """
        _, loss_view, rate_view = self.views
        loss_view.axis(loss, axis_end)
        rate_view.axis(loss)
        key = (loss, axis_end)
        if key in self._backgrounds:
            self.canvas.restore_region(self._backgrounds[key])
            return
        self.canvas.draw()
        self._backgrounds[key] = self.canvas.copy_from_bbox(self.figure.bbox)


def axis_end(epochs: int, max_epochs: int) -> int:
    """The epoch axis ends at the next of 10, 20, 50, 100, ... (so it rarely redraws)."""
    end = 10
    while end < epochs:
        end = end * 5 // 2 if str(end)[0] == "2" else end * 2
    return min(end, max(max_epochs, 2))
