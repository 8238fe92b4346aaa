"""The course's widgets in a real browser: JupyterLab 4, ipywidgets 8, Chromium.

A fresh JupyterLab serves a temporary folder (so autosave can never touch the committed
notebooks) holding one notebook made from 03_training.ipynb's own cells: those up to the
data split, the fit-by-hand cell and the training-dashboard cell, stored outputs included.
(Notebook 03 as a whole is run by nbval; here the widgets are what is under test.)
Chromium opens it, checks that the stored dashboard output shows its picture, clears
every output, runs all cells and then uses the widgets the way a learner does: an arrow
key on fit-by-hand's w slider; arrow keys on the dashboard's slider handles, a number
typed into a readout, and both handles dragged with the mouse. After each move the
picture must change and the text readout must name the sliders' new values. Each step
that breaks says which step it was. A screenshot, each step's seconds and the measured
latencies (input event to new picture loaded; ``make bench`` turns them into ratios,
nothing here is timed against a goal) are kept in build/browser/. Chromium is Debian's,
driven through Playwright's Python package; the test skips only where it cannot be found
or installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE_NOTEBOOK = ROOT / "notebooks" / "03_training.ipynb"
NOTEBOOK = "03_training_widgets.ipynb"
DATA_CODE = "split_data("
FIT_BY_HAND_CODE = "fit_by_hand("
DASHBOARD_CODE = "training_dashboard("
ARTEFACTS = ROOT / "build" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# JupyterLab settings for the test: render every cell (no windowing, so every prompt is in
# the page) and no news pop-up over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}
RUN_ALL_TIMEOUT_S = 300


def find_chromium() -> Path:
    """Debian's Chromium: found, or installed with apt-get where that is possible, or skip."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(
            f"Chromium is not at {CHROMIUM} and cannot be installed here (needs root and "
            "apt-get): install Debian's `chromium` package to run the browser test."
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            pytest.skip(
                f"Chromium could not be installed ({' '.join(command)} failed): "
                f"{result.stderr.strip()[-300:]}"
            )
    if not CHROMIUM.exists():
        pytest.skip(f"apt-get installed chromium, but not at {CHROMIUM}.")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api(base: str, token: str, path: str, method: str = "GET", body: dict | None = None) -> bytes:
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read()


def widgets_notebook(path: Path = SOURCE_NOTEBOOK) -> dict:
    """Notebook 03 cut down to its widgets: its code cells up to the first data split,
    then the fit-by-hand cell and the dashboard cell, each with its stored outputs."""
    notebook = json.loads(path.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]

    def calling(text: str) -> list[dict]:
        return [cell for cell in code if text in "".join(cell["source"])]

    data_cell = code.index(calling(DATA_CODE)[0])
    widgets = calling(FIT_BY_HAND_CODE) + calling(DASHBOARD_CODE)
    assert len(widgets) == 2, f"{path.name} should call each widget in exactly one cell"
    return dict(notebook, cells=code[: data_cell + 1] + widgets)


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab on 127.0.0.1 over a folder holding :func:`widgets_notebook`.

    Yields (base URL, token, wait): the server starts in the background, so the browser
    can start meanwhile; ``wait()`` returns once it answers. Everything it writes
    (settings, workspaces, runtime files, autosaves) stays in ``tmp_path``. At the end its
    kernels are shut down and the server is stopped by PID.
    """
    work = tmp_path / "notebooks"
    work.mkdir()
    (work / NOTEBOOK).write_text(json.dumps(widgets_notebook(), indent=1))
    settings = tmp_path / "lab-settings"
    for name, value in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    port, token = free_port(), os.urandom(16).hex()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={work}",
        # At the end the kernel is stopped: after 0.2 s without exiting it is killed.
        "--KernelManager.shutdown_wait_time=0.2",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = tmp_path / "jupyterlab.log"
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait() -> None:
        deadline = time.monotonic() + 90
        while True:
            try:
                api(base, token, "/api/status")
                return
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "step 'start JupyterLab' failed; its log ends with:\n"
                        + log_path.read_text()[-2000:]
                    ) from None
                time.sleep(0.2)

    try:
        yield base, token, wait
    finally:
        with contextlib.suppress(OSError, ValueError):
            for kernel in json.loads(api(base, token, "/api/kernels")):
                api(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


class Steps:
    """Name each browser step, so that a failure says which step broke (with a screenshot)."""

    def __init__(self, page):
        self.page = page
        self.seconds: dict[str, float] = {}  # how long each step took, for build/browser/

    @contextlib.contextmanager
    def __call__(self, name: str):
        start = time.monotonic()
        try:
            yield
            self.seconds[name] = round(time.monotonic() - start, 2)
        except Exception as error:  # any Playwright timeout or failed check
            ARTEFACTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                self.page.screenshot(path=ARTEFACTS / "failure.png", full_page=True)
            raise AssertionError(
                f"browser step '{name}' failed (screenshot: {ARTEFACTS / 'failure.png'}): "
                f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
            ) from error


# Times one change: from the input event (key press or mouse move) to the new picture loaded.
WATCH_JS = """([img, kind]) => {
    const t = {input: null, load: null};
    window.__dashboardTiming = t;
    document.addEventListener(kind, () => { t.input = t.input ?? performance.now(); },
                              {capture: true, once: true});
    img.addEventListener('load', () => { t.load = t.load ?? performance.now(); }, {once: true});
}"""


def timed(page, image, kind: str, act) -> float:
    """Run ``act`` (which sends one ``kind`` event); wait for the new picture; milliseconds."""
    before = image.get_attribute("src")
    page.evaluate(WATCH_JS, [image.element_handle(), kind])
    act()
    page.wait_for_function("() => window.__dashboardTiming.load !== null", timeout=20_000)
    assert image.get_attribute("src") != before, "the picture did not change"
    timing = page.evaluate("() => window.__dashboardTiming")
    return timing["load"] - timing["input"]


def timed_key(page, image, target, key: str) -> float:
    """Press ``key`` on ``target``; wait for the dashboard's new picture; return milliseconds."""
    return timed(page, image, "keydown", lambda: target.press(key))


def readouts_follow(readout, lr_readout, epochs_readout) -> None:
    """The text under the picture names the learning rate and epoch the sliders show."""
    from playwright.sync_api import expect

    lr, epochs = float(lr_readout.inner_text()), int(epochs_readout.inner_text())
    expect(readout).to_contain_text(f"lr={lr:g}, epoch {epochs}")


def drag(page, image, handle, readout, lr_readout, epochs_readout, dx: float, moves: int):
    """Hold ``handle`` and move the mouse ``moves`` times by ``dx`` pixels; ms per move."""
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    spent = []
    try:
        for i in range(1, moves + 1):
            shown = (lr_readout.inner_text(), epochs_readout.inner_text())
            spent.append(
                timed(page, image, "pointermove", lambda i=i: page.mouse.move(x + i * dx, y))
            )
            assert (lr_readout.inner_text(), epochs_readout.inner_text()) != shown
            readouts_follow(readout, lr_readout, epochs_readout)
    finally:
        page.mouse.up()
    return spent


def test_the_widgets_work_in_jupyterlab(jupyterlab):
    chromium = find_chromium()
    from playwright.sync_api import expect, sync_playwright

    base, token, server_ready = jupyterlab
    (ARTEFACTS / "failure.png").unlink(missing_ok=True)  # from an earlier failed run
    latencies: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            step = Steps(page)
            with step("start JupyterLab, and a kernel for the notebook"):
                server_ready()
                # As when a notebook is opened again: JupyterLab joins the session that
                # exists for its path, so the kernel starts up while the page loads.
                session = {"path": NOTEBOOK, "name": NOTEBOOK, "type": "notebook"}
                started = json.loads(
                    api(base, token, "/api/sessions", "POST", session | {"kernel": {}})
                )
            with step("open the notebook"):
                page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
                page.locator(".jp-NotebookPanel").wait_for(timeout=60_000)
            with step("wait for the kernel to be idle"):
                page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=60_000)
                kernels = [s["kernel"]["id"] for s in json.loads(api(base, token, "/api/sessions"))]
                assert kernels == [started["kernel"]["id"]], "a second kernel started"
            notebook = page.locator(".jp-NotebookPanel")
            cell = notebook.locator(".jp-CodeCell", has_text=DASHBOARD_CODE)
            by_hand = notebook.locator(".jp-CodeCell", has_text=FIT_BY_HAND_CODE)
            stored_png = cell.locator('.jp-OutputArea-output[data-mime-type="image/png"]')
            with step("find the one cell for each widget"):
                expect(cell).to_have_count(1)
                expect(by_hand).to_have_count(1)
            with step("before running, the stored dashboard output shows its picture"):
                expect(stored_png.locator("img")).to_have_count(1)
                assert "Error displaying widget" not in cell.inner_text()
            with step("clear all outputs (Edit menu)"):
                page.locator(".lm-MenuBar-item", has_text="Edit").click()
                page.locator('.lm-Menu-item[data-command="editmenu:clear-all"]').click()
                expect(notebook.locator(".jp-OutputArea-output")).to_have_count(0)
            with step("Run All (Run menu)"):
                page.locator(".lm-MenuBar-item", has_text="Run").click()
                page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
            with step("Run All reaches the dashboard cell"):
                prompt = cell.locator(".jp-InputPrompt")
                try:
                    expect(prompt).to_have_text(
                        re.compile(r"\[\d+\]"), timeout=RUN_ALL_TIMEOUT_S * 1000
                    )
                except AssertionError:
                    raise AssertionError(
                        f"the dashboard cell did not run; Run All stopped after {last_run(page)}"
                    ) from None
            with step("wait until no cell shows [*]"):
                expect(notebook.locator(".jp-InputPrompt", has_text="[*]")).to_have_count(
                    0, timeout=RUN_ALL_TIMEOUT_S * 1000
                )
            with step("no widget error text anywhere in the notebook"):
                text = notebook.inner_text()
                for bad in ("Error displaying widget", "model not found"):
                    assert bad not in text, f"the page says {bad!r}"
            with step("fit by hand: an arrow key on w moves the line and the loss readout"):
                fit_by_hand_answers_a_key(page, by_hand.locator(".jp-OutputArea-output"))
            output = cell.locator(".jp-OutputArea-output")
            sliders = output.locator(".widget-slider")
            image = output.locator("img.widget-image")
            with step("both sliders, the loss buttons and the picture render"):
                expect(sliders).to_have_count(2, timeout=30_000)
                expect(sliders.nth(0).locator(".widget-label")).to_have_text("learning rate")
                expect(sliders.nth(1).locator(".widget-label")).to_have_text("epochs")
                expect(output.locator(".widget-toggle-button")).to_have_count(2)
                expect(image).to_have_attribute("src", re.compile(r"^blob:"))
                expect(stored_png).to_have_count(0)  # the live widget, not the static picture
                page.wait_for_function(
                    "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
                )
            lr_handle, lr_readout = handle_and_readout(sliders.nth(0))
            epochs_handle, epochs_readout = handle_and_readout(sliders.nth(1))
            readout = output.locator(".widget-html")
            follow = (readout, lr_readout, epochs_readout)
            with step("the readouts start at lr 0.01 and 100 epochs"):
                expect(lr_readout).to_have_text("0.0100")
                expect(epochs_readout).to_have_text("100")
                readouts_follow(*follow)
            with step("the epochs slider moves by keyboard and redraws (100 epochs)"):
                for key, shown in (("ArrowRight", "101"), ("ArrowLeft", "100")):
                    ms = timed_key(page, image, epochs_handle, key)
                    latencies.setdefault("epochs key", []).append(ms)
                    expect(epochs_readout).to_have_text(shown)
                    readouts_follow(*follow)
            with step("the learning-rate slider moves by keyboard and redraws (100 epochs)"):
                ms = timed_key(page, image, lr_handle, "ArrowRight")  # 10**-1.9, shown rounded
                expect(lr_readout).to_have_text("0.0126")
                readouts_follow(*follow)
                latencies.setdefault("learning-rate key", []).append(ms)
                latencies["learning-rate key"].append(step_lr(page, image, lr_handle, follow))
            with step("typing 1000 into the epochs readout moves the slider"):
                epochs_readout.click()
                page.keyboard.press("ControlOrMeta+a")
                page.keyboard.type("1000")
                timed_key(page, image, epochs_readout, "Enter")
                expect(epochs_readout).to_have_text("1000")
                expect(epochs_handle).to_have_attribute("aria-valuenow", re.compile(r"^1000"))
                readouts_follow(*follow)
            with step("both sliders by keyboard at 1000 epochs"):
                for key, shown in (("ArrowLeft", "999"), ("ArrowRight", "1000")):
                    ms = timed_key(page, image, epochs_handle, key)
                    latencies["epochs key"].append(ms)
                    expect(epochs_readout).to_have_text(shown)
                    readouts_follow(*follow)
                for _ in range(2):
                    latencies["learning-rate key"].append(step_lr(page, image, lr_handle, follow))
            track = sliders.nth(0).locator(".noUi-target").bounding_box()["width"]
            with step("dragging the epochs handle to the left redraws at every move"):
                # About 60 epochs per move on a 1000-epoch track.
                ms = drag(page, image, epochs_handle, *follow, dx=-track / 16, moves=5)
                latencies["epochs drag"] = ms
            with step("dragging the learning-rate handle to the left redraws at every move"):
                # About 3 of the 40 notches per move.
                ms = drag(page, image, lr_handle, *follow, dx=-track / 12, moves=5)
                latencies["learning-rate drag"] = ms
            with step("the MSE button switches the loss and redraws"):
                before = image.get_attribute("src")
                output.locator(".widget-toggle-button", has_text="MSE").click()
                expect(image).not_to_have_attribute("src", before)
            with step("keep a screenshot of the dashboard"):
                ARTEFACTS.mkdir(parents=True, exist_ok=True)
                output.screenshot(path=ARTEFACTS / "dashboard.png")
        finally:
            browser.close()

    summary = {name: round(statistics.median(ms), 1) for name, ms in latencies.items()}
    (ARTEFACTS / "latency.json").write_text(
        json.dumps({"median_ms": summary, "all_ms": latencies, "step_s": step.seconds}, indent=2)
    )
    print("in-browser latency, input event to new picture (median ms):", summary)


def fit_by_hand_answers_a_key(page, output) -> None:
    """One step right on the w slider: its readout, the loss readout and the picture change."""
    from playwright.sync_api import expect

    w_slider = output.locator(".widget-slider").nth(0)
    expect(w_slider.locator(".widget-label")).to_have_text("w", timeout=30_000)
    image, loss = output.locator("img.widget-image"), output.locator(".widget-label").last
    expect(loss).to_contain_text("mean absolute error (L1): ")
    handle, w_readout = handle_and_readout(w_slider)
    w_before, loss_before = float(w_readout.inner_text()), loss.inner_text()
    timed_key(page, image, handle, "ArrowRight")
    expect(w_readout).to_have_text(f"{w_before + 0.01:.2f}")
    expect(loss).not_to_have_text(loss_before)
    assert re.fullmatch(r"mean absolute error \(L1\): \d+\.\d{4}", loss.inner_text())


def step_lr(page, image, handle, follow) -> float:
    """One notch up the learning-rate slider: the readouts must show a larger number."""
    _, lr_readout, _ = follow
    before = float(lr_readout.inner_text())
    ms = timed_key(page, image, handle, "ArrowRight")
    page.wait_for_function(
        "([el, old]) => parseFloat(el.textContent) > old",
        arg=[lr_readout.element_handle(), before],
        timeout=10_000,
    )
    readouts_follow(*follow)
    return ms


def handle_and_readout(slider):
    return slider.locator(".noUi-handle"), slider.locator(".widget-readout")


def last_run(page) -> str:
    """Where Run All stopped: the last code cell with a number, and its error if it raised."""
    cells = page.eval_on_selector_all(
        ".jp-NotebookPanel .jp-CodeCell",
        """cells => cells.map(c => [
            c.querySelector('.jp-InputPrompt').textContent.trim(),
            c.querySelector('.jp-InputArea-editor').textContent.slice(0, 60),
            (c.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]') || {}).textContent
        ])""",
    )
    ran = [c for c in cells if re.fullmatch(r"\[\d+\]:?", c[0])]
    if not ran:
        return "no cell at all"
    prompt, source, error = ran[-1]
    said = f"; it raised: {error.strip().splitlines()[-1][:200]}" if error else ""
    return f"cell {prompt} ({source!r}){said}"
