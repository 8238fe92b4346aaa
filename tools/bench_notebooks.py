"""Benchmark 1: the notebook test suite next to its floor, serially and with pytest-xdist.

The suite is ``pytest`` (``--nbval`` comes from pyproject.toml) over every notebook under
notebooks/. Its floor is the same number of throwaway notebooks whose only cell is
``import torch, matplotlib, ipywidgets``, run the same way from the same folder, so the
floor is what starting pytest, one kernel per notebook and the imports cost. The ratio
suite / floor says how much the lessons themselves add. Each pytest run writes a JUnit
file, from which the time per notebook and the slowest cells are read.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from bench_core import BUILD, ROOT, Row, Section, median, seconds, table
from lint_notebooks import notebook_paths

FLOOR_SOURCE = "import torch, matplotlib, ipywidgets"
XDIST = ("-n", "2")  # as `make test` runs them
GOAL = 1.3


def write_floor_notebooks(folder: Path, count: int, cell=None) -> list[Path]:
    """``count`` notebooks in ``folder`` that only import what the lessons import.

    ``cell`` (an nbformat code cell) replaces that import, for tests of the plumbing.
    """
    paths = []
    for i in range(1, count + 1):
        nb = nbformat.v4.new_notebook()
        nb.cells = [cell or nbformat.v4.new_code_cell(FLOOR_SOURCE)]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        path = folder / f"floor_{i:02d}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


@dataclass
class PytestRun:
    """One pytest run: wall seconds, exit status, its last line, and JUnit times by test."""

    seconds: float
    returncode: int
    summary: str
    cells: dict[tuple[str, str], float] = field(default_factory=dict)  # (notebook, cell) -> s

    def per_notebook(self) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for (notebook, _), value in self.cells.items():
            totals[notebook] += value
        return dict(totals)


def run_pytest(
    args: list[str | Path],
    xdist: bool = False,
    cwd: Path = ROOT,
    env: dict | None = None,
    python: Path | str = sys.executable,
) -> PytestRun:
    """Run ``pytest ARGS`` from ``cwd`` (the repository root) as ``make test`` does, timed.

    Paths among ``args`` are given relative to ``cwd``; ``xdist`` adds ``-n 2``; ``python``
    is the interpreter (another environment's, for an earlier commit).
    """
    with tempfile.TemporaryDirectory(prefix="bench-junit-") as temp:
        junit = Path(temp) / "junit.xml"
        command = [str(python), "-m", "pytest", "-q", f"--junitxml={junit}"]
        command += list(XDIST) if xdist else []
        command += [str(a.relative_to(cwd)) if isinstance(a, Path) else a for a in args]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        cells = read_junit(junit) if junit.exists() else {}
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else done.stderr.strip()[-200:]
    failed = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    summary += "".join(f"; {line[:300]}" for line in failed)  # which, when a run fails
    return PytestRun(wall, done.returncode, summary, cells)


def read_junit(path: Path) -> dict[tuple[str, str], float]:
    """Seconds per test case (setup and teardown included): (notebook, cell) -> seconds."""
    cells = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        notebook = re.sub(r"^(notebooks|build)\.", "", case.get("classname", ""))
        cells[(notebook, case.get("name", ""))] = float(case.get("time", 0))
    return cells


def slowest_cells(
    cells: dict[tuple[str, str], float], count: int = 8
) -> list[tuple[tuple[str, str], float]]:
    """The ``count`` slowest cells, leaving out each notebook's first (kernel start-up)."""

    def number(cell: str) -> int:
        return int(re.sub(r"\D", "", cell) or 0)

    first = {}
    for notebook, cell in cells:
        first[notebook] = min(first.get(notebook, number(cell)), number(cell))
    later = {key: value for key, value in cells.items() if number(key[1]) != first[key[0]]}
    return sorted(later.items(), key=lambda item: -item[1])[:count]


FIRST_USE_SCRIPT = """
import json, time
stamps = [time.perf_counter()]
import torch, matplotlib, ipywidgets
stamps.append(time.perf_counter())
import matplotlib.pyplot, helpers
stamps.append(time.perf_counter())
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
stamps.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(stamps, stamps[1:])]))
"""
FIRST_USE_STEPS = (
    "import torch, matplotlib, ipywidgets (the floor's cell)",
    "import matplotlib.pyplot and helpers",
    "the first torch.optim.SGD(...) (torch imports torch._dynamo, and sympy with it)",
)


def first_use_costs(script: str = FIRST_USE_SCRIPT) -> dict[str, float]:
    """Seconds a fresh Python spends on one-time work that every lesson's kernel repeats.

    ``script`` prints the seconds of each of ``FIRST_USE_STEPS`` as a JSON list.
    """
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(zip(FIRST_USE_STEPS, json.loads(done.stdout), strict=True))


@dataclass
class SuiteComparison:
    count: int
    suite: list[PytestRun]
    floor: list[PytestRun]
    suite_xdist: list[PytestRun]
    floor_xdist: list[PytestRun]

    @staticmethod
    def wall(runs: list[PytestRun]) -> float:
        return median([r.seconds for r in runs])

    def ratio(self, xdist: bool = False) -> float:
        if xdist:
            return self.wall(self.suite_xdist) / self.wall(self.floor_xdist)
        return self.wall(self.suite) / self.wall(self.floor)


def compare(notebooks: list[Path], repeats: int = 1, xdist: bool = True) -> SuiteComparison:
    """Time the suite and its floor back to back, ``repeats`` times, after a floor warm-up."""
    BUILD.mkdir(exist_ok=True)
    # Inside the repository, so that pytest finds the same configuration and conftest.py.
    with tempfile.TemporaryDirectory(prefix="bench-floor-", dir=BUILD) as temp:
        floor = write_floor_notebooks(Path(temp), len(notebooks))
        run_pytest(floor[:1])  # warm-up: disk caches, compiled bytecode
        result = SuiteComparison(len(notebooks), [], [], [], [])
        for _ in range(repeats):
            result.suite.append(run_pytest(notebooks))
            result.floor.append(run_pytest(floor))
            if xdist:
                result.suite_xdist.append(run_pytest(notebooks, xdist=True))
                result.floor_xdist.append(run_pytest(floor, xdist=True))
    return result


def section(quick: bool = False, repeats: int = 1) -> Section:
    result = Section("1. Notebook suite vs its floor")
    notebooks = notebook_paths()  # every notebook the test suite runs, solutions included
    result.say(f"## {result.title} ({len(notebooks)} notebooks, {repeats} run(s) each)")
    if quick:
        notebooks = notebooks[:1]
    comparison = compare(notebooks, repeats, xdist=not quick)
    suite, floor = comparison.suite[-1], comparison.floor[-1]
    for name, runs in [("suite", comparison.suite), ("floor", comparison.floor)]:
        result.say(f"{name:>5}, serial:   {seconds(comparison.wall(runs))}  ({runs[-1].summary})")
    if comparison.suite_xdist:
        for name, runs in [("suite", comparison.suite_xdist), ("floor", comparison.floor_xdist)]:
            result.say(
                f"{name:>5}, -n 2:     {seconds(comparison.wall(runs))}  ({runs[-1].summary})"
            )
    floor_each = median(list(floor.per_notebook().values())) if floor.cells else 0.0
    result.say(f"Per notebook (serial run; the floor notebook takes {seconds(floor_each)}):")
    per_notebook = sorted(suite.per_notebook().items(), key=lambda item: -item[1])
    rows = [[name, seconds(value), seconds(value - floor_each)] for name, value in per_notebook]
    for line in table(["notebook", "time", "over the floor"], rows):
        result.say(line)
    result.say("Slowest cells after each notebook's first (which includes starting the kernel):")
    for (notebook, cell), value in slowest_cells(suite.cells):
        result.say(f"    {seconds(value):>9}  {notebook} {cell}")

    result.say("One-time costs in a fresh process, paid again by every notebook's kernel:")
    for step, value in first_use_costs().items():
        result.say(f"    {seconds(value):>9}  {step}")
    ratio = comparison.ratio()
    failed = any(r.returncode != 0 for r in comparison.suite + comparison.suite_xdist)
    if failed:
        result.say("Note: the notebook suite did not pass; its time may not be representative.")
    result.rows.append(
        Row(
            f"notebook suite / floor ({comparison.count} notebooks, serial)",
            f"{ratio:.2f} ({seconds(comparison.wall(comparison.suite))} vs "
            f"{seconds(comparison.wall(comparison.floor))})",
            f"<= {GOAL}",
            None if failed else ratio <= GOAL,
        )
    )
    if comparison.suite_xdist:
        serial, parallel = (
            comparison.wall(comparison.suite),
            comparison.wall(comparison.suite_xdist),
        )
        saved = 1 - parallel / serial
        result.say(f"pytest-xdist -n 2: suite {seconds(parallel)}, saves {saved:.0%}")
        result.rows.append(
            Row(
                "notebook suite with -n 2",
                f"{seconds(parallel)}, saves {saved:.0%}; suite / floor {comparison.ratio(True):.2f}",
            )
        )
    result.say()
    return result
