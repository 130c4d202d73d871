"""Our own example clients (examples/), run unchanged against a real server on 127.0.0.1.

Both clients go through the same exchange (welcome, ping, status, a chat
question, a levels-only analysis) and print ``<request> <reply as JSON>`` per
line. The replies must be what docs/protocol.md describes and what the engine
answers to the same requests. The TypeScript client is type-checked with the
pinned compiler in tests/node (strict, browser library only: it must not need
Node's types) and run under Node's standard WebSocket.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codette_lab.engine import Engine

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
NODE_DIR = Path(__file__).resolve().parent / "node"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

#: What both examples send, as the reference engine is asked it.
QUESTION = {"type": "chat", "message": "How should I compress a snare?", "perspective": "mix_engineering"}
ANALYZE = {
    "type": "analyze",
    "track_data": {
        "track_id": "track_001",
        "track_name": "Drum Bus",
        "track_type": "drums",
        "muted": False,
        "soloed": False,
    },
    "audio_data": {"peak_level": -1.0, "rms_level": -14.0, "duration": 20.0, "sample_rate": 44100},
    "analysis_type": "dynamics",
}


def replies_of(stdout: str) -> dict[str, dict[str, Any]]:
    """``{request: reply}`` from the ``<request> <json>`` lines a client printed."""
    printed = [line.split(" ", 1) for line in stdout.splitlines() if line.strip()]
    return {label: json.loads(text) for label, text in printed}


def assert_the_exchange(printed: dict[str, dict[str, Any]]) -> None:
    assert list(printed) == ["welcome", "ping", "status", "chat", "analyze"]
    for reply in printed.values():
        assert TIMESTAMP.fullmatch(reply["timestamp"]), reply
    assert printed["welcome"] == {
        "type": "connection",
        "status": "connected",
        "message": "Connected to Codette AI Unified Server",
        "codette_available": True,
        "timestamp": printed["welcome"]["timestamp"],
    }
    assert printed["ping"]["type"] == "pong"
    status = printed["status"]
    assert status["type"] == "status_response" and status["status"] == "ok"
    assert status["active_connections"] == 1 and status["codette_available"] is True

    reference = Engine()
    chat = printed["chat"]
    expected_chat = reference.respond(json.dumps(QUESTION))
    assert chat["type"] == "chat_response" and chat["perspective"] == "mix_engineering"
    assert chat["response"] == expected_chat["response"] and "snare" in chat["response"].lower()
    assert chat["confidence"] == expected_chat["confidence"]

    analysis = printed["analyze"]
    assert analysis["type"] == "analysis_response" and analysis["status"] == "success"
    assert analysis["trackId"] == "track_001"
    assert analysis["analysis"] == reference.respond(json.dumps(ANALYZE))["analysis"]
    assert analysis["analysis"]["analysis_type"] == "dynamics"
    assert analysis["analysis"]["measured_from"] == "levels"
    assert "headroom" in {problem["rule"] for problem in analysis["analysis"]["problems_detected"]}


def test_the_python_client(server) -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "python_client.py"), server.url], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert_the_exchange(replies_of(run.stdout))


def test_the_python_client_sends_a_file_in_a_binary_frame(server) -> None:
    from codette_lab.resources import demo_folder

    vocal = demo_folder() / "stems" / "vocal.flac"
    join_page = f"http://127.0.0.1:{server.port}/?name=Ada"  # the page's URL works too
    command = [sys.executable, str(EXAMPLES / "python_client.py"), join_page, "--file", str(vocal)]
    run = subprocess.run([*command, "--analysis-type", "loudness"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    printed = replies_of(run.stdout)
    assert list(printed) == ["welcome", "ping", "status", "chat", "analyze", "analyze_file"]
    analysis = printed["analyze_file"]["analysis"]
    assert analysis["measured_from"] == "audio" and analysis["analysis_type"] == "loudness"
    by_path = {**ANALYZE, "analysis_type": "loudness", "audio_data": {"file_path": str(vocal)}}
    expected = Engine().respond(json.dumps(by_path))
    assert analysis["metrics"]["integrated_lufs"] == expected["analysis"]["metrics"]["integrated_lufs"]


def test_the_python_client_retries_a_busy_server(engine, release) -> None:
    """The only analysis slot is held by a slow notebook analysis: the client is told "Server busy:" and
    sends again by itself, with growing pauses, until the slot is free."""
    import threading

    from conftest import WsClient

    from codette_lab.resources import demo_folder
    from codette_lab.server import BackgroundServer

    engine.analysis_types.register("held", lambda request: release.wait(60) and {"insights": "done"})
    busy_seen = threading.Event()
    with BackgroundServer(engine, port=0, max_queued_analyses=1, request_timeout=60) as server:
        server.add_listener(lambda event: "Server busy" in (event.detail or "") and busy_seen.set())
        holder = WsClient(server.url, timeout=60)
        holder.send({"type": "analyze", "analysis_type": "held", "track_data": {"track_name": "x"}})
        command = [sys.executable, str(EXAMPLES / "python_client.py"), server.url]
        client = subprocess.Popen(
            [*command, "--file", str(demo_folder() / "stems" / "bass.flac"), "--analysis-type", "levels"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert busy_seen.wait(60), "the client was never told the server is busy"
            release.set()
            stdout, stderr = client.communicate(timeout=120)
            assert holder.recv()["type"] == "analysis_response"
        finally:
            client.kill()
            holder.close()
    assert client.returncode == 0, stderr
    assert "Server busy: 1 analyses are already queued (limit 1)" in stderr and "retrying in" in stderr
    assert replies_of(stdout)["analyze_file"]["type"] == "analysis_response"


def test_the_python_client_says_when_no_server_listens(closed_port) -> None:
    url = f"ws://127.0.0.1:{closed_port}/ws"
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "python_client.py"), url], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert f"cannot reach {url}" in run.stderr and "make serve" in run.stderr


@pytest.fixture(scope="module")
def node() -> str:
    assert (NODE_DIR / "node_modules" / "typescript").is_dir(), "run scripts/install-test-deps.sh (npm ci)"
    found = shutil.which("node")
    assert found, "Node.js 20.10+ is needed: run scripts/install-test-deps.sh"
    return found


@pytest.fixture(scope="module")
def typescript_module(node: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example and the client it imports, compiled to ES modules by the pinned compiler."""
    out = tmp_path_factory.mktemp("typescript")
    tsc = NODE_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    options = ["--target", "es2022", "--module", "esnext", "--lib", "es2022,dom", "--rootDir", str(REPO)]
    subprocess.run(
        [node, str(tsc), *options, "--outDir", str(out), str(EXAMPLES / "typescript_client.ts")],
        check=True,
        timeout=120,
    )
    (out / "package.json").write_text('{"type": "module"}')
    return out / "examples" / "typescript_client.js"


def test_the_typescript_client_type_checks_strictly(node: str) -> None:
    tsc = NODE_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    options = ["--strict", "--noEmit", "--target", "es2022", "--module", "esnext", "--lib", "es2022,dom"]
    run = subprocess.run(
        [node, str(tsc), *options, str(EXAMPLES / "typescript_client.ts")], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_typescript_client_under_node(node: str, typescript_module: Path, server) -> None:
    run = subprocess.run(
        [node, "--experimental-websocket", str(typescript_module), server.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert_the_exchange(replies_of(run.stdout))


def test_the_typescript_client_sends_an_audio_file_in_a_binary_frame(
    node: str, typescript_module: Path, server
) -> None:
    from codette_lab.resources import demo_folder

    stem = demo_folder() / "stems" / "bass.flac"
    run = subprocess.run(
        [node, "--experimental-websocket", str(typescript_module), server.url, str(stem)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    reply = replies_of(run.stdout)["analyze_file"]
    assert reply["type"] == "analysis_response" and reply["trackId"] == "file_001"
    assert reply["analysis"]["measured_from"] == "audio" and reply["analysis"]["track_type"] == "bass"


def test_the_typescript_client_says_when_no_server_listens(node: str, typescript_module: Path, closed_port) -> None:
    url = f"ws://127.0.0.1:{closed_port}/ws"
    run = subprocess.run(
        [node, "--experimental-websocket", str(typescript_module), url], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1
    assert f"cannot connect to {url}" in run.stderr
