"""Server round trips and throughput: ``codette-lab serve`` against FastAPI + uvicorn, in one run.

Every server runs as a subprocess on a free loopback port, logging at WARNING:
``codette-lab serve`` (websockets' documented API only) and the reference
(``benchmarks/reference_server.py``). The reference gives fixed, trivial
answers, while ours answers chat and analyze with the real engine, so only the
ping and start-up rows compare ours with the reference; the chat and analyze
rows are ours alone. Clients are websockets' asyncio clients (on uvloop when
installed) with compression off, so every server exchanges plain frames (ours
never negotiates permessage-deflate; the reference would).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import AsyncExitStack
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

ROUND_TRIPS = 2000
WARMUP = 200
CLIENTS = 50
CLIENT_PROCESSES = 2
PINGS_PER_CLIENT = 400
THROUGHPUT_ROUNDS = 5
THROUGHPUT_TIME_LIMIT = 20.0
CHAT_P99_TARGET_MS = 10.0

PING = json.dumps({"type": "ping"})
CHAT = json.dumps(
    {
        "type": "chat",
        "message": "How should I compress a snare drum?",
        "perspective": "mix_engineering",
        "daw_context": {"selected_track": {"name": "Snare", "type": "drums"}},
    }
)
ANALYZE = json.dumps(
    {
        "type": "analyze",
        "track_data": {
            "track_id": "track_001",
            "track_name": "Lead Vocal",
            "track_type": "vocal",
            "muted": False,
            "soloed": False,
        },
        "audio_data": {"peak_level": -2.0, "rms_level": -20.0, "duration": 120.5, "sample_rate": 44100},
        "analysis_type": "dynamics",
    }
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(process: subprocess.Popen, port: int, timeout: float = 30.0) -> float:
    """Seconds from now until /health answers."""
    started = time.perf_counter()
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                response.read()
                return time.perf_counter() - started
        except OSError:
            if process.poll() is not None or time.perf_counter() - started > timeout:
                raise RuntimeError(f"server on port {port} did not come up: {process.stderr.read()}") from None
            time.sleep(0.01)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far (all its threads), from /proc: on a shared
    machine the work done, whatever the other jobs take from the wall clock. OSError once it has ended."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14 and 15)


class Server:
    """One server subprocess; ``startup`` is the time from launch to the first /health answer."""

    def __init__(self, name: str, command: Callable[[int], list[str]], env: dict[str, str] | None = None) -> None:
        self.name = name
        self.port = free_port()
        self.process = subprocess.Popen(
            command(self.port),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.startup = wait_for_health(self.process, self.port)
        self.url = f"ws://127.0.0.1:{self.port}/ws"
        self.settle()

    def settle(self, *, quiet_cpu_s: float = 0.005, interval_s: float = 0.25, within_s: float = 60.0) -> None:
        """Wait until the server has finished starting up (``codette-lab serve`` warms the analysis up in a
        thread after it listens): until its CPU time grows by less than ``quiet_cpu_s`` over ``interval_s``.
        The figures are of a settled server; the start-up row is taken before this."""
        if not Path(f"/proc/{self.process.pid}/stat").exists():
            return
        deadline = time.monotonic() + within_s
        before = process_cpu_seconds(self.process.pid)
        while time.monotonic() < deadline:
            time.sleep(interval_s)
            now = process_cpu_seconds(self.process.pid)
            if now - before < quiet_cpu_s:
                return
            before = now

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def ours(port: int) -> list[str]:
    return [sys.executable, "-m", "codette_lab", "serve", "--port", str(port), "--log-level", "WARNING"]


def reference(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(HERE),
        "reference_server:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


async def round_trips(url: str, frame: str, count: int) -> list[float]:
    """Milliseconds per request/reply on one connection."""
    async with connect(url, max_size=None, compression=None) as client:
        await client.recv()
        for _ in range(WARMUP):
            await client.send(frame)
            await client.recv()
        times = []
        for _ in range(count):
            started = time.perf_counter()
            await client.send(frame)
            await client.recv()
            times.append((time.perf_counter() - started) * 1000)
        return times


async def _ping_back_to_back(url: str, clients: int, start: Barrier) -> tuple[int, float]:
    """(pings answered, seconds) for ``clients`` connections pinging back to back."""
    async with AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(connect(url, max_size=None, compression=None)) for _ in range(clients)
        ]
        for client in sockets:
            await client.recv()
        start.wait()
        deadline = time.perf_counter() + THROUGHPUT_TIME_LIMIT

        async def pinger(client) -> int:
            answered = 0
            while answered < PINGS_PER_CLIENT and time.perf_counter() < deadline:
                await client.send(PING)
                await client.recv()
                answered += 1
            return answered

        started = time.perf_counter()
        answered = sum(await asyncio.gather(*(pinger(client) for client in sockets)))
        return answered, time.perf_counter() - started


def _client_process(url: str, clients: int, start: Barrier, results: Queue) -> None:
    results.put(_run(_ping_back_to_back(url, clients, start)))


def throughput(url: str) -> float:
    """Pings answered per second by CLIENTS connections, spread over CLIENT_PROCESSES processes so
    that the clients are not what limits the rate."""
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(CLIENT_PROCESSES), context.Queue()
    share = CLIENTS // CLIENT_PROCESSES
    processes = [
        context.Process(target=_client_process, args=(url, share, start, results)) for _ in range(CLIENT_PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=THROUGHPUT_TIME_LIMIT + 60) for _ in processes]
    for process in processes:
        process.join()
    return sum(answered for answered, _ in outcomes) / max(seconds for _, seconds in outcomes)


def _run(coroutine):
    """Run a client coroutine on uvloop when it is installed (faster clients), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(server: Server) -> dict[str, float]:
    figures: dict[str, float] = {"startup": server.startup}
    for name, frame in (("ping", PING), ("chat", CHAT), ("analyze", ANALYZE)):
        times = _run(round_trips(server.url, frame, ROUND_TRIPS))
        figures[f"{name}_p50"] = statistics.median(times)
        figures[f"{name}_p99"] = percentile(times, 0.99)
    return figures


def median_throughputs(servers: list[Server]) -> list[float]:
    """Median replies/s of each server over THROUGHPUT_ROUNDS rounds, taking turns so drift hits both alike."""
    rates: list[list[float]] = [[] for _ in servers]
    for _ in range(THROUGHPUT_ROUNDS):
        for index, server in enumerate(servers):
            rates[index].append(throughput(server.url))
    return [statistics.median(figures) for figures in rates]


#: (label, key, kind, compared with the reference): the reference answers chat and analyze trivially.
ROWS = [
    ("ping round trip p50 (ms)", "ping_p50", "time", True),
    ("ping round trip p99 (ms)", "ping_p99", "time", True),
    (f"ping throughput, {CLIENTS} clients (replies/s)", "throughput", "rate", True),
    ("start-up to first /health answer (s)", "startup", "time", True),
    ("chat round trip p50 (ms)", "chat_p50", "time", False),
    ("chat round trip p99 (ms)", "chat_p99", "time", False),
    ("levels-only analyze p50 (ms)", "analyze_p50", "time", False),
    ("levels-only analyze p99 (ms)", "analyze_p99", "time", False),
]


def _ratio(mine: float, theirs: float, kind: str) -> str:
    """> 1: ``mine`` is better (faster, or more replies/s)."""
    return f"{(mine / theirs if kind == 'rate' else theirs / mine):.2f}x"


def run() -> str:
    servers = []
    try:
        servers.append(Server("codette-lab", ours))
        servers.append(Server("reference", reference))
        mine, theirs = (measure(server) for server in servers)
        mine["throughput"], theirs["throughput"] = median_throughputs(servers)
    finally:
        for server in servers:
            server.stop()
    lines = [
        "## Server: round trips and throughput",
        "",
        f"`codette-lab serve` (websockets' documented API only) against the same protocol on FastAPI + uvicorn "
        f"(`benchmarks/reference_server.py`), both on loopback, logging at WARNING, clients without compression. "
        f"The reference gives fixed trivial answers, so only the ping and start-up rows compare with it; the chat "
        f"and analyze rows are the real engine's answers. {ROUND_TRIPS} round trips per request type after "
        f"{WARMUP} warm-up ones; throughput: {CLIENTS} clients in {CLIENT_PROCESSES} processes pinging back to "
        f"back, at most {PINGS_PER_CLIENT} pings each, median of {THROUGHPUT_ROUNDS} rounds taken in turns. "
        f"Ratio > 1 means ours is better (faster, or more replies/s). The reference runs on uvicorn[standard] "
        f"(uvloop, httptools); `codette-lab serve` uses uvloop too when it is installed. {os.cpu_count()} CPU(s); "
        f"load average after the run {', '.join(f'{value:.1f}' for value in os.getloadavg())}.",
        "",
        "| measure | codette-lab serve | reference | ours / reference |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, key, kind, comparable in ROWS:
        digits = 0 if kind == "rate" else 3
        cells = [f"{mine[key]:.{digits}f}"]
        if comparable:
            cells += [f"{theirs[key]:.{digits}f}", _ratio(mine[key], theirs[key], kind)]
        else:
            cells += ["-", "-"]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    throughput_met = mine["throughput"] >= theirs["throughput"]
    chat_met = mine["chat_p99"] < CHAT_P99_TARGET_MS
    lines += [
        "",
        f"Targets: ping throughput at least the reference's, without private internals: "
        f"{'met' if throughput_met else 'missed'} ({_ratio(mine['throughput'], theirs['throughput'], 'rate')}); "
        f"chat p99 under {CHAT_P99_TARGET_MS:g} ms: {'met' if chat_met else 'missed'} ({mine['chat_p99']:.2f} ms).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
