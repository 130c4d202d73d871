"""Level-aware masking: how much of one track's energy the other covers, where, and by how much.

Two tracks mask each other where they share a band at the same moment, but only the quieter one loses:
a kick under an 808 playing on every beat is buried, the 808 is not. Both spectrograms are summed into
1/3-octave bands per frame; a cell (frame, band) of this track is covered when the other track is at least
COVER_MARGIN_DB louder there. Among the track's main bands (each holding at least MAIN_BAND_SHARE of its
energy), ``buried_share`` is the largest share of a band's energy that sits in covered cells, ``buried_hz``
that band's centre, and ``buried_by_db`` how far (median, energy-weighted) the other track stands above it
there: what a cut or a side-chain duck on the other track has to take away. A track "plays" in a band
while it is within SOUNDING_RANGE_DB of its loudest moment there. The ``burying_*`` metrics are the same
with the tracks swapped (this track buries the other).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .fixed_order import ContiguousBands
from .spectral import Spectrogram

#: The metrics :meth:`BurialAnalyzer.measure` outputs (gathered in :mod:`.outputs`).
OUTPUTS = ("buried_share", "buried_hz", "buried_by_db", "burying_share", "burying_hz", "burying_by_db")
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {
    "buried_share": 4,
    "buried_hz": 1,
    "buried_by_db": 2,
    "burying_share": 4,
    "burying_hz": 1,
    "burying_by_db": 2,
}

#: 1/3-octave bands (centre frequencies, Hz) the tracks are compared in.
BAND_CENTRES_HZ = tuple(1000.0 * 2.0 ** (index / 3.0) for index in range(-16, 13))  # 25 Hz .. 16 kHz
#: A cell counts as covered when the other track is this much louder in it.
COVER_MARGIN_DB = 6.0
#: A track sounds in a band while it is within this many dB of its loudest moment there (its tail under
#: that is not what a listener misses).
SOUNDING_RANGE_DB = 12.0
#: A main band of a track holds at least this share of its energy.
MAIN_BAND_SHARE = 0.1
#: Level differences above this are reported as this (a cut deeper than that is a mute).
MAX_LEVEL_GAP_DB = 30.0


class BurialAnalyzer:
    """The 1/3-octave band matrix of one sample rate and STFT size."""

    def __init__(self, freqs: np.ndarray) -> None:
        centres = np.array(BAND_CENTRES_HZ)
        edges = np.append(centres * 2.0 ** (-1 / 6), centres[-1] * 2.0 ** (1 / 6))  # a band ends where the next starts
        matrix = (freqs[:, None] >= edges[None, :-1]) & (freqs[:, None] < edges[None, 1:])
        used = matrix.any(axis=0)
        self.centres = centres[used]
        self.bands = ContiguousBands(matrix[:, used])

    def measure(self, first: Spectrogram, second: Spectrogram) -> dict[str, Any]:
        frames = min(len(first.power), len(second.power))
        a = self.bands.sums(first.power[:frames]).astype(np.float64)
        b = self.bands.sums(second.power[:frames]).astype(np.float64)
        buried = self._covered(a, b)
        burying = self._covered(b, a)
        return {
            "buried_share": buried[0],
            "buried_hz": buried[1],
            "buried_by_db": buried[2],
            "burying_share": burying[0],
            "burying_hz": burying[1],
            "burying_by_db": burying[2],
        }

    def _covered(self, own: np.ndarray, other: np.ndarray) -> tuple[float | None, float | None, float | None]:
        """(the largest covered share of one of ``own``'s main bands, that band's centre, the level gap there)."""
        energy = own.sum(axis=0)
        total = energy.sum()
        if total <= 0:
            return None, None, None
        sounding = own >= own.max(axis=0, keepdims=True) * 10.0 ** (-SOUNDING_RANGE_DB / 10.0)
        covered = sounding & (other > own * 10.0 ** (COVER_MARGIN_DB / 10.0))
        shares = np.where(covered, own, 0.0).sum(axis=0) / np.maximum(energy, 1e-30)
        shares[energy < MAIN_BAND_SHARE * total] = 0.0
        band = int(np.argmax(shares))
        if shares[band] <= 0:
            return 0.0, None, None
        rows = covered[:, band]
        with np.errstate(divide="ignore"):
            gaps = 10.0 * np.log10(other[rows, band] / own[rows, band])
        order = np.argsort(gaps)
        weights = np.cumsum(own[rows, band][order])
        gap = float(gaps[order][np.searchsorted(weights, weights[-1] / 2)])
        return float(shares[band]), float(self.centres[band]), min(gap, MAX_LEVEL_GAP_DB)
