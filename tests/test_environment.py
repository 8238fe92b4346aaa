"""environment.yml (conda and Binder) stays in step with pyproject.toml and the README."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name, where they differ
EXTRA_TOOLS = {"python", "pip", "nbval"}  # in the environment without being a pyproject dependency
CONDA_SPEC = re.compile(r"^([A-Za-z0-9_.-]+)\s*(.*)$")
# repo2docker (Binder) reads the Python version only from a `python=X.Y` line.
BINDER_PYTHON = re.compile(r"^python=(3\.\d+)$")


def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def conda_packages() -> dict[str, str]:
    """Conda package name -> its version spec ('' if none), from the conda dependencies."""
    packages = {}
    for item in environment()["dependencies"]:
        if isinstance(item, str):
            name, spec = CONDA_SPEC.match(item).groups()
            assert name not in packages, f"environment.yml lists {name} twice"
            packages[name] = spec
    return packages


def pyproject_requirements() -> list[Requirement]:
    """What the lessons need at run time, and to run in JupyterLab (the `lab` extra)."""
    meta = project()["project"]
    lines = meta["dependencies"] + meta["optional-dependencies"]["lab"]
    return [Requirement(line) for line in lines]


def conda_name(requirement: Requirement) -> str:
    name = canonicalize_name(requirement.name)
    return CONDA_NAMES.get(name, name)


REQUIREMENTS = pyproject_requirements()


def test_packages_come_from_conda_forge_only():
    env = environment()
    assert env["channels"] == ["conda-forge"], "use conda-forge alone (no pytorch or defaults)"
    for item in env["dependencies"]:
        if isinstance(item, str):
            assert "::" not in item, f"{item}: no per-package channel; conda-forge has it"
    assert "cpuonly" not in conda_packages(), "cpuonly belongs to the pytorch channel"


@pytest.mark.parametrize("requirement", REQUIREMENTS, ids=[r.name for r in REQUIREMENTS])
def test_every_pyproject_dependency_is_in_the_environment_with_the_same_range(requirement):
    packages = conda_packages()
    name = conda_name(requirement)
    wanted = f"{name}{requirement.specifier}"
    assert name in packages, f"environment.yml lacks {wanted} (pyproject.toml: {requirement})"
    try:
        spec = SpecifierSet(packages[name])
    except InvalidSpecifier:
        spec = None
    assert spec == requirement.specifier, (
        f"environment.yml has {name}{packages[name]}; pyproject.toml says {requirement}: "
        f"write {wanted}"
    )


def test_the_environment_holds_nothing_pyproject_does_not_ask_for():
    expected = {conda_name(r) for r in REQUIREMENTS} | EXTRA_TOOLS
    unexpected = set(conda_packages()) - expected
    assert not unexpected, f"add {unexpected} to pyproject.toml too, or drop them here"
    missing = EXTRA_TOOLS - set(conda_packages())
    assert not missing, f"environment.yml needs {missing}"


def test_python_is_pinned_the_way_binder_reads_it_and_pyproject_allows():
    python = [item for item in environment()["dependencies"] if str(item).startswith("python")]
    assert len(python) == 1
    match = BINDER_PYTHON.match(python[0])
    assert match, f"write python=3.X (Binder ignores {python[0]!r} and picks its own default)"
    allowed = SpecifierSet(project()["project"]["requires-python"])
    assert allowed.contains(match.group(1)), f"{python[0]} is outside requires-python {allowed}"


def test_pip_installs_the_helpers_from_this_folder_last():
    last = environment()["dependencies"][-1]
    assert last == {"pip": ["-e ."]}, "end with `- pip:` and `- -e .` so Binder installs helpers"


def test_readme_tells_how_to_create_and_activate_this_environment():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "conda env create -f environment.yml" in readme
    assert f"conda activate {environment()['name']}" in readme
    assert 'pip install -c constraints.txt -e ".[lab]"' in readme
