"""LinearRegressionModel: two (1,) parameters drawn with randn in order, forward = w * x + b."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers import LinearRegressionModel


def test_seed_42_gives_the_known_starting_values():
    torch.manual_seed(42)
    model = LinearRegressionModel()
    assert model.weights.item() == pytest.approx(0.3367, abs=1e-4)
    assert model.bias.item() == pytest.approx(0.1288, abs=1e-4)


def test_parameters_are_two_randn_draws_in_order():
    torch.manual_seed(0)
    model = LinearRegressionModel()
    torch.manual_seed(0)
    first, second = torch.randn(1), torch.randn(1)
    assert torch.equal(model.weights.detach(), first)
    assert torch.equal(model.bias.detach(), second)


def test_parameters_are_named_shaped_and_trainable():
    model = LinearRegressionModel()
    named = list(model.named_parameters())
    assert [name for name, _ in named] == ["weights", "bias"]
    for _, parameter in named:
        assert isinstance(parameter, nn.Parameter)
        assert parameter.shape == (1,) and parameter.dtype == torch.float32
        assert parameter.requires_grad
    assert list(model.state_dict()) == ["weights", "bias"]


def test_forward_on_column_of_inputs():
    model = LinearRegressionModel()
    with torch.no_grad():
        model.weights.fill_(2.0)
        model.bias.fill_(-1.0)
    X = torch.tensor([[0.0], [1.0], [2.5]])
    with torch.inference_mode():
        out = model(X)
    assert out.shape == (3, 1)
    assert out[:, 0].tolist() == [-1.0, 1.0, 4.0]


def test_forward_is_differentiable_with_hand_computed_gradients():
    model = LinearRegressionModel()
    X = torch.tensor([[1.0], [2.0], [3.0]])
    model(X).sum().backward()
    # d/dw sum(w x + b) = sum(x) = 6, d/db = N = 3
    assert model.weights.grad.item() == pytest.approx(6.0)
    assert model.bias.grad.item() == pytest.approx(3.0)


@settings(max_examples=30, deadline=None, database=None)
@given(
    w=st.floats(-100, 100),
    b=st.floats(-100, 100),
    xs=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=20),
)
def test_property_forward_is_the_straight_line(w, b, xs):
    model = LinearRegressionModel()
    with torch.no_grad():
        model.weights.fill_(w)
        model.bias.fill_(b)
    X = torch.tensor(xs, dtype=torch.float32).unsqueeze(1)
    with torch.inference_mode():
        out = model(X)
    assert out.shape == X.shape
    expected = [float(torch.tensor(w)) * x + float(torch.tensor(b)) for x in X[:, 0].tolist()]
    assert out[:, 0].tolist() == pytest.approx(expected, rel=1e-5, abs=1e-3)
