"""The version matrix behind `make compat`: the course under Colab's versions and the newest ones.

Usage: python tools/compat.py [colab] [latest]        (default: both)

Each environment lives in .compat/NAME (ignored by git), beside .venv, and is built once,
then again only when pyproject.toml or its constraints file changes:

- ``colab``: Colab's preinstalled versions, pinned in tools/compat/colab.txt (Python 3.13);
- ``latest``: the newest releases that pyproject.toml's ranges allow, on the newest Python here.

In each, every notebook runs under strict nbval (no cell errors, no stderr, stored outputs
reproduced under tests/nbval_sanitize.cfg) and so do the unit tests (the browser test aside:
it needs JupyterLab's front end, which only .venv installs). The result table goes to
build/compat.md; the exit status is 0 only if everything passed. It downloads several GB
(PyPI's Linux torch wheels bundle CUDA), so it is never part of `make test`.
"""

from __future__ import annotations

import datetime
import glob
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".compat"
REPORT = ROOT / "build" / "compat.md"
COLAB_PINS = ROOT / "tools" / "compat" / "colab.txt"
PACKAGES = ("torch", "numpy", "matplotlib", "ipywidgets", "ipykernel", "scikit-learn")
VERSIONS = (
    "import importlib.metadata as m, platform;"
    f"print('python', platform.python_version());"
    f"[print(n, m.version(n)) for n in {PACKAGES!r}]"
)


def find_python(version: str | None) -> str:
    """A Python interpreter of ``version`` (newest available if None): on PATH or under pyenv."""
    wanted = [version] if version else ["3.14", "3.13", "3.12"]
    for v in wanted:
        candidates = [f"python{v}"] + sorted(
            glob.glob(os.path.expanduser(f"~/.pyenv/versions/{v}*/bin/python{v}")), reverse=True
        )
        for candidate in candidates:
            try:
                probe = subprocess.run([candidate, "--version"], capture_output=True, check=False)
            except OSError:  # not on PATH: try the next one
                continue
            if probe.returncode == 0:
                return candidate
    raise SystemExit(
        f"No Python {' or '.join(wanted)} found (on PATH or under ~/.pyenv/versions); install one."
    )


ENVIRONMENTS = {
    "colab": {"python": "3.13", "pins": COLAB_PINS},
    "latest": {"python": None, "pins": None},
}


def pip_env() -> dict[str, str]:
    # A machine-wide pip constraint (as on this project's build machines) could cap torch below
    # the newest release; the matrix sets its own versions, so it replaces that with an empty
    # file (an empty PIP_CONSTRAINT would not override a config file's).
    return {**os.environ, "PIP_CONSTRAINT": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def build(name: str) -> Path:
    spec = ENVIRONMENTS[name]
    env_dir = HOME / name
    python = env_dir / "bin" / "python"
    stamp = env_dir / ".installed"
    inputs = [ROOT / "pyproject.toml"] + ([spec["pins"]] if spec["pins"] else [])
    if stamp.exists() and all(p.stat().st_mtime <= stamp.stat().st_mtime for p in inputs):
        return python
    print(
        f"[{name}] building {env_dir.relative_to(ROOT)} (several GB the first time) ...", flush=True
    )
    if not python.exists():
        subprocess.run([find_python(spec["python"]), "-m", "venv", str(env_dir)], check=True)
    install = [str(python), "-m", "pip", "install", "--quiet"]
    if spec["pins"]:
        install += ["--constraint", str(spec["pins"])]
    else:
        install += ["--upgrade", "--upgrade-strategy", "eager"]
    subprocess.run(install + ["--editable", ".[test]"], cwd=ROOT, env=pip_env(), check=True)
    stamp.touch()
    return python


def run_pytest(python: Path, args: list[str]) -> tuple[bool, str, float]:
    start = time.perf_counter()
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-n", "2", "--dist", "loadscope", *args],
        cwd=ROOT,
        env=pip_env(),  # the tests that run pip must see this environment's versions, uncapped
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else "no output"
    if result.returncode != 0:
        print(result.stdout[-6000:], result.stderr[-2000:], sep="\n")
    return result.returncode == 0, summary, seconds


def check(name: str) -> dict[str, str]:
    python = build(name)
    found = subprocess.run(
        [str(python), "-c", VERSIONS], capture_output=True, text=True, check=True
    )
    row = dict(line.split(" ", 1) for line in found.stdout.splitlines())
    ok_nb, row["notebooks"], t_nb = run_pytest(python, ["notebooks"])
    print(f"[{name}] notebooks: {row['notebooks']}", flush=True)
    ok_unit, row["unit tests"], t_unit = run_pytest(
        python, ["tests", "-m", "not browser", "--ignore=tests/test_browser.py"]
    )
    print(f"[{name}] unit tests: {row['unit tests']}", flush=True)
    row["ok"] = "yes" if ok_nb and ok_unit else "NO"
    row["seconds"] = f"{t_nb + t_unit:.0f}"
    return row


def main(names: list[str]) -> int:
    unknown = set(names) - set(ENVIRONMENTS)
    if unknown:
        raise SystemExit(f"unknown environment {sorted(unknown)}; choose from {list(ENVIRONMENTS)}")
    rows = {name: check(name) for name in names or list(ENVIRONMENTS)}
    columns = ["python", *PACKAGES, "notebooks", "unit tests", "ok", "seconds"]
    lines = [
        f"`make compat` on {datetime.date.today().isoformat()}:",
        "",
        "| environment | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for name, row in rows.items():
        cells = [re.sub(r"\s+", " ", row.get(c, "?")) for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0 if all(row["ok"] == "yes" for row in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
