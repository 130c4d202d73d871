"""Load the audio analysis stack once per process, on a background thread, before the first request needs it.

The first analysis of real audio in a fresh kernel pays a few seconds of
imports and compilation (librosa, compiled kernels: see
:func:`codette_lab.analysis.warm_up`). Paying it as soon as a Lab starts (or ``codette-lab serve`` listens) keeps
a DAW's first ``analyze`` (and a notebook analysis type's first
``request.measure``, which the time limit does cover) from paying it.
"""

from __future__ import annotations

import logging
import threading

from .analysis import WARM_UP_RATES
from .analysis import warm_up as warm_up_analysis

logger = logging.getLogger("codette_lab")

_thread: threading.Thread | None = None
_lock = threading.Lock()


def warm_up_in_background() -> threading.Thread:
    """The warm-up thread, started on the first call of the process; later calls return the same thread."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=warm_up_now, name="codette-warm-up", daemon=True)
            _thread.start()
        return _thread


def warm_up_now() -> None:
    """:func:`codette_lab.analysis.warm_up` for each of :data:`~codette_lab.analysis.WARM_UP_RATES`, in the
    calling thread (the background thread's work; ``codette-lab serve``'s too, before it freezes what it loaded).

    Best effort: if it fails, the first real request reports the same problem to whoever sent it.
    """
    try:
        for rate in WARM_UP_RATES:
            warm_up_analysis(rate)
    except Exception:
        logger.warning("Warming up the audio analysis failed", exc_info=True)
