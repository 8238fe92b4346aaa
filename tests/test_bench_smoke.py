"""``make bench`` at toy sizes: every benchmark runs and its numbers are consistent.

Nothing here asserts a speed (that would fail on a slow machine); the tests check that the
benchmarks compare like with like: the bare loop really is the loop ``train`` runs, the
closed-form fit finds the line, the floor notebooks pass nbval, the set-up step is the
Makefile's, and the report is written where asked.
"""

import subprocess
import tempfile
from pathlib import Path

import bench
import bench_core
import bench_dashboard
import bench_notebooks
import bench_scaling
import bench_setup
import bench_tests
import bench_train
import nbformat
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
CPU = torch.device("cpu")


# --- 3. train vs the bare loop ---------------------------------------------------------


def test_train_and_bare_loop_reach_identical_parameters():
    comparison = bench_train.compare(epochs=30, repeats=2)
    assert comparison.same_params
    assert len(comparison.train_times) == len(comparison.loop_times) == 2
    assert all(t > 0 for t in comparison.train_times + comparison.loop_times)
    assert comparison.ratio > 0


def test_bare_loop_lands_where_the_course_says(default_split, seeded_model):
    # The documented end point of 100 default epochs, independent of helpers.train.
    model = seeded_model(bench_train.SEED)
    train_losses, test_losses = bench_train.bare_loop(model, *default_split, bench_train.LR, 100)
    assert len(train_losses) == len(test_losses) == 100
    assert all(isinstance(v, float) for v in train_losses + test_losses)
    assert train_losses[-1] < train_losses[0] and test_losses[-1] < test_losses[0]
    assert model.weights.item() == pytest.approx(0.5784, abs=1e-4)
    assert model.bias.item() == pytest.approx(0.3513, abs=1e-4)
    assert bench_train.same_parameters(model, bench_train.run_bare_loop(default_split, 100))


def test_same_parameters_sees_one_epoch_of_difference():
    data = bench_train.course_data()
    a = bench_train.run_bare_loop(data, 30)
    b = bench_train.run_train(data, 31)
    assert not bench_train.same_parameters(a, b)
    assert bench_train.same_parameters(a, bench_train.run_train(data, 30))


def test_train_section_quick_reports_a_ratio_without_judging_it():
    section = bench_train.section(quick=True)
    ratio_row, params_row = section.rows
    assert ratio_row.met is None  # too few epochs for the goal to mean anything
    assert float(ratio_row.result.split()[0]) > 0
    assert params_row.met is True


# --- 4. scaling -----------------------------------------------------------------------


def test_lstsq_finds_the_line_even_with_millions_of_float32_points():
    # The CPU's default lstsq driver drops the bias column here (rank cut-off eps * N).
    X_train, y_train, _, _ = bench_scaling.line_data(2 * 10**6, CPU)
    weight, bias = bench_scaling.lstsq_line(X_train, y_train).tolist()
    assert weight == pytest.approx(0.7, abs=1e-3)
    assert bias == pytest.approx(0.3, abs=1e-3)


def test_scaling_measures_each_size_and_plots(tmp_path):
    section = bench_scaling.section(quick=True, plot_path=tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").stat().st_size > 0
    table_rows = [line.split("|") for line in section.lines if line.startswith("| cpu")]
    sizes_by_setup = {}
    for row in table_rows:
        sizes_by_setup.setdefault(row[1].strip(), []).append(row[2].strip())
    threads = torch.get_num_threads()
    assert f"cpu, {threads} thread{'s' if threads > 1 else ''}" in sizes_by_setup
    assert all(sizes == ["10^2", "10^3"] for sizes in sizes_by_setup.values())
    point = bench_scaling.measure(100, CPU, repeats=1, epochs=2)
    assert point.n == 100 and point.epochs == 2
    assert point.epoch_seconds > 0 and point.lstsq_seconds > 0


def test_epochs_shrink_as_data_grows():
    epochs = [bench_scaling.epochs_for(n) for n in bench_scaling.SIZES]
    assert epochs == sorted(epochs, reverse=True)
    assert epochs[-1] >= 3


# --- 1. notebooks ---------------------------------------------------------------------


def test_floor_notebooks_import_what_the_lessons_import(tmp_path):
    paths = bench_notebooks.write_floor_notebooks(tmp_path, 2)
    assert [p.name for p in paths] == ["floor_01.ipynb", "floor_02.ipynb"]
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert [c.source for c in nb.cells] == [bench_notebooks.FLOOR_SOURCE]
        assert nb.metadata.kernelspec.name == "python3"


def test_notebook_runs_are_nbval_runs_timed_per_cell():
    # A cheap cell instead of the floor's imports: what is tested is the plumbing.
    cell = nbformat.v4.new_code_cell("print(6 * 7)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    bench_core.BUILD.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=bench_core.BUILD) as temp:
        [path] = bench_notebooks.write_floor_notebooks(Path(temp), 1, cell)
        run = bench_notebooks.run_pytest([path])
    assert run.returncode == 0, run.summary
    assert "1 passed" in run.summary
    assert list(run.per_notebook()) == [f"{Path(temp).name}.floor_01.ipynb"]
    assert run.seconds > 0


def test_slowest_cells_leave_out_each_notebooks_first_cell():
    cells = {("a", "Cell 0"): 3.0, ("a", "Cell 4"): 1.0, ("a", "Cell 12"): 2.0}
    cells |= {("b", "Cell 1"): 9.0, ("b", "Cell 2"): 0.5}
    slowest = bench_notebooks.slowest_cells(cells, count=2)
    assert slowest == [(("a", "Cell 12"), 2.0), (("a", "Cell 4"), 1.0)]


def test_first_use_costs_are_measured_in_a_fresh_process():
    # The real script imports torch and more (seconds); this one has the same shape, cheaply:
    # each step is a first import, which costs time only in a fresh process.
    swaps = {
        "import torch, matplotlib, ipywidgets": "import email.mime.text",
        "import matplotlib.pyplot, helpers": "import tomllib",
        "torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)": "import csv",
    }
    cheap = bench_notebooks.FIRST_USE_SCRIPT
    for step, stand_in in swaps.items():
        assert step in cheap
        cheap = cheap.replace(step, stand_in)
    costs = bench_notebooks.first_use_costs(cheap)
    assert list(costs) == list(bench_notebooks.FIRST_USE_STEPS)
    assert all(value > 0 for value in costs.values())


def test_suite_ratio_is_suite_over_floor():
    def runs(*values):
        return [bench_notebooks.PytestRun(v, 0, "") for v in values]

    comparison = bench_notebooks.SuiteComparison(2, runs(6, 9, 7), runs(5, 4, 6), runs(3), runs(2))
    assert comparison.ratio() == pytest.approx(7 / 5)
    assert comparison.ratio(xdist=True) == pytest.approx(3 / 2)


# --- 5. set-up ------------------------------------------------------------------------


def test_setup_runs_make_tests_install_steps_into_the_temporary_venv(tmp_path):
    venv = tmp_path / "venv"
    targets = bench_setup.setup_targets(venv)
    assert targets and all(t.startswith(str(venv)) for t in targets), targets
    dry_run = subprocess.run(
        ["make", "--dry-run", f"VENV={venv}", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{venv}/bin/python -m pip install" in dry_run
    assert "--constraint constraints.txt" in dry_run
    assert ".venv/" not in dry_run  # the project's own environment is left alone


def test_folder_size_counts_the_bytes_on_disk(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 100_000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 50_000)
    assert 150_000 <= bench_setup.folder_size(tmp_path) < 200_000


# --- 6. test tiers --------------------------------------------------------------------


def test_the_tiers_are_the_makefiles_pytest_commands():
    assert bench_tests.pytest_args("test")[:2] == ["-n", "2"]
    quick = bench_tests.pytest_args("quick")
    marks = quick[quick.index("-m") + 1]
    assert all(f"not {m}" in marks for m in ("slow", "notebooks", "browser", "compat"))
    assert quick[-1] == "tests"


def test_a_baseline_is_that_commit_installed_by_its_own_makefile(tmp_path):
    tree = bench_tests.unpack("HEAD", tmp_path / "tree")
    assert (tree / "Makefile").read_bytes() == subprocess.run(
        ["git", "show", "HEAD:Makefile"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    assert not (tree / ".venv").exists()  # its own, made by the steps below
    venv = tree / ".venv"
    targets = bench_setup.setup_targets(venv, root=tree)
    assert targets == bench_setup.setup_targets(venv)  # the same commit: the same steps
    assert any(target.startswith(str(venv)) for target in targets)
    assert bench_tests.pytest_args("test", tree)[:2] == ["-n", "2"]


def test_time_is_summed_per_file():
    cells = {
        ("tests.test_a", "t1"): 1.0,
        ("tests.test_a", "t2"): 2.0,
        ("01_x.ipynb", "Cell 0"): 4.0,
    }
    run = bench_notebooks.PytestRun(5.0, 0, "3 passed", cells)
    assert bench_tests.per_file(run) == [("01_x.ipynb", 4.0), ("tests.test_a", 3.0)]


# --- the whole report -----------------------------------------------------------------


def test_quick_bench_writes_the_report(tmp_path, capsys):
    assert bench.main(["--quick", "--only", "train", "setup", "--out", str(tmp_path)]) == 0
    report = (tmp_path / "bench.md").read_text()
    assert report == capsys.readouterr().out.split("Report written")[0]
    for text in ("CPU:", "cores:", "torch:", "## Summary", "train / bare loop", "skipped"):
        assert text in report


# --- 2. dashboard ---------------------------------------------------------------------


def test_dashboard_section_measures_both_sliders():
    section = bench_dashboard.section(quick=True)
    assert section.rows
    for row in section.rows:
        assert row.met is None  # quick: too few moves to judge a goal
        assert any(unit in row.result for unit in ("µs", "ms", " s")), row.result
