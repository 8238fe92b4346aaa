"""Fit a line by hand: sliders for w and b, the line over the data, and the loss surface.

``fit_by_hand(X, y)`` takes the data as tensors of shape (N, 1) (any device, with or
without grad; they are copied to the CPU as float64) and returns a widget box: a slider
for the weight w and one for the bias b, a readout of the loss at (w, b) to 4 decimals,
and one picture with two panels, the data with the line ``y = w x + b`` on the left and
the loss over a grid of (w, b) as a contour map on the right, the current (w, b) marked.
The loss surface is computed once with NumPy and drawn once; a slider move only moves
the line, the marker and the readout. Only core ipywidgets are used (7.7.1 and 8), they
are imported when a widget is built, and static viewers get a PNG of the picture.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._validate import finite_float
from ._widget_picture import canvas_png, widget_bundle
from .plotting import COLORS, MARKERS

if TYPE_CHECKING:
    import ipywidgets

#: The losses offered, by the name a learner reads on the picture.
LOSS_NAMES = {"l1": "mean absolute error (L1)", "mse": "mean squared error"}
SHORT_NAMES = {"l1": "L1 loss", "mse": "MSE"}
GRID = 121  # points per axis of the loss surface
STEP = 0.01  # slider step for w and b
#: Most rows drawn: the surface costs GRID**2 losses over every row (10**6 rows: about a minute).
MAX_ROWS = 100_000


def _four_decimals(value: float) -> str:
    """``value`` to 4 decimals, width 7, never as negative zero ("-0.0000")."""
    return f"{round(value, 4) + 0.0:7.4f}"


def _readout_corner(line_y: tuple[float, float]) -> float:
    """Axes-fraction y (0.04 bottom or 0.96 top) of the readout box, away from the line.

    ``line_y`` is the line's height, as a fraction of the axes, at the left and right end
    of the box's strip (the right 45% of the panel); the box takes up to 0.3 of the height.
    """
    low, high = min(line_y), max(line_y)
    crosses_bottom, crosses_top = low <= 0.3 and high >= 0.0, high >= 0.7 and low <= 1.0
    return 0.96 if crosses_bottom and not crosses_top else 0.04


def losses(kind: str, x: np.ndarray, y: np.ndarray, w: Any, b: Any) -> np.ndarray:
    """The loss of the line ``w x + b`` on (x, y), (N,) each, for every (w, b) broadcast."""
    residual = np.multiply.outer(w, x) + np.expand_dims(b, -1) - y
    return np.mean(np.abs(residual) if kind == "l1" else residual**2, axis=-1)


def _as_column(name: str, value: Any) -> np.ndarray:
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch tensor of shape (N, 1), got {type(value).__name__}; "
            f"convert it first, e.g. {name} = torch.as_tensor({name}).reshape(-1, 1)."
        )
    if value.ndim != 2 or value.shape[1] != 1:
        raise ValueError(
            f"{name} must have shape (N, 1), one number per row, got {tuple(value.shape)}; "
            f"for N numbers in a row use {name}.reshape(-1, 1)."
        )
    array = value.detach().cpu().to(torch.float64).numpy()[:, 0]
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values; pass finite data.")
    return array


def _slider_range(centre: float, half_width: float) -> tuple[float, float]:
    """From ``centre - half_width`` to ``centre + half_width``, widened to multiples of 0.5."""
    return math.floor((centre - half_width) * 2) / 2, math.ceil((centre + half_width) * 2) / 2


def _start(name: str, value: Any, limits: tuple[float, float]) -> float:
    if value is None:
        return min(max(0.0, limits[0]), limits[1])
    number = finite_float(name, value)
    if not limits[0] <= number <= limits[1]:
        raise ValueError(
            f"{name} must lie on its slider, from {limits[0]:g} to {limits[1]:g} for this "
            f"data, got {number:g}; leave it out to start at 0 (or the nearest end)."
        )
    return number


class _Picture:
    """The two-panel figure: everything still drawn once, then only the moving parts."""

    def __init__(self, x, y, kind: str, w_range, b_range, start: tuple[float, float]) -> None:
        self.x, self.y, self.kind = x, y, kind
        fig = Figure(figsize=(9, 3.6), dpi=96)
        self.canvas = FigureCanvasAgg(fig)
        fig.subplots_adjust(left=0.07, right=0.95, bottom=0.14, top=0.9, wspace=0.25)
        data_ax, loss_ax = fig.subplots(1, 2)
        self.fig, name = fig, LOSS_NAMES[kind]

        pad = 0.05 * np.ptp(x) or 0.5
        self.x_line = np.array([x.min() - pad, x.max() + pad])
        # The view holds the data and the starting line, so the line opens in view.
        shown = np.concatenate([y, start[0] * self.x_line + start[1]])
        y_pad = 0.3 * np.ptp(shown) or 0.5
        self.y_limits = (shown.min() - y_pad, shown.max() + y_pad)
        data_ax.set(xlim=self.x_line, ylim=self.y_limits, xlabel="x (input)", ylabel="y (target)")
        data_ax.set_title("the data and your line y = w x + b", fontsize=10)
        data_ax.scatter(x, y, s=16, c=COLORS["train"], marker=MARKERS["train"], label="data")
        (self.line,) = data_ax.plot([], [], color=COLORS["predictions"], lw=2, animated=True)
        data_ax.plot([], [], color=COLORS["predictions"], lw=2, label="your line")
        data_ax.legend(loc="upper left", fontsize=8)
        box = {"boxstyle": "round", "facecolor": "white", "edgecolor": COLORS["grey"]}
        self.text = data_ax.text(
            0.98, 0.04, "", transform=data_ax.transAxes, ha="right", va="bottom",
            family="monospace", fontsize=9, bbox=box, animated=True,
        )  # fmt: skip

        ws, bs = np.linspace(*w_range, GRID), np.linspace(*b_range, GRID)
        # surface[i, j]: the loss at (ws[j], bs[i]), one w at a time to keep memory small.
        surface = np.stack([losses(kind, x, y, np.full(GRID, w), bs) for w in ws], axis=1)
        self.grid = (ws, bs, surface)
        low, high = surface.min(), surface.max()
        levels = low + (high - low) * np.linspace(0, 1, 16) ** 2  # closer near the minimum
        filled = loss_ax.contourf(ws, bs, surface, levels=levels, cmap="viridis")
        loss_ax.contour(ws, bs, surface, levels=levels, colors="white", linewidths=0.4)
        fig.colorbar(filled, ax=loss_ax, label=name, format="%.2g")
        loss_ax.set(xlabel="w (weight)", ylabel="b (bias)")
        loss_ax.set_title(f"{name} for every (w, b)", fontsize=10)
        (self.marker,) = loss_ax.plot(
            [], [], linestyle="", marker="X", markersize=11, color=COLORS["predictions"],
            markeredgecolor="white", markeredgewidth=1.2, animated=True,
        )  # fmt: skip
        self.canvas.draw()  # the still parts; animated artists are left out
        self.background = self.canvas.copy_from_bbox(fig.bbox)

    def draw(self, w: float, b: float) -> tuple[bytes, float]:
        """Paint (w, b) over the saved background: the PNG bytes and the loss there."""
        value = float(losses(self.kind, self.x, self.y, w, b))
        self.canvas.restore_region(self.background)
        low, high = self.y_limits
        span = high - low  # keeps far-off lines finite for Agg
        self.line.set_data(self.x_line, np.clip(w * self.x_line + b, low - span, high + span))
        self.marker.set_data([w], [b])
        self.text.set_text(self._readout(w, b, value))
        for artist in (self.line, self.marker, self.text):
            self.fig.draw_artist(artist)
        return canvas_png(self.canvas), value

    def _readout(self, w: float, b: float, value: float) -> str:
        """The box's text, moved to where the line is not; says where an unseen line went."""
        low, high = self.y_limits
        left, right = self.x_line[0] + 0.55 * np.ptp(self.x_line), self.x_line[1]
        strip = ((w * left + b - low) / (high - low), (w * right + b - low) / (high - low))
        corner = _readout_corner(strip)
        self.text.set_y(corner)
        self.text.set_va("bottom" if corner < 0.5 else "top")
        ends = w * self.x_line + b
        where = "below" if ends.max() < low else "above" if ends.min() > high else None
        text = f"w = {_four_decimals(w)}   b = {_four_decimals(b)}\n"
        text += f"{SHORT_NAMES[self.kind]} = {value:.4f}"
        return text + (f"\nyour line is {where} the view" if where else "")


@functools.cache
def _box_class(widgets: Any) -> type:
    """A VBox that also offers a PNG of its picture, for viewers that cannot run widgets."""

    class FitByHand(widgets.VBox):
        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            return widget_bundle(
                self.model_id, self.image.value, f"fit_by_hand: {self.readout.value}"
            )

        def _ipython_display_(self, **kwargs: Any) -> None:  # ipywidgets 7 and Colab
            from IPython.display import display

            display(self._repr_mimebundle_(), raw=True)

    return FitByHand


def fit_by_hand(
    X: torch.Tensor, y: torch.Tensor, *, loss: str = "l1", weight: Any = None, bias: Any = None
) -> ipywidgets.VBox:
    """The by-hand widget for data ``X``, ``y`` (N, 1) each; see the module's docstring.

    ``loss`` is ``"l1"`` (mean absolute error, the course's training loss) or ``"mse"``.
    The sliders span the data's least-squares line by at least 1.5 in w and 1.25 in b;
    ``weight`` and ``bias`` say where they start (default 0, or the nearest end). The box
    has ``weight_slider``, ``bias_slider``, ``readout``, ``image`` and ``picture`` (whose
    ``line`` and ``marker`` are the moving artists) as attributes, and ``loss_value``.
    """
    x, t = _as_column("X", X), _as_column("y", y)
    if len(x) != len(t) or len(x) < 2:
        raise ValueError(
            f"X and y must hold the same number of rows, at least 2, got {len(x)} and {len(t)}."
        )
    if len(x) > MAX_ROWS:
        raise ValueError(
            f"X and y hold {len(x):,} rows; fit_by_hand draws at most {MAX_ROWS:,} (its loss "
            f"surface sums over every row {GRID**2:,} times). Pass a sample, e.g. X[:1000]."
        )
    if np.ptp(x) == 0:
        raise ValueError("All X values are equal, so no line fits best; pass varied inputs.")
    kind = loss.lower() if isinstance(loss, str) else loss
    if kind not in LOSS_NAMES:
        raise ValueError(f'loss must be "l1" or "mse", got {loss!r}.')
    w_fit = float(np.cov(x, t, bias=True)[0, 1] / np.var(x))
    b_fit = float(t.mean() - w_fit * x.mean())
    w_range = _slider_range(w_fit, max(1.5, 1.5 * abs(w_fit)))
    b_range = _slider_range(b_fit, max(1.25, 1.25 * abs(b_fit)))
    w0, b0 = _start("weight", weight, w_range), _start("bias", bias, b_range)

    import ipywidgets as widgets

    picture = _Picture(x, t, kind, w_range, b_range, (w0, b0))
    look = {"continuous_update": True, "step": STEP, "readout_format": ".2f"}
    look["style"], look["layout"] = {"description_width": "initial"}, {"width": "300px"}
    w_slider = widgets.FloatSlider(
        value=w0, min=w_range[0], max=w_range[1], description="w", **look
    )
    b_slider = widgets.FloatSlider(
        value=b0, min=b_range[0], max=b_range[1], description="b", **look
    )
    readout, image = widgets.Label(), widgets.Image(format="png")
    box = _box_class(widgets)([widgets.HBox([w_slider, b_slider, readout]), image])
    box.weight_slider, box.bias_slider, box.readout, box.image = w_slider, b_slider, readout, image
    box.picture = picture

    def redraw(change: dict[str, Any] | None = None) -> None:
        png, box.loss_value = picture.draw(w_slider.value, b_slider.value)
        image.value = png
        readout.value = f"{LOSS_NAMES[kind]}: {box.loss_value:.4f}"

    w_slider.observe(redraw, names="value")
    b_slider.observe(redraw, names="value")
    redraw()
    return box
