"""Before and after a change: the same measures on this tree and on an earlier revision, in one run.

A restructuring must not make the server slower. This benchmark extracts a
baseline revision of the package (``git archive``, by default the last commit
before the "one story in the code" restructuring; set ``CODETTE_BASELINE_REV``
to compare with another) into a temporary folder and measures both trees with
the same interpreter, alternating between them so that load on the machine
hits both alike:

- ``quality`` on a 3-minute stereo 44.1 kHz track through ``codette_lab.analyze`` (BLAS held to one thread);
- ``Engine.respond`` for a chat and a levels-only analyze frame (the engine's per-message work);
- round trips to ``python -m codette_lab serve`` for ping, chat and levels-only analyze.

Each measure runs in a fresh subprocess whose ``PYTHONPATH`` points at the tree
measured, so neither tree's modules leak into the other's figures.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: The last commit before the restructuring of issue 7 (one home per fact, rooms split).
DEFAULT_BASELINE = "782ec6a"

#: Alternating rounds per measure; the medians of the rounds' medians are compared.
ROUNDS = 3

#: A ratio under this (after / before) counts as a slowdown worth reporting.
SLOWDOWN_LIMIT = 0.9

ONE_CORE = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}

ANALYSIS_SCRIPT = """
import json, statistics, time
import numpy as np
from codette_lab import analyze
sr = 44100
rng = np.random.default_rng(7)
t = np.arange(180 * sr) / sr
tone = 0.3 * np.sin(2 * np.pi * 110 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))
noise = 0.05 * rng.standard_normal((2, t.size))
y = (tone + noise).astype(np.float32)
analyze(y, sr, kind="quality", track_type="master")
times = []
for _ in range(5):
    start = time.perf_counter()
    analyze(y, sr, kind="quality", track_type="master")
    times.append(time.perf_counter() - start)
print(json.dumps({"quality_s": statistics.median(times)}))
"""

ENGINE_SCRIPT = """
import json, statistics, sys, time
from codette_lab.engine import Engine
frames = json.loads(sys.argv[1])
engine = Engine()
result = {}
for name, frame in frames.items():
    for _ in range(200):
        engine.respond(frame)
    times = []
    for _ in range(2000):
        start = time.perf_counter()
        engine.respond(frame)
        times.append(time.perf_counter() - start)
    result[name + "_ms"] = statistics.median(times) * 1000
print(json.dumps(result))
"""

SERVER_CLIENT_SCRIPT = """
import asyncio, json, statistics, sys, time
from websockets.asyncio.client import connect
url, frames = sys.argv[1], json.loads(sys.argv[2])
async def main():
    result = {}
    async with connect(url, compression=None, max_size=None) as socket:
        await socket.recv()
        for name, frame in frames.items():
            for _ in range(200):
                await socket.send(frame); await socket.recv()
            times = []
            for _ in range(1000):
                start = time.perf_counter()
                await socket.send(frame); await socket.recv()
                times.append(time.perf_counter() - start)
            times.sort()
            result[name + "_rt_ms"] = statistics.median(times) * 1000
    print(json.dumps(result))
asyncio.run(main())
"""

PING = json.dumps({"type": "ping"})
CHAT = json.dumps(
    {
        "type": "chat",
        "message": "How should I compress a snare drum?",
        "perspective": "mix_engineering",
        "daw_context": {"selected_track": {"name": "Snare", "type": "drums", "peak_level": -4, "rms_level": -18}},
    }
)
ANALYZE = json.dumps(
    {
        "type": "analyze",
        "track_data": {"track_id": "t1", "track_name": "Lead Vocal", "track_type": "vocal"},
        "audio_data": {"peak_level": -3.2, "rms_level": -18.5, "duration": 180.0, "sample_rate": 44100},
        "analysis_type": "dynamics",
    }
)

#: (key, label, unit, lower is better)
MEASURES = (
    ("quality_s", "`quality` of a 3-minute stereo track (`analyze`)", "s"),
    ("chat_ms", "`Engine.respond`, chat", "ms"),
    ("analyze_ms", "`Engine.respond`, levels-only analyze", "ms"),
    ("ping_rt_ms", "server round trip, ping", "ms"),
    ("chat_rt_ms", "server round trip, chat", "ms"),
    ("analyze_rt_ms", "server round trip, levels-only analyze", "ms"),
)


def _extract(revision: str, into: Path) -> Path:
    """The package as it was at ``revision``, unpacked under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "codette_lab"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _environment(tree: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), **extra}


def _run(tree: Path, script: str, *args: str, **extra: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=_environment(tree, **extra),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_round_trips(tree: Path) -> dict[str, float]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "codette_lab", "serve", "--port", str(port), "--log-level", "WARNING"],
        env=_environment(tree),
        cwd=tempfile.gettempdir(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server of {tree} did not listen on port {port}") from None
                time.sleep(0.05)
        frames = json.dumps({"ping": PING, "chat": CHAT, "analyze": ANALYZE})
        return _run(tree, SERVER_CLIENT_SCRIPT, f"ws://127.0.0.1:{port}/ws", frames)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _measure(tree: Path) -> dict[str, float]:
    figures = _run(tree, ANALYSIS_SCRIPT, **ONE_CORE)
    figures.update(_run(tree, ENGINE_SCRIPT, json.dumps({"chat": CHAT, "analyze": ANALYZE})))
    figures.update(_server_round_trips(tree))
    return figures


def run() -> str:
    revision = os.environ.get("CODETTE_BASELINE_REV", DEFAULT_BASELINE)
    with tempfile.TemporaryDirectory() as folder:
        before_tree = _extract(revision, Path(folder))
        after_tree = ROOT
        rounds: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for _ in range(ROUNDS):
            rounds["before"].append(_measure(before_tree))
            rounds["after"].append(_measure(after_tree))
    rows = []
    slower = []
    for key, label, unit in MEASURES:
        before = statistics.median(figures[key] for figures in rounds["before"])
        after = statistics.median(figures[key] for figures in rounds["after"])
        ratio = before / after
        if ratio < SLOWDOWN_LIMIT:
            slower.append(label)
        rows.append(f"| {label} ({unit}) | {before:.3f} | {after:.3f} | {ratio:.2f}x |")
    verdict = (
        "**No measure is slower by more than 10 %.**"
        if not slower
        else f"**Slower by more than 10 %: {', '.join(slower)}.**"
    )
    return "\n".join(
        [
            f"## Before and after the restructuring (baseline `{revision}`)",
            "",
            f"The package at `{revision}` (extracted with `git archive`) and this tree, measured with the same "
            f"interpreter in fresh subprocesses, alternating over {ROUNDS} rounds; each figure is the median of the "
            "rounds' medians (5 analyses, 2000 engine calls, 1000 round trips per round). Ratio > 1: this tree is "
            "faster.",
            "",
            "| measure | before | after | ratio |",
            "| --- | ---: | ---: | ---: |",
            *rows,
            "",
            verdict,
        ]
    )


if __name__ == "__main__":
    print(run())
