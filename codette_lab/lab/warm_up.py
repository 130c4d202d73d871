"""Load the audio analysis stack once per process, on a background thread, before the first request needs it.

The first analysis of real audio in a fresh kernel pays a few seconds of
imports and compilation (librosa, compiled kernels: see
:func:`codette_lab.analysis.warm_up`). Paying it as soon as a Lab starts keeps
a DAW's first ``analyze`` (and a notebook analysis type's first
``request.measure``, which the time limit does cover) from paying it.
"""

from __future__ import annotations

import logging
import threading

from ..analysis import WARM_UP_RATES
from ..analysis import warm_up as warm_up_analysis

logger = logging.getLogger("codette_lab.lab")

_thread: threading.Thread | None = None
_lock = threading.Lock()


def warm_up_in_background() -> threading.Thread:
    """The warm-up thread, started on the first call of the process; later calls return the same thread."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm_up, name="codette-warm-up", daemon=True)
            _thread.start()
        return _thread


def _warm_up() -> None:
    """The thread's work: :func:`codette_lab.analysis.warm_up` for each of :data:`WARM_UP_RATES`.

    Best effort: if it fails, the first real request reports the same problem to whoever sent it.
    """
    try:
        for rate in WARM_UP_RATES:
            warm_up_analysis(rate)
    except Exception:
        logger.warning("Warming up the audio analysis failed", exc_info=True)
