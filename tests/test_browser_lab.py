"""The quickstart in a real JupyterLab, driven through a real Chromium: run it, see the panel, chat from it.

JupyterLab runs headless on a free port with a token, in throw-away config,
data, runtime, settings and workspace folders. Its settings are pinned by
``tests/jupyter_config/lab-settings/overrides.json``: in particular
``commsOverSubshells`` is ``disabled``, so widget messages are handled on the
kernel's main shell in order, run after run (JupyterLab 4.4+ would otherwise
send them to a subshell per comm target, concurrently with the cells).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[1]
#: Where a Chromium may be, first found wins: $CODETTE_CHROMIUM, then these names on PATH.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LAB_SETTINGS = Path(__file__).resolve().parent / "jupyter_config" / "lab-settings"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUESTION = "How should I compress the bass guitar?"


def chromium() -> str:
    """The Chromium to drive: found, or the test fails saying how to install one (it never skips)."""
    named = os.environ.get("CODETTE_CHROMIUM")
    found = named if named and Path(named).is_file() else next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if found is None:
        pytest.fail(
            "no Chromium found (looked for $CODETTE_CHROMIUM, then " + ", ".join(CHROMIUM_NAMES) + " on PATH): "
            "run scripts/install-test-deps.sh (Debian package 'chromium'), or set CODETTE_CHROMIUM to its path"
        )
    return found


def _wait_until_up(runtime: Path, process: subprocess.Popen, log: Path, token: str, *, timeout: float = 90) -> str:
    """JupyterLab's base URL once it answers; its port (it was started on port 0) is read from its runtime file."""
    deadline = time.monotonic() + timeout
    info = runtime / f"jpserver-{process.pid}.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            base = f"http://127.0.0.1:{json.loads(info.read_text())['port']}"
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                if response.status == 200:
                    return base
        except (OSError, ValueError, KeyError):
            time.sleep(0.25)
    raise AssertionError(f"JupyterLab did not answer within {timeout:g} s:\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class JupyterLabServer:
    base_url: str
    token: str

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}?token={self.token}"

    def get_json(self, path: str) -> dict:
        with urllib.request.urlopen(self.url(path), timeout=10) as response:
            return json.load(response)


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[JupyterLabServer]:
    """A JupyterLab serving a copy of the quickstart from a throw-away root folder."""
    chromium()  # before starting JupyterLab: fail at once, saying how to install it
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(REPO / "notebooks" / "01_quickstart.ipynb", root)
    kernel_dir = tmp_path / "data" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "env": {"PYTHONPATH": str(REPO)},
            }
        )
    )
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "CODETTE_PORT": "0",  # the quickstart's Lab takes any free port
    }
    log = tmp_path / "jupyterlab.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyterlab", "--no-browser",
                "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                f"--LabApp.app_settings_dir={LAB_SETTINGS}", "--LabApp.news_url=None", "--expose-app-in-browser",
                "--LabApp.extension_manager=readonly", *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            env=env, cwd=root, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        server = JupyterLabServer(_wait_until_up(tmp_path / "runtime", process, log, token), token)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_comms_over_subshells_is_pinned(jupyterlab: JupyterLabServer) -> None:
    settings = jupyterlab.get_json("lab/api/settings/@jupyterlab/apputils-extension:kernels-settings")
    assert settings["schema"]["properties"]["commsOverSubshells"]["default"] == "disabled"
    assert "commsOverSubshells" not in settings.get("settings", {})  # no user setting overrides the pin


#: What the kernel runs for the browser test's later steps (the notebook's ``lab``, ``daw`` and ``panel``).
SLOW_TYPE = """
import time

@lab.analysis_type("slow_peak")
def slow_peak(request):
    time.sleep(3)
    return {"insights": "measured slowly", "metrics": {"peak_linear": float(abs(request.samples).max())}}

panel.analysis.choose("bass.flac", analysis_type="slow_peak")
"""

#: Elements that scroll sideways (content wider than they are): the panel, everything in it, and the
#: notebook output area holding it.
SIDEWAYS = """(panel) => [panel.closest('.jp-OutputArea-child') || panel]
    .flatMap((root) => [root, ...root.querySelectorAll('*')])
    .filter((el) => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1
        && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
    .map((el) => el.className || el.tagName)"""

RUN_IN_KERNEL = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const reply = await kernel.requestExecute({ code }).done;
    return reply.content.status;
}"""

RERUN_START_CELL = """async () => {
    const notebook = window.jupyterapp.shell.currentWidget;
    const index = notebook.content.widgets.findIndex((cell) => cell.model.sharedModel.source.includes('lab = Lab('));
    notebook.content.activeCellIndex = index;
    await window.jupyterapp.commands.execute('notebook:run-cell');
    return index;
}"""


def test_quickstart_in_jupyterlab_and_a_panel_that_keeps_working(jupyterlab: JupyterLabServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("CODETTE_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(jupyterlab.url("lab/tree/01_quickstart.ipynb"))
            page.wait_for_function(
                "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel != null",
                timeout=90_000,
            )
            page.evaluate(
                """async () => {
                    const notebook = window.jupyterapp.shell.currentWidget;
                    await notebook.sessionContext.ready;
                    await window.jupyterapp.commands.execute('notebook:run-all-cells');
                }"""
            )
            panel = page.locator(".codette-lab-panel").first
            expect(panel).to_be_visible(timeout=120_000)
            expect(panel.get_by_role("tab", name="Monitor")).to_be_visible()
            expect(panel.get_by_role("tab", name="Rules")).to_be_visible()

            def ask(question: str) -> str:
                panel.get_by_role("tab", name="Chat").click()
                panel.locator(".codette-chat-message input").fill(question)
                panel.locator(".codette-chat-message input").press("Enter")  # Enter sends
                transcript = panel.locator(".codette-chat-transcript")
                expect(transcript).to_contain_text(question, timeout=120_000)
                expect(transcript).to_contain_text("confidence")
                return transcript.inner_text()

            answer = ask(QUESTION)
            reply = answer.split(QUESTION, 1)[1]  # the question itself says "compress": look at what came back
            assert "compress" in reply.lower() and "Error" not in answer
            expect(page.locator(".jp-Notebook .jp-Cell").last).to_be_visible()  # Run All reached the end

            # The start cell again: the panel displayed before it keeps working on the same server.
            page.evaluate(RERUN_START_CELL)
            page.wait_for_function(
                "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'"
            )
            assert page.evaluate(RUN_IN_KERNEL, "assert lab.running and 'vocal_coach' in lab.perspectives()") == "ok"
            again = ask("What about the kick drum?")
            assert "What about the kick drum?" in again and "Unknown perspective" not in again

            # A DAW's message shows in the Monitor with what it asked, under the DAW's name.
            assert page.evaluate(RUN_IN_KERNEL, 'daw.chat("Does the kick need more low end?")') == "ok"
            panel.get_by_role("tab", name="Monitor").click()
            log = panel.locator(".codette-monitor-log textarea")
            expect(log).to_have_value(re.compile("studio DAW.*Does the kick need more low end"), timeout=30_000)
            expect(panel).to_contain_text("DAW(s) connected")
            panel.screenshot(path=str(shots / "monitor.png"))

            # A slow notebook analysis: busy while it runs, then its own metrics in the table.
            assert page.evaluate(RUN_IN_KERNEL, SLOW_TYPE) == "ok"
            panel.get_by_role("tab", name="Analysis").click()
            run = panel.locator(".codette-analysis-run")
            run.click()
            expect(panel.locator(".codette-busy-label .fa-spinner")).to_be_visible(timeout=10_000)
            expect(run).to_be_disabled()
            panel.screenshot(path=str(shots / "analysis_busy.png"))
            expect(panel.locator(".codette-metrics")).to_contain_text("peak_linear", timeout=60_000)
            expect(run).to_be_enabled()
            panel.screenshot(path=str(shots / "analysis.png"))

            # A rule group's sliders are built when it is opened: opened by a click, as a teacher would.
            panel.get_by_role("tab", name="Rules").click()
            assert page.evaluate(RUN_IN_KERNEL, "assert not panel.rules.rows.built") == "ok"
            panel.get_by_text("vocal", exact=True).filter(visible=True).first.click()
            expect(panel.get_by_text("comp attack (ms)")).to_be_visible(timeout=30_000)
            expect(panel.locator(".widget-slider:visible").first).to_be_visible()
            for tab in ("Chat", "Monitor", "Analysis", "Rules"):
                panel.get_by_role("tab", name=tab).click()
                page.wait_for_timeout(300)
                assert panel.evaluate(SIDEWAYS) == [], f"the {tab} tab scrolls sideways"
                panel.screenshot(path=str(shots / f"tab_{tab.lower()}.png"))
            assert (shots / "tab_rules.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            browser.close()
