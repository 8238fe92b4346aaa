"""Measure how fast the course runs and answers: ``make bench``.

Usage: python tools/bench.py [--quick] [--skip-setup] [--only PART ...] [--repeats N] [--out DIR]
                             [--baseline GIT_REF]

Six measurements, each a ratio or a median taken in this one run, so they compare like
with like on whatever machine runs them:

1. notebooks  the notebook test suite next to a floor of import-only notebooks (+ xdist)
2. dashboard  kernel-side latency of the training dashboard's sliders
3. train      ``helpers.train`` next to the bare loop it packages
4. scaling    time per epoch against N, next to the closed-form least-squares fit
5. setup      time and size of a fresh .venv made by make's install step
6. tests      ``make quick`` next to ``make test``'s pytest run (and an earlier commit's)

The report (machine, details, summary table) is printed and written to build/bench.md;
the scaling plot goes to build/bench_scaling.png (``--out`` picks another folder). ``--quick`` runs tiny versions (the
tests use the same functions that way). Timing lives here and never in the tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import bench_core
from bench_core import BUILD, Section, table

PARTS = ("notebooks", "dashboard", "train", "scaling", "setup", "tests")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few repeats")
    parser.add_argument("--skip-setup", action="store_true", help="skip the fresh-venv install")
    parser.add_argument("--only", nargs="+", choices=PARTS, help="run only these parts")
    parser.add_argument(
        "--repeats", type=int, default=1, help="timed runs of each notebook suite (default 1)"
    )
    parser.add_argument("--out", type=Path, default=BUILD, help="folder for the report and plot")
    parser.add_argument(
        "--baseline", metavar="GIT_REF", help="also time the full test suite of this commit"
    )
    return parser.parse_args(argv)


def run_part(part: str, args: argparse.Namespace) -> Section:
    if part == "notebooks":
        import bench_notebooks

        return bench_notebooks.section(args.quick, args.repeats)
    if part == "dashboard":
        import bench_dashboard

        return bench_dashboard.section(args.quick)
    if part == "train":
        import bench_train

        return bench_train.section(args.quick)
    if part == "scaling":
        import bench_scaling

        return bench_scaling.section(args.quick, args.out / "bench_scaling.png")
    if part == "setup":
        import bench_setup

        return bench_setup.section(skip=args.skip_setup or args.quick)
    import bench_tests

    return bench_tests.section(skip=args.quick, baseline=args.baseline)


def main(argv: list[str]) -> int:
    args = parse(argv)
    start = time.perf_counter()
    machine = bench_core.machine()
    header = ["# make bench" + (" --quick" if args.quick else ""), ""]
    header += [f"- {key}: {value}" for key, value in machine.items()] + [""]
    print("\n".join(header), flush=True)
    sections = [run_part(part, args) for part in PARTS if not args.only or part in args.only]

    rows = [[r.name, r.result, r.goal, r.verdict] for s in sections for r in s.rows]
    summary = ["## Summary", ""] + table(["measurement", "result", "goal", ""], rows)
    summary += ["", f"Total time of make bench: {time.perf_counter() - start:.0f} s"]
    print("\n".join(summary))
    args.out.mkdir(parents=True, exist_ok=True)
    report = header + [line for s in sections for line in s.lines] + summary
    (args.out / "bench.md").write_text("\n".join(report) + "\n")
    print(f"Report written to {args.out / 'bench.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
