"""Shared pieces of the benchmarks: medians, units, the machine, and plain-text tables.

Every benchmark section returns a :class:`Section`: the detail lines it printed and the
summary rows (:class:`Row`) that ``tools/bench.py`` collects into one table. Timings are
wall-clock seconds from ``time.perf_counter``; medians are taken over repeats that follow
a warm-up, and a ratio is always of two numbers measured in the same process, back to back.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"


@dataclass
class Row:
    """One line of the summary table: what was measured, the result, the goal, met or not."""

    name: str
    result: str
    goal: str = ""
    met: bool | None = None  # None: there is no goal, or it could not be measured

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: ""}[self.met]


@dataclass
class Section:
    """What one benchmark printed (``lines``) and what it adds to the summary (``rows``)."""

    title: str
    lines: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    def say(self, text: str = "") -> None:
        """Print a line now (long benchmarks show progress) and keep it for the report."""
        print(text, flush=True)
        self.lines.append(text)

    def skip(self, why: str, row_label: str) -> Section:
        """Report this benchmark as skipped (``why``), with one summary row saying so."""
        self.say(f"Skipped ({why}).")
        self.rows.append(Row(row_label, "skipped"))
        self.say()
        return self


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def seconds(value: float) -> str:
    """A duration with a unit that keeps three significant figures readable."""
    if value == 0:
        return "0 s"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.1f} µs"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A Markdown table (readable as plain text too), one string per line."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return [line(cells[0]), rule] + [line(row) for row in cells[1:]]


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo where there is one, else from platform."""
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.lower().startswith("model name"):
                return text.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, str]:
    """What the numbers depend on: CPU, cores, load, Python and torch versions, the date."""
    import torch

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "date": time.strftime("%Y-%m-%d"),
        "CPU": cpu_model(),
        "cores": f"{usable} usable of {os.cpu_count()}",
        "torch": f"{torch.__version__} ({torch.get_num_threads()} intra-op threads)",
        "python": f"{platform.python_version()} on {platform.system()} {platform.release()}",
        "load average (1, 5, 15 min)": load,
    }
