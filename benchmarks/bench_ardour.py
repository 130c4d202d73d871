"""Benchmark: the Ardour bridge with a real headless Ardour playing the 4-track demo session.

Delay: a Lab serves in this process (as in a notebook) and the bridge runs in it
(``lab.connect_ardour`` does the same). A change is made *in Ardour*: the bridge
sends Ardour's OSC surface ``/strip/gain`` raising the Keys fader from -60 dB to
0 dB; the delay runs from that command to the first levels-only answer, in this
process, whose peak shows the raised fader (above -40 dBFS). It holds Ardour's
fader change, its meter and its OSC feedback period, the bridge (which sends a
track whose meter moved 6 dB at once, between its steady 0.2 s ticks) and the
server's answer. Only rising changes are timed:
a falling meter follows Ardour's fall-off ballistics, not the bridge.

CPU: the bridge as a user runs it (``codette-lab bridge ardour`` in a process of
its own, its levels at the default rate, RMS read from the session's files),
while Ardour plays the 4 tracks for :data:`CPU_SECONDS`; CPU time of that process
over wall time, in percent of one core.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_server import process_cpu_seconds

CHANGES = 30
CPU_SECONDS = 20.0
LOW_DB, HIGH_DB, SPLIT_DB = -60.0, 0.0, -40.0
TRACK = "Keys"
TARGET_P99_S = 0.250


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise RuntimeError(f"bench_ardour: not within {timeout:g} s: {what}")


def _delays(session: Path) -> list[float]:
    from codette_lab import Lab
    from codette_lab.bridges.ardour.headless import HeadlessArdour

    lab = Lab(port=0, warm_up=False).start()
    bridge = lab.connect_ardour(listen_port=0)
    try:
        with HeadlessArdour(session, bridge.surface.listen_port).start_answering():
            bridge.wait_for_tracks(timeout=90)
            ssid = next(track.ssid for track in bridge.tracks if track.name == TRACK)

            def peak_after(since: float, above: bool) -> float | None:
                """When the first levels answer about the track after ``since`` on that side of the split came."""
                times = [
                    answer.received_at
                    for answer in list(bridge.answers)
                    if answer.received_at > since
                    and answer.kind == "levels"
                    and answer.track == TRACK
                    and (answer.reply["analysis"]["metrics"]["peak_dbfs"] > SPLIT_DB) == above
                ]
                return min(times, default=None)

            delays = []
            for _ in range(CHANGES):
                lowered = time.monotonic()
                bridge.surface.send("/strip/gain", ssid, LOW_DB)
                _wait(lambda lowered=lowered: peak_after(lowered, above=False), 30, "the meter to fall")
                raised = time.monotonic()
                bridge.surface.send("/strip/gain", ssid, HIGH_DB)
                answered = _wait(lambda raised=raised: peak_after(raised, above=True), 30, "the raised fader's answer")
                delays.append(answered - raised)
            bridge.surface.send("/strip/gain", ssid, -3.0)
    finally:
        lab.stop()
    return delays


def _cpu_percent(session: Path) -> tuple[float, int]:
    """The bridge process's CPU use while Ardour plays, and how many answers it got meanwhile."""
    from codette_lab import Lab
    from codette_lab.bridges.ardour.headless import HeadlessArdour

    lab = Lab(port=0, warm_up=False).start()
    command = [sys.executable, "-m", "codette_lab", "bridge", "ardour", "--url", lab.url, "--listen-port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = process.stdout.readline() if process.stdout else ""
        port = int(first.split("127.0.0.1:", 1)[1].split()[0].rstrip(";"))
        with HeadlessArdour(session, port).start_answering():
            _wait(lambda: any(c.name == "Ardour: Low Tide" for c in lab.clients.all()), 90, "the bridge to join")
            _wait(lambda: sum(c.messages for c in lab.connections()) > 20, 60, "levels to flow")
            before, started = process_cpu_seconds(process.pid), time.monotonic()
            received = sum(c.messages for c in lab.connections())
            time.sleep(CPU_SECONDS)  # the measurement window: Ardour plays, the bridge works
            used, elapsed = process_cpu_seconds(process.pid) - before, time.monotonic() - started
            messages = sum(c.messages for c in lab.connections()) - received
    finally:
        process.terminate()
        process.wait(timeout=30)
        lab.stop()
    return 100.0 * used / elapsed, messages


def run() -> str:
    heading = "## Ardour bridge: meter change in Ardour to the answer in the notebook; CPU while 4 tracks play"
    if shutil.which("ardour7-lua") is None:
        return f"{heading}\n\nNot measured: `ardour7-lua` is not installed (scripts/install-test-deps.sh).\n"
    from codette_lab.bridges.ardour.demo_session import make_session

    with tempfile.TemporaryDirectory(prefix="bench-ardour-") as folder:
        session = Path(folder) / "low_tide"
        make_session(session, "Low Tide")
        delays = _delays(session)
        cpu, messages = _cpu_percent(session)
    p50, p99 = statistics.median(delays), _percentile(delays, 99)
    verdict = "meets" if p99 < TARGET_P99_S else "misses"
    return (
        f"{heading}\n\n"
        f"A headless Ardour 7 (`ardour7-lua`, Dummy backend) plays the demo session (4 tracks); the bridge sends a "
        f"levels-only `quality` analysis of each sounding track every 0.2 s, and at once for a track whose meter "
        f"moved 6 dB. **Delay** from raising the {TRACK} "
        f"fader in Ardour (OSC `/strip/gain`, {LOW_DB:g} to {HIGH_DB:g} dB) to the first answer in the notebook's "
        f"process showing it, over {len(delays)} changes: median {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms ({verdict} the p99 < {TARGET_P99_S * 1000:.0f} ms target). It includes "
        f"Ardour's meter and OSC feedback period.\n\n"
        f"**CPU** of `codette-lab bridge ardour` (its own process) while the 4 tracks play for {CPU_SECONDS:g} s: "
        f"{cpu:.1f} % of one core ({messages} messages reached the server meanwhile).\n"
    )


if __name__ == "__main__":
    print(run())
