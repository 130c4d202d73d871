"""ITU-R BS.1770-4 loudness and EBU Tech 3342 loudness range from one K-weighted block series.

The K-weighted signal is computed once per call; its channel-weighted power is
summed over 100 ms hops, and every window the standards use (400 ms momentary
blocks with 75 % overlap, 3 s short-term blocks) is a difference of cumulative
hop sums. Integrated loudness, momentary and short-term maxima and the
loudness range all come from that one series.

The K-weighting is the BS.1770 filter itself (the published 48 kHz
coefficients, re-derived for other rates). pyloudnorm scales its RLB
high-pass to unity pass-band gain, which BS.1770 does not, so it reads about
0.04 LU lower than this meter on any programme; both pass EBU Tech 3341.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The metrics :meth:`LoudnessMeter.measure` outputs (gathered in :mod:`.outputs`).
OUTPUTS = ("integrated_lufs", "momentary_lufs_max", "short_term_lufs_max", "loudness_range_lu")
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {"integrated_lufs": 2, "momentary_lufs_max": 2, "short_term_lufs_max": 2, "loudness_range_lu": 2}

#: BS.1770 block offset: a 0 dB 997 Hz sine on one channel reads -3.01 LUFS.
LOUDNESS_OFFSET = -0.691
#: Block hop (75 % overlap of the 400 ms momentary block), seconds.
HOP_S = 0.1
MOMENTARY_HOPS = 4  # 400 ms
SHORT_TERM_HOPS = 30  # 3 s
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0  # integrated loudness (BS.1770-4)
LRA_RELATIVE_GATE_LU = -20.0  # loudness range (EBU Tech 3342)
LRA_PERCENTILES = (10.0, 95.0)
#: Hops K-weighted per block (10 s): the filtered signal is held one block at a time.
BLOCK_HOPS = 100
#: Value used for silent windows in plotted curves (the metrics report None instead).
CURVE_FLOOR_LUFS = -120.0

#: Analogue prototypes of the two K-weighting stages (BS.1770 pre-filter: a high shelf, then the
#: RLB high-pass), from which the published 48 kHz coefficients follow through the bilinear transform;
#: redoing the transform gives the same filter at any sample rate.
_SHELF_HZ, _SHELF_GAIN_DB, _SHELF_Q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
_SHELF_BAND_EXPONENT = 0.4996667741545416
_HIGHPASS_HZ, _HIGHPASS_Q = 38.13547087602444, 0.5003270373238773


def k_weighting_sos(sr: float) -> np.ndarray:
    """The two K-weighting biquads at ``sr`` as a second-order-sections array (2, 6)."""
    k = math.tan(math.pi * _SHELF_HZ / sr)
    vh = 10.0 ** (_SHELF_GAIN_DB / 20.0)
    vb = vh**_SHELF_BAND_EXPONENT
    a0 = 1.0 + k / _SHELF_Q + k * k
    shelf = [
        (vh + vb * k / _SHELF_Q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / _SHELF_Q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / _SHELF_Q + k * k) / a0,
    ]
    k = math.tan(math.pi * _HIGHPASS_HZ / sr)
    a0 = 1.0 + k / _HIGHPASS_Q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _HIGHPASS_Q + k * k) / a0]
    return np.array([shelf, highpass])


def channel_weights(channels: int) -> np.ndarray:
    """BS.1770 channel gains for the usual layouts.

    1-3 channels (mono, L R, L R C): 1.0 each; 4 (L R Ls Rs) and 5 (L R C Ls Rs):
    surrounds 1.41; 6 (5.1: L R C LFE Ls Rs): LFE excluded; more channels: 1.0 each.
    """
    layouts = {
        4: (1.0, 1.0, 1.41, 1.41),
        5: (1.0, 1.0, 1.0, 1.41, 1.41),
        6: (1.0, 1.0, 1.0, 0.0, 1.41, 1.41),
    }
    return np.array(layouts.get(channels, (1.0,) * channels))


def _lufs(power: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return LOUDNESS_OFFSET + 10.0 * np.log10(power)


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class BlockSeries:
    """Channel-weighted K-weighted power summed over 100 ms hops, and the windows built from it."""

    cumulative: np.ndarray  # cumulative hop energies, length hops + 1, starts at 0
    counts: np.ndarray  # cumulative sample counts at the hop boundaries

    def window_power(self, hops: int) -> np.ndarray:
        """Mean power of every complete window of ``hops`` hops, one per hop (empty if the clip is shorter)."""
        if len(self.cumulative) <= hops:
            return np.empty(0)
        energy = self.cumulative[hops:] - self.cumulative[:-hops]
        return energy / (self.counts[hops:] - self.counts[:-hops])

    def growing_window_power(self, hops: int) -> np.ndarray:
        """Like :meth:`window_power` but also for the first windows, shorter while the clip is (for curves)."""
        ends = np.arange(1, len(self.cumulative))
        starts = np.maximum(ends - hops, 0)
        return (self.cumulative[ends] - self.cumulative[starts]) / (self.counts[ends] - self.counts[starts])


class LoudnessMeter:
    """K-weighting set up for one sample rate, used for any number of signals."""

    def __init__(self, sr: float) -> None:
        self.sr = sr
        self.sos = k_weighting_sos(sr).astype(np.float32)
        self._hop = HOP_S * sr

    def boundaries(self, length: int) -> np.ndarray:
        """Sample indices of the 100 ms hop boundaries of a signal of ``length`` samples (from 0)."""
        hops = int(length / self._hop + 1e-9)
        return np.floor(np.arange(hops + 1) * self._hop + 1e-6).astype(np.int64)

    def channel_energy(self, channel: np.ndarray, boundaries: np.ndarray) -> np.ndarray:
        """One channel K-weighted and its power summed over each hop (a part :meth:`series` adds up).

        The filter runs over BLOCK_HOPS hops at a time, its state carried from block to block: the same
        samples as one pass over the channel, without a filtered copy of all of it.
        """
        from scipy.signal import sosfilt

        hops = len(boundaries) - 1
        if hops < 1:
            return np.zeros(0)
        uniform = bool((np.diff(boundaries) == boundaries[1] - boundaries[0]).all())
        energy = np.empty(hops)
        state = np.zeros((len(self.sos), 2), dtype=np.float32)
        for first in range(0, hops, BLOCK_HOPS):
            last = min(hops, first + BLOCK_HOPS)
            start, stop = int(boundaries[first]), int(boundaries[last])
            weighted, state = sosfilt(self.sos, channel[start:stop], zi=state)
            energy[first:last] = _segment_energy(weighted, boundaries[first : last + 1] - start, uniform=uniform)
        return energy

    def series(self, energies: list[np.ndarray], channels: int, boundaries: np.ndarray) -> BlockSeries:
        """The block series from the :meth:`channel_energy` of each weighted channel, in channel order."""
        energy = np.zeros(len(boundaries) - 1)
        for weight, channel_energy in zip(self.weighted(channels), energies, strict=True):
            energy += weight * channel_energy
        cumulative = np.concatenate(([0.0], np.cumsum(energy)))
        return BlockSeries(cumulative=cumulative, counts=boundaries.astype(np.float64))

    @staticmethod
    def weighted(channels: int) -> list[float]:
        """The BS.1770 weights of the channels that count (the LFE's weight 0 drops it)."""
        return [float(weight) for weight in channel_weights(channels) if weight != 0.0]

    def counted_channels(self, x: np.ndarray) -> list[np.ndarray]:
        """The channels of ``x`` that carry a non-zero weight, in order."""
        return [channel for weight, channel in zip(channel_weights(len(x)), x, strict=True) if weight != 0.0]

    def blocks(self, x: np.ndarray) -> BlockSeries:
        """K-weight every channel once and sum the weighted power over 100 ms hops."""
        boundaries = self.boundaries(x.shape[1])
        energies = [self.channel_energy(channel, boundaries) for channel in self.counted_channels(x)]
        return self.series(energies, len(x), boundaries)

    def measure(self, x: np.ndarray) -> dict[str, Any]:
        """integrated_lufs, momentary_lufs_max, short_term_lufs_max, loudness_range_lu (None where undefined)."""
        return self.measure_series(self.blocks(x))

    def measure_series(self, series: BlockSeries) -> dict[str, Any]:
        """The figures of :meth:`measure` from a block series already built."""
        momentary = series.window_power(MOMENTARY_HOPS)
        short_term = series.window_power(SHORT_TERM_HOPS)
        return {
            "integrated_lufs": integrated_loudness(momentary),
            "momentary_lufs_max": _finite_or_none(float(_lufs(momentary.max()))) if len(momentary) else None,
            "short_term_lufs_max": _finite_or_none(float(_lufs(short_term.max()))) if len(short_term) else None,
            "loudness_range_lu": loudness_range(short_term),
        }

    def curve(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Times (s, window ends from 400 ms on), momentary and short-term loudness (LUFS, floored)."""
        series = self.blocks(x)
        momentary = series.window_power(MOMENTARY_HOPS)
        short_term = series.growing_window_power(SHORT_TERM_HOPS)[MOMENTARY_HOPS - 1 :]
        times = series.counts[MOMENTARY_HOPS:] / self.sr
        floor = CURVE_FLOOR_LUFS
        return times, np.maximum(_lufs(momentary), floor), np.maximum(_lufs(short_term), floor)


def _segment_energy(signal: np.ndarray, boundaries: np.ndarray, *, uniform: bool) -> np.ndarray:
    """Sum of squares of ``signal`` between consecutive boundaries (the first is 0, the last its length);
    ``uniform``: every hop of the track has the same length (the same way of summing for all its blocks)."""
    if uniform:  # whole-sample hops (44.1, 48 kHz, ...): one pass, no temporary
        lengths = np.diff(boundaries)
        rows = signal.reshape(len(lengths), int(lengths[0]))
        return np.einsum("ij,ij->i", rows, rows).astype(np.float64)
    return np.add.reduceat(np.square(signal), boundaries[:-1]).astype(np.float64)


def integrated_loudness(block_power: np.ndarray) -> float | None:
    """BS.1770-4 gated loudness of 400 ms block powers: -70 LUFS absolute, -10 LU relative gate."""
    loudness = _lufs(block_power)
    above_absolute = loudness >= ABSOLUTE_GATE_LUFS
    if not above_absolute.any():
        return None
    relative_gate = _lufs(block_power[above_absolute].mean()) + RELATIVE_GATE_LU
    gated = (loudness > relative_gate) & (loudness > ABSOLUTE_GATE_LUFS)
    if not gated.any():
        return None
    return float(_lufs(block_power[gated].mean()))


def loudness_range(short_term_power: np.ndarray) -> float | None:
    """EBU Tech 3342 loudness range of 3 s block powers: -70 LUFS / -20 LU gates, 10th to 95th percentile."""
    loudness = _lufs(short_term_power)
    above_absolute = loudness >= ABSOLUTE_GATE_LUFS
    if not above_absolute.any():
        return None
    relative_gate = _lufs(short_term_power[above_absolute].mean()) + LRA_RELATIVE_GATE_LU
    loudness = loudness[above_absolute & (loudness >= relative_gate)]
    if not len(loudness):
        return None
    low, high = np.percentile(loudness, LRA_PERCENTILES)
    return float(high - low)
