"""Notebook 03's hand-written training loop and helpers.train give the very same training.

The cells tagged ``inline-version`` in notebooks/03_training.ipynb define ``train_by_hand``.
They are executed here as written, then both loops train identically seeded models on the
same data; every recorded loss, the printed progress lines and the final parameters must be
bit-for-bit equal, and equal to the shared hand-written reference loop. (The notebook shows
the same comparison; this test keeps it true when either side changes.) The solutions'
``my_train`` (Exercise 03.4, also tagged) is held to the same reference loop, and every
"Predict, then run" prompt of the lesson must be answered right after its run.
"""

from pathlib import Path

import nbformat
import pytest
import torch

import helpers
from helpers import make_linear_data, split_data, train

NOTEBOOK = "03_training.ipynb"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def train_by_hand(inline_cells, run_cells):
    from_helpers = {name: getattr(helpers, name) for name in helpers.__all__}
    namespace = run_cells(NOTEBOOK, inline_cells(NOTEBOOK), **from_helpers)
    assert callable(namespace.get("train_by_hand")), (
        "the inline-version cells define no train_by_hand"
    )
    return namespace["train_by_hand"]


NOISY_SHUFFLED = {"weight": -1.5, "bias": 2.0, "noise_std": 0.1, "seed": 3}


@pytest.mark.parametrize(
    ("noisy", "seed", "lr", "epochs"),
    [(False, 42, 0.01, 100), (False, 0, 0.1, 30), (True, 1, 0.05, 60)],
)
def test_inline_loop_matches_helpers_train(
    train_by_hand, default_split, seeded_model, reference_loop, capsys, noisy, seed, lr, epochs
):
    data = default_split
    if noisy:
        data = split_data(*make_linear_data(**NOISY_SHUFFLED), shuffle=True, seed=4)
    hand_model, helper_model, oracle = seeded_model(seed), seeded_model(seed), seeded_model(seed)

    hand = train_by_hand(hand_model, *data, lr=lr, epochs=epochs)
    hand_log = capsys.readouterr().out
    helper = train(helper_model, *data, lr=lr, epochs=epochs, device="cpu")
    helper_log = capsys.readouterr().out
    expected_train, expected_test = reference_loop(oracle, *data, lr, epochs)

    assert len(hand.train_loss) == len(hand.test_loss) == epochs
    assert hand.train_loss == helper.train_loss == expected_train
    assert hand.test_loss == helper.test_loss == expected_test
    assert hand.train_loss[-1] < hand.train_loss[0]  # it did learn: the comparison is not vacuous
    for name in ("weights", "bias"):
        assert torch.equal(getattr(hand_model, name), getattr(helper_model, name)), name
        assert torch.equal(getattr(hand_model, name), getattr(oracle, name)), name
    # Same progress lines too (train also prints after the last epoch; here that is a multiple of 10).
    assert hand_log == helper_log and hand_log.count("\n") == epochs // 10


def test_inline_loop_follows_the_gradient_of_the_mean_absolute_error(
    train_by_hand, default_split, seeded_model, capsys
):
    """One epoch by the textbook formula: w -= lr * mean(sign(w x + b - y) * x), b -= lr * mean(sign(...))."""
    X_train, y_train, X_test, y_test = default_split
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


@pytest.mark.parametrize(("seed", "lr", "epochs"), [(42, 0.01, 40), (0, 0.5, 20), (1, 0.05, 60)])
def test_the_solution_of_exercise_03_4_matches_the_reference_loop(
    inline_cells, run_cells, default_split, seeded_model, reference_loop, seed, lr, epochs
):
    """The solutions' my_train, run as written, gives the reference loop's losses exactly."""
    solution = "solutions/03_training_solutions.ipynb"
    my_train = run_cells(solution, inline_cells(solution))["my_train"]
    noisy = split_data(*make_linear_data(**NOISY_SHUFFLED), shuffle=True, seed=4)
    for data in (default_split, noisy):
        model, oracle = seeded_model(seed), seeded_model(seed)
        train_losses, test_losses = my_train(model, *data, lr, epochs)
        assert (train_losses, test_losses) == reference_loop(oracle, *data, lr, epochs)
        assert train_losses[-1] < train_losses[0]
        for name in ("weights", "bias"):
            assert torch.equal(getattr(model, name), getattr(oracle, name)), name


def test_every_predict_then_run_prompt_is_answered_right_after_the_run():
    """A "Predict, then run" prompt is followed, after its code cell(s), by the answer."""
    nb = nbformat.read(NOTEBOOKS / NOTEBOOK, as_version=4)
    prompts = 0
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or "**Predict, then run.**" not in cell.source:
            continue
        prompts += 1
        after = nb.cells[number + 1 :]
        runs = next(i for i, c in enumerate(after) if c.cell_type == "markdown")
        assert runs >= 1, f"cell {number + 1}: no code cell to run after the prompt"
        answer = after[runs].source
        assert answer.startswith("**Answer:**") or "<details><summary>Answer</summary>" in answer, (
            f"cell {number + 1}: the cell after the run does not answer the prompt"
        )
    assert prompts >= 5
