"""Sample levels: peak, RMS, crest factor, clipping and DC offset of a (channels, n) array."""

from __future__ import annotations

from typing import Any

import numpy as np

from .fixed_order import dot
from .signal import channel_means, db

#: The metrics :func:`measure_levels` outputs (gathered in :mod:`.outputs`).
OUTPUTS = ("peak_dbfs", "rms_dbfs", "crest_factor_db", "clipped_samples", "dc_offset", "duration_s", "sample_rate")
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {
    "peak_dbfs": 2,
    "rms_dbfs": 2,
    "crest_factor_db": 2,
    "clipped_samples": None,
    "dc_offset": 5,
    "duration_s": 3,
    "sample_rate": None,
}

#: Samples at or above this fraction of full scale count as "at full scale".
FULL_SCALE_FRACTION = 0.999

#: How close (relative) to the track's own peak a sample must be to sit "at the clip level".
CLIP_LEVEL_TOLERANCE = 1e-6

#: Shortest run of consecutive samples at the clip level that counts as clipping (the common meter rule:
#: one or two samples touching the top are a peak, three in a row are a flattened waveform).
MIN_CLIP_RUN = 3

#: Samples scanned per step when looking for samples at the clip level (bounded temporaries).
HITS_CHUNK = 1 << 20


def peak_of(x: np.ndarray) -> float:
    """Largest absolute sample value over all channels."""
    return float(max(np.max(x), -np.min(x)))


def _hits(channel: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the samples at or beyond +-threshold, found HITS_CHUNK samples at a time (no mask of the
    whole channel)."""
    found = [
        start + np.flatnonzero((part >= threshold) | (part <= -threshold))
        for start in range(0, len(channel), HITS_CHUNK)
        for part in (channel[start : start + HITS_CHUNK],)
    ]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.intp)


def clipped_samples(x: np.ndarray, *, peak: float) -> int:
    """Samples lying in runs of at least MIN_CLIP_RUN at the clip level, summed over channels.

    The clip level is full scale (|x| >= 0.999) or, for a track clipped lower
    down, the track's own peak: a hard clipper flattens the top at one value.
    """
    if peak <= 0:
        return 0
    threshold = min(FULL_SCALE_FRACTION, peak * (1.0 - CLIP_LEVEL_TOLERANCE))
    total = 0
    for channel in x:
        hits = _hits(channel, threshold)
        if len(hits) < MIN_CLIP_RUN:
            continue
        breaks = np.flatnonzero(np.diff(hits) != 1)
        starts = np.concatenate(([0], breaks + 1))
        ends = np.concatenate((breaks + 1, [len(hits)]))
        lengths = ends - starts
        total += int(lengths[lengths >= MIN_CLIP_RUN].sum())
    return total


def measure_levels(x: np.ndarray, *, sr: float, means: np.ndarray | None = None) -> dict[str, Any]:
    """peak_dbfs, rms_dbfs, crest_factor_db, clipped_samples, dc_offset, duration_s, sample_rate.

    RMS is taken over every sample of every channel (a 0 dBFS sine on both
    channels reads -3.01 dBFS); dc_offset is the mean of the channel whose mean
    is furthest from zero, in full-scale units (``means``: the channels' means when already taken, see
    :func:`.signal.channel_means`). Silence has no dB levels (None).
    """
    channels, length = x.shape
    peak = peak_of(x)
    sum_squares = sum(dot(channel, channel) for channel in x)
    rms = (sum_squares / (channels * length)) ** 0.5
    means = channel_means(x) if means is None else means
    peak_dbfs = db(peak)
    rms_dbfs = db(rms)
    return {
        "peak_dbfs": peak_dbfs,
        "rms_dbfs": rms_dbfs,
        "crest_factor_db": None if peak_dbfs is None or rms_dbfs is None else peak_dbfs - rms_dbfs,
        "clipped_samples": clipped_samples(x, peak=peak),
        "dc_offset": float(means[np.argmax(np.abs(means))]),
        "duration_s": length / sr,
        "sample_rate": int(sr) if float(sr).is_integer() else float(sr),
    }
