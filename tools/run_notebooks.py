"""Execute notebooks in place, each in a fresh kernel, and tidy their metadata.

Usage: python tools/run_notebooks.py [NOTEBOOK ...]   (default: every notebook under notebooks/)

Cells run in order from a fresh kernel of this environment, in the notebook's own folder,
so execution counts are 1..n. Only cells tagged ``raises-exception`` may fail. Afterwards
the notebook keeps its outputs (strict nbval needs them) but loses what would churn in git
or break static renderers: widget state, timings and Colab metadata (the keys that
tools/lint_notebooks.py reports, from the one list there).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nbformat
from lint_notebooks import NOISY_CELL_KEYS, NOISY_NOTEBOOK_KEYS, ROOT, notebook_paths
from nbclient import NotebookClient
from traitlets.config import Config

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
CELL_TIMEOUT = (
    600  # seconds; a cell that runs longer stops the run with nbclient's CellTimeoutError
)


def _without_machine_paths(text: str) -> str:
    """Tracebacks name files by absolute path; keep them relative to the checkout.

    IPython writes paths under the home folder as ``~/...``, so both spellings are replaced.
    """
    home = str(Path.home())
    for prefix, short in ((str(ROOT) + "/", ""), (sys.base_prefix + "/", "<python>/")):
        text = text.replace(prefix, short)
        if prefix.startswith(home + "/"):
            text = text.replace("~" + prefix[len(home) :], short)
    return text


def tidy(nb: nbformat.NotebookNode) -> None:
    """Drop metadata that churns between runs or that static viewers choke on."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [_without_machine_paths(line) for line in output.traceback]
    for key in NOISY_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.cells:
        for key in NOISY_CELL_KEYS:
            cell.metadata.pop(key, None)


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    # The kernel talks over Unix sockets in a temporary folder: no TCP port, and no warning
    # from ipykernel about unencrypted TCP on every run.
    with tempfile.TemporaryDirectory() as sockets:
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = f"{sockets}/kernel"
        client = NotebookClient(
            nb,
            config=config,
            kernel_name="python3",
            timeout=CELL_TIMEOUT,
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=False,
            coalesce_streams=True,
            store_widget_state=False,
        )
        client.execute()
    tidy(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or notebook_paths()
    for path in paths:
        seconds = execute(path)
        print(f"executed {path.relative_to(ROOT)} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
