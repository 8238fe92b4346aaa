"""The dashboard's controls: sliders for the learning rate and the epochs, buttons for the loss.

Every picture comes from one :class:`~helpers.dashboard.runs.Sweep` made when the
dashboard is built, so no control trains: each move only redraws. Both sliders update
while they are dragged; moves that arrive faster than pictures are drawn coalesce (see
:class:`Latest`). ipywidgets is imported only when a dashboard is built.
"""

from __future__ import annotations

import asyncio
import html
import math
from collections.abc import Callable, Iterator
from typing import Any

import torch

from .._validate import as_number, check_memory, positive_int
from .._widget_picture import widget_bundle
from ..data import make_linear_data, split_data
from ..model import LinearRegressionModel
from .drawing import TRUE_BIAS, TRUE_WEIGHT, Frame, Picture, axis_end, fmt
from .runs import LEARNING_RATES, LOSSES, LR_EXPONENTS, Sweep, nearest_rate

#: Bytes the sweep keeps per epoch (82 lines' weights, biases and losses, as measured).
BYTES_PER_EPOCH = 11_000

#: Epochs trained per step in the background, after the first picture (about 10-20 ms).
CHUNK = 50


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running this code (a Jupyter kernel's), or None (a script, a test)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Latest:
    """Run ``redraw`` for a burst of requests once, after the burst: the latest value wins.

    Inside a running event loop (a Jupyter kernel handling widget messages) a request
    only schedules one redraw, which runs once the messages already queued are handled
    and reads the widgets' newest values then, so no redraw is ever made for a value
    that was already replaced. Without a loop (a script, a test) it redraws at once.
    """

    def __init__(self, redraw: Callable[[], None]) -> None:
        self._redraw = redraw
        self._pending = False

    def request(self) -> None:
        loop = running_loop()
        if loop is None:
            self._redraw()
            return
        if not self._pending:
            self._pending = True
            loop.call_soon(self._run)

    def _run(self) -> None:
        self._pending = False
        self._redraw()


class TrainingDashboard:
    """Learning-rate and epochs sliders, loss buttons, the picture and a text readout.

    Made by :func:`training_dashboard`. The picture (a PNG from
    :class:`~helpers.dashboard.drawing.Picture`) shows the data and the fitted line after
    the chosen epoch, the loss curves so far, and every learning rate's test loss after
    that epoch; the readout under it says the same in words. A learning rate typed into
    the readout moves to the nearest of the slider's 41 notches.
    """

    def __init__(self, *, lr: Any, epochs: Any, loss: Any, max_epochs: Any, seed: Any) -> None:
        import ipywidgets as widgets

        max_epochs = _check_max_epochs(max_epochs)
        seed = as_number("seed", seed, integer=True)
        self._max_epochs = max_epochs
        lr, epochs, loss = _check_lr(lr), _check_epochs(epochs, max_epochs), _check_loss(loss)
        data = split_data(*make_linear_data(TRUE_WEIGHT, TRUE_BIAS))
        with torch.random.fork_rng(devices=[]):  # the learner's global RNG stays as it was
            torch.manual_seed(seed)
            start = LinearRegressionModel()
        self._sweep = Sweep(start.weights.item(), start.bias.item(), data)
        # In a kernel only the epochs the first picture needs are trained now, the rest
        # in steps once this cell is done; elsewhere everything is trained at once.
        loop = running_loop()
        self._sweep.train_to(max_epochs if loop is None else epochs)
        self._picture = Picture(data)
        frame, self._frame_lr = self._frame(lr, epochs, loss), lr
        low, high, step = LR_EXPONENTS
        layout = {"style": {"description_width": "initial"}, "layout": {"width": "360px"}}
        self.lr_slider = widgets.FloatLogSlider(
            value=lr, base=10, min=low, max=high, step=step, description="learning rate",
            readout_format=".3g", continuous_update=True, **layout,
        )  # fmt: skip
        self.epochs_slider = widgets.IntSlider(
            value=epochs, min=1, max=max_epochs, step=1, description="epochs",
            continuous_update=True, **layout,
        )  # fmt: skip
        self.loss_buttons = widgets.ToggleButtons(
            options=list(LOSSES), value=loss, description="loss",
            tooltips=["mean absolute error", "mean squared error"],
            style={"description_width": "initial", "button_width": "56px"},
        )  # fmt: skip
        self.image = widgets.Image(value=self._picture.render(frame), format="png")
        self.readout = widgets.HTML(value=_describe(frame))
        controls = widgets.HBox([self.lr_slider, self.epochs_slider, self.loss_buttons])
        self.widget = widgets.VBox([controls, self.image, self.readout])
        self._latest = Latest(self._redraw)
        for control in (self.lr_slider, self.epochs_slider, self.loss_buttons):
            control.observe(lambda _change: self._latest.request(), names="value")
        if loop is not None:
            self._later = self._background_work()
            loop.call_soon(self._work_a_little, loop)

    def _background_work(self) -> Iterator[None]:
        """Steps of 10-20 ms for a free kernel: train the epochs the first picture did not need.

        (Drawing the still parts of every epoch axis here as well was tried: in JupyterLab
        it left a wrong cached background for the other loss, so those are drawn on first use.)
        """
        while self._sweep.trained < self._max_epochs:
            yield self._sweep.train_to(min(self._sweep.trained + CHUNK, self._max_epochs))

    def _work_a_little(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.widget.comm is not None and next(self._later, "done") is None:  # not closed
            loop.call_soon(self._work_a_little, loop)

    def close(self) -> None:
        """Close the widgets: their views disappear and they stop answering."""
        controls = (self.lr_slider, self.epochs_slider, self.loss_buttons)
        for child in (*controls, self.image, self.readout, self.widget):
            child.close()

    def _frame(self, lr: float, epochs: int, loss: str) -> Frame:
        self._sweep.train_to(epochs)
        run = self._sweep.run(loss, lr)
        rate_loss, rate_gone = self._sweep.losses_at(loss, epochs)
        shown = min(epochs, len(run.train_loss))
        end = axis_end(epochs, self._max_epochs)
        return Frame(run, shown, epochs, end, rate_loss, rate_gone)

    def _redraw(self) -> None:
        """Draw what the controls show now; a typed learning rate snaps to its notch."""
        value = self.lr_slider.value
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            self.lr_slider.value = self._frame_lr  # back to the last picture's rate
            raise ValueError(f"the learning rate slider must hold a number > 0, got {value!r}.")
        lr, notch = nearest_rate(value), 10 ** round(math.log10(value), 1)
        if not (math.isclose(value, lr) or math.isclose(value, notch, rel_tol=1e-9)):
            self.lr_slider.value = lr  # a typed value; its own request joins this redraw
        frame = self._frame(lr, self.epochs_slider.value, self.loss_buttons.value)
        self._frame_lr = lr
        self.image.value = self._picture.render(frame)
        self.readout.value = _describe(frame)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view, plus a PNG of the current picture for static renderers."""
        summary = html.unescape(self.readout.value.split("<br>")[0].replace("<b>", ""))
        text = f"TrainingDashboard({summary.replace('</b>', '')})"
        return widget_bundle(self.widget.model_id, self.image.value, text)

    def _ipython_display_(self, **kwargs: Any) -> None:
        # Like ipywidgets 7 itself: always a display_data message, which Colab expects.
        from IPython.display import display

        display(self._repr_mimebundle_(**kwargs), raw=True)


def _describe(frame: Frame) -> str:
    """The readout: what the picture shows, in words (HTML, one line, then any message)."""
    run, shown = frame.run, frame.epoch
    text = (
        f"<b>{run.loss} loss, lr={run.lr:g}, epoch {shown}</b>: "
        f"w={fmt(run.weight[shown])}, b={fmt(run.bias[shown])}"
    )
    if shown:
        text += f"; training loss {fmt(run.train_loss[shown - 1])}, test loss "
        text += fmt(run.test_loss[shown - 1])
    return text + (f"<br>{html.escape(frame.message)}" if frame.message else "")


def _check_max_epochs(max_epochs: Any) -> int:
    """``max_epochs`` as an int, refused up front where its sweep would not fit in memory."""
    number = positive_int("max_epochs", max_epochs)
    advice = "Pass a smaller max_epochs (1000 shows the whole story)."
    check_memory(f"A dashboard with max_epochs={number:,}", number * BYTES_PER_EPOCH, advice)
    return number


def _check_lr(lr: Any) -> float:
    low, high = LEARNING_RATES[0], LEARNING_RATES[-1]
    try:
        number = as_number("lr", lr)
    except ValueError:
        number = float("nan")
    if not low * (1 - 1e-9) <= number <= high * (1 + 1e-9):  # False for NaN too
        raise ValueError(f"lr must be a number from {low:g} to {high:g}, got {lr!r}.")
    return nearest_rate(number)


def _check_epochs(epochs: Any, max_epochs: int) -> int:
    try:
        number = as_number("epochs", epochs, integer=True)
    except ValueError:
        raise ValueError(f"epochs must be a whole number, got {epochs!r}.") from None
    if not 1 <= number <= max_epochs:
        raise ValueError(f"epochs must be from 1 to {max_epochs}, got {epochs!r}.")
    return number


def _check_loss(loss: Any) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}, got {loss!r}.")
    return loss


def training_dashboard(
    *,
    lr: float = 0.01,
    epochs: int = 100,
    loss: str = "L1",
    max_epochs: int = 1000,
    seed: int = 42,
) -> TrainingDashboard:
    """A training dashboard for the course's data; make it a cell's last expression to show it.

    ``lr`` (1e-4 to 1, moved to the nearest notch of 10**0.1), ``epochs`` (1 to
    ``max_epochs``) and ``loss`` (``"L1"`` or ``"MSE"``) are where the controls start;
    ``seed`` fixes the starting model. All 41 learning rates of both losses are trained
    here, in one batched run equal to :func:`helpers.train`, so the controls only redraw.
    With MSE, learning rates near 1 diverge, and the view says so as ``train`` does.
    """
    return TrainingDashboard(lr=lr, epochs=epochs, loss=loss, max_epochs=max_epochs, seed=seed)
