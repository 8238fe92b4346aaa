"""make_linear_data and split_data, called the way the notebooks call them."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import make_linear_data, split_data

PROPERTIES = settings(max_examples=40, deadline=None, database=None)


# --- make_linear_data -------------------------------------------------------------------


def test_default_data_is_fifty_points_on_the_line():
    X, y = make_linear_data()
    assert X.shape == (50, 1) and y.shape == (50, 1)
    assert X.dtype == torch.float32 and y.dtype == torch.float32
    # Oracle: the points 0, 0.02, ..., 0.98 written out by hand, and y = 0.7 x + 0.3.
    expected_x = np.array([i / 50 for i in range(50)])
    np.testing.assert_allclose(X[:, 0].numpy(), expected_x, atol=1e-6)
    np.testing.assert_allclose(y[:, 0].numpy(), 0.7 * expected_x + 0.3, atol=1e-6)


def test_custom_line_and_range():
    X, y = make_linear_data(weight=-2.0, bias=5.0, start=-1.0, end=1.0, step=0.5)
    assert X[:, 0].tolist() == [-1.0, -0.5, 0.0, 0.5]
    assert y[:, 0].tolist() == [7.0, 6.0, 5.0, 4.0]


def test_noise_free_data_needs_no_seed_and_is_exact():
    first, second = make_linear_data(), make_linear_data()
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])


def test_noise_has_roughly_the_requested_spread():
    X, y = make_linear_data(step=0.0005, noise_std=0.1, seed=0)  # 2000 points
    residuals = (y - (0.7 * X + 0.3)).numpy()
    assert abs(residuals.mean()) < 0.01
    assert 0.09 < residuals.std() < 0.11


def test_noise_without_seed_differs_between_calls():
    _, y1 = make_linear_data(noise_std=0.1)
    _, y2 = make_linear_data(noise_std=0.1)
    assert not torch.equal(y1, y2)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"step": 0}, "step must be positive"),
        ({"step": -0.1}, "step must be positive"),
        ({"start": 1.0, "end": 1.0}, "end (1.0) must be greater than start (1.0)"),
        ({"start": 2.0, "end": 1.0}, "end (1.0) must be greater than start (2.0)"),
        ({"noise_std": -0.5}, "noise_std must be 0 or more"),
        ({"weight": float("nan")}, "weight must be a finite number"),
        ({"end": float("inf")}, "end must be a finite number"),
        ({"bias": "0.3"}, "bias must be a finite number"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, words):
    with pytest.raises(ValueError) as info:
        make_linear_data(**kwargs)
    assert words in str(info.value)


finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@PROPERTIES
@given(
    start=st.floats(-5, 5, allow_nan=False),
    length=st.floats(0.1, 5, allow_nan=False),
    step=st.floats(0.01, 0.5, allow_nan=False),
    weight=finite,
    bias=finite,
)
def test_property_points_are_evenly_spaced_from_start_to_end(start, length, step, weight, bias):
    end = start + length
    X, y = make_linear_data(weight=weight, bias=bias, start=start, end=end, step=step)
    n = len(X)
    assert X.shape == (n, 1) and y.shape == (n, 1) and n >= 1
    assert X.dtype == y.dtype == torch.float32
    # About (end - start) / step points, starting at start, each one step apart.
    assert abs(n - length / step) <= 1
    xs = X[:, 0].double()
    assert xs[0].item() == pytest.approx(start, abs=1e-5)
    if n > 1:
        np.testing.assert_allclose(torch.diff(xs).numpy(), step, atol=1e-4)
    assert xs[-1].item() < end + 1e-4
    np.testing.assert_allclose(y.numpy(), (weight * X + bias).numpy(), rtol=1e-6, atol=1e-5)


@PROPERTIES
@given(seed=st.integers(0, 2**32 - 1), noise=st.floats(0.01, 2.0))
def test_property_same_seed_same_data_and_global_rng_untouched(seed, noise):
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    X1, y1 = make_linear_data(noise_std=noise, seed=seed)
    X2, y2 = make_linear_data(noise_std=noise, seed=seed)
    # The global generator is exactly where it was: the next draw is unchanged.
    assert torch.equal(torch.rand(3), expected_next)
    assert torch.equal(X1, X2) and torch.equal(y1, y2)
    assert not torch.equal(y1, 0.7 * X1 + 0.3)  # there is noise
    _, y_other = make_linear_data(noise_std=noise, seed=seed + 1)
    assert not torch.equal(y1, y_other)


def test_noise_without_seed_leaves_global_rng_untouched():
    state = torch.get_rng_state()
    make_linear_data(noise_std=0.3)
    assert torch.equal(torch.get_rng_state(), state)


# --- split_data -------------------------------------------------------------------------


def test_default_split_is_first_forty_then_last_ten():
    X, y = make_linear_data()
    X_train, y_train, X_test, y_test = split_data(X, y)
    assert [len(t) for t in (X_train, y_train, X_test, y_test)] == [40, 40, 10, 10]
    assert torch.equal(X_train, X[:40]) and torch.equal(y_train, y[:40])
    assert torch.equal(X_test, X[40:]) and torch.equal(y_test, y[40:])
    assert X_train.max() < X_test.min()  # the test points lie beyond the training points


def test_shuffled_split_is_a_seeded_permutation():
    X, y = make_linear_data()
    first = split_data(X, y, shuffle=True, seed=7)
    again = split_data(X, y, shuffle=True, seed=7)
    other = split_data(X, y, shuffle=True, seed=8)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])
    X_train, y_train, X_test, y_test = first
    assert (len(X_train), len(X_test)) == (40, 10)
    # Rows stay paired and together they are exactly the original rows.
    assert torch.equal(y_train, 0.7 * X_train + 0.3) and torch.equal(y_test, 0.7 * X_test + 0.3)
    assert torch.equal(torch.cat([X_train, X_test]).sort(dim=0).values, X)
    # Unlike the default split, the test points lie among the training points.
    assert X_test.min() < X_train.max()


def test_shuffle_leaves_global_rng_untouched():
    X, y = make_linear_data()
    state = torch.get_rng_state()
    split_data(X, y, shuffle=True, seed=1)
    split_data(X, y, shuffle=True)
    assert torch.equal(torch.get_rng_state(), state)


def test_mismatched_lengths_name_both_shapes():
    X, y = make_linear_data()
    with pytest.raises(ValueError) as info:
        split_data(X, y[:49])
    message = str(info.value)
    assert "(50, 1)" in message and "(49, 1)" in message


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.2, "0.8", None])
def test_fraction_outside_zero_one_is_rejected(fraction):
    X, y = make_linear_data()
    with pytest.raises(ValueError, match=r"train_fraction must lie strictly between 0 and 1"):
        split_data(X, y, train_fraction=fraction)


def test_fraction_leaving_an_empty_part_is_rejected():
    X, y = make_linear_data(end=0.1)  # 5 rows
    with pytest.raises(ValueError, match=r"leaves 0 for training and 5 for testing"):
        split_data(X, y, train_fraction=0.1)


@PROPERTIES
@given(
    n=st.integers(2, 300),
    fraction=st.floats(0.01, 0.99),
    shuffle=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_property_split_sizes_add_up_and_rows_are_kept(n, fraction, shuffle, seed):
    X = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    y = 3 * X
    n_train_expected = math.floor(fraction * n)
    if n_train_expected in (0, n):
        with pytest.raises(ValueError):
            split_data(X, y, fraction, shuffle=shuffle, seed=seed)
        return
    X_train, y_train, X_test, y_test = split_data(X, y, fraction, shuffle=shuffle, seed=seed)
    assert len(X_train) == len(y_train) == n_train_expected
    assert len(X_test) == len(y_test) == n - n_train_expected
    assert torch.equal(y_train, 3 * X_train) and torch.equal(y_test, 3 * X_test)
    together = torch.cat([X_train, X_test])
    if shuffle:
        assert torch.equal(together.sort(dim=0).values, X)
    else:
        assert torch.equal(together, X)
