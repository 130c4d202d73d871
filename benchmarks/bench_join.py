"""Students joining from a browser: audio files sent as their own bytes in a binary frame (``CDA1``).

``codette-lab serve`` runs as a subprocess (logging at WARNING); its memory is
the resident size of its process and its frame-parsing children (from /proc,
sampled every 20 ms), against its idle size after a warm-up (imports, the
parsing processes, a first decode and analysis). The audio is the demo
session's four stems mixed to stereo and repeated to length, encoded as
16-bit FLAC in memory, as a student's bounce would be.

- A 10-minute stereo FLAC sent by a Python client as one binary frame for a
  ``quality`` analysis: the time the upload took (the frame handed to the
  socket), the time from the end of the upload to the answer, and the
  server's memory peak above idle. Target: answered within 2 s after the
  upload, peak at most 400 MB above idle.
- 20 clients sending a 60 s stereo clip each at once (as FLAC in a binary
  frame, then as base64 samples, the way DAWs send it): every clip answered
  (``Server busy:`` replies are counted and retried with growing pauses, as
  the example clients do), with the in-flight audio cap of the server at its
  default (a share of this machine's memory).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import statistics
import sys
import time

import numpy as np
import soundfile
from bench_security import MIB, MemorySampler, _children, memory
from bench_server import Server, process_cpu_seconds
from websockets.asyncio.client import connect

from codette_lab.protocol.attachments import build_frame
from codette_lab.resources import demo_folder
from codette_lab.server.limits import DEFAULT_MAX_AUDIO_BYTES

RATE = 44100
LONG_SECONDS = 600
LONG_RUNS = 3
CLASS_SIZE = 20
CLIP_SECONDS = 60
ANALYSIS_TYPE = "quality"
#: Seconds any one reply may take before the benchmark gives up on it (a hung server fails it).
REPLY_TIMEOUT_S = 300.0
BUSY_FIRST_PAUSE, BUSY_LONGEST_PAUSE = 0.25, 4.0


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "codette_lab", "serve", "--port", str(port), "--log-level", "WARNING"]


def demo_mix(seconds: float) -> np.ndarray:
    """The demo stems mixed to stereo, (n, 2) float32, repeated to ``seconds``."""
    stems = [
        soundfile.read(path, dtype="float32", always_2d=True)[0] for path in (demo_folder() / "stems").glob("*.flac")
    ]
    length = min(len(stem) for stem in stems)
    mix = sum(np.repeat(stem[:length], 2 // stem.shape[1], axis=1) for stem in stems) * 0.5
    repeats = int(np.ceil(seconds * RATE / length))
    return np.tile(mix, (repeats, 1))[: int(seconds * RATE)].astype("float32")


def flac_bytes(audio: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(audio, -1, 1), RATE, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def attachment_frame(data: bytes, name: str) -> bytes:
    header = {
        "type": "analyze",
        "analysis_type": ANALYSIS_TYPE,
        "track_data": {"track_id": name, "track_name": name, "track_type": "master"},
        "audio_data": {"attachment": {"bytes": len(data), "name": name}},
    }
    return build_frame(json.dumps(header).encode(), data)


def samples_frame(audio: np.ndarray, name: str) -> str:
    samples = base64.b64encode(np.ascontiguousarray(audio, dtype="<f4").tobytes()).decode()
    return json.dumps(
        {
            "type": "analyze",
            "analysis_type": ANALYSIS_TYPE,
            "track_data": {"track_id": name, "track_name": name, "track_type": "master"},
            "audio_data": {"samples": samples, "sample_rate": RATE, "channels": 2},
        }
    )


async def _upload_and_answer(url: str, frame: bytes) -> tuple[float, float, str]:
    """(upload seconds, seconds from the end of the upload to the reply, reply type)."""
    async with connect(url, max_size=None, ping_interval=None) as socket:
        json.loads(await socket.recv())
        started = time.perf_counter()
        await socket.send(frame)
        uploaded = time.perf_counter()
        reply = json.loads(await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT_S))
        answered = time.perf_counter()
    if reply.get("type") != "analysis_response":
        raise RuntimeError(f"the 10-minute FLAC was not analyzed: {reply}")
    return uploaded - started, answered - uploaded, reply["type"]


async def _one_student(url: str, frame: str | bytes) -> tuple[bool, int]:
    """(answered, busy replies retried) for one client sending ``frame``, retrying "Server busy:" replies."""
    busy, pause = 0, BUSY_FIRST_PAUSE
    async with connect(url, max_size=None, ping_interval=None) as socket:
        json.loads(await socket.recv())
        while True:
            await socket.send(frame)
            reply = json.loads(await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT_S))
            if reply.get("type") == "error" and str(reply.get("message", "")).startswith("Server busy:"):
                busy += 1
                await asyncio.sleep(pause)
                pause = min(pause * 2, BUSY_LONGEST_PAUSE)
                continue
            return reply.get("type") == "analysis_response", busy


async def _class(url: str, frames: list[str] | list[bytes]) -> tuple[int, int, float]:
    """(answered, busy replies, seconds until the last answer) for a class sending ``frames`` at once."""
    started = time.perf_counter()
    results = await asyncio.gather(*(_one_student(url, frame) for frame in frames))
    return sum(ok for ok, _ in results), sum(busy for _, busy in results), time.perf_counter() - started


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its living children: the work an answer costs,
    its frame-parsing children's included."""
    total = 0.0
    for process in (pid, *_children(pid)):
        try:
            total += process_cpu_seconds(process)
        except OSError:  # it ended meanwhile
            continue
    return total


def in_process(flac: bytes) -> tuple[float, float, float]:
    """(decode seconds, analysis seconds, analysis wall seconds) of the same file in this process, in CPU
    time (of all its threads) but for the last: what the server's answer is made of, without the
    transfer, the hand-off to a parsing process and the reply. BLAS is held to one thread, as in the
    server (``codette_lab/processes.py``): BLAS's own threads, waiting for work beside the analysis's
    helper thread, would add seconds of CPU time that the server never spends."""
    from threadpoolctl import threadpool_limits

    from codette_lab import analyze
    from codette_lab.attached_audio import decode_attachment

    with threadpool_limits(limits=1, user_api="blas"):
        started = time.process_time()
        audio, rate = decode_attachment(memoryview(flac), name=None, field="audio_data", max_seconds=LONG_SECONDS)
        decoded, wall = time.process_time(), time.perf_counter()
        analyze(audio, rate, kind=ANALYSIS_TYPE, track_type="master")
        return decoded - started, time.process_time() - decoded, time.perf_counter() - wall


def run() -> str:
    long_mix = demo_mix(LONG_SECONDS)
    long_flac = flac_bytes(long_mix)
    long_frame = attachment_frame(long_flac, "ten-minute-mix.flac")
    del long_mix
    from codette_lab import analyze

    analyze(demo_mix(5).T.copy(), RATE, kind=ANALYSIS_TYPE, track_type="master")  # warm up this process
    decode_s, analysis_s, analysis_wall_s = in_process(long_flac)
    clip = demo_mix(CLIP_SECONDS)
    clip_frames = [
        attachment_frame(flac_bytes(clip * (0.5 + index / 40)), f"student-{index}.flac") for index in range(CLASS_SIZE)
    ]
    server = Server("codette-lab serve", serve_command)
    pid = server.process.pid
    lines = [
        "## Joining from a browser: audio files in a binary frame (bench_join)",
        "",
        "`codette-lab serve` as a subprocess, default limits (in-flight audio cap "
        f"{DEFAULT_MAX_AUDIO_BYTES / MIB:.0f} MB on this machine); memory is the resident size of the server "
        "and its frame-parsing children, sampled every 20 ms, against its idle size after a warm-up. Audio: "
        "the demo stems mixed to stereo, repeated to length, "
        f"16-bit FLAC at {RATE} Hz; analysis type `{ANALYSIS_TYPE}`. Figures taken on a machine shared with "
        "other jobs (see the load below): they vary with it.",
        "",
        "| Scenario | Result | Target |",
        "|---|---|---|",
    ]
    try:
        for _ in range(2):  # warm up: imports, the parsing processes, a first decode and analysis
            asyncio.run(_class(server.url, clip_frames[:2]))
        time.sleep(2.0)
        idle = memory(pid)
        uploads, answers, peaks, cpus = [], [], [], []
        for _ in range(LONG_RUNS):
            cpu_before = tree_cpu_seconds(pid)
            with MemorySampler(pid) as sampler:
                upload, answer, _ = asyncio.run(_upload_and_answer(server.url, long_frame))
            cpus.append(tree_cpu_seconds(pid) - cpu_before)
            uploads.append(upload)
            answers.append(answer)
            peaks.append(sampler.peak - idle)
            time.sleep(2.0)
        lines.append(
            f"| A {LONG_SECONDS // 60}-minute stereo FLAC ({len(long_flac) / 1e6:.0f} MB) in one binary frame, "
            f"{LONG_RUNS} runs | upload {statistics.median(uploads):.2f} s (median); answered "
            f"{statistics.median(answers):.2f} s after the upload (median; max {max(answers):.2f} s), the server "
            f"using {statistics.median(cpus):.2f} s of CPU time for it (median, receiving and decoding included); "
            "memory "
            f"{idle / MIB:.0f} MB idle, peak {max(peaks) / MIB:.0f} MB above it (max over runs) | "
            "answered ≤ 2 s after the upload; peak ≤ 400 MB above idle |"
        )
        lines.append(
            "| The same file in the benchmark's own process, for comparison (BLAS on one thread, as in the "
            f"server) | decoding {decode_s:.2f} s of CPU time; `{ANALYSIS_TYPE}` of the decoded audio "
            f"{analysis_s:.2f} s of CPU time, {analysis_wall_s:.2f} s on the wall clock (two threads) | |"
        )
        for label, frames in (
            ("as FLAC in binary frames", clip_frames),
            (
                "as base64 samples",
                [samples_frame(clip * (0.5 + index / 40), f"s{index}") for index in range(CLASS_SIZE)],
            ),
        ):
            with MemorySampler(pid) as sampler:
                answered, busy, seconds = asyncio.run(_class(server.url, frames))
            lines.append(
                f"| {CLASS_SIZE} clients, a {CLIP_SECONDS} s stereo clip each at once, {label} | "
                f"{answered}/{CLASS_SIZE} answered in {seconds:.1f} s, {busy} 'Server busy' replies retried; "
                f"memory peak {(sampler.peak - idle) / MIB:.0f} MB above idle | every clip answered |"
            )
            del frames
            time.sleep(2.0)
    finally:
        server.stop()
    with open("/proc/loadavg") as load:
        lines += ["", f"Load average (1, 5, 15 min) at the end: {' '.join(load.read().split()[:3])} on 2 cores."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
