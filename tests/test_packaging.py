"""The package builds cleanly: an sdist and a wheel, with every warning turned into an error.

Colab installs the course with ``pip install git+...`` and stops at any failure, so a
packaging deprecation today (such as a license written as a TOML table) is tomorrow's
broken first cell. The build runs in a scratch copy of the files a build reads.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import setuptools
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
BUILD = """
import sys
import setuptools.build_meta as backend
out = sys.argv[1]  # read first: the backend rewrites sys.argv while it builds
sdist = backend.build_sdist(out)
wheel = backend.build_wheel(out)
print("BUILT", sdist, wheel)
"""


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "helpers", source / "helpers", ignore=shutil.ignore_patterns("__pycache__")
    )
    dist = source / "dist"
    dist.mkdir()
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", BUILD, str(dist)],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, "the build failed or warned:\n" + result.stderr[-4000:]
    built_line = [line for line in result.stdout.splitlines() if line.startswith("BUILT ")]
    sdist, wheel = built_line[-1].split()[1:]
    return {"sdist": dist / sdist, "wheel": dist / wheel}


def test_the_installed_setuptools_is_one_the_build_system_asks_for():
    requirements = [Requirement(line) for line in project()["build-system"]["requires"]]
    wanted = next(r for r in requirements if r.name == "setuptools")
    assert wanted.specifier.contains(setuptools.__version__), (
        f"setuptools {setuptools.__version__} is installed but pyproject.toml asks for {wanted}"
    )


def test_the_license_is_an_spdx_expression_with_its_file():
    meta = project()["project"]
    assert isinstance(meta["license"], str), 'write license = "MIT" (a TOML table is deprecated)'
    for name in meta["license-files"]:
        assert (ROOT / name).is_file(), f"{name} is listed in license-files but missing"


def test_the_wheel_carries_the_license_and_every_helpers_module(built):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(metadata_name).decode()
    assert "License-Expression: MIT" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    modules = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "helpers").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules <= names, f"the wheel lacks {sorted(modules - names)}"


def test_the_sdist_carries_the_license_and_the_readme(built):
    with tarfile.open(built["sdist"]) as sdist:
        names = {Path(n).name for n in sdist.getnames()}
    assert {"LICENSE", "README.md", "pyproject.toml"} <= names


def test_only_third_party_warnings_are_filtered():
    filters = project()["tool"]["pytest"]["ini_options"]["filterwarnings"]
    assert filters[0] == "error", "every warning not filtered below must fail the tests"
    for line in filters[1:]:
        action, _message, category, module = (line.split(":") + [""] * 4)[:4]
        assert action == "ignore" and module, f"{line!r}: filter third-party warnings by module"
        assert not module.startswith(("helpers", "tests", "tools")), f"{line!r} hides our own"
