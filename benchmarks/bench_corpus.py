"""Benchmark: a corpus of files through the analysis, sequentially and on a 2-worker Dask LocalCluster.

Issue 12: files per second on a corpus of at least 40 files, sequential in
one process against a 2-worker LocalCluster in the same run (target at least
1.7x on 2 cores), and the time to resume a run interrupted halfway.

The corpus is rendered by ``scripts/make_test_corpus.py`` into a temporary
folder. Sequential: :func:`codette_lab.corpus.task.analyze_file` on each file
in turn in this process, on one thread, BLAS included (as each cluster worker runs it).
Cluster: :func:`codette_lab.corpus.analyze` with a client of a LocalCluster of
two single-threaded worker processes, warmed up first (imports, librosa's
JIT) so that both sides measure steady-state work. Resume: the same run with
an ``out`` folder is interrupted (KeyboardInterrupt, as Ctrl-C in a
notebook) once half the rows are stored, then run again.
"""

from __future__ import annotations

import _thread
import importlib.util
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PER_TYPE = 10  # 5 track types: 50 files
SECONDS = 20.0
SR = 44100
ROUNDS = 3
SPEED_UP_TARGET = 1.7
#: Rows per Parquet part in the resume measurement (small, so the interruption lands near half-way).
PART_ROWS = 4


def _corpus_script():
    spec = importlib.util.spec_from_file_location("make_test_corpus", REPO / "scripts" / "make_test_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sequential(files: list[Path]) -> float:
    from threadpoolctl import threadpool_limits

    from codette_lab.corpus.files import FileKey
    from codette_lab.corpus.task import analyze_file

    with threadpool_limits(limits=1, user_api="blas"):  # one thread, as Dask's workers hold BLAS to one
        started = time.perf_counter()
        for path in files:
            key = FileKey.of(path)
            row = analyze_file((key.path, key.size, key.mtime_ns), kinds=["quality"], track_type="audio", rules=None)
            assert row["error"] is None, row["error"]
        return time.perf_counter() - started


def _on_cluster(files: list[Path], client) -> float:
    from codette_lab.corpus import analyze

    started = time.perf_counter()
    table = analyze(files, client=client, progress=False)
    seconds = time.perf_counter() - started
    assert table["error"].isna().all()
    return seconds


def _stored_rows(out: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(part).num_rows for part in out.glob("part-*.parquet"))


def _interrupted_then_resumed(folder: Path, client, total: int) -> dict:
    """Interrupt a run once half the rows are stored; then time the run that finishes it."""
    from codette_lab.corpus import analyze

    out = folder.parent / "results.parquet"
    running = threading.Event()
    running.set()

    def interrupt_at_half() -> None:
        while running.is_set():
            if any(out.glob("part-*.parquet")) and _stored_rows(out) >= total // 2:
                _thread.interrupt_main()
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=interrupt_at_half)
    watcher.start()
    started = time.perf_counter()
    try:
        analyze(folder, client=client, out=out, progress=False, part_rows=PART_ROWS)
        interrupted = False
    except KeyboardInterrupt:
        interrupted = True
    finally:
        running.clear()
        watcher.join()
    first_s = time.perf_counter() - started
    kept = _stored_rows(out)
    started = time.perf_counter()
    table = analyze(folder, client=client, out=out, progress=False)
    resume_s = time.perf_counter() - started
    started = time.perf_counter()
    analyze(folder, client=client, out=out, progress=False)
    nothing_left_s = time.perf_counter() - started
    return {
        "interrupted": interrupted,
        "first_s": first_s,
        "kept": kept,
        "resume_s": resume_s,
        "resumed_rows": _stored_rows(out) - kept,
        "complete": len(table) == total and bool(table["error"].isna().all()),
        "nothing_left_s": nothing_left_s,
    }


def measure() -> dict:
    from distributed import Client, LocalCluster

    from codette_lab.analysis import warm_up

    with tempfile.TemporaryDirectory(prefix="codette-corpus-bench-") as root:
        folder = Path(root) / "corpus"
        files = _corpus_script().make_corpus(folder, per_type=PER_TYPE, seconds=SECONDS, sr=SR)
        warm_up(SR)
        _sequential(files[:2])  # warm-up: the first calls compile and allocate
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
            Client(cluster) as client,
        ):
            _on_cluster(files[:4], client)  # warm-up: imports and JIT in both workers
            sequential, clustered = [], []
            for _ in range(ROUNDS):  # alternated, so load on the machine hits both alike
                sequential.append(_sequential(files))
                clustered.append(_on_cluster(files, client))
            resume = _interrupted_then_resumed(folder, client, len(files))
    return {
        "files": len(files),
        "sequential": sequential,
        "cluster": clustered,
        "resume": resume,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def run() -> str:
    data = measure()
    files = data["files"]
    sequential, cluster = statistics.median(data["sequential"]), statistics.median(data["cluster"])
    speed_up = sequential / cluster
    met = "met" if speed_up >= SPEED_UP_TARGET else "NOT met"
    resume = data["resume"]
    load = ", ".join(f"{value:.1f}" for value in data["load_average"])
    return "\n\n".join(
        [
            "## Corpus: many files on a Dask LocalCluster, resumable",
            (
                f"{files} files rendered by `scripts/make_test_corpus.py` ({files // 5} each of vocal, drums, bass, "
                f"keys and master; {SECONDS:.0f} s at {SR} Hz, FLAC), `quality` analysis. Sequential: one file "
                "after another in the benchmark's process on one thread (BLAS included); cluster: "
                "`codette_lab.corpus.analyze` on a LocalCluster of 2 single-threaded worker processes (started and "
                "warmed up beforehand), in tasks of up to 8 files, the largest files first and single files at the "
                "end. Median of "
                f"{ROUNDS} rounds, the two taken in turns. Load average after the run: {load} on {data['cpus']} cores."
            ),
            (
                "| run | seconds | files/s |\n| --- | ---: | ---: |\n"
                f"| sequential, one process | {sequential:.2f} | {files / sequential:.1f} |\n"
                f"| LocalCluster, 2 workers | {cluster:.2f} | {files / cluster:.1f} |"
            ),
            f"**Speed-up {speed_up:.2f}x** on {data['cpus']} cores (target >= {SPEED_UP_TARGET}x): {met}.",
            (
                f"**Resume:** a run writing to `results.parquet` was "
                f"{'interrupted (KeyboardInterrupt)' if resume['interrupted'] else 'NOT interrupted (it ended first)'}"
                f" after {resume['first_s']:.2f} s with {resume['kept']} of {files} rows stored; running it again "
                f"analyzed the other {resume['resumed_rows']} files and finished in {resume['resume_s']:.2f} s "
                f"({'every file present, once' if resume['complete'] else 'INCOMPLETE'}). Run once more with "
                f"nothing left to do it returns in {resume['nothing_left_s']:.2f} s (no cluster is started)."
            ),
        ]
    )


if __name__ == "__main__":
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    print(run())
