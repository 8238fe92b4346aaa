"""get_device: explicit argument, then LINREG_DEVICE, then cuda -> mps -> cpu; clear errors."""

import importlib
import sys

import pytest
import torch

from helpers import available_devices, get_device

ENV_VAR = "LINREG_DEVICE"


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture
def fake_cuda(monkeypatch):
    """Pretend one CUDA device exists (building torch.device("cuda") needs no GPU)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


@pytest.fixture
def fake_mps(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_cpu_only_machine_gets_cpu(no_env, cpu_only):
    assert get_device() == torch.device("cpu")
    assert available_devices() == ["cpu"]


def test_cuda_is_preferred_over_mps_and_cpu(no_env, fake_cuda, fake_mps):
    assert get_device() == torch.device("cuda")
    assert available_devices() == ["cuda", "mps", "cpu"]


def test_mps_is_preferred_over_cpu(no_env, monkeypatch, fake_mps):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device() == torch.device("mps")


def test_explicit_argument_wins_over_environment(monkeypatch, cpu_only):
    monkeypatch.setenv(ENV_VAR, "tpu")  # would be an error if it were read
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")


def test_environment_variable_wins_over_automatic_choice(monkeypatch, fake_cuda):
    monkeypatch.setenv(ENV_VAR, "cpu")
    assert get_device() == torch.device("cpu")


def test_empty_environment_variable_means_automatic(monkeypatch, cpu_only):
    monkeypatch.setenv(ENV_VAR, "")
    assert get_device() == torch.device("cpu")


@pytest.mark.parametrize("name", ["CPU", " cpu ", "Cpu"])
def test_names_are_case_and_space_insensitive(no_env, name):
    assert get_device(name) == torch.device("cpu")


def test_known_cuda_with_index(no_env, fake_cuda):
    assert get_device("cuda:0") == torch.device("cuda", 0)


def test_cuda_index_beyond_device_count_is_runtime_error(no_env, fake_cuda):
    with pytest.raises(RuntimeError, match=r"1 CUDA device") as info:
        get_device("cuda:3")
    assert "'cuda:3'" in str(info.value)


def test_environment_cuda_on_cpu_machine_is_runtime_error(monkeypatch, cpu_only):
    monkeypatch.setenv(ENV_VAR, "cuda")
    with pytest.raises(RuntimeError) as info:
        get_device()
    message = str(info.value)
    assert "'cuda'" in message and "not available" in message
    assert "available: cpu" in message
    assert ENV_VAR in message  # says where the bad choice came from


def test_argument_mps_on_cpu_machine_is_runtime_error(no_env, cpu_only):
    with pytest.raises(RuntimeError, match=r"'mps'.*not available.*available: cpu"):
        get_device("mps")


def test_real_machine_without_gpu_refuses_cuda(no_env):
    # This course's test machine has no GPU; the real torch.cuda answers here.
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(RuntimeError, match="not available"):
        get_device("cuda")


def test_environment_unknown_name_is_value_error_listing_choices(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "tpu")
    with pytest.raises(ValueError) as info:
        get_device()
    message = str(info.value)
    assert "'tpu'" in message and ENV_VAR in message
    for choice in ("cuda", "mps", "cpu"):
        assert choice in message


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "", "cpu:-1", 3])
def test_argument_unknown_name_is_value_error(no_env, bad):
    with pytest.raises(ValueError, match=r"Unknown device .*choose one of cuda, mps, cpu"):
        get_device(bad)


def test_importing_helpers_chooses_no_device_and_imports_no_widgets(monkeypatch, no_env):
    """Import helpers afresh, with device probes that fail the test if touched.

    Every helpers module (and ipywidgets, if an earlier test imported it) is taken out of
    sys.modules for the duration, so each module's top-level code runs again, as in a new
    kernel; monkeypatch puts the originals back afterwards. The same import must leave
    ipywidgets unimported: it is imported when a widget is built."""
    probed = []

    def probe():
        probed.append(True)
        return False

    for name in list(sys.modules):
        if name.partition(".")[0] in ("helpers", "ipywidgets"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(torch.cuda, "is_available", probe)
    monkeypatch.setattr(torch.backends.mps, "is_available", probe)

    fresh = importlib.import_module("helpers")
    assert callable(fresh.training_dashboard) and callable(fresh.check.exercise_01_1)
    assert fresh.get_device is not get_device, "helpers was not imported afresh"
    assert not probed, "importing helpers probed a device"
    assert "ipywidgets" not in sys.modules, "importing helpers imported ipywidgets"

    assert fresh.get_device() == torch.device("cpu")  # choosing a device does probe:
    assert probed  # the trap works
