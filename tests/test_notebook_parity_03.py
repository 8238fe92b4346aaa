"""Notebook 03's hand-written training loop and helpers.train give the very same training.

The cells tagged ``inline-version`` in notebooks/03_training.ipynb define ``train_by_hand``.
They are executed here as written, then both loops train identically seeded models on the
same data; every recorded loss, the printed progress lines and the final parameters must be
bit-for-bit equal. (The notebook shows the same comparison; this test keeps it true when
either side changes.)
"""

from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

import helpers
from helpers import LinearRegressionModel, make_linear_data, split_data, train

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03_training.ipynb"


@pytest.fixture(scope="module")
def train_by_hand():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    sources = [
        cell.source
        for cell in nb.cells
        if cell.cell_type == "code" and "inline-version" in cell.metadata.get("tags", [])
    ]
    assert sources, "no cell in 03_training.ipynb is tagged inline-version"
    namespace = {
        "torch": torch,
        "nn": nn,
        **{name: getattr(helpers, name) for name in helpers.__all__},
    }
    for source in sources:
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    assert callable(namespace.get("train_by_hand")), (
        "the inline-version cells define no train_by_hand"
    )
    return namespace["train_by_hand"]


def seeded_model(seed):
    torch.manual_seed(seed)
    return LinearRegressionModel()


DATA = {
    "default": lambda: split_data(*make_linear_data()),
    "noisy, shuffled": lambda: split_data(
        *make_linear_data(weight=-1.5, bias=2.0, noise_std=0.1, seed=3), shuffle=True, seed=4
    ),
}


@pytest.mark.parametrize(
    ("data", "seed", "lr", "epochs"),
    [("default", 42, 0.01, 100), ("default", 0, 0.1, 30), ("noisy, shuffled", 1, 0.05, 60)],
)
def test_inline_loop_matches_helpers_train(train_by_hand, capsys, data, seed, lr, epochs):
    X_train, y_train, X_test, y_test = DATA[data]()
    hand_model, helper_model = seeded_model(seed), seeded_model(seed)

    hand = train_by_hand(hand_model, X_train, y_train, X_test, y_test, lr=lr, epochs=epochs)
    hand_log = capsys.readouterr().out
    helper = train(
        helper_model, X_train, y_train, X_test, y_test, lr=lr, epochs=epochs, device="cpu"
    )
    helper_log = capsys.readouterr().out

    assert len(hand.train_loss) == len(hand.test_loss) == epochs
    assert hand.train_loss == helper.train_loss
    assert hand.test_loss == helper.test_loss
    assert hand.train_loss[-1] < hand.train_loss[0]  # it did learn: the comparison is not vacuous
    for name in ("weights", "bias"):
        assert torch.equal(getattr(hand_model, name), getattr(helper_model, name)), name
    # Same progress lines too (train also prints after the last epoch; here that is a multiple of 10).
    assert hand_log == helper_log and hand_log.count("\n") == epochs // 10


def test_inline_loop_follows_the_gradient_of_the_mean_absolute_error(train_by_hand, capsys):
    """One epoch by the textbook formula: w -= lr * mean(sign(w x + b - y) * x), b -= lr * mean(sign(...))."""
    X_train, y_train, X_test, y_test = DATA["default"]()
    model = seeded_model(42)
    w, b = model.weights.item(), model.bias.item()
    x, t = X_train.double().reshape(-1), y_train.double().reshape(-1)
    sign = torch.sign(w * x + b - t)
    expected_w = w - 0.1 * (sign * x).mean().item()
    expected_b = b - 0.1 * sign.mean().item()

    history = train_by_hand(model, X_train, y_train, X_test, y_test, lr=0.1, epochs=1)

    assert history.train_loss[0] == pytest.approx((w * x + b - t).abs().mean().item(), rel=1e-6)
    assert model.weights.item() == pytest.approx(expected_w, abs=1e-6)
    assert model.bias.item() == pytest.approx(expected_b, abs=1e-6)
    assert not model.training  # left in eval mode after the test-loss measurement
