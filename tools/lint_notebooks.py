"""Check that notebooks are clean in git and ready for strict nbval, Colab and static viewers.

Usage: python tools/lint_notebooks.py [NOTEBOOK ...]   (default: every notebook under notebooks/)

Prints one line per problem, each naming the notebook and cell and saying how to fix it, and
exits with status 1 when there is any. ``tools/run_notebooks.py`` drops the metadata listed
here (``NOISY_NOTEBOOK_KEYS``, ``NOISY_CELL_KEYS``); a lesson notebook must also stay within
the pacing proxy on its core path (its "Optional ..." sections left out):
markdown words / 150 + code cells * 0.75 <= ``LESSON_MINUTES``.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RERUN = "run `make notebooks` (or tools/run_notebooks.py on this notebook)"
RELINK = "run `make links`, then `make notebooks`"

# Metadata that Colab or JupyterLab add and that only churns in git: the runner drops it.
NOISY_NOTEBOOK_KEYS = ("widgets", "colab", "accelerator", "gpuClass")
NOISY_CELL_KEYS = ("colab", "execution", "executionInfo", "outputId", "collapsed", "scrolled")

LESSON = re.compile(r"notebooks/\d\d_[^/]+\.ipynb")  # solutions/ and other folders are not lessons
LESSON_MINUTES = 40
MACHINE_PATH = re.compile(r"/root/|/home/|/tmp/|/Users/|/var/folders/|\b[A-Za-z]:\\{1,2}\w")
MEMORY_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{6,}")
PLOT_RETURN_VALUE = re.compile(r"^\[?(<Axes|<matplotlib\.|Text\()")
CHECKER_FRAME = re.compile(r"helpers[/\\\\]check[/\\\\]")
WIDGET_CELL = re.compile(r"dashboard|widget|fit_by_hand", re.IGNORECASE)


def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """Every notebook under ``folder`` (solutions included), sorted, without checkpoint copies."""
    found = folder.rglob("*.ipynb")
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


def course_address(root: Path = ROOT) -> tuple[str, str]:
    """(repository, branch) from ``[tool.course]`` in pyproject.toml."""
    with open(root / "pyproject.toml", "rb") as handle:
        course = tomllib.load(handle)["tool"]["course"]
    return course["repository"], course["branch"]


HEADING = re.compile(r"^(#{1,6})\s+(.*)$", re.MULTILINE)


def core_cells(nb) -> list:
    """The cells of a notebook's core path: everything but its "Optional ..." sections.

    A section is optional when its heading starts with "Optional"; it runs to the next heading
    of the same or a higher level (fewer or as many ``#``), which ends the deep dive.
    """
    core, optional_level = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = HEADING.search(cell.source)
            if heading:
                level = len(heading.group(1))
                if optional_level is not None and level <= optional_level:
                    optional_level = None
                if optional_level is None and heading.group(2).startswith("Optional"):
                    optional_level = level
        if optional_level is None:
            core.append(cell)
    return core


def lesson_minutes(nb) -> tuple[int, int, float]:
    """(markdown words, code cells, minutes by the pacing proxy) of a notebook's core path."""
    cells = core_cells(nb)
    words = sum(len(re.findall(r"\S+", c.source)) for c in cells if c.cell_type == "markdown")
    code = sum(1 for c in cells if c.cell_type == "code")
    return words, code, words / 150 + code * 0.75


def output_texts(output: dict) -> list[str]:
    """Every piece of text an output shows (images, which are base64, are left out)."""
    if output["output_type"] == "stream":
        return [output["text"]]
    if output["output_type"] == "error":
        return [output["ename"], output["evalue"], *output["traceback"]]
    texts = []
    for mime, value in output.get("data", {}).items():
        if not mime.startswith("image/") or mime == "image/svg+xml":
            texts.append(value if isinstance(value, str) else json.dumps(value))
    return texts


def head_problems(nb, name: str, repository: str, branch: str) -> list[str]:
    """Cell 1 must be the Colab badge for this very notebook, cell 2 the Colab set-up cell."""
    problems = []
    colab_url = f"https://colab.research.google.com/github/{repository}/blob/{branch}/{name}"
    cells = nb.cells
    first = cells[0] if cells else None
    if first is None or first.cell_type != "markdown" or "colab-badge.svg" not in first.source:
        problems.append(f"{name}, cell 1: is not the Open in Colab badge. Fix: {RELINK}.")
    elif f"({colab_url})" not in first.source:
        problems.append(
            f"{name}, cell 1: the Colab badge does not link to {colab_url} "
            f"(pyproject.toml [tool.course]). Fix: {RELINK}."
        )
    second = cells[1] if len(cells) > 1 else None
    if second is None or second.cell_type != "code" or "google.colab" not in second.source:
        problems.append(f"{name}, cell 2: is not the Colab set-up cell. Fix: {RELINK}.")
    else:
        if f"git+https://github.com/{repository}@{branch}" not in second.source:
            problems.append(
                f"{name}, cell 2: the set-up cell installs from another address than "
                f"pyproject.toml [tool.course]. Fix: {RELINK}."
            )
        if second.outputs:
            problems.append(
                f"{name}, cell 2: the set-up cell stored output, but outside Colab it must "
                f"print nothing. Fix: {RERUN}."
            )
    return problems


def output_problems(where: str, output: dict) -> list[str]:
    problems = []
    if output["output_type"] == "stream" and output["name"] == "stderr":
        problems.append(
            f"{where}: writes to stderr ({output['text'].strip()[:60]!r}); notebooks print "
            "no warnings or logs there. Fix: remove the cause, then " + RERUN + "."
        )
    data = output.get("data", {})
    if "image/svg+xml" in data:
        problems.append(f"{where}: has an SVG figure. Fix: keep the inline PNG backend; {RERUN}.")
    if output["output_type"] == "execute_result" and PLOT_RETURN_VALUE.match(
        data.get("text/plain", "")
    ):
        problems.append(
            f"{where}: shows a plotting call's return value. "
            "Fix: end the cell with `plt.show()` or `;`, then " + RERUN + "."
        )
    if output["output_type"] == "error" and any(
        CHECKER_FRAME.search(line) for line in output["traceback"]
    ):
        problems.append(
            f"{where}: its traceback shows the exercise checker's own code. Fix: give that "
            "checker the shared decorator of helpers/check/_core.py, which cuts those "
            "frames; " + RERUN + "."
        )
    for text in output_texts(output):
        if match := MACHINE_PATH.search(text):
            problems.append(
                f"{where}: shows a path of this machine ({match.group()!r}...). Fix: do not "
                f"print paths (use a TemporaryDirectory and print only file names); {RERUN}."
            )
            break
        if MEMORY_ADDRESS.search(text):
            problems.append(
                f"{where}: shows an object's memory address, which changes every run. "
                f"Fix: print the values instead; {RERUN}."
            )
            break
    return problems


def cell_problems(name: str, number: int, cell) -> list[str]:
    where = f"{name}, cell {number}"
    problems = []
    for key in NOISY_CELL_KEYS:
        if key in cell.metadata:
            problems.append(f"{where}: has metadata {key!r}. Fix: {RERUN}; it drops it.")
    tags = cell.metadata.get("tags", [])
    if any(tag.lower() == "nbval-skip" for tag in tags):
        problems.append(f"{where}: is tagged nbval-skip; every cell is tested. Fix: drop the tag.")
    if "nbval-ignore-output" in tags and not WIDGET_CELL.search(cell.source):
        problems.append(
            f"{where}: is tagged nbval-ignore-output, which only a widget cell may be. "
            "Fix: make the output deterministic (seed, 4 decimals) and drop the tag."
        )
    if cell.cell_type != "code":
        return problems
    if "# NBVAL_" in cell.source.upper():
        problems.append(
            f"{where}: has an `# NBVAL_...` comment. Fix: use the cell tags "
            "`raises-exception` or `nbval-ignore-output` instead (and never skip a cell)."
        )
    errors = [o for o in cell.outputs if o["output_type"] == "error"]
    if errors and "raises-exception" not in tags:
        problems.append(
            f"{where}: raised {errors[0]['ename']}. Fix: correct the cell, or tag it "
            f"`raises-exception` if it is meant to raise; then {RERUN}."
        )
    for output in cell.outputs:
        problems.extend(output_problems(where, output))
    return problems


def pace_problems(nb, name: str) -> list[str]:
    """A lesson (notebooks/NN_*.ipynb) must fit in about LESSON_MINUTES by the pacing proxy."""
    if not LESSON.fullmatch(name):
        return []
    words, code, minutes = lesson_minutes(nb)
    if minutes <= LESSON_MINUTES:
        return []
    return [
        f"{name}: takes about {minutes:.1f} minutes by the pacing proxy ({words} markdown "
        f"words / 150 + {code} code cells * 0.75), over the {LESSON_MINUTES} of a lesson. "
        "Fix: cut repetition, move what belongs elsewhere, or split the lesson in two."
    ]


def notebook_problems(nb, name: str, repository: str, branch: str) -> list[str]:
    """Everything wrong with notebook ``nb``, stored at ``name`` (relative to the repository)."""
    problems = []
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{name}: kernelspec is {kernel!r}, not 'python3'. Fix: {RERUN}.")
    for key in NOISY_NOTEBOOK_KEYS:
        if key in nb.metadata:
            problems.append(f"{name}: has notebook metadata {key!r}. Fix: {RERUN}; it drops it.")
    problems.extend(pace_problems(nb, name))
    problems.extend(head_problems(nb, name, repository, branch))
    code_count = 0
    for number, cell in enumerate(nb.cells, start=1):
        problems.extend(cell_problems(name, number, cell))
        if cell.cell_type != "code" or code_count < 0:
            continue
        code_count += 1
        if not cell.source.strip():
            problems.append(f"{name}, cell {number}: is an empty code cell. Fix: delete it.")
            code_count = -1  # the counts after it are off too; one message is enough
        elif cell.execution_count != code_count:
            state = "was not run" if cell.execution_count is None else "ran out of order"
            problems.append(
                f"{name}, cell {number}: {state} (execution count {cell.execution_count}, "
                f"expected {code_count}; nbval needs 1..n top to bottom). Fix: {RERUN}."
            )
            code_count = -1
    return problems


def file_problems(path: Path, name: str, repository: str, branch: str) -> list[str]:
    """`notebook_problems` for a file, after checking that it is a valid nbformat 4 notebook."""
    invalid = {}
    try:
        nb = nbformat.reads(
            path.read_text(encoding="utf-8"),
            as_version=nbformat.NO_CONVERT,
            capture_validation_error=invalid,
        )
    except (OSError, ValueError) as error:
        return [f"{name}: cannot be read as a notebook ({error}). Fix: restore it from git."]
    if nb.get("nbformat") != 4 or invalid:
        reason = str(invalid.get("ValidationError", f"nbformat {nb.get('nbformat')}"))
        return [
            f"{name}: is not a valid nbformat 4 notebook ({reason.splitlines()[0]}). "
            f"Fix: open and save it in JupyterLab, then {RERUN}."
        ]
    return notebook_problems(nb, name, repository, branch)


def display_name(path: Path) -> str:
    """The path relative to the repository (how badges and messages name it), else as given."""
    resolved = path.resolve()
    return resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else str(path)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or notebook_paths()
    repository, branch = course_address()
    problems = [
        p for path in paths for p in file_problems(path, display_name(path), repository, branch)
    ]
    for problem in problems:
        print(problem)
    print(f"{len(paths)} notebook(s) checked, {len(problems)} problem(s).")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
