"""Process settings (glibc's heap thresholds, BLAS threads, the garbage collector), applied only to processes
the project starts.

Both settings belong to a whole process: glibc has one heap policy per
process, and BLAS libraries have no per-thread thread count (a limit set from a
worker thread was seen not to hold). So they are set only where the process is
ours, and this module is where that is decided:

- the ``codette-lab`` program (console script or ``python -m codette_lab``):
  :func:`configure_command_process`, called by its entry point
  (:func:`codette_lab.cli.run`), never by :func:`codette_lab.cli.main`, so
  ``main()`` called from Python (tests, a notebook) leaves its caller's process
  and ``os.environ`` as they were. ``serve`` also warms the analysis up and then
  moves what that loaded out of the garbage collector's sight
  (:func:`freeze_long_lived_objects`); ``serve`` gets a server's heap
  (:func:`~codette_lab.heap.prepare_for_serving`), ``replay`` a measuring one;
  all hold BLAS to one thread, since the analysis brings its own threads (a
  helper thread per measurement, several requests at once) and BLAS's would
  only compete with them, OpenBLAS's own advice for threaded programs;
- a server's frame-parsing children (``server/parse_child.py``, started by the
  server wherever it runs): :func:`configure_parse_child`;
- the Dask ``LocalCluster`` that ``corpus.analyze`` starts when it is given no
  client: :func:`local_cluster_environment`, handed to Dask's own worker
  configuration (``distributed.nanny.pre-spawn-environ``), which sets it before
  each worker process starts (glibc reads ``MALLOC_*`` variables only then).

Never to the user's notebook kernel (a Lab starting a server there keeps the
kernel's heap and BLAS threads) nor to a Dask cluster the user passes. The
analysis's numbers do not depend on any of this (``analysis/fixed_order.py``).
"""

from __future__ import annotations

import gc
import os

from .heap import (
    HOLDING_MMAP_THRESHOLD,
    MEASURING_MMAP_THRESHOLD,
    MEASURING_TRIM_THRESHOLD,
    prepare_for_measuring,
    prepare_for_serving,
    set_heap_thresholds,
)

#: The environment variables BLAS and OpenMP libraries read when they are loaded.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: glibc's environment variables for the thresholds :func:`~codette_lab.heap.prepare_for_measuring` sets.
HEAP_VARIABLES = {
    "MALLOC_MMAP_THRESHOLD_": str(MEASURING_MMAP_THRESHOLD),
    "MALLOC_TRIM_THRESHOLD_": str(MEASURING_TRIM_THRESHOLD),
}

#: The heap each command's process gets (commands not named keep glibc's own).
_COMMAND_HEAPS = {"serve": prepare_for_serving, "replay": prepare_for_measuring}


def hold_blas_to_one_thread() -> None:
    """From now on, in this process, BLAS uses one thread, unless the environment already says
    otherwise (an explicit ``OPENBLAS_NUM_THREADS=4`` is kept).

    Libraries loaded later (scipy's own OpenBLAS comes with the first measurement) read the
    environment; those loaded already are limited through threadpoolctl. Only for a process that is
    the project's own; call it from the main thread.
    """
    if any(name in os.environ for name in THREAD_VARIABLES):
        return
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def configure_command_process(command: str) -> None:
    """The settings of a ``codette-lab <command>`` process, before the command runs."""
    hold_blas_to_one_thread()
    heap = _COMMAND_HEAPS.get(command)
    if heap is not None:
        heap()


def configure_parse_child() -> None:
    """A frame-parsing child only holds frames and their samples: every buffer of a mebibyte or more
    gets pages of its own, so each frame's memory is gone once it is answered."""
    set_heap_thresholds(HOLDING_MMAP_THRESHOLD)


def local_cluster_environment() -> dict[str, str]:
    """Environment variables for the worker processes of a local cluster the corpus starts: a measuring
    heap (Dask's default ``MALLOC_TRIM_THRESHOLD_=65536`` leaves every large buffer mapped afresh) and
    one BLAS thread each (the cluster already has a single-threaded worker per core)."""
    return {**HEAP_VARIABLES, **dict.fromkeys(THREAD_VARIABLES, "1")}


def freeze_long_lived_objects() -> None:
    """Move every object alive now (modules, the loaded analysis stack) out of the garbage collector's sight
    (``gc.freeze()``), so that a full collection scans only what was made since. In a server that has loaded
    scipy, librosa and numba, a full collection otherwise stops every thread, the event loop's too, for
    40-100 ms (seen while thirty join pages were answered: the worst pings were those pauses). For a
    long-lived process of the project's own, once its imports are done; never a notebook kernel."""
    gc.freeze()
