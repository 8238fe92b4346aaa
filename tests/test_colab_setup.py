"""The Colab set-up cell and the badges: one repository address, the right install, silence elsewhere.

The set-up cell's own source (from tools/links.py and from every notebook) runs here with a fake
``google.colab`` module and a fake ``subprocess.run``; pip itself, offline, then confirms that
the install command leaves packages Colab already has alone (tests/test_packaging.py checks
that the wheel it builds ships all of ``helpers``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import links
import nbformat
import pytest
from lint_notebooks import course_address, notebook_paths
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
RELINK = "run `make links`, then `make notebooks`"

# Versions preinstalled on Colab, from the one list that `make compat` installs too:
# installing the course there must not change them.
COLAB_PINS = ROOT / "tools" / "compat" / "colab.txt"
# The first release of each package with wheels for that Python (cp313): a list of Colab's
# versions that no pip could install together is a typo, not Colab (checked with
# `pip install --dry-run --only-binary=:all: --python-version 3.13` on Linux).
FIRST_WITH_PYTHON_3_13 = {
    "torch": "2.5.0",
    "numpy": "2.1.0",
    "matplotlib": "3.9.2",
    "scikit-learn": "1.5.2",
}


def colab_pins() -> tuple[str, dict[str, str]]:
    """(Python version, {package: version}) from tools/compat/colab.txt."""
    text = COLAB_PINS.read_text(encoding="utf-8")
    python = re.search(r"\(Python (3\.\d+) runtime\)", text)
    assert python, f"{COLAB_PINS.name} must say `(Python 3.X runtime)` in its header"
    packages = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{COLAB_PINS.name}: write {line!r} as name==version"
            packages[canonicalize_name(name)] = version
    return python.group(1), packages


COLAB_PYTHON, COLAB_PACKAGES = colab_pins()


def project() -> dict:
    with open(PYPROJECT, "rb") as handle:
        return tomllib.load(handle)


def expected_install() -> list[str]:
    repository, branch = course_address()
    url = f"git+https://github.com/{repository}@{branch}"
    return [sys.executable, "-m", "pip", "install", "--quiet", url]


class FakeInstaller:
    """Stands in for subprocess.run and records what it was asked to run."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict]] = []

    def __call__(self, args, **kwargs):
        self.calls.append((list(args), kwargs))
        return subprocess.CompletedProcess(args, 0)


def refuse(*args, **kwargs):
    raise AssertionError("the set-up cell may only call subprocess.run")


def run_setup_cell(source: str, in_colab: bool, monkeypatch) -> FakeInstaller:
    installer = FakeInstaller()
    monkeypatch.setattr(subprocess, "run", installer)
    for name in ("Popen", "call", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, refuse)
    monkeypatch.setattr(os, "system", refuse)
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "<set-up cell>", "exec"), {"__name__": "__main__"})
    return installer


def setup_sources() -> dict[str, str]:
    """The set-up cell as tools/links.py writes it, and as each notebook stores it."""
    repository, branch = course_address()
    sources = {"tools/links.py": links.setup_source(repository, branch)}
    for path in notebook_paths():
        cells = nbformat.read(path, as_version=4).cells
        name = path.relative_to(ROOT).as_posix()
        sources[name] = cells[1].source if len(cells) > 1 and cells[1].cell_type == "code" else ""
    return sources


SOURCES = setup_sources()


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_in_colab_the_cell_installs_the_course_once(source, monkeypatch, capsys):
    assert "google.colab" in source, f"cell 2 is not the Colab set-up cell: {RELINK}"
    installer = run_setup_cell(source, in_colab=True, monkeypatch=monkeypatch)
    assert installer.calls == [(expected_install(), {"check": True})], (
        f"the set-up cell should run exactly {expected_install()} with check=True; {RELINK}"
    )
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_outside_colab_the_cell_does_nothing_and_prints_nothing(source, monkeypatch, capsys):
    assert "google.colab" in source, f"cell 2 is not the Colab set-up cell: {RELINK}"
    installer = run_setup_cell(source, in_colab=False, monkeypatch=monkeypatch)
    assert installer.calls == []
    assert capsys.readouterr() == ("", "")


# --- what pip really does with that command (offline, on a copy of the project) -------------


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """The files a `pip install git+...` would see: pyproject, README, LICENSE and helpers."""
    copy = tmp_path / "course"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(
        ROOT / "helpers", copy / "helpers", ignore=shutil.ignore_patterns("__pycache__")
    )
    return copy


def pip(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", *args, "--no-index", "--no-build-isolation"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_pip_leaves_the_installed_dependencies_alone(project_copy, tmp_path):
    # This environment, like Colab, already satisfies every dependency, so the same command
    # (the git URL swapped for the local copy) must plan to install the course and nothing else.
    report = tmp_path / "report.json"
    flags = expected_install()[4:-1]
    result = pip("install", *flags, "--dry-run", "--report", str(report), str(project_copy))
    assert result.returncode == 0, result.stdout + result.stderr
    planned = {item["metadata"]["name"] for item in json.loads(report.read_text())["install"]}
    assert planned == {"linreg-course"}, f"pip would also install {planned - {'linreg-course'}}"


def test_colab_already_satisfies_every_dependency():
    meta = project()["project"]
    assert Requirement(f"python{meta['requires-python']}").specifier.contains(COLAB_PYTHON)
    for line in meta["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in COLAB_PACKAGES, (
            f"{requirement.name} is new: check Colab's version and add it to {COLAB_PINS.name}"
        )
        version = COLAB_PACKAGES[name]
        assert requirement.specifier.contains(version), (
            f"Colab has {requirement.name} {version}, which {line!r} would upgrade there"
        )


def test_colab_versions_exist_together():
    assert COLAB_PYTHON == "3.13", "FIRST_WITH_PYTHON_3_13 below is for Python 3.13 only"
    for name, first in FIRST_WITH_PYTHON_3_13.items():
        assert name in COLAB_PACKAGES, f"{COLAB_PINS.name} lacks {name}"
        assert Version(COLAB_PACKAGES[name]) >= Version(first), (
            f"{name} {COLAB_PACKAGES[name]} has no wheels for Python {COLAB_PYTHON} "
            f"(the first is {first}): check what Colab really ships"
        )


# --- one address for every badge and set-up cell ------------------------------------------------


def test_every_notebook_and_the_readme_agree_with_pyproject(capsys):
    assert links.main(["--check"]) == 0, capsys.readouterr().out


def test_readme_badges_open_the_first_notebook_from_the_one_address():
    repository, branch = course_address()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = "notebooks/01_data.ipynb"
    colab = f"https://colab.research.google.com/github/{repository}/blob/{branch}/{first}"
    binder = f"https://mybinder.org/v2/gh/{repository}/{branch}?urlpath=lab/tree/{first}"
    assert f"(https://colab.research.google.com/assets/colab-badge.svg)]({colab})" in readme
    assert f"(https://mybinder.org/badge_logo.svg)]({binder})" in readme
    assert (ROOT / first).is_file()


def test_every_repository_link_in_the_readme_uses_the_one_address():
    repository, branch = course_address()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    patterns = {
        "Colab": r"colab\.research\.google\.com/github/([^/\s]+/[^/\s]+)/blob/([^/\s]+)/",
        "Binder": r"mybinder\.org/v2/gh/([^/\s]+/[^/\s]+)/([^?/\s)]+)",
        "GitHub": r"github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?(?:@([\w.-]+))?[/)\s]",
    }
    seen = 0
    for kind, pattern in patterns.items():
        for match in re.finditer(pattern, readme):
            seen += 1
            assert match.group(1) == repository, (
                f"{kind} link to {match.group(1)}: use `make links`"
            )
            if match.group(2):
                assert match.group(2) == branch, f"{kind} link to branch {match.group(2)}"
    assert seen >= 2


def test_changing_the_address_in_pyproject_rewrites_every_badge_and_set_up_cell(
    tmp_path, monkeypatch, capsys
):
    text = PYPROJECT.read_text(encoding="utf-8")
    repository, branch = course_address()
    moved = text.replace(f'repository = "{repository}"', 'repository = "someone/elsewhere"')
    moved = moved.replace(f'branch = "{branch}"', 'branch = "dev"')
    assert moved.count("someone/elsewhere") == 1 and 'branch = "dev"' in moved
    (tmp_path / "pyproject.toml").write_text(moved, encoding="utf-8")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    fresh = tmp_path / "notebooks" / "09_new.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# New")]), fresh)
    stale = tmp_path / "notebooks" / "solutions" / "09_new_solutions.ipynb"
    old_badge, old_setup = (
        links.badge_source(ROOT / "x", repository, branch),
        SOURCES["tools/links.py"],
    )
    cells = [nbformat.v4.new_markdown_cell(old_badge), nbformat.v4.new_code_cell(old_setup)]
    nbformat.write(nbformat.v4.new_notebook(cells=[*cells, nbformat.v4.new_code_cell("1")]), stale)
    monkeypatch.setattr(links, "ROOT", tmp_path)
    monkeypatch.setattr(links, "NOTEBOOKS", tmp_path / "notebooks")

    assert links.main(["--check"]) == 1
    assert "README.md" in capsys.readouterr().out
    assert links.main([]) == 0
    assert links.main(["--check"]) == 0

    for path in (fresh, stale):
        cells = nbformat.read(path, as_version=4).cells
        name = path.relative_to(tmp_path).as_posix()
        url = f"https://colab.research.google.com/github/someone/elsewhere/blob/dev/{name}"
        assert f"({url})" in cells[0].source
        assert '"git+https://github.com/someone/elsewhere@dev"' in cells[1].source
        assert [c.source for c in cells[2:]] == (["# New"] if path == fresh else ["1"])
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/someone/elsewhere/dev?urlpath=lab/tree/" in readme
    assert repository not in readme
    before = readme
    assert links.main([]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == before


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_every_line_of_the_set_up_cell_fits_in_88_characters(source):
    long_lines = [line for line in source.splitlines() if len(line) > 88]
    assert long_lines == [], f"set-up cell lines over 88 characters: {long_lines}; {RELINK}"
