"""Notebooks 01 and 02 build the data and the model by hand; the helpers must behave the same.

The cells tagged ``inline-version`` are read from each notebook and run, in order, in a fresh
namespace that holds only what the notebook's import cell provides (``torch`` and ``nn``). The
objects they define are then compared with what ``helpers`` returns for the same settings.
"""

import pytest
import torch
from torch import nn

import helpers


def defined(namespace: dict, *names: str):
    missing = [name for name in names if name not in namespace]
    assert not missing, f"the inline-version cells no longer define {missing}"
    return [namespace[name] for name in names]


def assert_same_tensors(got, expected, what):
    for name, a, b in zip(("X_train", "y_train", "X_test", "y_test"), got, expected, strict=True):
        assert a.dtype == b.dtype and torch.equal(a, b), f"{what}: {name} differs from helpers"


@pytest.fixture(scope="module")
def data_cells(inline_cells, run_cells):
    return run_cells("01_data.ipynb", inline_cells("01_data.ipynb"))


@pytest.fixture(scope="module")
def model_cells(inline_cells, run_cells):
    return run_cells("02_model.ipynb", inline_cells("02_model.ipynb"))


# Notebook 01: data


def test_01_clean_data_is_what_later_notebooks_get(data_cells, line_data):
    X, y = defined(data_cells, "X", "y")
    assert X.shape == (50, 1) and X.dtype == torch.float32
    assert torch.equal(X, line_data[0])
    assert torch.equal(y, line_data[1])


def test_01_noisy_data_matches_the_helper_with_the_same_seed(data_cells):
    X, y_noisy, noise_std, seed = defined(data_cells, "X", "y_noisy", "noise_std", "seed")
    assert noise_std > 0, "the notebook's noisy data should have some noise"
    X_h, y_h = helpers.make_linear_data(noise_std=noise_std, seed=seed)
    assert torch.equal(X, X_h)
    assert torch.equal(y_noisy, y_h)


def test_01_ordered_split_matches_the_helper(data_cells, default_split):
    inline = defined(data_cells, "X_train", "y_train", "X_test", "y_test")
    assert len(inline[0]) == 40 and len(inline[2]) == 10
    assert_same_tensors(inline, default_split, "ordered split")


def test_01_shuffled_split_matches_the_helper_with_the_same_seed(data_cells):
    X, y, seed = defined(data_cells, "X", "y", "seed")
    inline = defined(data_cells, "X_train_s", "y_train_s", "X_test_s", "y_test_s")
    assert not torch.equal(inline[0], X[:40]), "the inline shuffled split is not shuffled"
    assert_same_tensors(inline, helpers.split_data(X, y, shuffle=True, seed=seed), "shuffled split")


# Notebook 02: model


def inline_model(cells, seed):
    (Model,) = defined(cells, "LinearRegressionModel")
    torch.manual_seed(seed)
    return Model()


def test_02_inline_model_starts_at_the_documented_values(model_cells):
    model = inline_model(model_cells, 42)
    assert model.weights.item() == pytest.approx(0.3367, abs=5e-5)
    assert model.bias.item() == pytest.approx(0.1288, abs=5e-5)


@pytest.mark.parametrize("seed", [0, 42, 2024])
def test_02_inline_model_and_helper_have_the_same_seeded_parameters(
    model_cells, seeded_model, seed
):
    inline, helper = inline_model(model_cells, seed), seeded_model(seed)
    assert isinstance(inline, nn.Module) and type(inline) is not helpers.LinearRegressionModel
    inline_params = dict(inline.named_parameters())
    helper_params = dict(helper.named_parameters())
    assert list(inline_params) == list(helper_params) == ["weights", "bias"]
    for name, param in inline_params.items():
        assert isinstance(param, nn.Parameter) and param.requires_grad
        assert param.shape == helper_params[name].shape == (1,)
        assert torch.equal(param, helper_params[name])


@pytest.mark.parametrize("shape", [(50, 1), (7,), (2, 3, 1)])
def test_02_inline_model_and_helper_predict_the_same(model_cells, seeded_model, shape):
    inline, helper = inline_model(model_cells, 42), seeded_model(42)
    x = torch.linspace(-3, 3, torch.Size(shape).numel()).reshape(shape)
    with torch.inference_mode():
        got, expected = inline(x), helper(x)
    assert got.shape == x.shape
    assert torch.equal(got, expected)
    assert torch.allclose(got, 0.3367 * x + 0.1288, atol=1e-4)  # the line itself, by hand


# What notebook 02 tells the learner about torch itself, checked on the helpers' model


def test_02_state_dict_follows_the_parameters_and_a_clone_does_not(seeded_model):
    import copy

    model = seeded_model(42)
    live = model.state_dict()
    cloned = {name: value.clone() for name, value in model.state_dict().items()}
    deep = copy.deepcopy(model.state_dict())
    assert not any(value.requires_grad for value in live.values())
    with torch.no_grad():
        model.weights += 1.0
    assert live["weights"].item() == pytest.approx(0.3367 + 1.0, abs=5e-5)
    assert cloned["weights"].item() == deep["weights"].item() == pytest.approx(0.3367, abs=5e-5)


def test_02_a_parameter_is_changed_in_place_only_under_no_grad(seeded_model):
    model = seeded_model(42)
    with pytest.raises(RuntimeError):
        model.weights += 1.0
    with torch.no_grad():
        model.weights += 1.0
    assert model.weights.item() == pytest.approx(1.3367, abs=5e-5)


def test_02_inference_tensors_can_be_computed_with_but_not_saved_or_changed_later(seeded_model):
    model = seeded_model(42).eval()
    with torch.inference_mode():
        guesses = model(torch.ones(3, 1))
    assert not guesses.requires_grad and guesses.is_inference()
    by_hand = torch.full((3, 1), 2 * (0.3367 + 0.1288) + 1)
    assert torch.allclose(guesses * 2 + 1, by_hand, atol=1e-3)  # plain arithmetic works
    with pytest.raises(RuntimeError):
        (model.weights * guesses).sum().backward()  # autograd would have to save guesses
    with pytest.raises(RuntimeError):
        guesses.clamp_(min=0)  # in place, outside the block
