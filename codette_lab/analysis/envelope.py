"""The track's own spectral envelope: build-ups measured against it, the top end, sibilance.

A build-up is judged where a mixing engineer hears it, against the track's own spectrum rather than fixed
band shares: the long-term spectrum is smoothed on a 1/12-octave grid (a Gaussian of 1/6 octave, so the
partials of a note merge), and at each frequency the level is compared with the straight line (in dB over
log-frequency) between the levels an octave below and an octave above. A bell boost stands out of that
line by most of its gain wherever it sits, half in one fixed band or not; a natural slope does not. A side
that drops far under the centre is an edge (nothing under a part's lowest note, a filter's cliff) and the
line continues flat from the other side; parts of the spectrum 50 dB under its loudest are not searched.
The largest excess in the low mids (mud, boxiness) and in the upper mids (harshness) is reported with its
centre frequency and bandwidth (as a Q): where the cut goes, how deep and how narrow. What excess is
normal for a kind of part (a sung voice's fundamentals stand out by nature) is the rules' business: each
track type has its own threshold. A bell on the part's own fundamentals (a sung vocal, a pad's chord roots)
hardly stands out of that line, since the notes already do: ``mud_tilt_db``, the loudest point of the low
mids against the mean level of the presence region (1-4 kHz), tells it instead, against a per-type
reference of how heavy a clean part of that kind sits there (a bell lifts it by its gain, the notes do not).

The top end is the share of energy above 5 kHz and the frequency where the spectrum falls off a cliff (a
low-pass filter, a dull microphone) or, without one, where it sinks 40 dB under its loudest part.
The tone shape is the smoothed long-term spectrum read at the 1/3-octave centres from 50 Hz to 16 kHz, in dB
against its own power mean (level-normalised): what the rules compare with the normal range of the track's
type (reference envelopes fitted on many instruments of each kind, :mod:`codette_lab.rules.tone`).
Sibilance is frame by frame: how loud the frames dominated by the 5-11 kHz band (the S sounds) are against
the track's loud frames, and where their energy is centred (the frequency a de-esser listens to).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .fixed_order import column_products, dot
from .signal import db
from .spectral import Spectrogram

#: The metrics :meth:`EnvelopeAnalyzer.measure` outputs (gathered in :mod:`.outputs`).
OUTPUTS = (
    "mud_excess_db",
    "mud_hz",
    "mud_q",
    "mud_tilt_db",
    "harsh_excess_db",
    "harsh_hz",
    "harsh_q",
    "top_end_db",
    "top_end_hz",
    "sibilance_db",
    "sibilance_hz",
    "tone_shape_db",
)
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {
    "mud_excess_db": 2,
    "mud_hz": 1,
    "mud_q": 2,
    "mud_tilt_db": 2,
    "harsh_excess_db": 2,
    "harsh_hz": 1,
    "harsh_q": 2,
    "top_end_db": 2,
    "top_end_hz": 1,
    "sibilance_db": 2,
    "sibilance_hz": 1,
    "tone_shape_db": 1,
}

#: Grid of the smoothed spectrum: 1/12-octave steps from GRID_LOW_HZ to the lower of 18 kHz and 0.45 x rate.
GRID_STEPS_PER_OCTAVE = 12
GRID_LOW_HZ = 20.0
GRID_HIGH_HZ = 18000.0
#: Width (standard deviation, octaves) of the Gaussian that smooths the power spectrum.
SMOOTHING_OCTAVES = 1.0 / 6.0
#: The line the excess is measured from joins the levels this many octaves below and above.
ENVELOPE_SPAN_OCTAVES = 1.0
#: Where build-ups are searched (Hz), and how far (dB) a side must sink under the centre to count as an edge:
#: in the low mids the lowest notes of a part make a steep natural slope (nothing under a fundamental); in
#: the upper mids a bright instrument's own roll-off is steep too, only a filter's cliff is an edge.
REGIONS = {"mud": (120.0, 600.0, 12.0), "harsh": (1800.0, 5500.0, 20.0)}
#: The presence region (Hz) the low mids' loudest point is compared with in ``mud_tilt_db``.
PRESENCE_REFERENCE_HZ = (1000.0, 4000.0)
#: Parts of the spectrum this far (dB) under its loudest part are inaudible in the mix: no build-up there.
AUDIBLE_RANGE_DB = 50.0
#: The bandwidth of a build-up is where its excess stays within this many dB of its peak.
BANDWIDTH_DROP_DB = 3.0
#: Top end: energy at or above this frequency against the energy from TOP_END_REFERENCE_HZ up to it.
TOP_END_SPLIT_HZ = 5000.0
TOP_END_REFERENCE_HZ = 100.0
#: The top end's share when there is no energy at all above the split (a floor rather than minus infinity).
NOTHING_ABOVE_DB = -120.0
#: The top end "stops" where the smoothed spectrum first falls faster than this (dB per octave) above
#: TOP_END_SEARCH_HZ: a steep low-pass, not a natural roll-off.
CLIFF_DB_PER_OCTAVE = -24.0
TOP_END_SEARCH_HZ = 1500.0
#: Without a cliff, the top end ends where the smoothed spectrum is this far under its loudest part.
TOP_END_RANGE_DB = 40.0
#: The 1/3-octave centres (Hz) the tone shape is read at (1000 x 2^(k/3)), named by their nominal labels.
SHAPE_BANDS = (
    "50", "63", "80", "100", "125", "160", "200", "250", "315", "400", "500", "630", "800",
    "1000", "1250", "1600", "2000", "2500", "3150", "4000", "5000", "6300", "8000", "10000", "12500", "16000",
)  # fmt: skip
SHAPE_CENTRES_HZ = 1000.0 * 2.0 ** (np.arange(-13, 13) / 3.0)
#: Sibilant frames: at least this share of their energy in SIBILANT_BAND.
SIBILANT_BAND = (5000.0, 11000.0)
SIBILANT_SHARE = 0.5
#: The frequencies a sibilant frame's centre is measured over (Hz).
SIBILANT_CENTRE_RANGE = (4000.0, 12000.0)
#: Sibilance compares the loud S frames with the loud frames of the whole track (this percentile of each).
LOUD_PERCENTILE = 90.0
#: Fewer sibilant frames than this are not a pattern.
MIN_SIBILANT_FRAMES = 3


def _bins(freqs: np.ndarray, low: float, high: float) -> slice:
    """The slice of FFT bins from ``low`` (included) to ``high`` (excluded) Hz."""
    return slice(int(np.searchsorted(freqs, low)), int(np.searchsorted(freqs, high)))


class EnvelopeAnalyzer:
    """The smoothing matrix and band masks of one sample rate and STFT size."""

    def __init__(self, sr: float, freqs: np.ndarray) -> None:
        self.freqs = freqs
        top = min(GRID_HIGH_HZ, 0.45 * sr)
        count = int(np.floor(np.log2(top / GRID_LOW_HZ) * GRID_STEPS_PER_OCTAVE)) + 1
        self.grid = GRID_LOW_HZ * 2.0 ** (np.arange(count) / GRID_STEPS_PER_OCTAVE)
        octaves = np.log2(np.maximum(freqs, 1e-9)[:, None] / self.grid[None, :])
        weights = np.exp(-0.5 * (octaves / SMOOTHING_OCTAVES) ** 2)
        weights[freqs <= 0] = 0.0
        weights[weights < 1e-4] = 0.0
        #: (bins, grid) averaging matrix of the smoothing.
        self.smoothing = weights / np.maximum(weights.sum(axis=0, keepdims=True), 1e-12)
        #: Bin slices (the bands are contiguous: slices read the spectrogram without copying it).
        self.sibilant = _bins(freqs, *SIBILANT_BAND)
        self.sibilant_centre = _bins(freqs, *SIBILANT_CENTRE_RANGE)
        self.top = (freqs >= TOP_END_SPLIT_HZ) & (freqs < top)
        self.body = (freqs >= TOP_END_REFERENCE_HZ) & (freqs < TOP_END_SPLIT_HZ)
        low, high, _ = REGIONS["mud"]
        self.mud_region = (self.grid >= low) & (self.grid <= high)
        self.presence = (self.grid >= PRESENCE_REFERENCE_HZ[0]) & (self.grid <= PRESENCE_REFERENCE_HZ[1])
        #: The tone shape's bands inside the grid, and where each sits on it (fractional grid index).
        inside = (self.grid[0] <= SHAPE_CENTRES_HZ) & (self.grid[-1] >= SHAPE_CENTRES_HZ)
        self.shape_names = [name for name, keep in zip(SHAPE_BANDS, inside, strict=True) if keep]
        self.shape_at = np.log2(SHAPE_CENTRES_HZ[inside] / GRID_LOW_HZ) * GRID_STEPS_PER_OCTAVE

    def smoothed_db(self, mean_power: np.ndarray) -> np.ndarray:
        """The long-term spectrum on the grid, in dB (floored far below anything audible)."""
        return 10.0 * np.log10(np.maximum(column_products(mean_power, self.smoothing), 1e-20))

    def excess_db(self, level: np.ndarray, edge_db: float, cliff: int | None = None) -> np.ndarray:
        """How far each grid point stands above the line between the levels an octave either side (NaN where
        the grid does not reach that far); a side more than ``edge_db`` under the point is an edge, and so is
        an upper side at or past ``cliff`` (the grid index where a low-pass cuts the top end off: what stands
        just under a filter's cliff is the pass band, not a build-up)."""
        excess = np.full(len(level), np.nan)
        span = round(ENVELOPE_SPAN_OCTAVES * GRID_STEPS_PER_OCTAVE)
        if len(level) <= 2 * span:
            return excess
        centre, below, above = level[span:-span], level[: -2 * span], level[2 * span :]
        # An edge (nothing under a note's fundamental, a synthesis or filter limit) is not a shoulder: the
        # envelope continues flat from the side that has sound.
        below_edge, above_edge = below < centre - edge_db, above < centre - edge_db
        if cliff is not None:
            above_edge = above_edge | (np.arange(2 * span, len(level)) >= cliff)
        below = np.where(below_edge & ~above_edge, above, below)
        above = np.where(above_edge & ~below_edge, below, above)
        line = np.where(below_edge & above_edge, np.maximum(below, above), 0.5 * (below + above))
        excess[span:-span] = centre - line
        excess[level < level.max() - AUDIBLE_RANGE_DB] = np.nan
        return excess

    def measure(self, spec: Spectrogram) -> dict[str, Any]:
        """Build-ups (excess dB, centre Hz, Q) in the low and upper mids, top end, sibilance; None for silence."""
        active = spec.active
        if not active.any():
            return dict.fromkeys(OUTPUTS)
        # the mean over the active frames as one weighted sum (no copy of the spectrogram)
        mean_power = spec.active_power_sum.astype(np.float64) / active.sum()
        level = self.smoothed_db(mean_power)
        cliff = self._cliff(level)
        result: dict[str, Any] = {}
        for name, (low, high, edge_db) in REGIONS.items():
            build_up = self._build_up(self.excess_db(level, edge_db, cliff), low, high)
            result.update(zip((f"{name}_excess_db", f"{name}_hz", f"{name}_q"), build_up, strict=True))
        result["mud_tilt_db"] = self._tilt(level)
        result.update(self._top_end(mean_power, level))
        result.update(self._sibilance(spec))
        result["tone_shape_db"] = self._shape(level)
        return result

    def _shape(self, level: np.ndarray) -> dict[str, float]:
        """The smoothed spectrum at the 1/3-octave centres, in dB against its power mean over them."""
        at = np.interp(self.shape_at, np.arange(len(level)), level)
        mean = 10.0 * np.log10(np.mean(10.0 ** (at / 10.0)))
        return {name: float(value - mean) for name, value in zip(self.shape_names, at, strict=True)}

    def _build_up(self, excess: np.ndarray, low: float, high: float) -> tuple[float | None, ...]:
        inside = np.flatnonzero((self.grid >= low) & (self.grid <= high) & np.isfinite(excess))
        if not len(inside):
            return None, None, None
        peak = int(inside[np.argmax(excess[inside])])
        centre = float(self.grid[peak])
        if 0 < peak < len(excess) - 1 and np.isfinite(excess[peak - 1]) and np.isfinite(excess[peak + 1]):
            left, mid, right = excess[peak - 1], excess[peak], excess[peak + 1]
            bend = left - 2 * mid + right
            if bend < 0:  # parabolic interpolation between grid points (at most half a step either way)
                shift = min(0.5, max(-0.5, 0.5 * (left - right) / bend))
                centre *= 2.0 ** (shift / GRID_STEPS_PER_OCTAVE)
        floor = excess[peak] - BANDWIDTH_DROP_DB
        lo = peak
        while lo > 0 and np.isfinite(excess[lo - 1]) and excess[lo - 1] >= floor:
            lo -= 1
        hi = peak
        while hi < len(excess) - 1 and np.isfinite(excess[hi + 1]) and excess[hi + 1] >= floor:
            hi += 1
        octaves = max(1, hi - lo + 1) / GRID_STEPS_PER_OCTAVE
        q = 2.0 ** (octaves / 2) / (2.0**octaves - 1.0)
        return float(excess[peak]), centre, float(q)

    def _tilt(self, level: np.ndarray) -> float | None:
        """The low mids' loudest point (dB) over the mean level of the presence region (energy mean)."""
        if not self.presence.any() or not self.mud_region.any():
            return None
        presence = 10.0 * np.log10(np.mean(10.0 ** (level[self.presence] / 10.0)))
        return float(level[self.mud_region].max() - presence)

    def _slopes(self, level: np.ndarray) -> np.ndarray:
        """The smoothed spectrum's slope at each grid point, dB per octave (centred; inf at the ends)."""
        half = GRID_STEPS_PER_OCTAVE // 2
        slope = np.full(len(level), np.inf)
        slope[half:-half] = level[2 * half :] - level[: -2 * half]
        return slope

    def _cliff(self, level: np.ndarray) -> int | None:
        """The grid index where the spectrum first falls off a cliff above TOP_END_SEARCH_HZ, or None."""
        steep = np.flatnonzero((self.grid >= TOP_END_SEARCH_HZ) & (self._slopes(level) < CLIFF_DB_PER_OCTAVE))
        return int(steep[0]) if len(steep) else None

    def _top_end(self, mean_power: np.ndarray, level: np.ndarray) -> dict[str, Any]:
        if not self.top.any():  # the rate leaves no top end to measure
            return {"top_end_db": None, "top_end_hz": None}
        top, body = float(mean_power[self.top].sum()), float(mean_power[self.body].sum())
        share = (db(top / body, power=True) or NOTHING_ABOVE_DB) if body > 0 else None
        cliff = self._cliff(level)
        if cliff is not None:
            edge = float(self.grid[cliff])
        else:  # a gentle roll-off: where the spectrum sinks TOP_END_RANGE_DB under its loudest part
            edge = float(self.grid[np.flatnonzero(level >= level.max() - TOP_END_RANGE_DB)[-1]])
        return {"top_end_db": share, "top_end_hz": edge}

    def sibilant_rows(self, power: np.ndarray) -> np.ndarray:
        """Each frame's power in SIBILANT_BAND (float64): a per-frame value the spectrogram's one pass
        gathers (registered as ``"sibilant"``)."""
        return power[:, self.sibilant].sum(axis=1, dtype=np.float64)

    def _sibilance(self, spec: Spectrogram) -> dict[str, Any]:
        active = spec.active
        energy = spec.frame_energy
        if "sibilant" in spec.features:
            sibilant_energy = spec.feature("sibilant")
        else:
            sibilant_energy = np.concatenate([self.sibilant_rows(batch) for _, batch in spec.batches()])
        frames = active & (sibilant_energy >= SIBILANT_SHARE * np.maximum(energy, 1e-30)) & (energy > 0)
        if frames.sum() < MIN_SIBILANT_FRAMES:
            return {"sibilance_db": None, "sibilance_hz": None}
        loud_s = np.percentile(sibilant_energy[frames], LOUD_PERCENTILE)
        loud = np.percentile(energy[active], LOUD_PERCENTILE)
        spectrum = spec.rows(np.flatnonzero(frames))[:, self.sibilant_centre].sum(axis=0, dtype=np.float64)
        centre = dot(spectrum, self.freqs[self.sibilant_centre]) / float(spectrum.sum())
        return {"sibilance_db": db(loud_s / loud, power=True), "sibilance_hz": centre}
