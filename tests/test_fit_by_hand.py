"""The by-hand widget, driven as a learner drives it: by setting the sliders' values.

Every loss it shows is checked against the loss written out with NumPy, and the
least-squares line against ``np.polyfit``. (Under ipywidgets 7.7.1, what Colab ships:
tests/test_ipywidgets_7.py.)
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import make_linear_data, split_data
from helpers.fit_by_hand import fit_by_hand

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SETTINGS = [(0.0, 0.0), (-1.0, 1.5), (1.5, -0.5), (0.25, 0.9)]


def hand_loss(x: np.ndarray, y: np.ndarray, w: float, b: float, kind: str = "l1") -> float:
    residual = w * x + b - y
    return float(np.mean(np.abs(residual)) if kind == "l1" else np.mean(residual * residual))


@pytest.fixture(scope="module")
def data():
    """The course's training split, and a noisy variant so that no line fits exactly."""
    X, y = make_linear_data()
    X_train, y_train, _, _ = split_data(X, y)
    noise = torch.from_numpy(np.random.default_rng(0).normal(0, 0.05, size=(40, 1)))
    return X_train, y_train + noise.float()


def as_arrays(X: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    return X.numpy()[:, 0].astype(float), y.numpy()[:, 0].astype(float)


def least_squares(X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    w, b = np.polyfit(*as_arrays(X, y), 1)
    return float(w), float(b)


def move(box, w: float, b: float) -> None:
    box.weight_slider.value = w
    box.bias_slider.value = b


def test_it_opens_at_zero_with_sliders_around_the_least_squares_line(data):
    X, y = data
    box = fit_by_hand(X, y)
    w_fit, b_fit = least_squares(X, y)
    ws, bs = box.weight_slider, box.bias_slider
    assert (ws.value, bs.value) == (0.0, 0.0)
    assert ws.min <= w_fit - 1.5 and w_fit + 1.5 <= ws.max
    assert bs.min <= b_fit - 1.25 and b_fit + 1.25 <= bs.max
    assert ws.step == bs.step == 0.01 and ws.continuous_update and bs.continuous_update
    assert box.readout.value == f"mean absolute error (L1): {hand_loss(*as_arrays(X, y), 0, 0):.4f}"
    assert bytes(box.image.value).startswith(PNG_SIGNATURE)
    assert all(type(w).__module__.startswith("ipywidgets.") for w in (ws, bs, box.readout))


@pytest.mark.parametrize("setting", [*SETTINGS, "least squares"])
def test_the_readout_line_and_marker_follow_the_sliders(data, setting):
    X, y = data
    box = fit_by_hand(X, y)
    w, b = least_squares(X, y) if setting == "least squares" else setting
    move(box, w, b)
    expected = hand_loss(*as_arrays(X, y), w, b)
    assert box.readout.value == f"mean absolute error (L1): {expected:.4f}"
    assert box.loss_value == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert box.picture.marker.get_data() == ([w], [b])
    line_x, line_y = box.picture.line.get_data()
    np.testing.assert_allclose(line_y, w * np.asarray(line_x) + b)
    x = as_arrays(X, y)[0]
    assert min(line_x) <= x.min() and x.max() <= max(line_x)  # the line spans the data


def test_no_line_beats_least_squares_on_the_mse_readout(data):
    X, y = data
    box = fit_by_hand(X, y, loss="mse", weight=0.5, bias=0.5)
    assert (box.weight_slider.value, box.bias_slider.value) == (0.5, 0.5)
    x, t = as_arrays(X, y)
    w_fit, b_fit = least_squares(X, y)
    readings = {}
    for w, b in [*SETTINGS, (w_fit, b_fit), (w_fit + 0.01, b_fit), (w_fit, b_fit - 0.01)]:
        move(box, w, b)
        assert box.readout.value == f"mean squared error: {hand_loss(x, t, w, b, 'mse'):.4f}"
        readings[w, b] = box.loss_value
    assert min(readings, key=readings.get) == (w_fit, b_fit)


@pytest.mark.parametrize(("loss", "name"), [("l1", "mean absolute error (L1)"), ("MSE", "mean squared error")])  # fmt: skip
def test_the_loss_surface_is_the_named_loss_on_a_grid(data, loss, name):
    X, y = data
    box = fit_by_hand(X, y, loss=loss)
    ws, bs, surface = box.picture.grid
    x, t = as_arrays(X, y)
    assert surface.shape == (len(bs), len(ws))
    for i, j in [(0, 0), (3, 100), (60, 60), (120, 7)]:
        assert surface[i, j] == pytest.approx(hand_loss(x, t, ws[j], bs[i], loss.lower()))
    labels = [ax.get_title() for ax in box.picture.fig.axes]
    labels += [ax.get_ylabel() for ax in box.picture.fig.axes]
    assert any(name in label for label in labels)
    assert not any("least squares" in label.lower() for label in labels)
    assert box.readout.value.startswith(name + ": ")


def test_a_move_repaints_the_moving_parts_only(data):
    box = fit_by_hand(*data)
    picture = box.picture
    figure, artists = picture.fig, [list(ax.get_children()) for ax in picture.fig.axes]
    pictures = {bytes(box.image.value)}
    for w, b in SETTINGS[1:]:
        move(box, w, b)
        pictures.add(bytes(box.image.value))
    assert len(pictures) == len(SETTINGS)
    assert box.picture is picture and picture.fig is figure
    assert [list(ax.get_children()) for ax in figure.axes] == artists


def test_tensors_with_grad_or_of_another_dtype_give_the_same_readout(data):
    X, y = data
    plain = fit_by_hand(X, y, weight=0.3, bias=0.4)
    X_grad = X.double().requires_grad_()
    with_grad = fit_by_hand(X_grad * 1, y.double(), weight=0.3, bias=0.4)
    assert with_grad.readout.value == plain.readout.value
    assert X_grad.grad is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_tensors_on_a_gpu_work(data):
    X, y = data
    on_gpu = fit_by_hand(X.cuda(), y.cuda(), weight=0.3, bias=0.4)
    assert on_gpu.readout.value == fit_by_hand(X, y, weight=0.3, bias=0.4).readout.value


def test_static_viewers_get_a_png_of_the_picture(data):
    box = fit_by_hand(*data)
    bundle = box._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == box.model_id
    assert base64.b64decode(bundle["image/png"]) == bytes(box.image.value)
    assert box.readout.value in bundle["text/plain"]


X_GOOD, Y_GOOD = torch.linspace(0, 1, 10).reshape(-1, 1), torch.linspace(0, 1, 10).reshape(-1, 1)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((X_GOOD.numpy(), Y_GOOD), {}, TypeError, r"X must be a torch tensor.*torch\.as_tensor"),
        ((X_GOOD, [0.0] * 10), {}, TypeError, r"y must be a torch tensor"),
        ((X_GOOD[:, 0], Y_GOOD), {}, ValueError, r"shape \(N, 1\).*\(10,\).*reshape\(-1, 1\)"),
        ((X_GOOD, Y_GOOD[:7]), {}, ValueError, r"same number of rows.*10 and 7"),
        ((X_GOOD[:1], Y_GOOD[:1]), {}, ValueError, r"at least 2"),
        ((X_GOOD, Y_GOOD.clone().fill_(float("nan"))), {}, ValueError, r"y contains NaN"),
        ((torch.ones(10, 1), Y_GOOD), {}, ValueError, r"All X values are equal"),
        ((X_GOOD, Y_GOOD), {"loss": "huber"}, ValueError, r'loss must be "l1" or "mse"'),
        ((X_GOOD, Y_GOOD), {"loss": None}, ValueError, r'loss must be "l1" or "mse"'),
        ((X_GOOD, Y_GOOD), {"weight": "0.5"}, ValueError, r"weight must be a finite number"),
        (
            (X_GOOD, Y_GOOD),
            {"bias": 9.0},
            ValueError,
            r"bias must lie on its slider, from -1.5 to 1.5 .*got 9",
        ),
    ],
)
def test_bad_inputs_get_one_clear_error(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        fit_by_hand(*args, **kwargs)


def test_the_line_opens_in_view_at_the_default_start(data):
    X, y = data
    box = fit_by_hand(X, y)
    picture = box.picture
    low, high = picture.y_limits
    ends = box.weight_slider.value * picture.x_line + box.bias_slider.value
    assert box.weight_slider.value == 0 and box.bias_slider.value == 0
    assert low < ends.min() and ends.max() < high
    assert (y.numpy() > low).all() and (y.numpy() < high).all()
    assert "your line is" not in picture.text.get_text()
    line_at = (0 - low) / (high - low)  # the flat start line, as a fraction of the height
    box_bottom = picture.text.get_position()[1]
    assert line_at < 0.3 and box_bottom == 0.96  # the box went to the top, off the line


def test_a_line_out_of_view_is_named_and_negative_zero_never_shows(data):
    X, y = data
    box = fit_by_hand(X, y, bias=-0.0)
    assert "b =  0.0000" in box.picture.text.get_text()
    box.bias_slider.value = box.bias_slider.min
    box.weight_slider.value = box.weight_slider.min
    ends = box.weight_slider.value * box.picture.x_line + box.bias_slider.value
    assert ends.max() < box.picture.y_limits[0]  # the line is under the view
    assert box.picture.text.get_text().endswith("\nyour line is below the view")


@pytest.mark.parametrize(
    ("line_y", "corner"),
    [((0.1, 0.2), 0.96), ((0.19, 0.19), 0.96), ((0.8, 0.9), 0.04), ((-0.5, 1.5), 0.04)],
)
def test_the_readout_box_goes_to_the_corner_the_line_leaves_free(line_y, corner):
    from helpers.fit_by_hand import _readout_corner

    assert _readout_corner(line_y) == corner


def test_more_rows_than_can_be_drawn_are_refused_up_front():
    X = torch.linspace(0, 1, 10**6).reshape(-1, 1)
    with pytest.raises(ValueError, match=r"1,000,000 rows; fit_by_hand draws at most 100,000"):
        fit_by_hand(X, 2 * X)
