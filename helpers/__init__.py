"""Helpers for the linear-regression course: each name here is built step by step in a notebook.

device (notebook 03), data (01), model (02), training (03), plotting (01-04),
persistence (05), the by-hand line and the dashboard (03) and the exercise checks (``helpers.check``).
Importing this package does no work: no device is chosen, no widget is created.
"""

from . import check
from .dashboard import training_dashboard
from .data import make_linear_data, split_data
from .device import available_devices, get_device
from .fit_by_hand import fit_by_hand
from .model import LinearRegressionModel
from .persistence import (
    ModelFileError,
    UnsafeModelFileError,
    load_checkpoint,
    load_model,
    save_checkpoint,
    save_model,
)
from .plotting import plot_loss_curves, plot_predictions
from .training import History, train

__all__ = [
    "check",
    "History",
    "LinearRegressionModel",
    "ModelFileError",
    "UnsafeModelFileError",
    "available_devices",
    "fit_by_hand",
    "get_device",
    "load_checkpoint",
    "load_model",
    "make_linear_data",
    "plot_loss_curves",
    "plot_predictions",
    "save_checkpoint",
    "save_model",
    "split_data",
    "train",
    "training_dashboard",
]
