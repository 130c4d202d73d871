"""Loudness, loudness range and true peak against the EBU test signals, synthesised from their definitions.

EBU Tech 3341 (loudness meters, 'EBU mode') cases 1-6 and 15-19, EBU Tech 3342
(loudness range) cases 1-4, plus pyloudnorm on random programme material.
Sine segments are 1 kHz, the same on both channels, levels in dBFS per channel.
"""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from codette_lab.analysis import measure
from codette_lab.analysis.loudness import k_weighting_sos
from codette_lab.analysis.true_peak import TruePeakMeter


def sine_segments(sr: int, segments: list[tuple[float, float]], *, channels: int = 2) -> np.ndarray:
    """Concatenated 1 kHz sine segments (level dBFS, seconds), phase-continuous, on every channel."""
    levels = np.concatenate([np.full(round(seconds * sr), 10.0 ** (level / 20.0)) for level, seconds in segments])
    tone = levels * np.sin(2.0 * np.pi * 1000.0 * np.arange(len(levels)) / sr)
    return np.tile(tone, (channels, 1)).astype(np.float32)


TECH_3341 = {
    1: [(-23.0, 20.0)],
    2: [(-33.0, 20.0)],
    3: [(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)],
    4: [(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0), (-72.0, 10.0)],
    5: [(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)],
}
TECH_3341_EXPECTED = {1: -23.0, 2: -33.0, 3: -23.0, 4: -23.0, 5: -23.0}


@pytest.mark.parametrize("sr", [48000, 44100])
@pytest.mark.parametrize("case", sorted(TECH_3341))
def test_tech_3341_integrated_loudness(case: int, sr: int) -> None:
    metrics = measure(sine_segments(sr, TECH_3341[case]), sr=sr, kinds=["loudness"])
    assert metrics["integrated_lufs"] == pytest.approx(TECH_3341_EXPECTED[case], abs=0.1)


def test_tech_3341_case_1_momentary_and_short_term() -> None:
    metrics = measure(sine_segments(48000, TECH_3341[1]), sr=48000, kinds=["loudness"])
    assert metrics["momentary_lufs_max"] == pytest.approx(-23.0, abs=0.1)
    assert metrics["short_term_lufs_max"] == pytest.approx(-23.0, abs=0.1)


def test_tech_3341_case_6_five_channels_weights_surrounds() -> None:
    """5.0 (L R C Ls Rs): L, R at -28 dBFS, C at -24, surrounds at -30 -> -23.0 LUFS."""
    sr = 48000
    levels = [-28.0, -28.0, -24.0, -30.0, -30.0]
    x = np.concatenate([sine_segments(sr, [(level, 20.0)], channels=1) for level in levels])
    assert measure(x, sr=sr, kinds=["loudness"])["integrated_lufs"] == pytest.approx(-23.0, abs=0.1)
    # 5.1 (L R C LFE Ls Rs): the LFE channel does not count, however loud.
    with_lfe = np.concatenate([x[:3], sine_segments(sr, [(-6.0, 20.0)], channels=1), x[3:]])
    assert measure(with_lfe, sr=sr, kinds=["loudness"])["integrated_lufs"] == pytest.approx(-23.0, abs=0.1)


TECH_3342 = {
    1: ([(-20.0, 20.0), (-30.0, 20.0)], 10.0),
    2: ([(-20.0, 20.0), (-15.0, 20.0)], 5.0),
    3: ([(-40.0, 20.0), (-20.0, 20.0)], 20.0),
    4: ([(-50.0, 20.0), (-35.0, 20.0), (-20.0, 20.0), (-35.0, 20.0), (-50.0, 20.0)], 15.0),
}


@pytest.mark.parametrize("case", sorted(TECH_3342))
def test_tech_3342_loudness_range(case: int) -> None:
    segments, expected = TECH_3342[case]
    metrics = measure(sine_segments(48000, segments), sr=48000, kinds=["loudness"])
    assert metrics["loudness_range_lu"] == pytest.approx(expected, abs=1.0)


def faded_sine(sr: int, frequency: float, amplitude: float, phase_degrees: float, seconds: float = 1.0) -> np.ndarray:
    """A steady sine with 20 ms raised-cosine fades: a tone switched on abruptly is a click, and a
    reconstruction filter really does overshoot on it, which is not what cases 15-19 test."""
    n = round(seconds * sr)
    tone = amplitude * np.sin(2.0 * np.pi * frequency * np.arange(n) / sr + np.radians(phase_degrees))
    fade = round(0.02 * sr)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    tone[:fade] *= ramp
    tone[-fade:] *= ramp[::-1]
    return np.tile(tone, (2, 1)).astype(np.float32)


# Tech 3341 cases 15-19 (48 kHz): (frequency as a fraction of fs, amplitude in full scale, phase, dBTP).
TRUE_PEAK_CASES = {
    15: (1 / 4, 0.50, 0.0, -6.0),
    16: (1 / 4, 0.50, 45.0, -6.0),
    17: (1 / 6, 0.50, 60.0, -6.0),
    18: (1 / 8, 0.50, 67.5, -6.0),
    19: (1 / 4, 1.41, 45.0, 3.0),
}


@pytest.mark.parametrize("case", sorted(TRUE_PEAK_CASES))
def test_tech_3341_true_peak(case: int) -> None:
    sr = 48000
    fraction, amplitude, phase, expected = TRUE_PEAK_CASES[case]
    metrics = measure(faded_sine(sr, fraction * sr, amplitude, phase), sr=sr, kinds=["levels", "true_peak"])
    assert expected - 0.4 <= metrics["true_peak_dbtp"] <= expected + 0.2
    if case != 15:  # the samples miss the crest: the sample peak reads low, the true peak does not
        assert metrics["peak_dbfs"] < metrics["true_peak_dbtp"] - 0.5


def test_true_peak_equals_scipy_resample_poly_peak() -> None:
    from scipy.signal import resample_poly

    rng = np.random.default_rng(7)
    x = np.zeros((2, 48000), dtype=np.float32)
    x[:, 1000:-1000] = np.clip(rng.standard_normal((2, 46000)) * 0.3, -1, 1)
    reference = 20 * np.log10(np.abs(resample_poly(x, 4, 1, axis=1)).max())
    meter = TruePeakMeter().measure(x)["true_peak_dbtp"]  # the meter's own figure, before reporting
    assert meter == pytest.approx(reference, abs=1e-4)
    assert measure(x, sr=48000, kinds=["true_peak"])["true_peak_dbtp"] == round(meter, 2)  # reported: 0.01 dB


def test_k_weighting_matches_the_published_48_khz_coefficients() -> None:
    shelf, highpass = k_weighting_sos(48000)
    np.testing.assert_allclose(
        shelf,
        [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241, 0.73248077421585],
        atol=1e-9,
    )
    np.testing.assert_allclose(highpass, [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621], atol=1e-9)


def programme(rng: np.random.Generator, sr: int, seconds: int) -> np.ndarray:
    """Random 'programme': pink-ish stereo noise whose level jumps every second over 25 dB."""
    n = sr * seconds
    spectrum = np.fft.rfft(rng.standard_normal((2, n)), axis=1)
    frequencies = np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0)
    noise = np.fft.irfft(spectrum / np.sqrt(frequencies), n, axis=1)
    levels = np.repeat(10.0 ** (rng.uniform(-25.0, 0.0, seconds) / 20.0), sr)
    x = noise * levels
    return (x / np.abs(x).max() * 0.7).astype(np.float32)


@pytest.mark.parametrize("sr", [48000, 44100])
def test_integrated_loudness_agrees_with_pyloudnorm(sr: int) -> None:
    rng = np.random.default_rng(sr)
    for _ in range(3):
        x = programme(rng, sr, 12)
        reference = pyloudnorm.Meter(sr).integrated_loudness(x.T.astype(np.float64))
        assert measure(x, sr=sr, kinds=["loudness"])["integrated_lufs"] == pytest.approx(reference, abs=0.05)
