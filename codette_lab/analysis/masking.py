"""How much two tracks compete for the same frequency bands at the same time."""

from __future__ import annotations

from typing import Any

import numpy as np

from .bands import BANDS

#: The metrics :func:`overlap_metrics` outputs (gathered in :mod:`.outputs`): numbers, a {band name:
#: value} dict, and the name of a band (not a number).
OUTPUTS = ("masking_overlap",)
PER_BAND_OUTPUTS = ("masking_band_overlap",)
BAND_NAME_OUTPUTS = ("masked_band",)
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {"masking_overlap": 4, "masking_band_overlap": 4, "masked_band": None}

#: A band counts as masked when the tracks share at least this much of it...
MASKED_BAND_OVERLAP = 0.3
#: ...and it holds at least this share of each track's energy.
MASKED_BAND_MIN_SHARE = 0.05


def overlap_metrics(band_power_a: np.ndarray, band_power_b: np.ndarray) -> dict[str, Any]:
    """masking_overlap, masking_band_overlap and masked_band from two (frames, bands) power series.

    Per band, overlap = sum over frames of min(level a, level b) / sum of
    max(level a, level b), with levels as RMS amplitudes: 1 when both tracks
    carry the same level in that band at the same moments, 0 when they never
    share it, 0.1 when one sits 20 dB under the other. masking_overlap is the
    same ratio over all bands at once. masked_band is the band where the tracks
    share the most energy among those with overlap >= 0.3 that hold at least 5 %
    of each track's energy, or None.
    """
    frames = min(len(band_power_a), len(band_power_b))
    a = np.sqrt(band_power_a[:frames].astype(np.float64))
    b = np.sqrt(band_power_b[:frames].astype(np.float64))
    shared, either = np.minimum(a, b).sum(axis=0), np.maximum(a, b).sum(axis=0)
    band_overlap = np.divide(shared, either, out=np.zeros_like(shared), where=either > 0)
    total_either = either.sum()
    energy_a, energy_b = (np.square(v).sum(axis=0) for v in (a, b))
    share_a = energy_a / energy_a.sum() if energy_a.sum() > 0 else np.zeros_like(energy_a)
    share_b = energy_b / energy_b.sum() if energy_b.sum() > 0 else np.zeros_like(energy_b)
    eligible = (
        (band_overlap >= MASKED_BAND_OVERLAP) & (share_a >= MASKED_BAND_MIN_SHARE) & (share_b >= MASKED_BAND_MIN_SHARE)
    )
    masked_band = None
    if eligible.any():
        masked_band = list(BANDS)[int(np.argmax(np.where(eligible, shared, -1.0)))]
    return {
        "masking_overlap": float(shared.sum() / total_either) if total_either > 0 else 0.0,
        "masking_band_overlap": {name: float(value) for name, value in zip(BANDS, band_overlap, strict=True)},
        "masked_band": masked_band,
    }
