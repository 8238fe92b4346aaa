"""Write every notebook's first two cells from the one repository address in pyproject.toml.

Usage: python tools/links.py [--check]

Cell 1 is an "Open in Colab" badge for that notebook; cell 2 is the set-up cell that, in
Colab only, installs the course's ``helpers`` from the repository. README.md's Colab and
Binder badges, between its two ``badges`` comment lines, are written from the same address.
With ``--check`` nothing is written and the exit status says whether everything already agrees.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from lint_notebooks import course_address, notebook_paths

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BADGE_MARK = "colab.research.google.com/assets/colab-badge.svg"
SETUP_MARK = "# Set-up for Google Colab"
README_START = "<!-- badges: written by `make links` from [tool.course] in pyproject.toml -->"
README_END = "<!-- /badges -->"
FIRST_NOTEBOOK = "notebooks/01_data.ipynb"


def badge_source(path: Path, repository: str, branch: str) -> str:
    relative = path.relative_to(ROOT).as_posix()
    url = f"https://colab.research.google.com/github/{repository}/blob/{branch}/{relative}"
    return f"[![Open In Colab](https://{BADGE_MARK})]({url})"


def setup_source(repository: str, branch: str) -> str:
    return (
        f"{SETUP_MARK}: installs the course's `helpers`; does nothing elsewhere.\n"
        "# Colab already has torch, matplotlib and ipywidgets, so pip leaves them as they are.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        f'COURSE = "git+https://github.com/{repository}@{branch}"\n'
        'if "google.colab" in sys.modules:\n'
        '    pip = [sys.executable, "-m", "pip", "install", "--quiet", COURSE]\n'
        "    subprocess.run(pip, check=True)"
    )


def binder_badge_source(relative: str, repository: str, branch: str) -> str:
    url = f"https://mybinder.org/v2/gh/{repository}/{branch}?urlpath=lab/tree/{relative}"
    return f"[![Launch Binder](https://mybinder.org/badge_logo.svg)]({url})"


def readme_badges() -> str:
    repository, branch = course_address(ROOT)
    colab = badge_source(ROOT / FIRST_NOTEBOOK, repository, branch)
    return f"{colab}\n{binder_badge_source(FIRST_NOTEBOOK, repository, branch)}"


def update_readme(check: bool) -> bool:
    """Return True if README's badges already agree; otherwise rewrite them (unless ``check``)."""
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    head, start, rest = text.partition(README_START)
    block, end, tail = rest.partition(README_END)
    if not start or not end:
        raise SystemExit(f"README.md lacks its badge block: add {README_START} and {README_END}")
    wanted = f"\n{readme_badges()}\n"
    if block == wanted:
        return True
    if not check:
        path.write_text(head + start + wanted + end + tail, encoding="utf-8")
    return False


def expected_head(path: Path) -> tuple[str, str]:
    repository, branch = course_address(ROOT)
    return badge_source(path, repository, branch), setup_source(repository, branch)


def update(path: Path, check: bool) -> bool:
    """Return True if the notebook already agrees; otherwise rewrite it (unless ``check``)."""
    nb = nbformat.read(path, as_version=4)
    badge, setup = expected_head(path)
    cells = nb.cells
    has_badge = bool(cells) and cells[0].cell_type == "markdown" and BADGE_MARK in cells[0].source
    has_setup = (
        len(cells) > 1 and cells[1].cell_type == "code" and cells[1].source.startswith(SETUP_MARK)
    )
    if has_badge and has_setup and cells[0].source == badge and cells[1].source == setup:
        return True
    if check:
        return False
    if has_badge:
        cells[0].source = badge
    else:
        cells.insert(0, nbformat.v4.new_markdown_cell(badge))
    if has_setup:
        cells[1].source = setup
    else:
        cells.insert(1, nbformat.v4.new_code_cell(setup))
    nbformat.write(nb, path)
    return False


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = [p for p in notebook_paths(NOTEBOOKS) if not update(p, check)]
    if not update_readme(check):
        stale.append(ROOT / "README.md")
    for path in stale:
        verb = "disagrees with pyproject.toml [tool.course]" if check else "rewritten"
        print(f"{path.relative_to(ROOT)}: {verb}")
    if check and stale:
        print("Run `make links` (then `make notebooks`) to bring them in line.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
