"""The same request gets the same answer, bit for bit, however it is answered and whatever BLAS's threads.

The demo session's stems are analyzed (``quality`` of each track, two
``masking`` pairs, a ``spectrum`` sent as samples) by an Engine called
directly and a Lab serving in the process (as in a notebook kernel), by a
``codette-lab serve`` subprocess, by ``codette-lab replay`` of what that server
recorded, and by ``corpus.analyze`` on the local cluster it starts; each with
the measuring process at one BLAS thread and at two. Every analysis object
must be the same JSON text; a corpus row must hold the numbers of the
corresponding ``quality`` answer.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from answer_legs import REQUESTS, ask, frames

from codette_lab.corpus.task import flatten
from codette_lab.processes import THREAD_VARIABLES

REPO = Path(__file__).resolve().parents[1]
LEGS = Path(__file__).resolve().parent / "answer_legs.py"
THREAD_COUNTS = (1, 2)


def environment(threads: int | None) -> dict[str, str]:
    """This environment with BLAS held to ``threads`` (None: no BLAS variable, the process's own choice)."""
    env = {key: value for key, value in os.environ.items() if key not in THREAD_VARIABLES}
    if threads is not None:
        env.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    return env


def start_leg(mode: str, threads: int) -> subprocess.Popen[str]:
    """``answer_legs.py mode`` at ``threads`` BLAS threads, started now (legs run side by side)."""
    return subprocess.Popen(
        [sys.executable, str(LEGS), mode],
        cwd=REPO,
        env=environment(threads),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def leg_result(process: subprocess.Popen[str]) -> dict[str, Any]:
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    found: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return found


class ServeProcess:
    """``codette-lab serve --port 0`` recording to a folder; its URL read from the line saying it listens."""

    def __init__(self, record: Path, threads: int | None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "codette_lab", "serve", "--port", "0", "--record", str(record), "--record-samples"],
            cwd=REPO,
            env=environment(threads),
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def url(self, within: float = 60.0) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            listening = re.search(r"listening on (ws://\S+)", line)
            if listening:
                return listening.group(1)
        raise AssertionError(f"codette-lab serve did not say where it listens (exit status {self.process.poll()})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[dict[int | None, tuple[ServeProcess, Path]]]:
    """A ``serve`` process holding BLAS to one thread (its own choice) and one told to use two."""
    started = {}
    for threads in (None, 2):
        record = tmp_path / f"record-{threads}"
        started[threads] = (ServeProcess(record, threads), record)
    yield started
    for server, _ in started.values():
        server.stop()


def replay(record: Path, threads: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codette_lab", "replay", str(record), "--json"],
        cwd=REPO,
        env=environment(threads),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _plain(value: Any) -> Any:
    """A table cell as an answer's value: NaN (pandas' missing number) is None."""
    return None if isinstance(value, float) and math.isnan(value) else value


def test_every_way_of_answering_gives_the_same_analysis_bit_for_bit(
    serving: dict[int | None, tuple[ServeProcess, Path]],
) -> None:
    requests = frames()
    legs = {(mode, threads): start_leg(mode, threads) for mode in ("in-process", "corpus") for threads in THREAD_COUNTS}
    answers: dict[str, list[str]] = {}
    for threads in THREAD_COUNTS:
        found = leg_result(legs["in-process", threads])
        assert found["blas_threads"] == [threads], "the measuring process runs BLAS at the count asked"
        answers[f"engine, {threads} BLAS thread(s)"] = found["engine"]
        answers[f"lab, {threads} BLAS thread(s)"] = found["lab"]
    for threads, (server, _) in serving.items():
        answers[f"codette-lab serve, BLAS {threads or 'held by the command'}"] = ask(server.url(), requests)
    for server, _ in serving.values():
        server.stop()

    reference_name, reference = next(iter(answers.items()))
    assert len(reference) == len(REQUESTS)
    for name, answered in answers.items():
        for request, mine, theirs in zip(REQUESTS, answered, reference, strict=True):
            assert mine == theirs, f"{request}: {name} differs from {reference_name}"

    for recorded_at, replayed_at in ((None, 2), (2, 1)):
        replayed = replay(serving[recorded_at][1], replayed_at)
        assert replayed.returncode == 0, f"replayed at {replayed_at} BLAS thread(s): {replayed.stdout[-3000:]}"
        assert json.loads(replayed.stdout)["counts"] == {"same": len(REQUESTS), "changed": 0, "not replayed": 0}

    quality = {
        request[0]: json.loads(answer)
        for request, answer in zip(REQUESTS, reference, strict=True)
        if request[1] == "quality"
    }
    for threads in THREAD_COUNTS:
        rows = leg_result(legs["corpus", threads])["rows"]
        by_name = {Path(path).stem: row for path, row in rows.items()}
        for track, analysis in quality.items():
            row = by_name[{"Lead Vocal": "vocal"}.get(track, track.lower())]
            assert row["error"] is None
            assert row["score.quality"] == analysis["quality_score"]
            metrics = flatten(analysis["metrics"])
            compared = {name: value for name, value in metrics.items() if name in row}
            assert {"spectral_centroid_hz", "band_energy_db.air", "true_peak_dbtp", "harsh_hz"} <= set(compared)
            assert {name: _plain(row[name]) for name in compared} == compared, f"corpus at {threads}: {track}"
