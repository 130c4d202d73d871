"""The :class:`Analyzer`: everything a sample rate needs, set up once, then any number of measurements.

One call computes what several metrics share once: the mono mix and its STFT
(spectral, transients), the K-weighted block series (all loudness figures).
On a machine with more than one core, a long signal's filter-based meters
(K-weighting and oversampling, one part per channel) are queued for a helper
thread while the calling thread does the STFT-based ones; numpy and scipy
release the GIL in their loops, so both run side by side. When the calling
thread is done it takes back the parts the helper has not started, so the
work balances itself whatever the signal. :func:`single_threaded` turns this
off where the caller already uses every core (a corpus spread over a
cluster's workers).
Every sum of products is added in a fixed order (:mod:`.fixed_order`) and every metric is rounded to
the precision it is reported at (:mod:`.precision`), so a measurement is the same bit for bit in a
notebook kernel, a server, a replay and a corpus worker, whatever their BLAS threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

import numpy as np

from ..errors import AnalysisInputError
from .bands import ALL_KINDS
from .burial import BurialAnalyzer
from .envelope import EnvelopeAnalyzer
from .levels import measure_levels
from .loudness import LoudnessMeter
from .low_end import LowEndSplit
from .masking import overlap_metrics
from .precision import reported
from .programme import ProgrammeAnalyzer
from .signal import as_channels, channel_means, check_finite, check_sample_rate, db
from .spectral import SpectrumAnalyzer
from .stereo import measure_stereo
from .transients import TransientAnalyzer
from .true_peak import TruePeakMeter

#: Signals shorter than this (seconds) are measured in the calling thread alone: handing over costs more.
PARALLEL_MIN_S = 5.0

_parallel = ContextVar("codette_parallel_measure", default=True)
_helper: ThreadPoolExecutor | None = None
_helper_lock = threading.Lock()


@contextmanager
def single_threaded() -> Iterator[None]:
    """Within this block (in this thread or task), measurements use the calling thread only."""
    token = _parallel.set(False)
    try:
        yield
    finally:
        _parallel.reset(token)


def _helper_pool() -> ThreadPoolExecutor | None:
    """The one helper thread shared by every measurement (None on a one-core machine)."""
    global _helper
    if (os.cpu_count() or 1) < 2:
        return None
    with _helper_lock:
        if _helper is None:
            _helper = ThreadPoolExecutor(1, thread_name_prefix="codette-measure")
    return _helper


class _Signal:
    """One checked signal and its spectrogram, whose passes its measurements share (made on first use,
    once, whichever thread asks first); ``measuring``: its first pass gathers every per-frame value a
    measurement reads (not needed for plots and masking)."""

    def __init__(self, analyzer: Analyzer, y: np.ndarray, *, name: str, measuring: bool = False) -> None:
        self.analyzer = analyzer
        self.x = as_channels(y, name=name)
        check_finite(self.x, name=name)
        features = (
            {
                "spectral": analyzer.spectrum.frame_features,
                "mel": analyzer.transients.mel_rows,
                "sibilant": analyzer.envelope.sibilant_rows,
                "programme": analyzer.programme.frame_rows,
            }
            if measuring
            else None
        )
        #: Each channel's mean, taken once: the levels' ``dc_offset`` and the spectrum's offset read it.
        self.means = channel_means(self.x)
        self.spectrogram = analyzer.spectrum.spectrogram(self.x, features, offset=float(self.means.mean()))


Parts = tuple[list[Callable[[], Any]], Callable[[list[Any]], dict[str, Any]]]


class Analyzer:
    """Filters, windows and filter banks for one sample rate, reused by every measurement.

    Creating the first Analyzer imports scipy and librosa; ``measure`` is then
    safe to call from several threads at once (nothing is mutated after set-up).
    """

    def __init__(self, sample_rate: float) -> None:
        self.sample_rate = check_sample_rate(sample_rate, name="sample_rate")
        self.loudness = LoudnessMeter(self.sample_rate)
        self.true_peak = TruePeakMeter()
        self.spectrum = SpectrumAnalyzer(self.sample_rate)
        self.transients = TransientAnalyzer(self.sample_rate, n_fft=self.spectrum.n_fft)
        self.envelope = EnvelopeAnalyzer(self.sample_rate, self.spectrum.freqs)
        self.burial = BurialAnalyzer(self.spectrum.freqs)
        self.programme = ProgrammeAnalyzer(self.spectrum.freqs)
        self.low_end = LowEndSplit(self.sample_rate)
        self._kinds: dict[str, Callable[[_Signal], dict[str, Any]]] = {
            "levels": lambda s: measure_levels(s.x, sr=self.sample_rate, means=s.means),
            "true_peak": lambda s: self.true_peak.measure(s.x),
            "loudness": lambda s: self.loudness.measure(s.x),
            "spectral": lambda s: _in_this_thread(self._spectral_parts(s)),
            "stereo": lambda s: measure_stereo(s.x),
            "transients": lambda s: self.transients.measure(s.x, s.spectrogram),
            "envelope": lambda s: self.envelope.measure(s.spectrogram),
            "programme": lambda s: self.programme.measure(s.spectrogram),
        }
        #: Kinds that can be cut into independent parts (one per channel) for the helper thread.
        self._parts: dict[str, Callable[[_Signal], Parts]] = {
            "loudness": self._loudness_parts,
            "true_peak": self._true_peak_parts,
            "spectral": self._spectral_parts,
        }

    def _loudness_parts(self, signal: _Signal) -> Parts:
        meter, x = self.loudness, signal.x
        boundaries = meter.boundaries(x.shape[1])
        parts: list[Callable[[], Any]] = [
            partial(meter.channel_energy, channel, boundaries) for channel in meter.counted_channels(x)
        ]
        return parts, lambda energies: meter.measure_series(meter.series(energies, len(x), boundaries))

    def _spectral_parts(self, signal: _Signal) -> Parts:
        """The STFT's spectral measures, and the finer low-end division of their sub-bass and bass."""
        parts: list[Callable[[], Any]] = [
            partial(self.spectrum.measure, signal.spectrogram),
            partial(self.low_end.sub_bass_fraction, signal.x),
        ]

        def combined(values: list[Any]) -> dict[str, Any]:
            measured, fraction = values
            return measured | {"band_energy_db": self.spectrum.with_low_end(measured["band_energy_db"], fraction)}

        return parts, combined

    def _true_peak_parts(self, signal: _Signal) -> Parts:
        meter = self.true_peak
        parts: list[Callable[[], Any]] = [partial(meter.oversampled_peak, channel) for channel in signal.x]
        return parts, lambda peaks: {"true_peak_dbtp": db(max(peaks))}

    def measure(self, y: np.ndarray, *, kinds: Iterable[str] = ALL_KINDS) -> dict[str, Any]:
        """The metrics of ``kinds`` for ``y`` ((n,) mono or (channels, n), float in -1..1).

        Values are floats/ints, None where undefined (never NaN or infinity), each at the precision it is
        reported at (:mod:`.precision`); ``band_energy_db`` is a dict by band name.
        """
        chosen = _kind_list(kinds)
        handlers = {kind: self._handler(kind) for kind in chosen}
        signal = _Signal(self, y, name="y", measuring=True)
        split = [kind for kind in chosen if kind in self._parts]
        long_enough = signal.x.shape[1] >= PARALLEL_MIN_S * self.sample_rate
        pool = _helper_pool() if _parallel.get() and split and long_enough else None
        if pool is None:
            results = {kind: handlers[kind](signal) for kind in chosen}
        else:
            results = self._measure_with_helper(signal, chosen, split, handlers, pool)
        metrics: dict[str, Any] = {}
        for kind in chosen:
            metrics.update(results[kind])
        return reported(metrics)

    def _measure_with_helper(
        self,
        signal: _Signal,
        chosen: list[str],
        split: list[str],
        handlers: dict[str, Callable[[_Signal], dict[str, Any]]],
        pool: ThreadPoolExecutor,
    ) -> dict[str, dict[str, Any]]:
        """Share the work with the helper thread; the results are those of a one-thread measurement.

        Every job (one per channel of a split kind, one per other kind) is queued for the helper: the
        filter parts first, then the other kinds from the last to the first. This thread takes the same
        jobs in the opposite order, running each one the helper has not started yet (``cancel()``
        succeeds), so the two meet wherever the work divides evenly.
        """
        parts = {kind: self._parts[kind](signal) for kind in split}
        jobs: list[tuple[str, Callable[[], Any]]] = [(kind, part) for kind in split for part in parts[kind][0]]
        jobs += [(kind, partial(handlers[kind], signal)) for kind in reversed(chosen) if kind not in parts]
        queued = [pool.submit(job) for _, job in jobs]
        done: dict[int, Any] = {}
        try:
            for index in reversed(range(len(jobs))):
                if queued[index].cancel():  # the helper has not started it: run it here
                    done[index] = jobs[index][1]()
            for index, future in enumerate(queued):
                if index not in done:
                    done[index] = future.result()
        finally:  # on an error, never leave the helper working on a signal the caller has given up
            for future in queued:
                future.cancel()
            wait(queued)
        values: dict[str, list[Any]] = {}
        for index, (kind, _) in enumerate(jobs):
            values.setdefault(kind, []).append(done[index])
        return {kind: parts[kind][1](values[kind]) if kind in parts else values[kind][0] for kind in chosen}

    def measure_masking(self, y: np.ndarray, other: np.ndarray) -> dict[str, Any]:
        """masking_overlap (0..1), masking_band_overlap {band: 0..1}, masked_band (name or None), and which
        track buries the other where (``buried_*``, ``burying_*``: see :mod:`.burial`).

        Both signals are compared over the length they share.
        """
        first, second = _Signal(self, y, name="y"), _Signal(self, other, name="other")
        metrics = overlap_metrics(
            self.spectrum.band_power(first.spectrogram), self.spectrum.band_power(second.spectrogram)
        )
        metrics.update(self.burial.measure(first.spectrogram, second.spectrogram))
        return reported(metrics)

    def spectrum_curve(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.spectrum.curve(_Signal(self, y, name="y").spectrogram)

    def loudness_curve(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.loudness.curve(_Signal(self, y, name="y").x)

    def _handler(self, kind: str) -> Callable[[_Signal], dict[str, Any]]:
        handler = self._kinds.get(kind)
        if handler is None:
            raise AnalysisInputError(f"Unknown measurement kind {kind!r}; available: {', '.join(ALL_KINDS)}")
        return handler


def _in_this_thread(parts: Parts) -> dict[str, Any]:
    """A kind cut into parts, measured here: each part in turn, then combined."""
    jobs, combine = parts
    return combine([job() for job in jobs])


def _kind_list(kinds: Iterable[str]) -> list[str]:
    if isinstance(kinds, str):
        return [kinds]
    return list(dict.fromkeys(kinds))


_analyzers: dict[float, Analyzer] = {}
_analyzers_lock = threading.Lock()


def analyzer_for(sr: float) -> Analyzer:
    """The shared Analyzer of a sample rate (created on first use)."""
    rate = check_sample_rate(sr)
    analyzer = _analyzers.get(rate)
    if analyzer is None:
        with _analyzers_lock:
            analyzer = _analyzers.get(rate)
            if analyzer is None:
                analyzer = _analyzers[rate] = Analyzer(rate)
    return analyzer


#: The sample rates a long-lived process warms the analysis up for (most audio comes at one of them).
WARM_UP_RATES = (44100, 48000)


def warm_up(sr: float = 44100) -> None:
    """Pay the one-off costs now (scipy/librosa imports, filter set-up, numba compilation of librosa's
    peak picker: about 2 s) so the first real measurement at ``sr`` is as fast as the rest.
    A server can call this in a worker thread at start-up."""
    noise = np.random.default_rng(0).standard_normal((2, int(sr))).astype(np.float32) * np.float32(0.1)
    analyzer_for(sr).measure(noise)


def measure(y: np.ndarray, *, sr: float, kinds: Iterable[str] = ALL_KINDS) -> dict[str, Any]:
    """Measure ``y`` at sample rate ``sr``: see :meth:`Analyzer.measure`. Reuses one Analyzer per rate."""
    return analyzer_for(sr).measure(y, kinds=kinds)


def measure_masking(y: np.ndarray, other: np.ndarray, *, sr: float) -> dict[str, Any]:
    """How much ``y`` and ``other`` (same sample rate) compete for the same bands.

    See :meth:`Analyzer.measure_masking`.
    """
    return analyzer_for(sr).measure_masking(y, other)


def spectrum_curve(y: np.ndarray, *, sr: float) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies in Hz, mean level in dB relative to a full-scale sine, floored at -120 dB) for plots."""
    return analyzer_for(sr).spectrum_curve(y)


def loudness_curve(y: np.ndarray, *, sr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times in s, momentary LUFS, short-term LUFS) every 100 ms from 0.4 s on, floored at -120 LUFS.

    Short-term values before 3 s cover the audio so far. Clips under 400 ms give empty arrays.
    """
    return analyzer_for(sr).loudness_curve(y)


def waveform_envelope(y: np.ndarray, *, sr: float, points: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times in s, minimum, maximum) over all channels in ``points`` equal slices, for drawing a waveform.

    Clips with fewer samples than ``points`` give one slice per sample.
    """
    rate = check_sample_rate(sr)
    if points < 1:
        raise AnalysisInputError(f"waveform_envelope: points must be >= 1, got {points}")
    x = as_channels(y)
    check_finite(x)
    length = x.shape[1]
    slices = min(points, length)
    edges = np.linspace(0, length, slices + 1).astype(np.int64)
    low = np.minimum.reduceat(x, edges[:-1], axis=1).min(axis=0)
    high = np.maximum.reduceat(x, edges[:-1], axis=1).max(axis=0)
    times = (edges[:-1] + edges[1:]) / 2.0 / rate
    return times, low, high
