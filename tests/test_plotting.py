"""plot_predictions and plot_loss_curves: inputs of every kind, readable pictures, clear errors."""

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from torch import nn  # noqa: E402

from helpers import (  # noqa: E402
    LinearRegressionModel,
    make_linear_data,
    plot_loss_curves,
    plot_predictions,
    split_data,
    train,
)

# The Okabe-Ito palette, written out here as the independent reference.
OKABE_ITO = {
    "#000000",
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
    "#999999",
}


@pytest.fixture(autouse=True)
def no_show_and_close(monkeypatch):
    def refuse_show(*args, **kwargs):
        raise AssertionError("a helper called plt.show()")

    monkeypatch.setattr(plt, "show", refuse_show)
    yield
    plt.close("all")


@pytest.fixture
def data():
    X, y = make_linear_data()
    return split_data(X, y)


@pytest.fixture
def model():
    torch.manual_seed(42)
    return LinearRegressionModel()


def scatter_points(ax):
    return [c.get_offsets() for c in ax.collections]


def scatter_colours(ax):
    return [to_hex(c.get_facecolor()[0]) for c in ax.collections]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --- plot_predictions -------------------------------------------------------------------


def test_predictions_from_a_model_with_grad(data, model):
    X_train, y_train, X_test, y_test = data
    predictions = model(X_test)  # requires_grad, as in a notebook that forgot inference_mode
    assert predictions.requires_grad
    ax = plot_predictions(X_train, y_train, X_test, y_test, predictions)

    assert isinstance(ax, matplotlib.axes.Axes) and ax is plt.gca()
    train_pts, test_pts, pred_pts = scatter_points(ax)
    np.testing.assert_allclose(train_pts, torch.cat([X_train, y_train], 1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(test_pts, torch.cat([X_test, y_test], 1).numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        pred_pts, torch.cat([X_test, predictions.detach()], 1).numpy(), rtol=1e-6
    )
    assert len(legend_texts(ax)) == 3
    assert ax.get_xlabel() and ax.get_ylabel()


def test_without_predictions_draws_only_the_data(data):
    ax = plot_predictions(*data)
    assert len(ax.collections) == 2 and len(legend_texts(ax)) == 2


def test_colours_are_colour_blind_safe_and_markers_distinct(data, model):
    with torch.inference_mode():
        predictions = model(data[2])
    ax = plot_predictions(*data, predictions)
    colours = scatter_colours(ax)
    assert len(set(colours)) == 3 and set(colours) <= OKABE_ITO
    shapes = {c.get_paths()[0].vertices.tobytes() for c in ax.collections}
    assert len(shapes) == 3  # one marker shape per series, not colour alone


def test_draws_on_the_given_axes(data):
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_predictions(*data, ax=right) is right
    assert len(right.collections) == 2 and len(left.collections) == 0


def test_numpy_arrays_lists_and_flat_shapes(data):
    X_train, y_train, X_test, y_test = (t.numpy() for t in data)
    ax = plot_predictions(X_train[:, 0], y_train.tolist(), X_test, y_test[:, 0], y_test * 2)
    np.testing.assert_allclose(ax.collections[2].get_offsets()[:, 1], 2 * y_test[:, 0])


def test_float64_and_non_contiguous_tensors(data):
    X, y = make_linear_data()
    both = torch.cat([X, y], 1).double().t()  # rows are not contiguous
    ax = plot_predictions(both[0, :40], both[1, :40], both[0, 40:], both[1, 40:])
    np.testing.assert_allclose(ax.collections[1].get_offsets()[:, 0], X[40:, 0].numpy())


@pytest.mark.parametrize(
    ("which", "cut", "words"),
    [
        (1, 39, ["X_train", "y_train", "(40,)", "(39,)"]),
        (3, 9, ["X_test", "y_test", "(10,)", "(9,)"]),
        (4, 7, ["X_test", "predictions", "(10,)", "(7,)"]),
    ],
)
def test_mismatched_lengths_name_the_shapes(data, which, cut, words):
    args = [*data, data[3].clone()]
    args[which] = args[which][:cut]
    with pytest.raises(ValueError) as info:
        plot_predictions(*args)
    assert all(word in str(info.value) for word in words)


def test_wrong_dimensions_name_the_shape(data):
    with pytest.raises(
        ValueError, match=r"X_train must have shape \(N,\) or \(N, 1\), got \(40, 2\)"
    ):
        plot_predictions(data[0].repeat(1, 2), *data[1:])


def test_non_finite_predictions_point_at_divergence(data):
    bad = torch.full_like(data[3], float("nan"))
    with pytest.raises(ValueError, match=r"predictions contains NaN.*smaller learning rate"):
        plot_predictions(*data, bad)


# --- plot_loss_curves -------------------------------------------------------------------


def test_loss_curves_of_a_real_history(data, model):
    history = train(model, *data, epochs=30, verbose=False)
    ax = plot_loss_curves(history)
    assert ax is plt.gca()
    train_line, test_line = ax.get_lines()
    np.testing.assert_allclose(train_line.get_xdata(), range(1, 31))
    np.testing.assert_allclose(train_line.get_ydata(), history.train_loss)
    np.testing.assert_allclose(test_line.get_ydata(), history.test_loss)
    colours = {to_hex(line.get_color()) for line in ax.get_lines()}
    assert len(colours) == 2 and colours <= OKABE_ITO
    assert train_line.get_marker() != test_line.get_marker()
    assert len(legend_texts(ax)) == 2
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"


def test_loss_curves_mark_where_training_diverged(data, model):
    history = train(model, *data, lr=10.0, loss_fn=nn.MSELoss(), verbose=False)
    fig, ax = plt.subplots()
    assert plot_loss_curves(history, ax=ax) is ax
    marker_line = ax.get_lines()[-1]
    assert list(marker_line.get_xdata()) == [history.diverged_at] * 2
    assert any(str(history.diverged_at) in text for text in legend_texts(ax))


def test_loss_curves_from_tensors_with_grad_and_arrays():
    w = torch.tensor(1.0, requires_grad=True)
    own = SimpleNamespace(
        train_loss=[w * 3, w * 2, w * 1],  # losses kept as tensors, grad and all
        test_loss=np.array([3.5, 2.5, 1.5]),
    )
    ax = plot_loss_curves(own)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [3, 2, 1])
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1, 2, 3])


def test_loss_curves_mismatched_lengths():
    own = SimpleNamespace(train_loss=[1.0, 0.5, 0.2], test_loss=[1.0, 0.5])
    with pytest.raises(ValueError, match=r"3 training losses and 2 test losses"):
        plot_loss_curves(own)


def test_loss_curves_need_a_history():
    with pytest.raises(TypeError, match=r"needs the History returned by train\(\).*got list"):
        plot_loss_curves([1.0, 0.5])


def test_loss_curves_of_an_empty_history():
    with pytest.raises(ValueError, match="history is empty"):
        plot_loss_curves(SimpleNamespace(train_loss=[], test_loss=[]))
