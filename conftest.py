"""Repository-wide pytest set-up: nbval's sanitize file, wherever pytest is started."""

from pathlib import Path

SANITIZE_FILE = Path(__file__).parent / "notebooks" / "nbval_sanitize.cfg"


def pytest_configure(config):
    # Read when each notebook is set up, so setting it here is early enough.
    if getattr(config.option, "nbval_sanitize_with", "unset") is None:
        config.option.nbval_sanitize_with = str(SANITIZE_FILE)
