"""Benchmark: how promptly refusals, pongs and stops come, the figures the unit tests no longer time.

The tests check the order of events (a pong comes back while an analysis is
still held, a FIFO is refused without blocking, a stop returns while a client
has stopped reading); how long each takes on this machine is measured here,
side by side with what it is compared against, so a slowdown shows as a
changed row rather than as a flaky test.

Rows (each repeated RUNS times; p50 is the median, "max" the largest of the runs):

- understanding a chat of 2,000 and of 16,000 distinct made-up words (linear
  growth is 8x, the quadratic matching it replaced was 64x);
- refusing a 500 KB chat (``Engine.respond``: the limit is checked before
  any matching);
- refusing an audio file that is a FIFO, and a WAV whose header says 50
  minutes (sparse on disk: the length is read from the header), and a rule
  file that is a FIFO;
- a pong on the connection whose notebook analysis is still running;
- pongs on a second connection while the first sends 500 KB chats, and while
  it sends a 60 s stereo clip (28 MB) to a recording server;
- a notebook analysis stuck past a 1 s time limit: when its ``error`` comes;
- stopping a ``BackgroundServer`` and ``codette-lab serve`` (SIGTERM) while a
  client has stopped reading its replies.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import socket
import statistics
import string
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from websockets.sync.client import ClientConnection, connect

RUNS = 5
RATE = 44100
LEVELS = {
    "type": "analyze",
    "track_data": {"track_id": "t1", "track_name": "Bass", "track_type": "bass"},
    "audio_data": {"peak_level": -3.0, "rms_level": -15.0, "duration": 60.0, "sample_rate": RATE},
}
PING = json.dumps({"type": "ping"})


def distinct_words(count: int, *, seed: int = 1) -> str:
    rng = random.Random(seed)
    words = dict.fromkeys("".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(count * 2))
    return " ".join(list(words)[:count])


def timed(work: Callable[[], object], runs: int = RUNS) -> list[float]:
    """Seconds each of ``runs`` calls of ``work`` took (after one call not counted)."""
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


def _ms(times: list[float]) -> tuple[str, str]:
    return f"{statistics.median(times) * 1000:.2f}", f"{max(times) * 1000:.2f}"


def understanding() -> list[tuple[str, list[float]]]:
    from codette_lab.knowledge import KnowledgeBase

    base = KnowledgeBase.builtin()
    small, large = distinct_words(2000), distinct_words(16000)
    return [
        ("understanding 2,000 distinct words", timed(lambda: base.parse(small))),
        ("understanding 16,000 distinct words", timed(lambda: base.parse(large))),
    ]


def refusals(folder: Path) -> list[tuple[str, list[float]]]:
    import soundfile

    from codette_lab.audio_input import AudioRoots, read_audio_file
    from codette_lab.engine import Engine
    from codette_lab.errors import AudioError, RulesError
    from codette_lab.rules import RuleSet

    engine = Engine()
    huge_chat = json.dumps({"type": "chat", "message": distinct_words(64000)})
    os.mkfifo(folder / "stuck.wav")
    os.mkfifo(folder / "rules.fifo")
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(int(0.1 * RATE)) / RATE)).astype(np.float32)
    soundfile.write(folder / "huge.wav", tone, RATE, subtype="PCM_16")
    size = 256 * 2**20  # 50 minutes of 16-bit mono, claimed by the header, sparse on disk
    header = bytearray((folder / "huge.wav").read_bytes()[:44])
    struct.pack_into("<I", header, 4, size - 8)
    struct.pack_into("<I", header, 40, size - 44)
    with (folder / "huge.wav").open("r+b") as handle:
        handle.write(header)
        handle.truncate(size)
    roots = AudioRoots([folder])

    def refused(function: Callable[[], object], error: type[Exception]) -> Callable[[], None]:
        def call() -> None:
            try:
                function()
            except error:
                return
            raise AssertionError("not refused")

        return call

    fifo_rules = folder / "rules.fifo"

    def audio(name: str) -> Callable[[], None]:
        return refused(lambda: read_audio_file(name, roots=roots), AudioError)

    return [
        ("refusing a 500 KB chat", timed(lambda: engine.respond(huge_chat))),
        ("refusing an audio file that is a FIFO", timed(audio("stuck.wav"))),
        ("refusing a WAV of 50 minutes (header only)", timed(audio("huge.wav"))),
        ("refusing a rule file that is a FIFO", timed(refused(lambda: RuleSet.load(fifo_rules), RulesError))),
    ]


def _ask(client: ClientConnection, message: str) -> dict[str, Any]:
    client.send(message)
    return json.loads(client.recv(timeout=120))


def _connected(url: str) -> ClientConnection:
    client = connect(url, open_timeout=30, max_size=None)
    client.recv(timeout=30)  # the welcome
    return client


def pong_behind_held_analysis() -> list[float]:
    """Round trip of a ping sent while the same connection's notebook analysis is held."""
    from codette_lab.engine import Engine
    from codette_lab.server import BackgroundServer

    engine = Engine()
    release, started = threading.Event(), threading.Event()

    def held(request: Any) -> dict[str, Any]:
        started.set()
        release.wait(30)
        return {"insights": "held"}

    engine.analysis_types.register("held", held)
    times = []
    with BackgroundServer(engine, port=0, request_timeout=60) as server, _connected(server.url) as client:
        for _ in range(RUNS):
            release.clear()
            started.clear()
            client.send(json.dumps({**LEVELS, "analysis_type": "held"}))
            started.wait(30)
            asked = time.perf_counter()
            assert _ask(client, PING)["type"] == "pong"
            times.append(time.perf_counter() - asked)
            release.set()
            assert json.loads(client.recv(timeout=60))["type"] == "analysis_response"
    return times


def pings_while(send: Callable[[ClientConnection], object], *, record_to: Path | None = None) -> list[float]:
    """Ping round trips on one connection while ``send(other connection)`` runs (every 5 ms)."""
    from codette_lab.engine import Engine
    from codette_lab.recording import Recorder
    from codette_lab.server import BackgroundServer

    engine = Engine()
    recorder = Recorder(record_to, rules=engine.rules) if record_to is not None else None
    times: list[float] = []
    done = threading.Event()
    with (
        BackgroundServer(engine, port=0, recorder=recorder) as server,
        _connected(server.url) as sending,
        _connected(server.url) as pinging,
    ):
        _ask(pinging, PING)

        def ping() -> None:
            while not done.is_set():
                asked = time.perf_counter()
                assert _ask(pinging, PING)["type"] == "pong"
                times.append(time.perf_counter() - asked)
                done.wait(0.005)

        pinger = threading.Thread(target=ping)
        pinger.start()
        try:
            send(sending)
        finally:
            done.set()
            pinger.join(60)
    if recorder is not None:
        recorder.close()
    return times


def big_chats(client: ClientConnection) -> None:
    huge = json.dumps({"type": "chat", "message": distinct_words(64000)})
    for _ in range(4):
        assert _ask(client, huge)["type"] == "error"


def large_clip(client: ClientConnection) -> None:
    rng = np.random.default_rng(3)
    samples = (rng.standard_normal((60 * RATE, 2)) * 0.1).astype("<f4")
    audio = {"samples": base64.b64encode(samples.tobytes()).decode(), "sample_rate": RATE, "channels": 2}
    frame = json.dumps({"type": "analyze", "analysis_type": "loudness", "track_data": {"track_id": "clip"},
                        "audio_data": audio})  # fmt: skip
    assert _ask(client, frame)["type"] == "analysis_response"


def stuck_past_time_limit() -> list[float]:
    """Seconds from sending a request to a notebook analysis that never returns to its error (limit 1 s)."""
    from codette_lab.engine import Engine
    from codette_lab.server import BackgroundServer

    engine = Engine()
    release = threading.Event()
    engine.analysis_types.register("stuck", lambda request: release.wait(60))
    times = []
    try:
        with BackgroundServer(engine, port=0, request_timeout=1.0) as server, _connected(server.url) as client:
            for _ in range(3):
                asked = time.perf_counter()
                assert _ask(client, json.dumps({**LEVELS, "analysis_type": "stuck"}))["type"] == "error"
                times.append(time.perf_counter() - asked)
    finally:
        release.set()
    return times


@contextmanager
def frozen(port: int):
    """A connection that floods status requests and never reads a reply, until its sends back up."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    with connect(f"ws://127.0.0.1:{port}/ws", sock=raw, max_queue=1, open_timeout=10, close_timeout=0.1) as client:

        def flood() -> None:
            try:
                for _ in range(20_000):
                    client.send('{"type": "status", "padding": "' + "x" * 2000 + '"}')
            except Exception:  # closed by the server: what is measured
                pass

        threading.Thread(target=flood, daemon=True).start()
        time.sleep(1.0)  # pacing only: let its requests back up before the stop is timed
        yield client


def stops_with_a_frozen_client() -> tuple[list[float], list[float]]:
    from codette_lab.engine import Engine
    from codette_lab.server import BackgroundServer

    background = []
    for _ in range(3):
        server = BackgroundServer(Engine(), port=0).start()
        with frozen(server.port):
            started = time.perf_counter()
            server.stop(timeout=30)
            background.append(time.perf_counter() - started)
    command = []
    for _ in range(3):
        process = subprocess.Popen(
            [sys.executable, "-m", "codette_lab", "serve", "--port", "0", "--log-level", "INFO"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            port = 0
            for line in process.stderr:
                if "listening on ws://" in line:
                    port = int(line.rsplit(":", 1)[1].split("/", 1)[0])
                    break
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep its log flowing
            with frozen(port):
                started = time.perf_counter()
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
                command.append(time.perf_counter() - started)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return background, command


def measure() -> list[tuple[str, list[float]]]:
    rows = understanding()
    with tempfile.TemporaryDirectory() as folder:
        rows += refusals(Path(folder))
    rows.append(("pong while the same connection's notebook analysis runs", pong_behind_held_analysis()))
    rows.append(("pings on another connection during four 500 KB chats", pings_while(big_chats)))
    with tempfile.TemporaryDirectory() as folder:
        recorded = pings_while(large_clip, record_to=Path(folder))
        rows.append(("pings on another connection during a 28 MB clip, recorded", recorded))
    rows.append(("a notebook analysis stuck past a 1 s time limit: its error", stuck_past_time_limit()))
    background, command = stops_with_a_frozen_client()
    rows.append(("BackgroundServer.stop() with a client that stopped reading", background))
    rows.append(("codette-lab serve stopping on SIGTERM with such a client", command))
    return rows


def run() -> str:
    rows = measure()
    times = dict(rows)
    growth = statistics.median(times["understanding 16,000 distinct words"]) / statistics.median(
        times["understanding 2,000 distinct words"]
    )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    table = "\n".join(f"| {name} | {len(figures)} | {' | '.join(_ms(figures))} |" for name, figures in rows)
    return (
        "## Responsiveness: refusals, pongs and stops (the figures the unit tests do not time)\n\n"
        "`benchmarks/bench_responsiveness.py`. The unit tests check the order of events (a pong before the held "
        "analysis finishes, a FIFO refused without blocking, a stop that returns); these are the durations, "
        "p50 the median and max the largest of the runs counted (the first call of each row is not counted).\n\n"
        f"Load average during the run: {load} on {os.cpu_count()} cores.\n\n"
        "| what | runs | p50 (ms) | max (ms) |\n| --- | ---: | ---: | ---: |\n"
        f"{table}\n\n"
        f"Understanding 8x the words took {growth:.1f}x the time (linear: 8x; the quadratic matching it replaced: "
        "64x).\n"
    )


if __name__ == "__main__":
    print(run())
