"""How the analysis behaves around its callers: cheap to import, safe to share between worker threads."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from codette_lab.analysis import analyzer_for, measure, single_threaded, warm_up
from codette_lab.analysis.analyzer import PARALLEL_MIN_S

REPO = Path(__file__).resolve().parents[1]


def imported_by(module: str) -> list[str]:
    """Which heavy libraries a fresh interpreter has loaded after importing ``module``."""
    heavy = ("numpy", "scipy", "librosa", "numba", "pyloudnorm", "soundfile")
    code = f"import sys, json, {module}; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(completed.stdout)


def test_importing_the_analysis_and_audio_input_pulls_in_no_heavy_library() -> None:
    assert imported_by("codette_lab.analysis") == ["numpy"]  # scipy and librosa wait for the first Analyzer
    assert imported_by("codette_lab.audio_input") == []  # the engine imports it at server start


def test_one_analyzer_shared_by_threads_gives_the_serial_answers() -> None:
    warm_up(22050)
    rng = np.random.default_rng(11)
    tracks = [(rng.standard_normal((2, 22050 * 4)) * scale).astype(np.float32) for scale in (0.05, 0.1, 0.2, 0.3)]
    serial = [measure(track, sr=22050) for track in tracks]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda track: measure(track, sr=22050), tracks * 2))
    assert parallel == serial * 2
    assert len({id(analyzer_for(22050)) for _ in range(3)}) == 1


def test_a_long_signal_measured_on_two_threads_gives_the_one_thread_answer() -> None:
    """Loudness and true peak go to a helper thread for signals over PARALLEL_MIN_S: same numbers, same order."""
    rng = np.random.default_rng(12)
    seconds = PARALLEL_MIN_S + 1.0
    track = (rng.standard_normal((2, int(22050 * seconds))) * 0.2).astype(np.float32)
    together = measure(track, sr=22050)
    with single_threaded():
        alone = measure(track, sr=22050)
    assert together == alone and list(together) == list(alone)
    assert list(measure(track, sr=22050, kinds=["true_peak", "levels"])) == ["true_peak_dbtp", *list(alone)[:7]]


def _blas_threads_after_hold(environment: dict[str, str]) -> list[int]:
    """BLAS thread counts (numpy's and scipy's libraries) in a fresh interpreter after the CLI's hold."""
    import os

    code = (
        "import json, numpy; from codette_lab.processes import hold_blas_to_one_thread; "
        "hold_blas_to_one_thread(); import scipy.linalg; from threadpoolctl import threadpool_info; "
        "print(json.dumps([i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']))"
    )
    env = {key: value for key, value in os.environ.items() if not key.endswith("_NUM_THREADS")}
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**env, **environment},
    )
    return json.loads(completed.stdout)


def test_the_command_line_holds_blas_to_one_thread_unless_told_otherwise() -> None:
    held = _blas_threads_after_hold({})
    assert held and set(held) == {1}  # numpy's library (loaded before) and scipy's (loaded after)
    assert set(_blas_threads_after_hold({"OPENBLAS_NUM_THREADS": "2"})) == {2}  # an explicit choice is kept
