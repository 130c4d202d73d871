"""Lesson 05's standalone server does not outlive the interpreter that started it.

The lesson starts ``codette-lab serve`` as a subprocess. Its start cell must
survive being run twice (the first server gives its port back) and the
interpreter exiting before the lesson's last cell (its atexit hook stops the
server). The cell runs here in a plain Python process: a Jupyter kernel's own
shutdown also signals the children in its process group, which would hide a
missing hook.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from conftest import free_tcp_port
from test_notebooks_run import REPO

from codette_lab.rules import RuleSet

pytestmark = pytest.mark.timeout(120)

LESSON = REPO / "notebooks" / "05_export_and_serve.ipynb"


def _serve_cell() -> str:
    notebook = nbformat.read(LESSON, as_version=4)
    (cell,) = [cell for cell in notebook.cells if cell.cell_type == "code" and "subprocess.Popen" in cell.source]
    return cell.source


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_serve_cell_survives_a_rerun_and_its_server_stops_with_the_interpreter(tmp_path: Path) -> None:
    rules_file = RuleSet.default().export(tmp_path / "tuned_rules.json")
    serve_port = free_tcp_port()
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path

        port = 0
        rules_file = Path({str(rules_file)!r})
        cell = {_serve_cell()!r}
        exec(cell)
        first = server
        exec(cell)  # the student runs the start cell again
        print(first.pid, first.poll(), server.pid, server.poll(), flush=True)
        # The interpreter exits here, before the lesson's "Stop it" cell.
        """
    )
    output, errors = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with output.open("w") as stdout, errors.open("w") as stderr:  # files: a leftover server cannot hold them open
        returncode = subprocess.run(
            [sys.executable, "-c", script],
            check=False,
            env={**os.environ, "CODETTE_SERVE_PORT": str(serve_port), "PYTHONPATH": str(REPO)},
            cwd=tmp_path,
            stdout=stdout,
            stderr=stderr,
            timeout=90,
        ).returncode
    assert returncode == 0, errors.read_text()
    first_pid, first_exit, second_pid, second_exit = output.read_text().split()[-4:]
    pids = [int(first_pid), int(second_pid)]
    try:
        assert first_exit != "None", "re-running the cell left the first standalone server running"
        assert second_exit == "None", "the second standalone server did not start"
        deadline = time.monotonic() + 15
        while any(_pid_alive(pid) for pid in pids) or not _port_is_free(serve_port):
            assert time.monotonic() < deadline, f"the standalone server outlived its interpreter on {serve_port}"
            time.sleep(0.1)
    finally:
        for pid in pids:
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
