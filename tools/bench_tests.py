"""Benchmark 6: the test tiers, ``make quick`` next to the pytest part of ``make test``.

Both pytest commands are read from the Makefile (``make --dry-run``), so they cannot drift
from it, and run back to back from the repository root, each timed wall-clock. Goal: the
unit tier takes at most a tenth of the full suite. With ``--baseline REF`` the full suite
also runs, first, on a copy of the tree at git ``REF`` in .compat/baseline-SHA (ignored by
git), with that commit's own environment: its Makefile's install steps, its pinned versions
(built once, a few minutes; later runs reuse it), so that an earlier suite and today's are
compared in the same run on the same machine, each as it was installed (goal: at most 0.7
of it). Each run writes a JUnit file: the report lists where the
full suite's time goes (seconds summed per test file or notebook, and the slowest tests).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

from bench_core import ROOT, Row, Section, seconds, table
from bench_notebooks import PytestRun, run_pytest
from bench_setup import setup_targets

QUICK_GOAL = 0.10
BASELINE_GOAL = 0.70


def pytest_args(target: str, root: Path = ROOT) -> list[str]:
    """The arguments after ``-m pytest`` in the recipe of ``make TARGET`` (run in ``root``)."""
    recipe = subprocess.run(
        ["make", "--dry-run", "--always-make", target],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in recipe.replace("\\\n", " ").splitlines():
        words = shlex.split(line)
        if "pytest" in words and "-m" in words:
            return words[words.index("pytest") + 1 :]
    raise RuntimeError(f"`make {target}` in {root} runs no `python -m pytest`.")


def unpack(ref: str, folder: Path) -> Path:
    """The tree at git ``ref`` in ``folder`` (created if missing)."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True
    ).stdout
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def baseline_tree(ref: str) -> Path:
    """That commit's tree in .compat/baseline-SHA, its .venv made by its own Makefile.

    The tree is unpacked once; ``make`` then runs the install steps ``make test`` lists in
    that tree (nothing to do when they are done), so the versions are that commit's pins.
    """
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    tree = ROOT / ".compat" / f"baseline-{sha[:12]}"
    if not (tree / "Makefile").exists():
        partial = tree.with_name(tree.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        unpack(sha, partial).rename(tree)
    targets = setup_targets(tree / ".venv", root=tree)
    log = tree / "install.log"
    with open(log, "w") as out:
        made = subprocess.run(["make", f"VENV={tree / '.venv'}", *targets], cwd=tree,
                              stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    if made.returncode != 0:
        raise RuntimeError(f"installing {ref} failed; see {log}")
    return tree


def per_file(run: PytestRun) -> list[tuple[str, float]]:
    """Seconds summed over each test file or notebook, largest first."""
    totals: dict[str, float] = defaultdict(float)
    for (where, _), value in run.cells.items():
        totals[where] += value
    return sorted(totals.items(), key=lambda item: -item[1])


def run_baseline(ref: str) -> PytestRun:
    """The full suite, as that commit's own Makefile ran it, in that commit's environment."""
    tree = baseline_tree(ref)
    return run_pytest(pytest_args("test", tree), cwd=tree, python=tree / ".venv" / "bin" / "python")


def describe(result: Section, name: str, run: PytestRun) -> None:
    result.say(f"{name}: {seconds(run.seconds)} ({run.summary})")


def section(skip: bool = False, baseline: str | None = None) -> Section:
    result = Section("6. Test tiers")
    result.say(f"## {result.title}")
    if skip:
        return result.skip("--quick", "make quick / make test (pytest part)")
    full_args, quick_args = pytest_args("test"), pytest_args("quick")
    result.say(f"make test runs pytest {shlex.join(full_args)}")
    result.say(f"make quick runs pytest {shlex.join(quick_args)}")
    old = run_baseline(baseline) if baseline else None
    full = run_pytest(full_args)
    quick = run_pytest(quick_args)
    if old is not None:
        describe(result, f"full suite at {baseline}", old)
    describe(result, "full suite now", full)
    describe(result, "unit tier (make quick)", quick)
    result.say("Where the full suite's time goes (seconds summed per file, all workers):")
    rows = [[where, seconds(value)] for where, value in per_file(full)[:15]]
    for line in table(["test file or notebook", "time"], rows):
        result.say(line)
    slowest = sorted(full.cells.items(), key=lambda item: -item[1])[:10]
    result.say("Slowest tests: " + ", ".join(f"{n} {seconds(t)}" for (_, n), t in slowest))
    result.say()
    passed = full.returncode == 0 and quick.returncode == 0
    ratio = quick.seconds / full.seconds
    result.rows.append(
        Row(
            "make quick / make test (pytest part)",
            f"{ratio:.2f} ({seconds(quick.seconds)} vs {seconds(full.seconds)})",
            f"<= {QUICK_GOAL:.2f}",
            ratio <= QUICK_GOAL if passed else None,
        )
    )
    if old is not None:
        ratio = full.seconds / old.seconds
        result.rows.append(
            Row(
                f"make test (pytest part) now / at {baseline}",
                f"{ratio:.2f} ({seconds(full.seconds)} vs {seconds(old.seconds)})",
                f"<= {BASELINE_GOAL:.2f}",
                ratio <= BASELINE_GOAL if passed else None,
            )
        )
    return result
