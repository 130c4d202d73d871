"""Benchmark: replaying a recorded session with other rules (``codette_lab.recording.replay``).

A real server records what DAWs send: a levels-only class (chats and
``analyze`` requests with meter readings only) and audio analyses of the demo
stems (by ``file_path``, and as ``samples`` kept in full). Each recording is
then answered again with tuned rules and compared with the recorded replies,
as ``codette-lab replay`` does; the figure is requests re-answered per second
(reading the recording and comparing included). Side by side, the same
requests answered live by the server (one connection, one request at a
time), the way they were recorded.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RUNS = 5
LEVELS_REQUESTS = 240
AUDIO_KINDS = ("dynamics", "loudness", "spectrum")
SAMPLES_SECONDS = 10.0


def _record(folder: Path, send: Callable[[object], list[float]], *, keep_samples: bool = False) -> list[float]:
    """Serve an engine with a recorder into ``folder`` while ``send(daw)`` runs; the live reply times."""
    from codette_lab.daw import SimulatedDAW
    from codette_lab.engine import Engine
    from codette_lab.recording import Recorder
    from codette_lab.server import BackgroundServer

    engine = Engine()
    recorder = Recorder(folder, rules=engine.rules, keep_samples=keep_samples)
    with (
        BackgroundServer(engine, host="127.0.0.1", port=0, recorder=recorder) as server,
        SimulatedDAW(server.url, timeout=120) as daw,
    ):
        times = send(daw)
    recorder.close()
    return times


def _timed(daw, step: Callable[[], dict]) -> float:
    started = time.perf_counter()
    reply = step()
    if reply.get("type") == "error":
        raise RuntimeError(f"bench_replay: the server answered an error: {reply.get('message')}")
    return time.perf_counter() - started


def _levels(daw) -> list[float]:
    """Chats and levels-only analyses over the demo session's tracks, every kind in turn."""
    from codette_lab.daw import CLASS_QUESTIONS

    tracks, kinds = daw.session.tracks, ("spectrum", "dynamics", "loudness", "quality")
    times = []
    for index in range(LEVELS_REQUESTS):
        if index % 4 == 3:
            question = CLASS_QUESTIONS[index % len(CLASS_QUESTIONS)]
            times.append(_timed(daw, lambda question=question: daw.chat(question)))
        else:
            track, kind = tracks[index % len(tracks)], kinds[index % len(kinds)]
            times.append(_timed(daw, lambda track=track, kind=kind: daw.analyze(track, analysis_type=kind)))
    return times


def _audio(send: str) -> Callable[[object], list[float]]:
    def analyses(daw) -> list[float]:
        seconds = SAMPLES_SECONDS if send == "samples" else None

        def analyze(track, kind: str) -> dict:
            return daw.analyze(track, analysis_type=kind, send=send, seconds=seconds)

        return [
            _timed(daw, lambda track=track, kind=kind: analyze(track, kind))
            for track in daw.session.tracks
            for kind in AUDIO_KINDS
        ]

    return analyses


def _replay_rate(folder: Path, rules) -> tuple[int, float, float]:
    """(requests replayed, median seconds, requests per second) of replaying ``folder`` with ``rules``."""
    from codette_lab.recording import replay

    report = replay(folder, rules)  # warm-up: audio stack loaded, files in the page cache
    count = report.counts()["same"] + report.counts()["changed"]
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        replay(folder, rules)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    return count, median, count / median


def measure() -> dict:
    from codette_lab.rules import RuleSet

    rules = RuleSet.default()
    rules["general.clip_risk_peak_dbfs"] = -2.0
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        cases = {
            "levels only (chats and meter readings)": (_levels, False),
            "audio by file_path (whole demo stems)": (_audio("path"), False),
            f"audio as samples kept in the recording ({SAMPLES_SECONDS:g} s excerpts)": (_audio("samples"), True),
        }
        for index, (name, (send, keep)) in enumerate(cases.items()):
            folder = Path(scratch) / str(index)
            _record(folder, send, keep_samples=keep)  # first pass: warms the server's audio stack
            _forget(folder)
            live = _record(folder, send, keep_samples=keep)
            count, median, rate = _replay_rate(folder, rules)
            size = sum(path.stat().st_size for path in folder.glob("*.jsonl"))
            results[name] = {
                "requests": count,
                "replay_s": median,
                "replay_rps": rate,
                "live_rps": len(live) / sum(live),
                "recording_bytes": size,
            }
    return results


def _forget(folder: Path) -> None:
    """Delete the warm-up pass's recording, so the timed one holds each request once."""
    for path in folder.glob("*.jsonl"):
        path.unlink()


def run() -> str:
    results = measure()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    rows = "\n".join(
        f"| {name} | {figures['requests']} | {figures['recording_bytes'] / 1024:.0f} KiB | "
        f"{figures['replay_s']:.3f} | {figures['replay_rps']:.0f} | {figures['live_rps']:.0f} |"
        for name, figures in results.items()
    )
    return (
        "## Replay: a recorded session answered again with tuned rules\n\n"
        "`codette_lab.recording.replay(folder, rules)`: read the recording, answer every chat and analyze request "
        "again through an `Engine` (no server), compare each answer with the recorded reply. Median of "
        f"{RUNS} runs after one warm-up run. Live: the same requests through the server that recorded them, "
        "one connection, one request at a time (reply round trips).\n\n"
        f"Load average during the run: {load} on {os.cpu_count()} cores.\n\n"
        "| recording | requests | size | replay p50 (s) | replayed requests/s | live requests/s |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |\n"
        f"{rows}\n"
    )


if __name__ == "__main__":
    print(run())
