"""The errors a saved model file can give when it is loaded."""

from __future__ import annotations


class ModelFileError(ValueError):
    """A saved file that cannot be loaded into the model: damaged, unsafe or a mismatch."""


class UnsafeModelFileError(ModelFileError):
    """A saved file that would need Python code to load; it was refused and nothing ran."""


ModelFileError.__module__ = UnsafeModelFileError.__module__ = "helpers"
