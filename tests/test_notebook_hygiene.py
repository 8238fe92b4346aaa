"""Notebooks stay clean in git and ready for strict nbval, Colab and static viewers.

The checks live in tools/lint_notebooks.py (runnable on its own). They are tested here on
small synthetic notebooks, then run on every notebook under notebooks/.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import lint_notebooks
import nbformat
import pytest
import run_notebooks
from lint_notebooks import file_problems, notebook_problems
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent

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
    found = [p.relative_to(tmp_path).as_posix() for p in lint_notebooks.notebook_paths(tmp_path)]
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
    missing = [p for p in lint_notebooks.notebook_paths() if p.resolve() not in listed]
    assert not missing, f"ruff skips {missing}: check [tool.ruff] include/exclude in pyproject.toml"


# --- pacing of lesson notebooks --------------------------------------------------------


def lesson(words: int, code_cells: int):
    nb = good_notebook()
    nb.cells += [new_markdown_cell(" ".join(["word"] * words))]
    nb.cells += [new_code_cell("1", execution_count=None) for _ in range(code_cells)]
    return nb


def test_the_pacing_proxy_counts_markdown_words_and_code_cells():
    nb = new_notebook(cells=[new_markdown_cell("one two\n\nthree  four"), new_code_cell("a b c")])
    nb.cells += [new_markdown_cell("- five, six"), new_code_cell(""), new_code_cell("1")]
    assert lint_notebooks.lesson_minutes(nb) == (7, 3, 7 / 150 + 3 * 0.75)  # "-" is a word


def test_optional_sections_are_left_out_of_the_core_path():
    nb = new_notebook(cells=[new_markdown_cell("# Lesson"), new_code_cell("1")])
    nb.cells += [
        new_markdown_cell("## Optional: a deep dive\n\nsix more words here"),
        new_code_cell("2"),
    ]
    nb.cells += [new_markdown_cell("### Inside it"), new_code_cell("3")]
    nb.cells += [new_markdown_cell("## Recap"), new_code_cell("4")]
    # "# Lesson" and "## Recap" (4 words, "#" counts) and cells 1 and 4; not the optional part.
    assert lint_notebooks.lesson_minutes(nb) == (4, 2, 4 / 150 + 2 * 0.75)
    nb.cells[2].source = "## A deep dive"
    assert lint_notebooks.lesson_minutes(nb)[1] == 4


@pytest.mark.parametrize(
    "name, words, code_cells, too_long",
    [
        ("notebooks/07_long.ipynb", 0, 60, True),  # 64 code cells: 48 minutes
        ("notebooks/07_long.ipynb", 6000, 0, True),  # 40 minutes of reading, plus 4 code cells
        ("notebooks/07_short.ipynb", 1500, 20, False),  # about 28 minutes
        ("notebooks/solutions/07_long_solutions.ipynb", 0, 60, False),  # not a lesson
        ("notebooks/extra/07_long.ipynb", 0, 60, False),
    ],
)
def test_only_a_lesson_over_forty_minutes_is_reported(name, words, code_cells, too_long):
    nb = lesson(words, code_cells)
    problems = lint_notebooks.pace_problems(nb, name)
    assert bool(problems) == too_long, problems
    if too_long:
        assert problems[0].startswith(f"{name}: takes about ") and "Fix: " in problems[0]


def test_the_pace_limit_is_inclusive():
    exact = new_notebook(cells=[new_markdown_cell(" ".join(["word"] * 5100))])
    exact.cells += [new_code_cell("1") for _ in range(8)]  # 34 + 6 minutes
    assert lint_notebooks.lesson_minutes(exact)[2] == lint_notebooks.LESSON_MINUTES == 40
    assert lint_notebooks.pace_problems(exact, "notebooks/07_x.ipynb") == []
    exact.cells.append(new_code_cell("1"))
    assert lint_notebooks.pace_problems(exact, "notebooks/07_x.ipynb")


# --- the runner and the linter agree --------------------------------------------------


def test_the_runner_drops_every_key_the_linter_reports():
    assert run_notebooks.NOISY_NOTEBOOK_KEYS is lint_notebooks.NOISY_NOTEBOOK_KEYS
    assert run_notebooks.NOISY_CELL_KEYS is lint_notebooks.NOISY_CELL_KEYS
    nb = good_notebook()
    nb.metadata.update(dict.fromkeys(lint_notebooks.NOISY_NOTEBOOK_KEYS, {}))
    nb.metadata["kernelspec"] = {"name": "conda-env-x"}
    for cell in nb.cells:
        cell.metadata.update(dict.fromkeys(lint_notebooks.NOISY_CELL_KEYS, {}))
    assert len(check(nb)) > len(lint_notebooks.NOISY_NOTEBOOK_KEYS)
    run_notebooks.tidy(nb)
    assert check(nb) == []


def test_the_runner_executes_in_the_notebooks_folder_and_stops_its_kernel(tmp_path, capfd):
    cells = [
        new_code_cell("import os\nprint(os.getcwd())"),
        new_code_cell("print(os.getpid())"),
        new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}),
    ]
    path = tmp_path / "demo.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    run_notebooks.execute(path)
    ran = nbformat.read(path, as_version=4)
    folder, pid = (cell.outputs[0].text.strip() for cell in ran.cells[:2])
    assert Path(folder) == tmp_path
    assert [cell.execution_count for cell in ran.cells] == [1, 2, 3]
    assert ran.cells[2].outputs[0].ename == "ZeroDivisionError"
    assert ran.metadata.kernelspec == run_notebooks.KERNELSPEC
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)  # the kernel has been shut down, not left running
    assert "WARNING" not in capfd.readouterr().err  # e.g. ipykernel's unencrypted-TCP one


def test_the_linter_runs_on_its_own_and_lists_the_problems(tmp_path, capsys):
    clean = ROOT / "notebooks" / "01_data.ipynb"
    assert lint_notebooks.main([str(clean)]) == 0, capsys.readouterr().out
    spoiled = nbformat.read(clean, as_version=4)
    spoiled.metadata["widgets"] = {"state": {}}
    number = next(i for i, c in enumerate(spoiled.cells) if i > 1 and c.cell_type == "code")
    spoiled.cells[number].execution_count = None
    bad = tmp_path / "bad.ipynb"
    nbformat.write(spoiled, bad)
    script = ROOT / "tools" / "lint_notebooks.py"
    done = subprocess.run([sys.executable, script, clean, bad], capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{bad}: has notebook metadata 'widgets'" in done.stdout
    assert f"{bad}, cell {number + 1}: was not run" in done.stdout
    assert "01_data.ipynb" not in done.stdout.replace(str(bad), "")
    assert done.stdout.rstrip().endswith("2 notebook(s) checked, 3 problem(s).")


# --- every real notebook ----------------------------------------------------------------


def test_notebook_is_clean(notebook_path):
    repository, branch = lint_notebooks.course_address()
    name = notebook_path.relative_to(ROOT).as_posix()
    problems = file_problems(notebook_path, name, repository, branch)
    assert not problems, "\n".join(problems)
