"""Sources of the realistic corpus recorded clipped: told apart from the clean controls by their samples.

A sampled loop may come clipped from its recording. Such a source is measured on its samples alone (runs of
equal values at its peak), independently of the analysis's clip meter; the clipping rules' findings on it, and
on the faults injected into it, are right rather than alarms, and the report lists it apart from the clean
controls (scripts/fault_real.py uses it, scripts/fault_real_report.py names it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_real_sources import clean

#: A clean source with this many samples or more in flat runs at its peak (FLAT_RUN equal samples or longer) is
#: clipped at the source.
FLAT_RUN, FLAT_SAMPLES_MIN = 3, 100
#: The rules whose findings on such a source are right.
SOURCE_CLIP_RULES = frozenset({"clipped", "clipped_below_full_scale"})


def flat_at_peak(y: np.ndarray) -> int:
    """Samples lying in runs of at least FLAT_RUN equal values at a channel's peak magnitude: clipping measured
    on the samples themselves, independently of the analysis's clip meter."""
    total = 0
    for channel in np.atleast_2d(np.asarray(y, dtype=np.float64)):
        at_peak_now = np.abs(channel) >= np.abs(channel).max() * (1 - 1e-6)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], at_peak_now.astype(np.int8), [0]])))
        lengths = edges[1::2] - edges[::2]
        total += int(lengths[lengths >= FLAT_RUN].sum())
    return total


def clipped_sources(keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """Of the sources ``keys`` (name, rate), those clipped at the source, with their flat samples at the peak
    (see FLAT_SAMPLES_MIN)."""
    found = {}
    for key in set(keys):
        flat = flat_at_peak(clean(*key))
        if flat >= FLAT_SAMPLES_MIN:
            found[key] = flat
    return found
