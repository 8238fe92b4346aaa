"""make_linear_data and split_data: float32 always, numbers written any sensible way, nonsense refused."""

import numpy as np
import pytest
import torch

from helpers import make_linear_data, split_data


@pytest.fixture
def float64_default():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("noise_std", [0.0, 0.1])
def test_float32_whatever_the_default_dtype(float64_default, noise_std):
    X, y = make_linear_data(noise_std=noise_std, seed=1)
    assert X.dtype == y.dtype == torch.float32


def test_noise_under_float64_default_equals_the_float32_noise(float64_default):
    _, y64 = make_linear_data(noise_std=0.1, seed=3)
    torch.set_default_dtype(torch.float32)
    _, y32 = make_linear_data(noise_std=0.1, seed=3)
    assert torch.equal(y64, y32)


def test_numbers_written_differently_give_the_same_data():
    X, y = make_linear_data(weight=0.7, bias=0.3, step=0.02, noise_std=0.1, seed=5)
    X2, y2 = make_linear_data(
        weight=np.float64(0.7),
        bias=torch.tensor(0.3),
        step=np.float64(0.02),
        noise_std=np.float32(0.1).item(),
        seed=np.int64(5),
    )
    assert torch.equal(X, X2) and torch.equal(y, y2)
    # the oracle: the line written out by hand
    assert torch.allclose(make_linear_data()[1], 0.7 * torch.arange(0, 1, 0.02).unsqueeze(1) + 0.3)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"weight": True}, "weight must be a finite number"),
        ({"step": np.bool_(True)}, "step must be a finite number"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"seed": True}, "seed must be a whole number"),
        ({"start": 1e8, "end": 1e8 + 100, "step": 1.0}, "distinct float32 value"),
        ({"weight": 3e38, "end": 2.0}, "overflows float32"),
        ({"step": 1e-12}, "GiB of memory"),
    ],
)
def test_make_linear_data_refuses_nonsense(kwargs, words):
    with pytest.raises(ValueError, match=words):
        make_linear_data(**kwargs)


@pytest.mark.parametrize("fraction", [np.float32(0.8), torch.tensor(0.8), np.float64(0.8)])
def test_split_fraction_written_differently(line_data, fraction):
    parts = split_data(*line_data, train_fraction=fraction, shuffle=True, seed=np.int64(2))
    expected = split_data(*line_data, train_fraction=0.8, shuffle=True, seed=2)
    assert all(torch.equal(a, b) for a, b in zip(parts, expected, strict=True))


@pytest.mark.parametrize("fraction", [True, np.bool_(True), torch.tensor([0.8])])
def test_split_fraction_that_is_not_a_number(line_data, fraction):
    with pytest.raises(ValueError, match="train_fraction must lie strictly between 0 and 1"):
        split_data(*line_data, train_fraction=fraction)
