"""Ping round trips to a Lab inside a Jupyter kernel: idle kernel vs a cell busy in pure Python for 3 s.

The server runs on its own event-loop thread in the kernel; a cell that
computes in pure Python holds the GIL, and the question is how much that
delays the answers a DAW gets. An outside client (this process) sends pings
back to back for 3 s while the kernel is idle, then for the 3 s a busy cell
runs; both series are measured in the same run. Target: p99 under 50 ms
while busy.
"""

from __future__ import annotations

import json
import socket
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from websockets.sync.client import connect

REPO = Path(__file__).resolve().parents[1]
BUSY_SECONDS = 3.0
TARGET_P99_MS = 50.0

BUSY_CELL = f"""
import time
_end = time.perf_counter() + {BUSY_SECONDS}
_n = 0
while time.perf_counter() < _end:
    _n += 1
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_kernel(spec_dir: Path) -> tuple[KernelManager, object]:
    kernel_dir = spec_dir / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "codette_lab benchmark kernel",
        "language": "python",
        "env": {"PYTHONPATH": str(REPO)},
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec))
    manager = KernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir / "kernels")])
    )
    manager.start_kernel(cwd=str(REPO))
    client = manager.blocking_client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def _run(client, code: str) -> None:
    reply = client.execute_interactive(textwrap.dedent(code), timeout=120, output_hook=lambda message: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"cell failed: {reply['content']}")


def _ping_while(daw, keep_going: Callable[[], bool]) -> list[float]:
    """Round trips (ms) of back-to-back pings, as long as ``keep_going()`` says so."""
    times: list[float] = []
    while keep_going():
        started = time.perf_counter()
        daw.send('{"type": "ping"}')
        daw.recv(timeout=10)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _for_seconds(seconds: float) -> Callable[[], bool]:
    end = time.perf_counter() + seconds
    return lambda: time.perf_counter() < end


def _finished(client, msg_id: str) -> bool:
    """True once the kernel replied to the cell ``msg_id`` (non-blocking)."""
    while client.shell_channel.msg_ready():
        if client.get_shell_msg(timeout=1)["parent_header"].get("msg_id") == msg_id:
            return True
    return False


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run() -> str:
    with tempfile.TemporaryDirectory() as temporary:
        manager, client = _start_kernel(Path(temporary))
        try:
            port = _free_port()
            _run(client, f"from codette_lab import Lab\nlab = Lab(port={port}).start()\nlab.warm_up(wait=True)")
            with connect(f"ws://127.0.0.1:{port}/ws") as daw:
                daw.recv(timeout=10)
                _ping_while(daw, _for_seconds(0.5))  # warm-up
                idle = _ping_while(daw, _for_seconds(BUSY_SECONDS))
                busy_cell = client.execute(BUSY_CELL)
                busy = _ping_while(daw, lambda: not _finished(client, busy_cell))
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)

    rows = []
    for label, series in (("idle kernel", idle), (f"cell busy {BUSY_SECONDS:g} s in pure Python", busy)):
        rows.append(
            f"| {label} | {len(series)} | {statistics.median(series):.2f} | {_percentile(series, 99):.2f} | "
            f"{max(series):.2f} |"
        )
    busy_p99 = _percentile(busy, 99)
    ratio = busy_p99 / _percentile(idle, 99)
    verdict = "meets" if busy_p99 < TARGET_P99_MS else "misses"
    return "\n".join(
        [
            "## Ping while a kernel cell computes (Lab inside Jupyter)",
            "",
            (
                "A client outside the kernel sends pings back to back to the Lab's server (its own event-loop "
                f"thread in the kernel), first for {BUSY_SECONDS:g} s on an idle kernel (analysis stack already "
                f"warmed up), then during a cell that spins in pure Python for {BUSY_SECONDS:g} s. Round trips "
                "in milliseconds."
            ),
            "",
            "| kernel | pings | median | p99 | max |",
            "| --- | ---: | ---: | ---: | ---: |",
            *rows,
            "",
            f"Busy p99 is {ratio:.1f}x the idle p99 and {verdict} the target of {TARGET_P99_MS:g} ms.",
        ]
    )


if __name__ == "__main__":
    print(run())
