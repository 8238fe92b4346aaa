"""Benchmark 5: what a newcomer's first ``make test`` costs before any test runs.

``make test`` first makes its prerequisites: the install steps (a virtual environment,
then ``python -m pip install --constraint constraints.txt --editable ".[lab,test]"``) and
whatever else it lists. Those same Makefile rules are run here with ``VENV`` pointed at a
temporary folder, so the commands cannot drift from the Makefile's; the time they take
and the folder's size on disk are reported. Packages come from wherever pip is
configured to look: a warm cache or local wheelhouse makes this much faster than a
first download over the network.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench_core import ROOT, Row, Section, seconds


def setup_targets(venv: Path, root: Path = ROOT) -> list[str]:
    """The prerequisites of ``make test`` (its install steps) for a venv at ``venv``, as the
    Makefile in ``root`` lists them."""
    database = subprocess.run(
        ["make", "--print-data-base", "--dry-run", f"VENV={venv}", "test"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"^test:(.*)$", database, flags=re.MULTILINE)
    if match is None:
        raise RuntimeError("The Makefile has no 'test' target to read the install steps from.")
    return match.group(1).split()


def folder_size(path: Path) -> int:
    """Bytes the files under ``path`` take on disk (symbolic links not followed), like ``du``."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            file = Path(folder, name)
            if not file.is_symlink():
                total += file.stat().st_blocks * 512
    return total


def fresh_venv(where: Path) -> dict[str, float]:
    """Run make test's install steps for a venv in ``where``: seconds and bytes it took."""
    venv = where / "venv"
    targets = setup_targets(venv)
    start = time.perf_counter()
    done = subprocess.run(
        ["make", f"VENV={venv}", *targets], cwd=ROOT, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"make {' '.join(targets)} failed:\n{done.stderr[-2000:]}")
    return {"seconds": elapsed, "bytes": folder_size(venv)}


def largest_packages(venv: Path, count: int = 5) -> list[tuple[str, int]]:
    """The ``count`` biggest folders in the venv's site-packages, with their sizes in bytes."""
    sizes = [
        (folder.name, folder_size(folder))
        for folder in venv.glob("lib/python*/site-packages/*")
        if folder.is_dir() and not folder.name.endswith((".dist-info", "__pycache__"))
    ]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def section(skip: bool = False) -> Section:
    result = Section("5. Set-up: a fresh .venv")
    result.say(f"## {result.title}")
    if skip:
        return result.skip("--skip-setup or --quick", "fresh .venv: time / size")
    with tempfile.TemporaryDirectory(prefix="bench-venv-") as temp:
        targets = [t.replace(temp, "<temp>") for t in setup_targets(Path(temp) / "venv")]
        result.say(f"make VENV=<temp>/venv {' '.join(targets)}  (make test's prerequisites)")
        numbers = fresh_venv(Path(temp))
        biggest = largest_packages(Path(temp) / "venv")
    size = f"{numbers['bytes'] / 2**20:.0f} MiB"
    result.say(f"{seconds(numbers['seconds'])}; size on disk {size}")
    result.say("Biggest: " + ", ".join(f"{name} {b / 2**20:.0f} MiB" for name, b in biggest))
    result.say()
    result.rows.append(
        Row(
            "fresh .venv (make test's install steps): time / size",
            f"{seconds(numbers['seconds'])} / {size}",
        )
    )
    return result
