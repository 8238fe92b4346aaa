"""The linear-regression model the course trains: ``y = weights * x + bias``."""

from __future__ import annotations

import torch
from torch import nn


class LinearRegressionModel(nn.Module):
    """A straight line with one learnable weight and one learnable bias.

    Both are ``nn.Parameter`` of shape (1,), drawn with ``torch.randn(1)`` in the
    order weights, bias; after ``torch.manual_seed(42)`` they start at 0.3367 and
    0.1288. ``forward`` maps x of shape (N, 1) (or any shape) to the same shape.
    """

    def __init__(self) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.randn(1))
        self.bias = nn.Parameter(torch.randn(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weights * x + self.bias
