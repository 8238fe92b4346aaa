"""Notebooks stay clean in git and ready for strict nbval, Colab and static viewers.

`notebook_problems` lists what is wrong with one notebook, one line per problem, each naming
the notebook and cell and saying how to fix it. It is tested on small synthetic notebooks,
then run on every notebook under notebooks/.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
RERUN = "run `make notebooks` (or tools/run_notebooks.py on this notebook)"
RELINK = "run `make links`, then `make notebooks`"

# Metadata that Colab or JupyterLab add and that only churns in git.
NOISY_NOTEBOOK_KEYS = ("widgets", "colab", "accelerator", "gpuClass")
NOISY_CELL_KEYS = ("colab", "execution", "executionInfo", "outputId")
MACHINE_PATH = re.compile(r"/root/|/home/|/tmp/|/Users/|/var/folders/|\b[A-Za-z]:\\{1,2}\w")
MEMORY_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{6,}")
PLOT_RETURN_VALUE = re.compile(r"^\[?(<Axes|<matplotlib\.|Text\()")
CHECKER_FRAME = re.compile(r"helpers[/\\\\]check[/\\\\]")
WIDGET_CELL = re.compile(r"dashboard|widget", re.IGNORECASE)


def course_address() -> tuple[str, str]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        course = tomllib.load(handle)["tool"]["course"]
    return course["repository"], course["branch"]


def notebook_paths(folder: Path) -> list[Path]:
    found = folder.rglob("*.ipynb")
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


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
            f"{where}: its traceback shows the exercise checker's own code. Fix: decorate "
            "that checker with `@keeps_random_state()` (helpers/check/_core.py), which cuts "
            "those frames; " + RERUN + "."
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
            f"{where}: is tagged nbval-ignore-output, which only the dashboard widget cell may "
            "be. Fix: make the output deterministic (seed, 4 decimals) and drop the tag."
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


def notebook_problems(nb, name: str, repository: str, branch: str) -> list[str]:
    """Everything wrong with notebook ``nb``, stored at ``name`` (relative to the repository)."""
    problems = []
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{name}: kernelspec is {kernel!r}, not 'python3'. Fix: {RERUN}.")
    for key in NOISY_NOTEBOOK_KEYS:
        if key in nb.metadata:
            problems.append(f"{name}: has notebook metadata {key!r}. Fix: {RERUN}; it drops it.")
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


# --- the checker itself, on synthetic notebooks -----------------------------------------

NAME = "notebooks/solutions/09_demo_solutions.ipynb"
REPO, BRANCH = "someone/course", "main"


def good_notebook():
    badge_url = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/{NAME}"
    setup = (
        "import subprocess\nimport sys\n\n"
        f'COURSE = "git+https://github.com/{REPO}@{BRANCH}"\n'
        'if "google.colab" in sys.modules:\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", COURSE], check=True)'
    )
    cells = [
        new_markdown_cell(
            f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({badge_url})"
        ),
        new_code_cell(setup, execution_count=1),
        new_markdown_cell("# Demo\nA title and a sentence."),
        new_code_cell(
            "print(f'{0.5:.4f}')",
            execution_count=2,
            outputs=[new_output("stream", name="stdout", text="0.5000\n")],
        ),
        new_code_cell(
            "raise NotImplementedError('Exercise 09.1: do it')",
            execution_count=3,
            metadata={"tags": ["raises-exception"]},
            outputs=[
                new_output(
                    "error",
                    ename="NotImplementedError",
                    evalue="Exercise 09.1: do it",
                    traceback=["NotImplementedError: Exercise 09.1: do it"],
                )
            ],
        ),
        new_code_cell(
            "dashboard(history)",
            execution_count=4,
            metadata={"tags": ["nbval-ignore-output"]},
            outputs=[new_output("display_data", data={"text/plain": "VBox(children=(...))"})],
        ),
        new_code_cell(
            "plot(x);",
            execution_count=5,
            outputs=[
                new_output(
                    "display_data",
                    # base64 may spell anything, "/tmp/" too: images are not searched for paths
                    data={"image/png": "iVBORw0KGgo/tmp/x", "text/plain": "<Figure size 600x400>"},
                )
            ],
        ),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def check(nb) -> list[str]:
    return notebook_problems(nb, NAME, REPO, BRANCH)


def test_a_clean_notebook_has_no_problems():
    nb = good_notebook()
    nbformat.validate(nb)
    assert check(nb) == []


def _stdout(text):
    return new_output("stream", name="stdout", text=text)


def _set(cell_index, **fields):
    def spoil(nb):
        for key, value in fields.items():
            nb.cells[cell_index][key] = value

    return spoil


def _meta(cell_index, **fields):
    def spoil(nb):
        target = nb.metadata if cell_index is None else nb.cells[cell_index].metadata
        target.update(fields)

    return spoil


def _outputs(cell_index, *outputs):
    return _set(cell_index, outputs=list(outputs))


def _swap_head(nb):
    nb.cells[0], nb.cells[1] = nb.cells[1], nb.cells[0]


def _drop_setup(nb):
    del nb.cells[1]


def _add_empty_cell(nb):
    nb.cells.insert(4, new_code_cell(""))


SPOILED = {
    "other kernel": (_meta(None, kernelspec={"name": "conda-env-x"}), None, "kernelspec"),
    "widget state": (_meta(None, widgets={"state": {}}), None, "'widgets'"),
    "colab notebook metadata": (_meta(None, colab={"provenance": []}), None, "'colab'"),
    "accelerator": (_meta(None, accelerator="GPU"), None, "'accelerator'"),
    "gpuClass": (_meta(None, gpuClass="standard"), None, "'gpuClass'"),
    "colab cell metadata": (_meta(3, colab={"base_uri": "https://x"}), 4, "'colab'"),
    "execution timings": (_meta(3, execution={"iopub.status.idle": "2024"}), 4, "'execution'"),
    "colab executionInfo": (_meta(3, executionInfo={"user": "a"}), 4, "'executionInfo'"),
    "home path": (_outputs(3, _stdout("saved to /home/ann/model.pt\n")), 4, "path"),
    "root path": (_outputs(3, _stdout("/root/x\n")), 4, "path"),
    "tmp path": (_outputs(3, _stdout("'/tmp/tmpab12/model.pt'\n")), 4, "path"),
    "mac path": (_outputs(3, _stdout("/Users/ann/x\n")), 4, "path"),
    "windows path": (_outputs(3, _stdout("C:\\Users\\ann\\x\n")), 4, "path"),
    "path in html": (
        _outputs(3, new_output("execute_result", data={"text/html": "<b>/home/a</b>"})),
        4,
        "path",
    ),
    "path in traceback": (
        _set(4, outputs=[new_output("error", ename="E", evalue="", traceback=["/Users/a/x.py"])]),
        5,
        "path",
    ),
    "checker code in traceback": (
        _set(
            4,
            outputs=[
                new_output(
                    "error",
                    ename="NotImplementedError",
                    evalue="",
                    traceback=["File helpers/check/data.py:98, in exercise_01_1(answer)"],
                )
            ],
        ),
        5,
        "checker's own code",
    ),
    "not executed": (_set(3, execution_count=None), 4, "was not run"),
    "out of order": (_set(3, execution_count=7), 4, "ran out of order"),
    "empty code cell": (_add_empty_cell, 5, "empty code cell"),
    "error without tag": (_meta(4, tags=[]), 5, "raised NotImplementedError"),
    "ignore-output off widgets": (_meta(3, tags=["nbval-ignore-output"]), 4, "nbval-ignore"),
    "nbval-skip": (_meta(3, tags=["nbval-skip"]), 4, "nbval-skip"),
    "NBVAL comment": (_set(3, source="# NBVAL_SKIP\nprint(1)"), 4, "NBVAL_"),
    "stderr": (
        _outputs(3, new_output("stream", name="stderr", text="UserWarning: x")),
        4,
        "stderr",
    ),
    "svg figure": (
        _outputs(3, new_output("display_data", data={"image/svg+xml": "<svg/>"})),
        4,
        "SVG",
    ),
    "axes repr": (
        _outputs(3, new_output("execute_result", data={"text/plain": "<Axes: xlabel='x'>"})),
        4,
        "return value",
    ),
    "line repr": (
        _outputs(3, new_output("execute_result", data={"text/plain": "[<matplotlib.lines...>]"})),
        4,
        "return value",
    ),
    "memory address": (_outputs(3, _stdout("<Model object at 0x7f3a2b1c9d80>\n")), 4, "memory"),
    "no badge": (_swap_head, 1, "Open in Colab badge"),
    "badge for another file": (
        _set(0, source=good_notebook().cells[0].source.replace("09_demo", "01_data")),
        1,
        "does not link to",
    ),
    "badge for another repository": (
        _set(0, source=good_notebook().cells[0].source.replace(REPO, "old/place")),
        1,
        "does not link to",
    ),
    "no setup cell": (_drop_setup, 2, "set-up cell"),
    "setup from elsewhere": (
        _set(1, source=good_notebook().cells[1].source.replace(REPO, "old/place")),
        2,
        "another address",
    ),
    "setup printed": (_outputs(1, _stdout("hello\n")), 2, "print nothing"),
}


@pytest.mark.parametrize("spoil, cell, expected", SPOILED.values(), ids=SPOILED.keys())
def test_each_problem_is_reported_with_notebook_cell_and_fix(spoil, cell, expected):
    nb = good_notebook()
    spoil(nb)
    problems = check(nb)
    assert problems, "the spoiled notebook passed"
    matching = [p for p in problems if expected in p]
    assert matching, problems
    message = matching[0]
    place = NAME if cell is None else f"{NAME}, cell {cell}:"
    assert message.startswith(place), message
    assert "Fix: " in message, message


def test_a_missing_execution_count_is_reported_once():
    nb = good_notebook()
    nb.cells[1].execution_count = None  # every later count is now off by one as well
    assert len([p for p in check(nb) if "execution count" in p]) == 1


def test_the_checker_does_not_change_the_notebook():
    nb = good_notebook()
    nb.cells[3].execution_count = None
    before = copy.deepcopy(nb)
    check(nb)
    assert nb == before


def test_a_file_that_is_not_json_is_reported(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    [problem] = file_problems(path, NAME, REPO, BRANCH)
    assert problem.startswith(f"{NAME}: cannot be read as a notebook"), problem


def test_a_file_that_breaks_the_nbformat_schema_is_reported(tmp_path):
    nb = good_notebook()
    del nb.cells[3]["outputs"]  # a code cell must have outputs
    path = tmp_path / "invalid.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    [problem] = file_problems(path, NAME, REPO, BRANCH)
    assert problem.startswith(f"{NAME}: is not a valid nbformat 4 notebook"), problem


def test_a_valid_file_is_checked_in_full(tmp_path):
    path = tmp_path / "good.ipynb"
    nbformat.write(good_notebook(), path)
    assert file_problems(path, NAME, REPO, BRANCH) == []
    nb = good_notebook()
    nb.metadata["widgets"] = {"state": {}}
    nbformat.write(nb, path)
    assert len(file_problems(path, NAME, REPO, BRANCH)) == 1


def test_checkpoint_copies_are_not_collected(tmp_path):
    (tmp_path / "solutions" / ".ipynb_checkpoints").mkdir(parents=True)
    for name in (
        "01_a.ipynb",
        "solutions/01_a_solutions.ipynb",
        "solutions/.ipynb_checkpoints/x.ipynb",
    ):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in notebook_paths(tmp_path)]
    assert found == ["01_a.ipynb", "solutions/01_a_solutions.ipynb"]


# --- ruff covers the notebooks' code cells ------------------------------------------------


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ruff", *args, "--no-cache"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def test_ruff_settings_lint_and_format_notebook_cells(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    (tmp_path / "notebooks").mkdir()
    nb = good_notebook()
    nb.cells[3].source = "import os\nx=1"
    nbformat.write(nb, tmp_path / "notebooks" / "09_demo.ipynb")
    lint = ruff("check", ".", cwd=tmp_path)
    assert lint.returncode == 1 and "F401" in lint.stdout and "09_demo.ipynb" in lint.stdout
    fmt = ruff("format", "--check", ".", cwd=tmp_path)
    assert fmt.returncode == 1 and "09_demo.ipynb" in fmt.stdout + fmt.stderr


def test_ruff_sees_every_notebook():
    shown = ruff("check", "--show-files", ".", cwd=ROOT)
    listed = {Path(line.strip()).resolve() for line in shown.stdout.splitlines() if line.strip()}
    missing = [p for p in notebook_paths(ROOT / "notebooks") if p.resolve() not in listed]
    assert not missing, f"ruff skips {missing}: check [tool.ruff] include/exclude in pyproject.toml"


# --- every real notebook ----------------------------------------------------------------

REAL_NOTEBOOKS = notebook_paths(ROOT / "notebooks")


@pytest.mark.parametrize(
    "path", REAL_NOTEBOOKS, ids=[p.relative_to(ROOT).as_posix() for p in REAL_NOTEBOOKS]
)
def test_notebook_is_clean(path):
    repository, branch = course_address()
    name = path.relative_to(ROOT).as_posix()
    problems = file_problems(path, name, repository, branch)
    assert not problems, "\n".join(problems)
