"""The power spectrogram of a signal, taken a batch of frames at a time and never held whole by a measurement.

A 10-minute track's spectrogram is about 100 MB of float32 (frames x 2049 bins at 44.1 kHz), and every
figure the meters take from it is either a per-frame value (a frame's energy, centroid, roll-off,
flatness, mel bands) or a sum over frames. So :class:`Spectrogram` computes its frames
FFT_BATCH_FRAMES at a time, each batch from its own stretch of samples (mixed to mono there, the tail's
zeros added there): one pass gives every per-frame value the meters registered (``features``) and the
power summed over all frames. The frames that carry sound are known only once every frame's energy
is: the first pass also sums the power of the frames loud enough against the loudest one so far, which
is the sum over the frames that carry sound unless a louder part came later (a fade-in); only then,
and for the rows of chosen frames (:meth:`Spectrogram.rows`), are the batches read again. A
spectrogram under HOLD_BYTES is held whole instead, as transforming it again would cost more time
than its memory is worth.

Every number is the one a whole spectrogram gives, bit for bit: each frame holds the same samples and
goes through the same batch transform; per-frame values depend on their frame alone; and the sums over
frames are added in the order a sum over the whole array adds them (frame after frame, the running sum
carried from batch to batch as the first row of the next one). :attr:`Spectrogram.power`, the whole
array, is still there for plots, masking between two tracks and tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from .fixed_order import column_products
from .signal import channel_means, mono_mix

#: Frames transformed per batch: small batches stay in cache (about twice as fast as one big transform).
FFT_BATCH_FRAMES = 64
#: Frames quieter than this (relative to the loudest frame) are left out of track averages.
ACTIVE_FRAME_RANGE_DB = 60.0

#: A spectrogram up to this size (bytes; about 4.5 minutes at 44.1 kHz) is held whole once computed, so
#: the passes that need the frames carrying sound read it rather than transform the signal again; a
#: longer one is transformed again for them, a batch at a time.
HOLD_BYTES = 48 << 20

#: A per-frame value: from a batch's power (frames, bins) to one row per frame (frames, ...).
RowFeature = Callable[[np.ndarray], np.ndarray]


def frame_energy(power: np.ndarray) -> np.ndarray:
    """Each frame's power summed over its bins (float64)."""
    return power.sum(axis=1, dtype=np.float64)


def _active_threshold(loudest: float) -> float:
    """The energy a frame needs to carry sound, against the loudest frame's."""
    return loudest * 10.0 ** (-ACTIVE_FRAME_RANGE_DB / 10.0)


def _carried_sum(total: np.ndarray | None, weights: np.ndarray, batch: np.ndarray) -> np.ndarray | None:
    """``weights @ batch`` added to the running ``total`` frame after frame (the total as the first row),
    as one sum over the whole spectrogram adds them; a batch with no weight adds nothing."""
    if not weights.any():
        return total
    if total is None:
        return column_products(weights, batch)
    carried = np.concatenate((np.ones(1, dtype=weights.dtype), weights))
    return column_products(carried, np.vstack((total[np.newaxis, :], batch)))


#: A mean summed in float32 is good to about this share of itself.
OFFSET_PRECISION = 1e-5


def _exact_offset(x: np.ndarray, mean: float) -> np.float32:
    """The offset to take off: ``mean``, or the mono mix's first sample where the two agree to within the mean's
    own precision (a constant, whose float32 sums land a hair off it and would leave a residue to measure)."""
    if not x.shape[1] or not mean:
        return np.float32(mean)
    first = mono_mix(x[:, :1])[0]
    return first if abs(float(first) - mean) <= OFFSET_PRECISION * abs(mean) else np.float32(mean)


class _FirstPass(NamedTuple):
    values: dict[str, np.ndarray]
    bin_power: np.ndarray
    counted: np.ndarray  # the frames active_sum holds
    active_sum: np.ndarray | None


class Spectrogram:
    """Power spectrogram (frames x bins, float32) of a signal's mono mix less its mean: Hann frames, the tail
    zero-padded.

    ``x`` is (n,) mono or (channels, n); ``features`` are the per-frame values the first pass gathers
    (besides each frame's energy), read with :meth:`feature`; ``hold_bytes``: the largest spectrogram held
    whole once computed (see HOLD_BYTES); ``offset``: the mono mix's mean, when the caller has already taken it.
    """

    def __init__(
        self,
        x: np.ndarray,
        *,
        window: np.ndarray,
        hop: int,
        features: Mapping[str, RowFeature] | None = None,
        hold_bytes: int = HOLD_BYTES,
        offset: float | None = None,
    ) -> None:
        self.x = x if x.ndim == 2 else x[np.newaxis, :]
        self.window = window
        self.n_fft = len(window)
        self.hop = hop
        self.bins = self.n_fft // 2 + 1
        #: The mono mix's mean (``offset`` when the caller has it), taken off every frame: a DC offset is not
        #: heard (``dc_offset`` measures and the rules judge it on its own), and left in it lands in the lowest
        #: bins, steps down where the tail is zero-padded (a broadband click) and makes a constant read as sound.
        if offset is None:
            offset = float(channel_means(self.x).mean()) if self.x.shape[1] else 0.0
        self.offset = _exact_offset(self.x, offset)
        self.frames = 1 + max(0, -(-(self.x.shape[1] - self.n_fft) // hop))
        self.features: Mapping[str, RowFeature] = MappingProxyType({"energy": frame_energy, **(features or {})})
        self.hold_bytes = hold_bytes
        #: What is computed once (the whole array, the first pass, the active frames), by name.
        self._once: dict[str, Any] = {}
        #: One lock per spectrogram: a kind measured in the helper thread waits for the pass the other
        #: thread is making instead of making it again, and other signals' passes never wait for it.
        self._lock = threading.RLock()

    def _computed(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``name`` is asked for, from any thread; the same value after."""
        if name not in self._once:
            with self._lock:
                if name not in self._once:
                    self._once[name] = compute()
        return self._once[name]

    @property
    def held(self) -> bool:
        """Whether the whole array is held (read by every later pass instead of transforming again)."""
        return "power" in self._once

    def _batch(self, start: int, stop: int) -> np.ndarray:
        """The power of frames start .. stop - 1, from the samples they cover."""
        from scipy.fft import rfft

        length, hop, n_fft = self.x.shape[1], self.hop, self.n_fft
        first, end = start * hop, (stop - 1) * hop + n_fft
        mono = mono_mix(self.x[:, first : min(end, length)])
        if self.offset:
            mono = mono - self.offset
        if len(mono) < end - first:
            mono = np.concatenate((mono, np.zeros(end - first - len(mono), dtype=np.float32)))
        framed = np.lib.stride_tricks.sliding_window_view(mono, n_fft)[::hop]
        spectrum = rfft(framed * self.window, axis=1, workers=1)
        power = np.square(spectrum.real, dtype=np.float32)
        power += np.square(spectrum.imag)
        return power

    def batches(self, wanted: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """(first frame, power of the batch) of every batch, in order; with ``wanted`` (a mask over the
        frames) only the batches holding a wanted frame. Read from :attr:`power` once that is held."""
        held = self._once.get("power")
        for start in range(0, self.frames, FFT_BATCH_FRAMES):
            stop = min(self.frames, start + FFT_BATCH_FRAMES)
            if wanted is not None and not wanted[start:stop].any():
                continue
            yield start, held[start:stop] if held is not None else self._batch(start, stop)

    @property
    def power(self) -> np.ndarray:
        """The whole spectrogram (frames, bins), float32: for plots, masking and tests."""
        return self._computed("power", self._whole)

    def _whole(self) -> np.ndarray:
        power = np.empty((self.frames, self.bins), dtype=np.float32)
        for start, batch in self.batches():
            power[start : start + len(batch)] = batch
        return power

    @property
    def _first_pass(self) -> _FirstPass:
        return self._computed("first pass", self._pass)

    def _pass(self) -> _FirstPass:
        """Every registered per-frame value, each bin's power summed over all frames, and the power summed
        over the frames that carry sound as far as the pass could tell (see :attr:`active_power_sum`)."""
        held = self.power if self.frames * self.bins * 4 <= self.hold_bytes else None
        values: dict[str, np.ndarray] = {}
        total: np.ndarray | None = None
        counted = np.zeros(self.frames, dtype=bool)
        active_sum: np.ndarray | None = None
        loudest = 0.0
        for start, batch in self.batches():
            for name, feature in self.features.items():
                rows = feature(batch)
                if name not in values:  # every frame's rows, filled in batch by batch
                    values[name] = np.empty((self.frames, *rows.shape[1:]), dtype=rows.dtype)
                values[name][start : start + len(rows)] = rows
            if held is not None:
                continue  # the sums below are taken over the whole array at once
            if total is None:
                total = batch.sum(axis=0, dtype=np.float64)
            else:  # the running sum as the first row: added frame after frame, as over the whole array
                total = np.vstack((total[np.newaxis, :], batch)).sum(axis=0)
            energy = values["energy"][start : start + len(batch)]
            loudest = max(loudest, energy.max())
            if loudest > 0:  # the frames loud enough against the loudest so far (a superset of the active ones)
                weights = (energy >= _active_threshold(loudest)).astype(np.float32)
                counted[start : start + len(batch)] = weights != 0
                active_sum = _carried_sum(active_sum, weights, batch)
        if held is not None:
            total = held.sum(axis=0, dtype=np.float64)
        assert total is not None  # a signal has at least one frame
        return _FirstPass(values, total, counted, active_sum)

    def feature(self, name: str) -> np.ndarray:
        """The per-frame value ``name`` of every frame (rows in frame order)."""
        return self._first_pass.values[name]

    @property
    def bin_power(self) -> np.ndarray:
        """Each bin's power summed over all frames (float64)."""
        return self._first_pass.bin_power

    @property
    def frame_energy(self) -> np.ndarray:
        return self.feature("energy")

    @property
    def active(self) -> np.ndarray:
        """Boolean mask of the frames that carry sound (none for digital silence)."""
        return self._computed("active", self._active)

    def _active(self) -> np.ndarray:
        energy = self.frame_energy
        loudest = energy.max()
        if loudest <= 0:
            return np.zeros(len(energy), dtype=bool)
        return energy >= _active_threshold(loudest)

    @property
    def active_power_sum(self) -> np.ndarray:
        """``active @ power``: each bin's power summed over the frames that carry sound (float32, in frame
        order). The first pass sums the frames loud enough against the loudest frame so far; unless a
        louder frame came later and made one of those quiet (a fade-in), that is this sum, else the
        batches are read again."""
        return self._computed("active sum", self._active_sum)

    def _active_sum(self) -> np.ndarray:
        first = self._first_pass
        if first.active_sum is not None and np.array_equal(first.counted, self.active):
            return first.active_sum
        return self.weighted_sum(self.active.astype(np.float32))

    def weighted_sum(self, weights: np.ndarray) -> np.ndarray:
        """``weights @ power`` (float32 weights, one per frame) summed in frame order; batches whose
        weights are all zero add nothing and are not computed."""
        if self.held:
            return column_products(weights, self.power)
        total: np.ndarray | None = None
        for start, batch in self.batches(weights != 0):
            total = _carried_sum(total, weights[start : start + len(batch)], batch)
        return total if total is not None else np.zeros(self.bins, dtype=np.float32)

    def rows(self, frames: np.ndarray) -> np.ndarray:
        """The power of the frames at the (increasing) indices ``frames``, (len(frames), bins)."""
        wanted = np.zeros(self.frames, dtype=bool)
        wanted[frames] = True
        out = np.empty((len(frames), self.bins), dtype=np.float32)
        filled = 0
        for start, batch in self.batches(wanted):
            chosen = np.flatnonzero(wanted[start : start + len(batch)])
            out[filled : filled + len(chosen)] = batch[chosen]
            filled += len(chosen)
        return out
