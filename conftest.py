"""Repository-wide pytest set-up: nbval's sanitize file, wherever pytest is started."""

import os
import tempfile
from pathlib import Path

# Hypothesis keeps an example database; keep it out of the working tree.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "linreg-hypothesis")
)

SANITIZE_FILE = Path(__file__).parent / "tests" / "nbval_sanitize.cfg"


def pytest_configure(config):
    # Read when each notebook is set up, so setting it here is early enough.
    if getattr(config.option, "nbval_sanitize_with", "unset") is None:
        config.option.nbval_sanitize_with = str(SANITIZE_FILE)
