"""One magnitude STFT per call, shared by the spectral centroid, roll-off, flatness, band energies,
the onset envelope (transients), masking and the plotted spectrum.

Centroid, roll-off and flatness follow librosa's definitions
(``spectral_centroid``; ``spectral_rolloff`` with roll_percent=0.85;
``spectral_flatness`` of the power spectrum with amin=1e-10) but are computed
for all frames at once with fewer passes over the spectrogram (the tests hold
them equal to librosa's on the same spectrogram). Track values are means over
the frames that carry sound (within 60 dB of the loudest frame).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .bands import AUDIBLE_RANGE, BANDS
from .fixed_order import ContiguousBands, row_products
from .signal import db
from .stft import ACTIVE_FRAME_RANGE_DB, FFT_BATCH_FRAMES, RowFeature, Spectrogram

__all__ = ["ACTIVE_FRAME_RANGE_DB", "FFT_BATCH_FRAMES", "Spectrogram", "SpectrumAnalyzer"]

#: The metrics :meth:`SpectrumAnalyzer.measure` outputs (gathered in :mod:`.outputs`); the per-band
#: ones are a {band name: value} dict.
OUTPUTS = ("spectral_centroid_hz", "spectral_rolloff_hz", "spectral_flatness")
PER_BAND_OUTPUTS = ("band_energy_db",)
#: Decimal places each output is reported to (None: as measured); see :mod:`.precision`.
DECIMALS = {"spectral_centroid_hz": 1, "spectral_rolloff_hz": 1, "spectral_flatness": 4, "band_energy_db": 2}

#: STFT frame length in seconds, rounded up to a power of two in samples (4096 at 44.1/48 kHz: 10.8 Hz
#: bins, fine enough to tell sub-bass from bass).
FRAME_S = 0.08
ROLL_PERCENT = 0.85
#: Bins summed per group when searching the roll-off bin (coarse search over groups, then within one).
ROLLOFF_GROUP = 64
#: librosa's floor for power values in the flatness (keeps log() finite).
FLATNESS_AMIN = 1e-10
#: Bins multiplied together before one logarithm is taken, in the flatness (a power of two).
FLATNESS_PRODUCT_BINS = 4
#: Plotted spectrum levels are floored here (dB relative to a full-scale sine).
SPECTRUM_FLOOR_DB = -120.0


def rolloff_bins(magnitude: np.ndarray, frame_sums: np.ndarray) -> np.ndarray:
    """Per frame, the lowest bin where the cumulative magnitude reaches ROLL_PERCENT of the frame's total.

    Same answer as a cumulative sum over every bin, for a fraction of its cost:
    the group of bins holding the roll-off is found first, then the bin inside it.
    """
    frames, bins = magnitude.shape
    starts = np.arange(0, bins, ROLLOFF_GROUP)
    groups = np.cumsum(np.add.reduceat(magnitude, starts, axis=1), axis=1)
    threshold = (ROLL_PERCENT * frame_sums).astype(np.float32)
    group = np.argmax(groups >= threshold[:, None], axis=1)
    rows = np.arange(frames)
    before = np.where(group > 0, groups[rows, group - 1], 0.0)
    columns = group[:, None] * ROLLOFF_GROUP + np.arange(ROLLOFF_GROUP)
    inside = np.where(columns < bins, magnitude[rows[:, None], np.minimum(columns, bins - 1)], 0.0)
    running = before[:, None] + np.cumsum(inside, axis=1)
    return np.minimum(columns[rows, np.argmax(running >= threshold[:, None], axis=1)], bins - 1)


def flatness(power: np.ndarray) -> np.ndarray:
    """Per frame, geometric over arithmetic mean of the power spectrum (librosa's spectral_flatness).

    The geometric mean needs the sum of the bins' logarithms, and logarithms
    are the costly step: bins are first multiplied together
    FLATNESS_PRODUCT_BINS at a time (halving the row each time) and only the
    products' logarithms are summed, the same sum from a quarter of the
    logarithms. Floored powers lie between 1e-10 and about 1e7 (a full-scale
    DC offset), so a product of four stays inside float32's range (floored
    bins reach its subnormal numbers, whose logarithms are still good to 1e-5).
    """
    floored = np.maximum(power, np.float32(FLATNESS_AMIN))
    arithmetic = floored.mean(axis=1, dtype=np.float64)
    bins = floored.shape[1]
    whole = bins - bins % FLATNESS_PRODUCT_BINS
    products = floored[:, :whole]
    while products.shape[1] > whole // FLATNESS_PRODUCT_BINS:
        half = products.shape[1] // 2
        products = products[:, :half] * products[:, half:]
    with np.errstate(under="ignore"):
        log_sum = np.log(products).sum(axis=1, dtype=np.float64)
    log_sum += np.log(floored[:, whole:]).sum(axis=1, dtype=np.float64)
    return np.exp(log_sum / bins) / arithmetic


class SpectrumAnalyzer:
    """STFT window, frequencies and band masks for one sample rate."""

    def __init__(self, sr: float) -> None:
        from scipy.signal import get_window

        self.sr = sr
        self.n_fft = 1 << max(8, int(np.ceil(np.log2(FRAME_S * sr))))
        self.hop = self.n_fft // 2
        self.window = get_window("hann", self.n_fft).astype(np.float32)
        self.freqs = np.fft.rfftfreq(self.n_fft, 1.0 / sr)
        #: The bins of each band (a band above Nyquist has none).
        self.bands = ContiguousBands(
            np.stack([(self.freqs >= low) & (self.freqs < high) for low, high in BANDS.values()], axis=1)
        )
        low, high = AUDIBLE_RANGE
        self.audible = (self.freqs >= low) & (self.freqs < high)
        #: A full-scale sine's peak bin power, the 0 dB reference of plotted spectra.
        self.full_scale_power = float(self.window.sum() / 2.0) ** 2

    def spectrogram(
        self, signal: np.ndarray, features: Mapping[str, RowFeature] | None = None, *, offset: float | None = None
    ) -> Spectrogram:
        """The power spectrogram of a signal's mono mix ((n,) or (channels, n)) less its mean (``offset`` when
        already taken): Hann frames of n_fft, 50 % overlap, the tail zero-padded; ``features``: further
        per-frame values its one pass gathers."""
        return Spectrogram(signal, window=self.window, hop=self.hop, features=features, offset=offset)

    def frame_features(self, power: np.ndarray) -> np.ndarray:
        """(frames, 3): each frame's centroid (Hz), roll-off bin and flatness (a :data:`RowFeature`)."""
        magnitude = np.sqrt(power)
        frame_sums = magnitude.sum(axis=1, dtype=np.float64)
        out = np.empty((len(power), 3))
        with np.errstate(divide="ignore", invalid="ignore"):  # silent frames: never averaged
            out[:, 0] = row_products(magnitude, self.freqs.astype(np.float32)) / frame_sums
        out[:, 1] = rolloff_bins(magnitude, frame_sums)
        out[:, 2] = flatness(power)
        return out

    def measure(self, spec: Spectrogram) -> dict[str, Any]:
        """spectral_centroid_hz, spectral_rolloff_hz, spectral_flatness, band_energy_db.

        Each frame's centroid, roll-off and flatness depend on that frame alone (gathered by the
        spectrogram's one pass, :meth:`frame_features`, registered as ``"spectral"`` when ``spec`` was
        taken; else read from its whole power), then averaged over the frames that carry sound.
        """
        active = spec.active
        if not active.any():
            return {
                "spectral_centroid_hz": None,
                "spectral_rolloff_hz": None,
                "spectral_flatness": None,
                "band_energy_db": {name: None for name in BANDS},
            }
        if "spectral" in spec.features:
            features = spec.feature("spectral")[active]
        else:
            features = np.concatenate([self.frame_features(batch) for _, batch in spec.batches()])[active]
        centroid, rolloff, flat = (np.ascontiguousarray(column) for column in features.T)
        return {
            "spectral_centroid_hz": float(centroid.mean()),
            "spectral_rolloff_hz": float(self.freqs[rolloff.astype(np.intp)].mean()),
            "spectral_flatness": float(flat.mean()),
            "band_energy_db": self.band_energy_db(spec.bin_power),
        }

    def band_energy_db(self, bin_power: np.ndarray) -> dict[str, float | None]:
        """Each band's share of the 20 Hz - 20 kHz energy in dB (None for a band with no energy)."""
        total = float(bin_power[self.audible].sum())
        shares = self.bands.sums(bin_power)
        return {
            name: db(float(share) / total, power=True) if total > 0 else None
            for name, share in zip(BANDS, shares, strict=True)
        }

    @staticmethod
    def with_low_end(energies: dict[str, float | None], sub_bass_fraction: float | None) -> dict[str, float | None]:
        """``energies`` (from :meth:`band_energy_db`) with their 20-250 Hz energy divided between sub-bass and bass
        as the finer low-end spectrum divides it (:mod:`.low_end`: the STFT's bins are too wide to); as they
        were when it could not be measured."""
        sub, bass = energies["sub_bass"], energies["bass"]
        if sub_bass_fraction is None or (sub is None and bass is None):
            return energies
        low = sum(10.0 ** (share / 10.0) for share in (sub, bass) if share is not None)
        return energies | {
            "sub_bass": db(low * sub_bass_fraction, power=True),
            "bass": db(low * (1.0 - sub_bass_fraction), power=True),
        }

    def band_power(self, spec: Spectrogram) -> np.ndarray:
        """(frames, bands) power of every band in every frame."""
        return self.bands.sums(spec.power)

    def curve(self, spec: Spectrogram) -> tuple[np.ndarray, np.ndarray]:
        """Frequencies (Hz) and the mean power spectrum in dB relative to a full-scale sine (floored)."""
        mean_power = spec.bin_power / spec.frames / self.full_scale_power
        with np.errstate(divide="ignore"):
            level = 10.0 * np.log10(mean_power)
        return self.freqs.copy(), np.maximum(level, SPECTRUM_FLOOR_DB)
