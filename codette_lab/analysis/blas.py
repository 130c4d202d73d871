"""BLAS held to one thread in processes whose cores the analysis already keeps busy.

numpy's matrix products (the true-peak interpolator, band and mel filter
banks, spectral centroids) call OpenBLAS, which by default runs each product
on one thread per core. A measurement already keeps both cores of a small
machine busy (its helper thread), and a server runs several measurements at
once, so BLAS's threads only compete with ours: they add CPU time and, on a
small machine, wall time too (``docs/benchmarks.md``, `quality` through
``codette-lab serve``, BLAS threads row). OpenBLAS's own advice for multi-threaded programs is a single BLAS thread.

BLAS libraries have no per-thread setting (and a limit set from a worker
thread was seen not to hold), so the choice is made once for the whole
process, by the program that owns its process: the ``codette-lab`` command
line (``serve``, ``replay``, ``corpus``). A notebook kernel keeps its BLAS
threads: they are the user's.
"""

from __future__ import annotations

import os

#: The environment variables BLAS and OpenMP libraries read when they are loaded.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def hold_blas_to_one_thread() -> None:
    """From now on, in this process, BLAS uses one thread, unless the environment already says
    otherwise (an explicit ``OPENBLAS_NUM_THREADS=4`` is kept).

    Libraries loaded later (scipy's own OpenBLAS comes with the first measurement) read the
    environment; those loaded already are limited through threadpoolctl. Call it from the main thread.
    """
    if any(name in os.environ for name in THREAD_VARIABLES):
        return
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
