"""Every lesson as a user runs it: JupyterLab in a real Chromium, Run All, 01 to 07 in order, each twice.

Each lesson is left running when the next one starts (as a student who moves on without shutting a
kernel down would), on the ports the lessons name (8000, 8002 ... 8007; their standalone servers on 8105
and 8107), so a lesson that takes another's port fails here. Each is run a second time in its own
kernel (Run All again). On the way, as a teacher and a researcher would:

- lesson 01's Rules tab exports under the notebook's own name, and a file someone else left where the
  export goes is not replaced without the panel's question; lessons 05 and 07 export too, and every one
  of those files is still there, each with its own contents, at the end;
- lesson 04 follows one student in the Monitor, then runs again (its start cell moves the class back to
  127.0.0.1, its network cell to every interface): the student is still followed, one row per student,
  and nothing went to stderr;
- after ``lab.stop()`` the panel says the Lab is stopped; when the start cell runs again, it follows it.

Run alone (``-m browser``); it needs Debian's chromium (scripts/install-test-deps.sh) and those ports free.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.kernel, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[1]
LAB_SETTINGS = Path(__file__).resolve().parent / "jupyter_config" / "lab-settings"
LESSONS = sorted(path.name for path in (REPO / "notebooks").glob("0[1-7]_*.ipynb"))
#: The ports the lessons serve on (and their standalone servers), which must be free for this test.
LESSON_PORTS = (8000, 8002, 8003, 8004, 8005, 8006, 8007, 8105, 8107)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
#: How long one Run All of one lesson may take on a loaded 2-core machine (the corpus lesson is the longest).
RUN_ALL_MS = 300_000


def _chromium() -> Path:
    found = os.environ.get("CODETTE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no chromium: run scripts/install-test-deps.sh (Debian package 'chromium')")
    return Path(found)


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def lessons_lab(tmp_path: Path) -> Iterator[str]:
    """A JupyterLab over a folder holding copies of the lessons; yields its URL with the token."""
    taken = [port for port in LESSON_PORTS if _port_taken(port)]
    if taken:
        pytest.skip(f"the lessons' ports {taken} are taken on this machine")
    root = tmp_path / "root"
    root.mkdir()
    for name in LESSONS:
        shutil.copy(REPO / "notebooks" / name, root)
    kernel_dir = tmp_path / "data" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python", "env": {"PYTHONPATH": str(REPO)},
    }))  # fmt: skip
    with socket.socket() as probe:  # JupyterLab's own port: held until just before it binds it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CODETTE_")}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
    )  # fmt: skip
    log = tmp_path / "jupyterlab.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}", f"--LabApp.app_settings_dir={LAB_SETTINGS}", "--LabApp.news_url=None",
             "--expose-app-in-browser", "--LabApp.extension_manager=readonly",
             *(["--allow-root"] if os.geteuid() == 0 else [])],
            env=env, cwd=root, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"JupyterLab exited:\n{log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"JupyterLab did not start:\n{log.read_text()[-3000:]}"
                time.sleep(0.25)
        yield f"{base}/lab?token={token}"
    finally:
        process.terminate()  # shuts every lesson's kernel down, and with it its Lab and servers
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


OPEN = """async (path) => {
    const app = window.jupyterapp;
    const widget = await app.commands.execute('docmanager:open', { path, factory: 'Notebook' });
    await widget.context.ready;
    await widget.sessionContext.ready;
    app.shell.activateById(widget.id);
    return widget.id;
}"""

#: ``within(promise, ms)``: the promise's value, or null once ``ms`` have passed. The commands' own promises wait for
#: the kernel's reply and idle status; a message the kernel never delivers (seen with ipykernel 7: the cell ran, its
#: outputs and idle never reached the page) would otherwise hang a wait on them for good.
WITHIN = "const within = (promise, ms) => Promise.race([promise, new Promise((r) => setTimeout(() => r(null), ms))]);"

#: Run All in the current notebook; resolves once every code cell ran again (or one failed) and the kernel idles.
RUN_ALL = """async (limitMs) => {
    {WITHIN}
    const notebook = window.jupyterapp.shell.currentWidget;
    const cells = () => notebook.content.widgets.filter((cell) => cell.model.type === 'code');
    const before = Math.max(0, ...cells().map((cell) => cell.model.executionCount || 0));
    const deadline = Date.now() + limitMs;
    await within(window.jupyterapp.commands.execute('notebook:run-all-cells'), limitMs);  // the loop says what is left
    const failed = () => cells().some((cell) => cell.model.outputs.toJSON().some((o) => o.output_type === 'error'));
    const done = () => cells().every((cell) => (cell.model.executionCount || 0) > before);
    while (!(done() || failed()) || notebook.sessionContext.session.kernel.status !== 'idle') {
        if (Date.now() > deadline) {  // a stalled Run All fails the test with what was left, never hangs it
            const left = cells().map((cell, index) => ((cell.model.executionCount || 0) > before ? null : index + 1))
                .filter((index) => index !== null);
            return [`ERROR Run All unfinished after ${limitMs} ms: code cells ${left.join(', ')} not run; `
                + `kernel ${notebook.sessionContext.session.kernel.status}`];
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return cells().map((cell) => cell.model.outputs.toJSON()
        .filter((o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'))
        .map((o) => o.output_type === 'error' ? `ERROR ${o.ename}: ${o.evalue}` : `STDERR ${o.text}`))
        .flat();
}""".replace("{WITHIN}", WITHIN)

RUN_IN_KERNEL = """async ([code, limitMs]) => {
    {WITHIN}
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const reply = await within(kernel.requestExecute({ code }).done, limitMs);
    if (reply === null) {
        return `unfinished after ${limitMs} ms; kernel ${kernel.status}`;
    }
    return reply.content.status === 'ok' ? 'ok' : `${reply.content.ename}: ${reply.content.evalue}`;
}""".replace("{WITHIN}", WITHIN)

#: Run the cell whose source holds the given text (as a user clicking into it and pressing Shift-Enter would).
RUN_CELL = """async ([text, limitMs]) => {
    {WITHIN}
    const notebook = window.jupyterapp.shell.currentWidget;
    const index = notebook.content.widgets.findIndex(
        (cell) => cell.model.type === 'code' && cell.model.sharedModel.source.includes(text));
    notebook.content.activeCellIndex = index;
    const deadline = Date.now() + limitMs;
    await within(window.jupyterapp.commands.execute('notebook:run-cell'), limitMs);
    while (notebook.sessionContext.session.kernel.status !== 'idle') {
        if (Date.now() > deadline) {  // a stalled cell fails the test, never hangs it
            const status = notebook.sessionContext.session.kernel.status;
            const count = notebook.content.widgets[index].model.executionCount;
            throw new Error(`cell ${index + 1} unfinished after ${limitMs} ms; kernel ${status}; count ${count}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return index;
}""".replace("{WITHIN}", WITHIN)


def test_every_lesson_runs_all_twice_in_order_with_the_previous_ones_left_running(
    lessons_lab: str, tmp_path: Path
) -> None:
    from playwright.sync_api import ConsoleMessage, expect, sync_playwright

    shots = Path(os.environ.get("CODETTE_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    root = tmp_path / "root"
    left_by_someone = root / "tuned_rules.json"
    left_by_someone.write_text('{"a researcher": "an export from last week"}')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(_chromium()), args=CHROMIUM_FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(RUN_ALL_MS)
            console_errors: list[str] = []  # shown when a Run All fails: what the page itself said

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    console_errors.append(message.text)

            page.on("console", on_console)
            page.goto(lessons_lab)
            page.wait_for_function("() => window.jupyterapp?.shell != null && window.jupyterapp.started")

            def run_in_kernel(code: str) -> None:
                outcome = page.evaluate(RUN_IN_KERNEL, [code, RUN_ALL_MS])
                assert outcome == "ok", (code, outcome, console_errors[-5:])

            for lesson in LESSONS:
                page.evaluate(OPEN, lesson)
                for attempt in (1, 2):
                    problems = page.evaluate(RUN_ALL, RUN_ALL_MS)
                    errors = [problem for problem in problems if problem.startswith("ERROR")]
                    assert not errors, (
                        f"{lesson}, Run All #{attempt}: {errors}; the page's errors: {console_errors[-5:]}"
                    )
                    if lesson.startswith("04"):
                        assert not problems, f"{lesson} wrote to stderr (shown like an error): {problems}"
                    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .codette-lab-panel").last
                    # the widget's view is drawn after the kernel idles: wait for it as a reader would
                    expect(panel).to_be_visible(timeout=60_000)
                    page.screenshot(path=str(shots / f"{lesson[:2]}_run{attempt}.png"))

                    if lesson.startswith("01") and attempt == 1:
                        panel.get_by_role("tab", name="Rules").click()
                        rule_file = panel.locator(".codette-rules-path input")
                        expect(rule_file).to_have_value("01_quickstart_rules.json")
                        panel.get_by_role("button", name="Export").click()
                        expect(panel).to_contain_text("Exported to")
                        rule_file.fill(str(left_by_someone))
                        panel.get_by_role("button", name="Export").click()
                        question = panel.locator(".codette-overwrite-question", has_text="was not written by this Lab")
                        expect(question).to_contain_text("was not written by this Lab")
                        panel.screenshot(path=str(shots / "01_export_question.png"))
                        question.get_by_role("button", name="Keep it").click()
                        expect(question).to_be_hidden()

                    if lesson.startswith("04") and attempt == 2:  # follow one student through two host changes
                        panel.get_by_role("tab", name="Monitor").click()
                        show = panel.get_by_role("combobox", name="Show")
                        show.select_option(label="student_2")
                        page.evaluate(RUN_CELL, ["lab = Lab(port=port)", RUN_ALL_MS])  # back to 127.0.0.1: a restart
                        page.evaluate(RUN_CELL, ['Lab(port=port, host="0.0.0.0")', RUN_ALL_MS])  # all interfaces
                        run_in_kernel(
                            "import time\n"
                            "deadline = time.monotonic() + 60\n"
                            "while len([s for s in lab.clients.students() if s.connected]) < 6:\n"
                            "    assert time.monotonic() < deadline, lab.clients.students()\n"
                            "    time.sleep(0.1)\n"
                            "panel.monitor.refresh()"
                        )
                        expect(show.locator("option:checked")).to_have_text("student_2")
                        expect(panel.locator(".codette-students")).to_contain_text("student_6")
                        expect(panel.locator(".codette-students")).to_contain_text("Lead Vocal")  # tracks kept
                        expect(panel).to_contain_text("6 DAW(s) connected")
                        expect(panel).to_contain_text("students join at http")
                        expect(panel).not_to_contain_text("0.0.0.0")
                        run_in_kernel('assert panel.monitor.filter.value == "student_2"')
                        panel.screenshot(path=str(shots / "04_monitor_after_host_change.png"))

            # The last lesson stopped, its panel used, then started again from its start cell.
            run_in_kernel("lab.stop()")
            panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .codette-lab-panel").last
            panel.get_by_role("tab", name="Chat").click()
            panel.locator(".codette-chat-message input").fill("Anyone there?")
            panel.locator(".codette-chat-message input").press("Enter")
            transcript = panel.locator(".codette-chat-transcript")
            expect(transcript).to_contain_text("The Lab is stopped", timeout=60_000)
            expect(transcript).not_to_contain_text("ConnectionRefused")
            panel.get_by_role("tab", name="Monitor").click()
            expect(panel).to_contain_text("the Lab is stopped")
            panel.screenshot(path=str(shots / "07_stopped.png"))
            page.evaluate(RUN_CELL, ["lab = Lab(", RUN_ALL_MS])
            expect(panel).to_contain_text("students join at", timeout=60_000)
            panel.get_by_role("tab", name="Chat").click()
            panel.locator(".codette-chat-message input").fill("And now?")
            panel.locator(".codette-chat-message input").press("Enter")
            expect(transcript).to_contain_text("confidence", timeout=120_000)
        finally:
            browser.close()

    # Every export is still there, each with its own contents; the file someone left is untouched.
    assert left_by_someone.read_text() == '{"a researcher": "an export from last week"}'
    names = ("01_quickstart_rules.json", "05_tuned_rules.json", "06_fitted_rules.json", "07_tuned_rules.json")
    exported = {name: json.loads((root / name).read_text()) for name in names}
    values = {name: {p["name"]: p["value"] for p in data["parameters"]} for name, data in exported.items()}
    assert values["05_tuned_rules.json"]["vocal.highpass_hz"] == 110
    assert values["07_tuned_rules.json"]["general.headroom_peak_dbfs"] == -4.0
    assert values["01_quickstart_rules.json"]["vocal.highpass_hz"] != 110
