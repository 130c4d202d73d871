"""Process settings (glibc heap thresholds, BLAS threads) reach only the processes the project starts.

Whether glibc's mmap threshold was raised is seen from outside: with glibc's
own settings a fresh 24 MiB buffer gets pages of its own (mmap), with a
measuring process's threshold (32 MiB) it comes from the heap (``[heap]`` in
``/proc/self/maps``). Each check below is run where the answer can come out
either way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from threadpoolctl import threadpool_info

from codette_lab.cli import main
from codette_lab.heap import MEASURING_MMAP_THRESHOLD, MIB
from codette_lab.processes import THREAD_VARIABLES

REPO = Path(__file__).resolve().parents[1]

linux_only = pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/self/maps (Linux)")

#: Source of a function telling whether a 24 MiB allocation came from the heap (run in other processes).
HEAP_PROBE = """
def served_from_heap(size=24 * 2**20):
    import numpy
    buffer = numpy.ones(size, dtype=numpy.uint8)
    address = buffer.ctypes.data
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith("[heap]"):
                low, high = (int(bound, 16) for bound in line.split()[0].split("-"))
                if low <= address < high:
                    return True
    return False
"""


#: ... and one reporting a Dask worker's BLAS variables and heap.
WORKER_REPORT = (
    HEAP_PROBE
    + """
def worker_report():
    import os
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    return {name: os.environ.get(name) for name in names}, served_from_heap()
"""
)


def defined(source: str, name: str) -> Any:
    """Function ``name`` of ``source``, defined outside any module, so Dask sends it to its workers by value."""
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    return namespace[name]


def blas_threads() -> list[int]:
    return sorted(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


def run_python(code: str) -> dict[str, object]:
    """Run ``code`` (after HEAP_PROBE) in a fresh interpreter with glibc's and BLAS's defaults; its last
    line of output is JSON."""
    env = {key: value for key, value in os.environ.items() if key not in THREAD_VARIABLES}
    env = {key: value for key, value in env.items() if not key.startswith("MALLOC_")}
    completed = subprocess.run(
        [sys.executable, "-c", HEAP_PROBE + code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_main_called_from_python_leaves_the_environment_and_blas_as_they_were(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    environment, threads = dict(os.environ), blas_threads()
    assert main(["serve", "--rules", str(tmp_path / "missing.json")]) == 2
    assert main(["replay", str(tmp_path / "missing.jsonl")]) != 0
    assert dict(os.environ) == environment
    assert blas_threads() == threads


@linux_only
def test_a_lab_serving_in_a_kernel_leaves_its_heap_blas_and_environment_alone() -> None:
    """The Lab starts a server in the process (as in a notebook kernel) and answers an analysis there."""
    found = run_python(
        """
import gc, json, os
import joblib, numpy, scipy.linalg  # joblib (librosa uses it) sets KMP_INIT_AT_FORK when imported: not ours
from threadpoolctl import threadpool_info
from codette_lab import Lab
def threads():
    return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
environment, initial = dict(os.environ), threads()
lab = Lab(port=0)
lab.start()
daw = lab.simulate_daw(name="probe")
reply = daw.analyze("Lead Vocal", analysis_type="quality", send="samples")
after = threads()
lab.stop()
print(json.dumps({"type": reply["type"], "heap": served_from_heap(), "env": dict(os.environ) == environment,
                  "threads": after == initial and (max(initial) > 1 or os.cpu_count() == 1),
                  "gc_frozen": gc.get_freeze_count()}))
"""
    )
    assert found == {"type": "analysis_response", "heap": False, "env": True, "threads": True, "gc_frozen": 0}


def test_the_serve_program_warms_the_analysis_up_then_keeps_what_it_loaded_out_of_full_collections() -> None:
    """What ``codette-lab serve`` starts beside its server (:func:`codette_lab.cli.run`): after it, the
    analysis stack is loaded and the objects alive then are out of the collector's full collections."""
    found = run_python(
        """
import gc, json, sys
from codette_lab import cli
before = gc.get_freeze_count()
cli._warm_up_then_freeze()
print(json.dumps({"before": before, "librosa": "librosa" in sys.modules, "frozen": gc.get_freeze_count()}))
"""
    )
    assert found["before"] == 0 and found["librosa"]
    assert found["frozen"] > 100_000, found  # the analysis stack is hundreds of thousands of objects


@linux_only
def test_the_command_line_process_gets_the_heap_of_a_server() -> None:
    """What ``codette-lab serve`` applies before it runs: the probe reads the other way."""
    found = run_python(
        """
import json
from codette_lab.processes import configure_command_process
configure_command_process("serve")
print(json.dumps({"heap": served_from_heap()}))
"""
    )
    assert found == {"heap": True}


@linux_only
def test_the_corpus_cluster_gets_its_settings_from_dask_and_a_users_cluster_gets_none(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    from codette_lab.corpus import analyze
    from codette_lab.corpus.run import connected

    environment = dict(os.environ)
    with connected(None) as client:
        workers = client.run(defined(WORKER_REPORT, "worker_report"))
    assert dict(os.environ) == environment, "the nannies' variables are gone with the cluster"
    assert workers
    for variables, heap in workers.values():
        assert variables == dict.fromkeys(THREAD_VARIABLES, "1")
        assert heap, f"a measuring heap (mmap threshold {MEASURING_MMAP_THRESHOLD // MIB} MiB)"

    from codette_lab.daw import Session

    stem = Session.load().track("Bass").file
    with (
        LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as users,
    ):
        table = analyze([stem], client=users, progress=False)
        assert table["error"].isna().all()
        reports = users.run(defined(WORKER_REPORT, "worker_report"))
        assert [heap for _, heap in reports.values()] == [False], "the user's workers keep Dask's heap"
