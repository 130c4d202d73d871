"""Two tracks competing for the same bands, and the curves the widgets plot."""

from __future__ import annotations

import numpy as np
import pytest

from codette_lab.analysis import BANDS, loudness_curve, measure_masking, spectrum_curve, waveform_envelope

SR = 44100


def band_noise(low: float, high: float, *, seconds: float = 4.0, seed: int = 0, level: float = 0.3) -> np.ndarray:
    """Noise holding only ``low``..``high`` Hz (shaped in the frequency domain)."""
    n = round(seconds * SR)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    frequencies = np.fft.rfftfreq(n, 1 / SR)
    spectrum[(frequencies < low) | (frequencies >= high)] = 0
    x = np.fft.irfft(spectrum, n)
    return (x / np.abs(x).max() * level).astype(np.float32)


def test_two_tracks_in_the_same_band_mask_each_other() -> None:
    vocal = band_noise(700.0, 1800.0, seed=1)
    guitar = band_noise(800.0, 1900.0, seed=2)
    result = measure_masking(vocal, np.stack([guitar, guitar]), sr=SR)
    assert result["masked_band"] == "mids"
    assert result["masking_band_overlap"]["mids"] > 0.7
    assert result["masking_overlap"] > 0.6
    assert set(result["masking_band_overlap"]) == set(BANDS)
    assert all(0.0 <= value <= 1.0 for value in result["masking_band_overlap"].values())


def test_tracks_in_different_bands_do_not_mask() -> None:
    bass = band_noise(60.0, 200.0, seed=3)
    hats = band_noise(6000.0, 12000.0, seed=4)
    result = measure_masking(bass, hats, sr=SR)
    assert result["masked_band"] is None
    assert result["masking_overlap"] < 0.05


def test_a_much_quieter_track_overlaps_less() -> None:
    loud = band_noise(700.0, 1800.0, seed=5)
    same_level = measure_masking(loud, band_noise(700.0, 1800.0, seed=6), sr=SR)["masking_band_overlap"]["mids"]
    quiet = measure_masking(loud, band_noise(700.0, 1800.0, seed=6, level=0.03), sr=SR)["masking_band_overlap"]["mids"]
    assert quiet == pytest.approx(0.1, abs=0.03)
    assert same_level > 0.7


def test_spectrum_curve_peaks_at_the_sine_at_its_level() -> None:
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(2 * SR) / SR)).astype(np.float32)
    freqs, level = spectrum_curve(tone, sr=SR)
    assert freqs.shape == level.shape
    assert np.all(np.isfinite(level))
    assert freqs[np.argmax(level)] == pytest.approx(1000.0, abs=11.0)
    assert level.max() == pytest.approx(-6.02, abs=1.5)  # Hann scalloping: up to 1.4 dB low between bins
    assert level[freqs > 5000].max() < -80.0


def test_loudness_curve_follows_a_step() -> None:
    quiet = 10 ** (-30 / 20) * np.sin(2 * np.pi * 1000.0 * np.arange(5 * SR) / SR)
    loud = 10 ** (-10 / 20) * np.sin(2 * np.pi * 1000.0 * np.arange(5 * SR) / SR)
    x = np.tile(np.concatenate([quiet, loud]), (2, 1)).astype(np.float32)
    times, momentary, short_term = loudness_curve(x, sr=SR)
    assert times.shape == momentary.shape == short_term.shape
    assert times[0] == pytest.approx(0.4) and times[-1] == pytest.approx(10.0)
    assert momentary[np.searchsorted(times, 4.0)] == pytest.approx(-30.0, abs=0.2)
    assert momentary[-1] == pytest.approx(-10.0, abs=0.2)
    assert short_term[-1] == pytest.approx(-10.0, abs=0.2)
    assert short_term[np.searchsorted(times, 5.5)] < -10.5  # still averaging in the quiet part
    empty = loudness_curve(x[:, : SR // 10], sr=SR)
    assert all(len(part) == 0 for part in empty)


def test_waveform_envelope_brackets_the_signal() -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 3 * SR)) * 0.2).astype(np.float32)
    times, low, high = waveform_envelope(x, sr=SR, points=500)
    assert len(times) == len(low) == len(high) == 500
    assert low.min() == pytest.approx(x.min()) and high.max() == pytest.approx(x.max())
    assert np.all(low <= high) and np.all(np.diff(times) > 0)
    short_times, _, short_high = waveform_envelope(x[:, :100], sr=SR)
    assert len(short_times) == 100
    np.testing.assert_allclose(short_high, x[:, :100].max(axis=0))
