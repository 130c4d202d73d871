"""The client examples of the protocol document, run unchanged against our server.

The code is extracted from ``websocket-api.md`` at test time (never copied
into the repository): the document is found through the environment variable
``CODETTE_API_DOC`` or at ``../shared/websocket-api.md`` next to the repository
(as on CI). Without it these tests skip, saying which variable to set; the
project's own description of the protocol (``docs/protocol.md``) and its own
example clients (``examples/``, run by ``tests/test_example_clients.py``) do
not need it. Only the server URL is substituted, to point at the test's port.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codette_lab.engine import Engine

DOCUMENT_URL = "ws://localhost:8000/ws"


@pytest.fixture(scope="module")
def api_document(repo_root: Path) -> str:
    path = Path(os.environ.get("CODETTE_API_DOC") or repo_root.parent / "shared" / "websocket-api.md")
    if not path.is_file():
        pytest.skip(
            f"the original protocol document was not found at {path}: "
            "set CODETTE_API_DOC to the path of websocket-api.md to run its client examples"
        )
    return path.read_text(encoding="utf-8")


def code_block(document: str, language: str, containing: str) -> str:
    """The fenced ``language`` block of the document whose code contains ``containing``."""
    for block in re.findall(rf"```{language}\n(.*?)```", document, flags=re.DOTALL):
        if containing in block:
            assert DOCUMENT_URL in block, f"the {language} example no longer connects to {DOCUMENT_URL}"
            return block
    raise AssertionError(f"no {language} code block containing {containing!r} in the protocol document")


def test_the_documents_python_client(api_document, server, tmp_path):
    source = code_block(api_document, "python", "async def chat_with_codette")
    script = tmp_path / "client.py"
    script.write_text(source.replace(DOCUMENT_URL, server.url), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    connected, answer = run.stdout.split("\nCodette: ", 1)
    welcome = json.loads(connected.removeprefix("Connected: "))
    assert welcome["type"] == "connection" and welcome["message"] == "Connected to Codette AI Unified Server"
    expected = Engine().chat("How should I mix bass?", perspective="mix_engineering").response
    assert answer.rstrip("\n") == expected


DRIVER = """
// --- test driver (appended by tests/test_seed_clients.py) ---
const codette = new CodetteWebSocket();
const answered = new Promise<void>((resolve) => {
  let count = 0;
  const report = (label: string) => (message: any) => {
    console.log(`${label} ${JSON.stringify(message)}`);
    if (++count === 3) resolve();
  };
  codette.onChatResponse = report("CHAT");
  codette.onStatusUpdate = report("STATUS");
  codette.onAnalysisResult = report("ANALYSIS");
});
setTimeout(() => { console.error("TIMEOUT waiting for replies"); process.exit(3); }, 30000).unref();
await codette.connect();
codette.send({ type: "ping" });
codette.send({ type: "xyz" });
codette.sendChat("How should I mix drums?");
codette.requestStatus();
codette.analyzeTrack(TRACK, AUDIO, "dynamics");
await answered;
codette.disconnect();
process.exit(0);
"""

TRACK = {"track_id": "track_007", "track_name": "Drum Bus", "track_type": "drums", "muted": False, "soloed": False}
AUDIO = {"peak_level": -0.5, "rms_level": -9.0, "duration": 95.0, "sample_rate": 48000}


def test_the_documents_typescript_client_under_node(api_document, server, repo_root, tmp_path):
    node_dir = repo_root / "tests" / "node"
    assert (node_dir / "node_modules" / "typescript").is_dir(), "run scripts/install-test-deps.sh (npm ci)"
    node = shutil.which("node")
    assert node, "Node.js 20.10+ is needed: run scripts/install-test-deps.sh"
    block = code_block(api_document, "typescript", "class CodetteWebSocket")
    class_source = block[: block.index("// Usage")]
    driver = DRIVER.replace("TRACK", json.dumps(TRACK)).replace("AUDIO", json.dumps(AUDIO))
    typescript = tmp_path / "client.ts"
    typescript.write_text(class_source.replace(DOCUMENT_URL, server.url) + driver, encoding="utf-8")
    module = tmp_path / "client.mjs"
    subprocess.run([node, str(node_dir / "transpile.cjs"), str(typescript), str(module)], check=True, timeout=60)

    run = subprocess.run([node, "--experimental-websocket", str(module)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert any(line.endswith("Connected: Connected to Codette AI Unified Server") for line in lines)
    assert any(line.endswith("Pong received") for line in lines)
    assert "Server error: Unknown message type: xyz" in run.stderr
    handled = {
        line.split(" ", 1)[0]: json.loads(line.split(" ", 1)[1])
        for line in lines
        if line.split(" ", 1)[0] in {"CHAT", "STATUS", "ANALYSIS"}
    }
    reference = Engine()
    assert (
        handled["CHAT"]["response"] == reference.chat("How should I mix drums?", perspective="mix_engineering").response
    )
    assert handled["STATUS"]["status"] == "ok" and handled["STATUS"]["active_connections"] == 1
    analysis = handled["ANALYSIS"]
    frame = {"type": "analyze", "track_data": TRACK, "audio_data": AUDIO, "analysis_type": "dynamics"}
    assert analysis["trackId"] == "track_007"
    assert analysis["analysis"] == reference.respond(json.dumps(frame))["analysis"]
