"""Measuring a long signal takes memory far below its spectrogram's size, and it grows slower than the signal.

A 10-minute track's power spectrogram alone is about 100 MB; a whole ``quality`` measurement once
peaked at six times that. The spectrogram is now taken a batch of frames at a time and the filter
meters run in chunks, so what a measurement allocates (numpy's arrays, as tracemalloc sees them) is
per-frame figures and a few batches. Measured in the calling thread alone, so the peak does not
depend on how the helper thread's work overlaps.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from codette_lab.analysis import analyzer_for, single_threaded
from codette_lab.analysis.stft import Spectrogram

SR = 44100


def peak_bytes(seconds: float) -> tuple[int, int]:
    """(tracemalloc peak of measuring every kind of ``seconds`` of mono noise, its full spectrogram's size)."""
    analyzer = analyzer_for(SR)
    x = np.random.default_rng(7).standard_normal(int(seconds * SR), dtype=np.float32) * np.float32(0.1)
    spectrogram_bytes = analyzer.spectrum.spectrogram(x).frames * len(analyzer.spectrum.freqs) * 4
    tracemalloc.start()
    try:
        with single_threaded():
            metrics = analyzer.measure(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert metrics["spectral_centroid_hz"] is not None and metrics["integrated_lufs"] is not None
    return peak, spectrogram_bytes


def test_memory_of_a_long_measurement_is_bounded_and_sublinear() -> None:
    analyzer_for(SR).measure(np.zeros(SR, dtype=np.float32))  # set-up and imports outside the measurement
    short_peak, short_spectrogram = peak_bytes(150.0)
    long_peak, long_spectrogram = peak_bytes(600.0)
    # far below the whole spectrogram (which the measurement once held several times over)
    assert long_peak < long_spectrogram / 2, (long_peak, long_spectrogram)
    # four times the signal: the peak grows by far less than the spectrogram does
    assert long_peak - short_peak < (long_spectrogram - short_spectrogram) / 2, (short_peak, long_peak)


@pytest.mark.parametrize("quiet", ["start", "end"])
def test_a_spectrogram_read_in_batches_gives_what_the_whole_array_gives(quiet: str) -> None:
    """Streamed (nothing held) and held, every figure equals the one computed on the whole power array,
    bit for bit: per-frame values, sums over frames (all, the active ones, weighted) and chosen rows.
    A quiet start (a fade-in) makes frames first taken for sound quiet once louder ones come."""
    analyzer = analyzer_for(SR)
    spectrum = analyzer.spectrum
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 20 * SR + 1234), dtype=np.float32) * np.float32(0.1)
    quiet_part = slice(0, 8 * SR) if quiet == "start" else slice(-8 * SR, None)  # over two batches of frames
    x[:, quiet_part] *= np.float32(1e-4)  # -80 dB: frames that do not carry sound
    features = {"spectral": spectrum.frame_features, "mel": analyzer.transients.mel_rows}
    whole = Spectrogram(x, window=spectrum.window, hop=spectrum.hop).power
    weights = (rng.uniform(size=len(whole)) > 0.3).astype(np.float32)
    chosen = np.flatnonzero(weights)[::7]
    for hold_bytes in (0, whole.nbytes):
        spec = Spectrogram(x, window=spectrum.window, hop=spectrum.hop, features=features, hold_bytes=hold_bytes)
        assert spec.frames == len(whole)
        np.testing.assert_array_equal(spec.frame_energy, whole.sum(axis=1, dtype=np.float64))
        np.testing.assert_array_equal(spec.bin_power, whole.sum(axis=0, dtype=np.float64))
        np.testing.assert_array_equal(spec.feature("spectral"), spectrum.frame_features(whole))
        np.testing.assert_array_equal(spec.feature("mel"), analyzer.transients.mel_rows(whole))
        np.testing.assert_array_equal(spec.weighted_sum(weights), np.einsum("i,ij->j", weights, whole))
        active = spec.active
        np.testing.assert_array_equal(spec.active_power_sum, np.einsum("i,ij->j", active.astype(np.float32), whole))
        np.testing.assert_array_equal(spec.rows(chosen), whole[chosen])
        assert spec.held == (hold_bytes > 0)
        quiet_frames = slice(0, SR // spectrum.hop) if quiet == "start" else slice(-(SR // spectrum.hop), None)
        assert not active[quiet_frames].any() and active[len(active) // 2 :][:10].all()
