"""``quality`` answered through ``codette-lab serve`` by ``file_path``, on the material people send.

Used by ``bench_analysis``. The tracks are written under a temporary
``--audio-root`` (the synthetic song as float WAV; a dense master, loud and
limited to the ceiling, as 16-bit PCM and as float WAV; dense white noise, the
true-peak search's worst case). Each is analyzed REPLY_ANALYSES times, the
tracks taken in turns so that drift in the machine's load hits them alike,
one request at a time on fresh connections with nothing else on the server.
For each request the wall time (sending the frame to the reply) and the CPU
time the server process used meanwhile (``/proc``: user + system, all its
threads) are kept: on a loaded machine the CPU time shows what the server did.

A second server, its BLAS allowed two threads (``OPENBLAS_NUM_THREADS=2``; the
command line otherwise holds BLAS to one, see ``codette_lab.processes``),
answers the song too, in the same turns.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bench_server import process_cpu_seconds
from serving import _analyze, _analyze_frame, _start_server, _stop_server

#: Analyses per track (the figures are medians and maxima of these).
REPLY_ANALYSES = 9
#: The environment of the server whose BLAS may use two threads.
TWO_BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}


def dense_master(song):
    """``song`` made into a dense master: a wall of noise under it, driven into a soft clipper, normalised
    to -0.1 dBFS, so that nearly every block of the track reaches the ceiling."""
    import numpy as np

    x = song.astype(np.float64) + 0.25 * np.random.default_rng(7).standard_normal(song.shape)
    x = np.tanh(3.0 * x / np.abs(x).max())
    return (x / np.abs(x).max() * 10 ** (-0.1 / 20)).astype(np.float32)


def white_noise(channels: int, frames: int):
    """Dense stereo white noise at -14 dBFS RMS: the true-peak search's worst case."""
    import numpy as np

    return np.clip(np.random.default_rng(1).standard_normal((channels, frames)) * 0.2, -1, 1).astype(np.float32)


def _timed_reply(process, url: str, frame: str) -> tuple[float, float]:
    before = process_cpu_seconds(process.pid)
    wall = asyncio.run(_analyze(url, frame))
    return wall, process_cpu_seconds(process.pid) - before


def served_quality(song, sr: int) -> dict[str, dict[str, list[float]]]:
    """{row label: {"wall": [...], "cpu": [...]}} for every track (and the song with two BLAS threads)."""
    import soundfile

    master = dense_master(song)
    tracks = {
        "synthetic song, float WAV": ("song.wav", song, "FLOAT"),
        "dense master, 16-bit PCM WAV": ("master16.wav", master, "PCM_16"),
        "dense master, float WAV": ("master.wav", master, "FLOAT"),
        "true-peak worst case (white noise), float WAV": ("noise.wav", white_noise(*song.shape), "FLOAT"),
    }
    two_blas = "synthetic song, float WAV, BLAS on two threads"
    figures: dict[str, dict[str, list[float]]] = {label: {"wall": [], "cpu": []} for label in [*tracks, two_blas]}
    with tempfile.TemporaryDirectory(prefix="codette-bench-") as root:
        for name, x, subtype in tracks.values():
            soundfile.write(Path(root) / name, x.T, sr, subtype=subtype)
        servers = [_start_server(Path(root)), _start_server(Path(root), env=TWO_BLAS_THREADS)]
        try:
            plan = [(label, servers[0], name) for label, (name, _, _) in tracks.items()]
            plan.append((two_blas, servers[1], tracks["synthetic song, float WAV"][0]))
            for _, (process, url), name in plan:  # warm-up: imports, numba's compilation, filters
                _timed_reply(process, url, _analyze_frame({"file_path": name}))
            for _ in range(REPLY_ANALYSES):
                for label, (process, url), name in plan:
                    wall, cpu = _timed_reply(process, url, _analyze_frame({"file_path": name}))
                    figures[label]["wall"].append(wall)
                    figures[label]["cpu"].append(cpu)
        finally:
            for process, _ in servers:
                _stop_server(process)
    return figures
