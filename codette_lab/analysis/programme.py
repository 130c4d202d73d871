"""What kind of material a track holds: programme (music, speech) or only noise, and how much of it pauses.

Judgements about a mix need programme material: a track of hiss alone must not be told to raise its gain
or to de-ess its hiss. Noise is told from programme by two things at once: it is steady (its frame levels
stay within a few dB) and spectrally flat (the flatness of its frames, geometric over arithmetic mean of
the power spectrum, is high; a note, a chord or a voice is far from flat). Speech pauses between phrases
where music carries on, so the share of frames far below the loud ones tells a podcast from a song.
Digital silence has none of these (None).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .spectral import Spectrogram, flatness

#: The metrics :func:`measure_programme` outputs (gathered in :mod:`.outputs`).
OUTPUTS = ("noise_only", "pause_fraction")
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {"noise_only": None, "pause_fraction": 4}

#: Noise is steady: its loud and quiet frames (these percentiles) lie within NOISE_SPREAD_DB...
SPREAD_PERCENTILES = (10.0, 95.0)
NOISE_SPREAD_DB = 6.0
#: ...and flat: the median frame flatness reaches NOISE_FLATNESS (white noise reads about 0.55, pink
#: noise about 0.25, a held chord or a vowel under 0.05).
NOISE_FLATNESS = 0.2
#: Flatness is taken on every FLATNESS_FRAME_STEP-th frame: the median needs no more, and it is costly.
FLATNESS_FRAME_STEP = 8
#: Frames this far (dB) under the loudest are read at this level (digital silence has no finite level).
SILENT_FRAME_DB = 150.0
#: A pause: a frame this far (dB) below the loud frames (the upper of SPREAD_PERCENTILES).
PAUSE_DB = 30.0


def measure_programme(spec: Spectrogram) -> dict[str, Any]:
    """noise_only (1.0 for steady flat noise, 0.0 for programme) and pause_fraction (0..1); None for silence."""
    energy = spec.frame_energy
    if not spec.active.any():
        return {"noise_only": None, "pause_fraction": None}
    level = 10.0 * np.log10(np.maximum(energy, energy.max() * 10.0 ** (-SILENT_FRAME_DB / 10.0)))
    quiet, loud = np.percentile(level, SPREAD_PERCENTILES)
    sample = spec.power[::FLATNESS_FRAME_STEP][spec.active[::FLATNESS_FRAME_STEP]]
    flat = float(np.median(flatness(sample))) if len(sample) else 0.0
    noise = loud - quiet < NOISE_SPREAD_DB and flat >= NOISE_FLATNESS
    return {"noise_only": 1.0 if noise else 0.0, "pause_fraction": float(np.mean(level < loud - PAUSE_DB))}
