"""``codette-lab serve`` as a real subprocess (``python -m codette_lab``)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from conftest import ServeProcess
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

HEAVY_MODULES = ("librosa", "numba", "matplotlib", "pyloudnorm", "soundfile", "ipywidgets")


def wait_for_health(port: int, *, within: float) -> dict:
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"no /health answer within {within} s") from None
            time.sleep(0.05)


@pytest.fixture
def serve_process() -> Iterator[Callable[..., ServeProcess]]:
    """Start ``codette-lab serve --port 0 ARGS...``; every server started is killed at teardown if still running."""
    started: list[ServeProcess] = []

    def start(*arguments: str) -> ServeProcess:
        started.append(ServeProcess(*arguments))
        return started[-1]

    yield start
    for served in started:
        served.stop()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_health_and_stops_cleanly(serve_process, stop_signal):
    # The 2 s start-up target is measured in benchmarks/bench_server.py; the deterministic guard
    # for it is the test below that nothing heavy is imported at start-up.
    served = serve_process()
    port = served.wait_for_port()
    health = wait_for_health(port, within=30.0)
    assert health["status"] == "healthy" and health["codette_available"] is True
    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as client:
        assert json.loads(client.recv(timeout=10))["type"] == "connection"
        client.send('{"type": "ping"}')
        assert json.loads(client.recv(timeout=10))["type"] == "pong"
        served.process.send_signal(stop_signal)
        with pytest.raises(ConnectionClosedOK):
            client.recv(timeout=10)
        assert client.close_code == 1001
    assert served.process.wait(timeout=10) == 0
    log = served.log()
    assert f"listening on ws://127.0.0.1:{port}/ws" in log
    assert "WebSocket connected: " in log and "(total: 1)" in log and "received: ping" in log
    assert "WebSocket disconnected: " in log and "(remaining: 0)" in log
    with socket.socket() as probe:  # the port is free again
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_starting_the_server_imports_no_heavy_library(repo_root):
    probe = (
        "import asyncio, sys\n"
        "from codette_lab.cli import build_parser, _build_engine\n"
        "from codette_lab.server import serve\n"
        "engine = _build_engine(build_parser().parse_args(['serve']))\n"
        "async def main():\n"
        "    async with serve(engine, port=0):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        f"print(sorted(name for name in {HEAVY_MODULES!r} if name in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=repo_root, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


@pytest.mark.parametrize("content", [None, "{not json", '{"rules": 3}', "[]"])
def test_a_bad_rules_file_exits_2_naming_it(repo_root, tmp_path, content):
    path = tmp_path / "my_rules.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "codette_lab", "serve", "--port", "0", "--rules", str(path)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("codette-lab serve: error: ") and str(path) in run.stderr
    assert "rules" in run.stderr.lower() and "Traceback" not in run.stderr


def test_a_port_in_use_exits_1_naming_it(repo_root):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "codette_lab", "serve", "--port", str(port)],
            cwd=repo_root,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in run.stderr and "Traceback" not in run.stderr


def test_bad_arguments_exit_2(repo_root):
    run = subprocess.run(
        [sys.executable, "-m", "codette_lab", "serve", "--request-timeout", "0"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "--request-timeout" in run.stderr


def test_the_help_says_which_functions_the_time_limit_applies_to(repo_root):
    run = subprocess.run(
        [sys.executable, "-m", "codette_lab", "serve", "--help"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    help_text = " ".join(run.stdout.split())
    assert run.returncode == 0
    assert "time limit for a function defined in a notebook" in help_text
    assert "built-in perspectives and analyses are never cut short (default: 5 s)" in help_text
