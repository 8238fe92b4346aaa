"""A training dashboard: move a learning-rate and an epochs slider and watch the line fit.

Every picture starts from the same seeded :class:`LinearRegressionModel` on the course's
data (40 training and 10 test points on ``y = 0.7 x + 0.3``), so a slider position always
shows the same picture. Each learning rate (and loss) is trained once with :func:`train`
for ``max_epochs`` epochs; the per-epoch trajectory it records is kept, so moving the
epochs slider only redraws. Only core ipywidgets and a Matplotlib PNG are used, which
works in JupyterLab (ipywidgets 8) and Colab (ipywidgets 7.7.1); ipywidgets is imported
when a dashboard is built, not when ``helpers`` is imported.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import PIL.Image
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

from .data import make_linear_data, split_data
from .model import LinearRegressionModel
from .plotting import COLORS, MARKERS, to_numpy
from .training import train

#: The losses the dashboard offers. L1's gradient is bounded, so it never diverges for
#: lr <= 1; MSE with a learning rate near 1 overshoots further every epoch and diverges.
LOSSES = {"L1": nn.L1Loss, "MSE": nn.MSELoss}
#: The learning-rate slider's range as powers of ten: 1e-4 to 1, in steps of 10**0.1.
LR_EXPONENTS = (-4.0, 0.0, 0.1)
#: Fixed loss-axis limits, so that curves for different learning rates can be compared.
LOSS_LIMITS = {"L1": (1e-4, 3.0), "MSE": (1e-14, 1e4)}
TRUE_WEIGHT, TRUE_BIAS = 0.7, 0.3
_FAR = 1e6  # coordinates beyond this are off the picture anyway; keeps Agg's numbers sane


@dataclass(frozen=True)
class Run:
    """One training run, as NumPy arrays: ``weight``/``bias`` (E+1,) start first, losses (E,).

    ``diverged_at`` is the epoch whose loss went non-finite (``None`` if it never did);
    then E = ``diverged_at - 1`` and the arrays stop at the last finite epoch.
    """

    loss: str
    lr: float
    weight: np.ndarray
    bias: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    diverged_at: int | None


def _fmt(x: float) -> str:
    """Four decimals for everyday numbers, scientific notation for tiny or huge ones."""
    return f"{x:.4f}" if x == 0 or 1e-3 <= abs(x) < 1e4 else f"{x:.3e}"


class TrainingDashboard:
    """Sliders for the learning rate (log scale, 1e-4 to 1) and the epochs (1 to ``max_epochs``).

    The view is one PNG drawn by Matplotlib: on the left the training and test data, the
    fitted line and its test predictions, with the current w and b next to the true 0.7
    and 0.3; on the right the training and test loss (log scale) up to the chosen epoch.
    A learning rate that makes the loss non-finite shows a message instead of NaNs.

    The widgets call :meth:`set_lr`, :meth:`set_epochs` and :meth:`set_loss`, which may
    also be called directly (they validate, move the widget and redraw). Runs are cached
    per (loss, learning rate), at most ``cache_size`` of them (0 switches caching off).
    Building a dashboard displays nothing: show it by making it a cell's last expression.
    """

    def __init__(
        self,
        *,
        lr: float = 0.01,
        epochs: int = 100,
        loss: str = "L1",
        max_epochs: int = 1000,
        seed: int = 42,
        cache_size: int = 32,
    ) -> None:
        import ipywidgets as widgets

        if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
            raise ValueError(
                f"max_epochs must be a whole number of at least 1, got {max_epochs!r}."
            )
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be a whole number, got {seed!r}.")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError(f"cache_size must be a whole number, 0 or more, got {cache_size!r}.")
        self.max_epochs = max_epochs
        self.cache_size = cache_size
        self._lr = self._check_lr(lr)
        self._epochs = self._check_epochs(epochs)
        self._loss = self._check_loss(loss)
        self._runs: OrderedDict[tuple[str, float], Run] = OrderedDict()
        self._busy = False

        X, y = make_linear_data(TRUE_WEIGHT, TRUE_BIAS)
        self._data = split_data(X, y)
        # A private RNG stream: the learner's global torch RNG is left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._start_model = LinearRegressionModel()

        self._build_figure()
        self._run = self._train(self._loss, self._lr)
        self._draw()

        low, high, step = LR_EXPONENTS
        self.lr_slider = widgets.FloatLogSlider(
            value=self._lr,
            base=10,
            min=low,
            max=high,
            step=step,
            description="learning rate",
            readout_format=".3g",
            continuous_update=False,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="360px"),
        )
        self.epochs_slider = widgets.IntSlider(
            value=self._epochs,
            min=1,
            max=max_epochs,
            step=1,
            description="epochs",
            continuous_update=True,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="360px"),
        )
        self.loss_buttons = widgets.ToggleButtons(
            options=list(LOSSES),
            value=self._loss,
            description="loss",
            tooltips=["mean absolute error", "mean squared error"],
            style={"description_width": "initial", "button_width": "56px"},
            layout=widgets.Layout(width="auto"),
        )
        self.image = widgets.Image(value=self._png, format="png")
        controls = widgets.HBox([self.lr_slider, self.epochs_slider, self.loss_buttons])
        self.widget = widgets.VBox([controls, self.image])
        self.lr_slider.observe(self.on_lr_change, names="value")
        self.epochs_slider.observe(self.on_epochs_change, names="value")
        self.loss_buttons.observe(self.on_loss_change, names="value")

    # ----- what the widgets call ------------------------------------------------------

    def on_lr_change(self, change: dict[str, Any]) -> None:
        """Observer of the learning-rate slider: ``set_lr(change["new"])``."""
        if not self._busy:
            self.set_lr(change["new"])

    def on_epochs_change(self, change: dict[str, Any]) -> None:
        """Observer of the epochs slider: ``set_epochs(change["new"])``."""
        if not self._busy:
            self.set_epochs(change["new"])

    def on_loss_change(self, change: dict[str, Any]) -> None:
        """Observer of the loss buttons: ``set_loss(change["new"])``."""
        if not self._busy:
            self.set_loss(change["new"])

    def set_lr(self, lr: float) -> None:
        """Train at ``lr`` (rounded to the 3 digits the readout shows) unless cached; redraw."""
        self._lr = self._check_lr(lr)
        self._run = self._train(self._loss, self._lr)
        self._show(self.lr_slider, self._lr)

    def set_epochs(self, epochs: int) -> None:
        """Show the model after ``epochs`` epochs of the current run; no training."""
        self._epochs = self._check_epochs(epochs)
        self._show(self.epochs_slider, self._epochs)

    def set_loss(self, loss: str) -> None:
        """Switch between ``"L1"`` and ``"MSE"``: trains (unless cached) and redraws."""
        self._loss = self._check_loss(loss)
        self._run = self._train(self._loss, self._lr)
        self._show(self.loss_buttons, self._loss)

    # ----- what a test or a benchmark may read ----------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """What the picture shows: loss, lr, epoch, weight, bias, losses and divergence.

        ``epoch`` is the epoch whose parameters are drawn: the chosen one, or the last
        finite one when training diverged before it (then ``diverged`` is True and
        ``message`` is the explanation the view shows; otherwise it is "").
        """
        run, shown = self._run, self._shown_epoch()
        return {
            "loss": self._loss,
            "lr": self._lr,
            "epochs": self._epochs,
            "epoch": shown,
            "weight": float(run.weight[shown]),
            "bias": float(run.bias[shown]),
            "train_loss": float(run.train_loss[shown - 1]) if shown else None,
            "test_loss": float(run.test_loss[shown - 1]) if shown else None,
            "diverged_at": run.diverged_at,
            "diverged": bool(self._message()),
            "message": self._message(),
        }

    @property
    def png(self) -> bytes:
        """The current picture as PNG bytes (what the image widget shows)."""
        return self._png

    def close(self) -> None:
        """Close the widgets (their views disappear) and forget the cached runs."""
        self.widget.close()
        for child in (self.lr_slider, self.epochs_slider, self.loss_buttons, self.image):
            child.close()
        self._runs.clear()

    # ----- display --------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view, plus a PNG of the current picture for static renderers.

        JupyterLab and Colab render the widget; GitHub, nbviewer and nbconvert (which drop
        the widget mimetype when no widget state is stored) show the PNG instead.
        """
        state = self.state
        return {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2,
                "version_minor": 0,
                "model_id": self.widget.model_id,
            },
            "image/png": base64.b64encode(self._png).decode("ascii"),
            "text/plain": (
                f"TrainingDashboard({state['loss']} loss, lr={state['lr']:g}, "
                f"epoch {state['epoch']}: w={_fmt(state['weight'])}, b={_fmt(state['bias'])})"
            ),
        }

    def _ipython_display_(self, **kwargs: Any) -> None:
        # Like ipywidgets 7 itself: always a display_data message, which Colab expects.
        from IPython.display import display

        display(self._repr_mimebundle_(**kwargs), raw=True)

    # ----- internals ------------------------------------------------------------------

    def _check_lr(self, lr: Any) -> float:
        low, high = 10 ** LR_EXPONENTS[0], 10 ** LR_EXPONENTS[1]
        ok = isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr)
        if not ok or not low * (1 - 1e-9) <= lr <= high * (1 + 1e-9):
            raise ValueError(f"lr must be a number from {low:g} to {high:g}, got {lr!r}.")
        return min(max(float(f"{lr:.3g}"), low), high)

    def _check_epochs(self, epochs: Any) -> int:
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)):
            raise ValueError(f"epochs must be a whole number, got {epochs!r}.")
        if not 1 <= epochs <= self.max_epochs:
            raise ValueError(f"epochs must be from 1 to {self.max_epochs}, got {epochs}.")
        return int(epochs)

    def _check_loss(self, loss: Any) -> str:
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}, got {loss!r}.")
        return loss

    def _train(self, loss: str, lr: float) -> Run:
        key = (loss, lr)
        if key in self._runs:
            self._runs.move_to_end(key)
            return self._runs[key]
        model = copy.deepcopy(self._start_model)
        with contextlib.redirect_stdout(io.StringIO()):  # train prints when it diverges
            history = train(
                model,
                *self._data,
                lr=lr,
                epochs=self.max_epochs,
                loss_fn=LOSSES[loss](),
                device="cpu",
                verbose=False,
            )
        run = Run(
            loss=loss,
            lr=lr,
            weight=to_numpy(history.param("weights")),
            bias=to_numpy(history.param("bias")),
            train_loss=np.asarray(history.train_loss, dtype=float),
            test_loss=np.asarray(history.test_loss, dtype=float),
            diverged_at=history.diverged_at,
        )
        if self.cache_size:
            self._runs[key] = run
            while len(self._runs) > self.cache_size:
                self._runs.popitem(last=False)
        return run

    def _message(self) -> str:
        """What the view says when the chosen epoch lies past a divergence ("" otherwise)."""
        run = self._run
        if run.diverged_at is None or self._epochs < run.diverged_at:
            return ""
        return (
            f"Training diverged: in epoch {run.diverged_at} the {run.loss} loss became "
            f"infinite or NaN.\nWith lr = {run.lr:g} every step overshoots further. "
            f"Shown: epoch {run.diverged_at - 1}, the last finite one.\n"
            "Try a smaller learning rate (or the L1 loss, whose steps stay small)."
        )

    def _shown_epoch(self) -> int:
        return min(self._epochs, len(self._run.train_loss))

    def _show(self, control: Any, value: Any) -> None:
        """Redraw, then move ``control`` to ``value`` without calling back into us."""
        self._draw()
        self._busy = True
        try:
            control.value = value
            self.image.value = self._png
        finally:
            self._busy = False

    def _build_figure(self) -> None:
        """Draw what never changes once; ``_draw`` then only paints the moving parts on top."""
        X_train, y_train, X_test, y_test = (to_numpy(t) for t in self._data)
        self._x_test = X_test
        fig = Figure(figsize=(9, 3.5), dpi=96)
        self._canvas = FigureCanvasAgg(fig)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.88, wspace=0.25)
        data_ax, loss_ax = fig.subplots(1, 2)
        self._fig, self._data_ax, self._loss_ax = fig, data_ax, loss_ax
        self._backgrounds: dict[tuple[str, int], Any] = {}
        moving = {"animated": True}  # skipped by full draws, painted by _draw

        xs, ys = np.concatenate([X_train, X_test]), np.concatenate([y_train, y_test])
        x_pad, y_pad = 0.05 * np.ptp(xs), 0.25 * np.ptp(ys)
        self._x_line = np.array([xs.min() - x_pad, xs.max() + x_pad])
        data_ax.set_xlim(*self._x_line)
        data_ax.set_ylim(ys.min() - y_pad, ys.max() + y_pad)
        data_ax.scatter(X_train, y_train, s=14, c=COLORS["train"], marker=MARKERS["train"])
        data_ax.scatter(X_test, y_test, s=20, c=COLORS["test"], marker=MARKERS["test"])
        true_y = TRUE_WEIGHT * self._x_line + TRUE_BIAS
        data_ax.plot(self._x_line, true_y, color=COLORS["truth"], linestyle="--", label="true line")
        (self._fit_line,) = data_ax.plot([], [], color=COLORS["predictions"], **moving)
        self._pred_points = data_ax.scatter(
            X_test, y_test, s=30, c=COLORS["predictions"], marker=MARKERS["predictions"], **moving
        )
        # Legend entries for the scatters and the moving line, drawn once with the background.
        for key, name in (("train", "training data"), ("test", "test data")):
            data_ax.plot([], [], linestyle="", marker=MARKERS[key], color=COLORS[key], label=name)
        data_ax.plot([], [], color=COLORS["predictions"], label="fitted line")
        data_ax.plot(
            [],
            [],
            linestyle="",
            marker=MARKERS["predictions"],
            color=COLORS["predictions"],
            label="predictions",
        )
        data_ax.legend(loc="upper left", fontsize=8)
        data_ax.set_xlabel("x (input)")
        data_ax.set_ylabel("y (target)")
        box = {"boxstyle": "round", "facecolor": "white", "edgecolor": COLORS["grey"]}
        self._params_text = data_ax.text(
            0.98, 0.04, "", transform=data_ax.transAxes, ha="right", va="bottom",
            family="monospace", fontsize=9, bbox=box, **moving,
        )  # fmt: skip
        self._data_title = data_ax.text(
            0.5, 1.03, "", transform=data_ax.transAxes, ha="center", fontsize=10, **moving
        )

        (self._train_curve,) = loss_ax.plot([], [], color=COLORS["train"], **moving)
        (self._test_curve,) = loss_ax.plot([], [], color=COLORS["test"], linestyle="--", **moving)
        self._diverged_mark = loss_ax.axvline(
            1, color=COLORS["predictions"], linestyle=":", **moving
        )
        loss_ax.plot([], [], color=COLORS["train"], label="training loss")
        loss_ax.plot([], [], color=COLORS["test"], linestyle="--", label="test loss")
        loss_ax.set_yscale("log")
        loss_ax.set_xlabel("epoch")
        loss_ax.set_ylabel("loss (log scale)")
        loss_ax.legend(loc="upper right", fontsize=8)
        self._loss_title = loss_ax.text(
            0.5, 1.03, "", transform=loss_ax.transAxes, ha="center", fontsize=10, **moving
        )
        self._warning = fig.text(
            0.5, 0.5, "", ha="center", va="center", fontsize=11,
            bbox={"boxstyle": "round,pad=0.8", "facecolor": "#fff3e0", "edgecolor": "#D55E00"},
            **moving,
        )  # fmt: skip

    def _background(self, loss: str, x_max: int) -> None:
        """Paint the still parts for this loss and epoch axis: from a cached copy if possible."""
        self._loss_ax.set_xlim(0, x_max)
        self._loss_ax.set_ylim(*LOSS_LIMITS[loss])
        key = (loss, x_max)
        if key in self._backgrounds:
            self._canvas.restore_region(self._backgrounds[key])
        else:
            self._canvas.draw()
            self._backgrounds[key] = self._canvas.copy_from_bbox(self._fig.bbox)

    def _draw(self) -> None:
        run, shown = self._run, self._shown_epoch()
        self._background(run.loss, _axis_end(self._epochs, self.max_epochs))
        w, b = float(run.weight[shown]), float(run.bias[shown])
        self._fit_line.set_data(self._x_line, np.clip(w * self._x_line + b, -_FAR, _FAR))
        predictions = np.clip(w * self._x_test + b, -_FAR, _FAR)
        self._pred_points.set_offsets(np.column_stack([self._x_test, predictions]))
        self._params_text.set_text(
            f"w = {_fmt(w):>10}   true {TRUE_WEIGHT:.4f}\nb = {_fmt(b):>10}   true {TRUE_BIAS:.4f}"
        )
        self._data_title.set_text(f"after epoch {shown}  ({run.loss} loss, lr = {run.lr:g})")
        epochs = np.arange(1, shown + 1)
        low = LOSS_LIMITS[run.loss][0]  # a loss of exactly 0 stays on the log axis
        self._train_curve.set_data(epochs, np.maximum(run.train_loss[:shown], low))
        self._test_curve.set_data(epochs, np.maximum(run.test_loss[:shown], low))
        if shown:
            train_now, test_now = run.train_loss[shown - 1], run.test_loss[shown - 1]
            self._loss_title.set_text(f"loss: train {_fmt(train_now)}, test {_fmt(test_now)}")
        else:
            self._loss_title.set_text("loss: no finite value")
        artists = [
            self._fit_line,
            self._pred_points,
            self._params_text,
            self._data_title,
            self._train_curve,
            self._test_curve,
            self._loss_title,
        ]
        message = self._message()
        if message:
            self._diverged_mark.set_xdata([run.diverged_at, run.diverged_at])
            self._warning.set_text(message)
            artists += [self._diverged_mark, self._warning]
        for artist in artists:
            self._fig.draw_artist(artist)
        width, height = self._canvas.get_width_height()
        image = PIL.Image.frombuffer(
            "RGBA", (width, height), self._canvas.buffer_rgba(), "raw", "RGBA", 0, 1
        )
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="png", compress_level=3)
        self._png = buffer.getvalue()


def _axis_end(epochs: int, max_epochs: int) -> int:
    """The epoch axis ends at the next of 10, 20, 50, 100, ... (so it rarely redraws)."""
    end = 10
    while end < epochs:
        end = end * 5 // 2 if str(end)[0] == "2" else end * 2
    return min(end, max(max_epochs, 2))


def training_dashboard(
    *,
    lr: float = 0.01,
    epochs: int = 100,
    loss: str = "L1",
    max_epochs: int = 1000,
    seed: int = 42,
) -> TrainingDashboard:
    """Build a :class:`TrainingDashboard`; make it a cell's last expression to show it.

    ``lr`` (1e-4 to 1), ``epochs`` (1 to ``max_epochs``) and ``loss`` (``"L1"`` or
    ``"MSE"``) are where the controls start; ``seed`` fixes the starting model. With MSE,
    learning rates near 1 diverge, and the view says so.
    """
    return TrainingDashboard(lr=lr, epochs=epochs, loss=loss, max_epochs=max_epochs, seed=seed)
