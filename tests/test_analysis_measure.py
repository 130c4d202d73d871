"""codette_lab.analysis on signals whose answers are known by construction."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from codette_lab.analysis import ALL_KINDS, BANDS, Analyzer, analyzer_for, measure
from codette_lab.errors import AudioError, CodetteError, RequestError

SR = 44100


def sine(frequency: float, *, seconds: float = 2.0, amplitude: float = 1.0, sr: int = SR) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * frequency * np.arange(round(seconds * sr)) / sr)).astype(np.float32)


def white(seconds: float, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(round(seconds * sr)) * 0.1).astype(np.float32)


def pink(seconds: float, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    n = round(seconds * sr)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0))
    x = np.fft.irfft(spectrum, n)
    return (x / np.abs(x).max() * 0.5).astype(np.float32)


def assert_json_clean(metrics: dict) -> None:
    """Every value is a number, None or a dict of those, and none is NaN or infinite."""
    json.dumps(metrics, allow_nan=False)
    for value in metrics.values():
        for item in value.values() if isinstance(value, dict) else [value]:
            assert item is None or (isinstance(item, (int, float)) and math.isfinite(item))


# -- levels --------------------------------------------------------------------


def test_full_scale_sine_levels() -> None:
    metrics = measure(sine(1000.0), sr=SR, kinds=["levels"])
    assert metrics["peak_dbfs"] == pytest.approx(0.0, abs=0.1)
    assert metrics["rms_dbfs"] == pytest.approx(-3.01, abs=0.1)
    assert metrics["crest_factor_db"] == pytest.approx(3.01, abs=0.1)
    assert metrics["clipped_samples"] == 0
    assert metrics["duration_s"] == pytest.approx(2.0)
    assert metrics["sample_rate"] == SR


@pytest.mark.parametrize("level_db", [-6.0, -20.0])
def test_quieter_sine_levels_on_both_channels(level_db: float) -> None:
    tone = sine(440.0, amplitude=10 ** (level_db / 20))
    metrics = measure(np.stack([tone, tone]), sr=SR, kinds=["levels"])
    assert metrics["peak_dbfs"] == pytest.approx(level_db, abs=0.1)
    assert metrics["rms_dbfs"] == pytest.approx(level_db - 3.01, abs=0.1)


def test_hard_clipping_is_counted() -> None:
    tone = sine(100.0, seconds=1.0, amplitude=2.0)
    clipped_at_full_scale = np.clip(tone, -1.0, 1.0)
    expected = int(np.sum(np.abs(tone) >= 1.0))
    assert measure(clipped_at_full_scale, sr=SR, kinds=["levels"])["clipped_samples"] == expected
    clipped_lower = np.clip(tone, -0.5, 0.5)  # a clipper set at -6 dBFS flattens the top there
    assert measure(clipped_lower, sr=SR, kinds=["levels"])["clipped_samples"] == int(np.sum(np.abs(tone) >= 0.5))
    assert measure(sine(100.0, amplitude=0.5), sr=SR, kinds=["levels"])["clipped_samples"] == 0


def test_dc_offset() -> None:
    shifted = sine(200.0, amplitude=0.5) + np.float32(0.1)
    assert measure(shifted, sr=SR, kinds=["levels"])["dc_offset"] == pytest.approx(0.1, abs=1e-3)
    stereo = np.stack([sine(200.0, amplitude=0.5), sine(200.0, amplitude=0.5) - np.float32(0.05)])
    assert measure(stereo, sr=SR, kinds=["levels"])["dc_offset"] == pytest.approx(-0.05, abs=1e-3)


# -- spectral --------------------------------------------------------------------


@pytest.mark.parametrize("frequency", [200.0, 1000.0, 5000.0])
def test_centroid_of_a_sine_is_its_frequency(frequency: float) -> None:
    centroid = measure(sine(frequency, amplitude=0.5), sr=SR, kinds=["spectral"])["spectral_centroid_hz"]
    assert centroid == pytest.approx(frequency, rel=0.03)


@pytest.mark.parametrize(
    ("frequency", "band"),
    [
        (40.0, "sub_bass"),
        (100.0, "bass"),
        (350.0, "low_mids"),
        (1000.0, "mids"),
        (3000.0, "upper_mids"),
        (6000.0, "highs"),
        (12000.0, "air"),
    ],
)
def test_a_sines_energy_lands_in_its_band(frequency: float, band: str) -> None:
    energies = measure(sine(frequency, amplitude=0.5), sr=SR, kinds=["spectral"])["band_energy_db"]
    assert list(energies) == list(BANDS)
    assert energies[band] == pytest.approx(0.0, abs=0.1)
    for other, value in energies.items():
        if other != band:
            assert value is None or value < -30.0


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("frequency", [65.0, 70.0, 75.0, 82.0])
def test_a_low_note_just_above_the_sub_bass_is_not_read_as_sub_bass(frequency: float, sr: int) -> None:
    # a voice's or a guitar's lowest fundamentals: the STFT's 11.7 Hz bins at 48 kHz once read a 70 Hz sine as
    # -7 dB of sub-bass (rumble on any vocal)
    energies = measure(sine(frequency, amplitude=0.5, sr=sr), sr=sr, kinds=["spectral"])["band_energy_db"]
    assert energies["bass"] == pytest.approx(0.0, abs=0.1)
    assert energies["sub_bass"] is None or energies["sub_bass"] < -40.0


def test_the_sub_bass_share_of_the_same_sound_agrees_at_44_1_and_48_khz() -> None:
    # a low voice: fundamentals at 62-90 Hz and a little rumble at 45 Hz, 40 dB under them
    def voice(sr: int) -> np.ndarray:
        t = np.arange(4 * sr) / sr
        notes = sum(np.sin(2 * np.pi * hz * t) for hz in (62.0, 68.0, 74.0, 82.0, 90.0))
        return (0.1 * notes + 0.002 * np.sin(2 * np.pi * 45.0 * t)).astype(np.float32)

    shares = [measure(voice(sr), sr=sr, kinds=["spectral"])["band_energy_db"]["sub_bass"] for sr in (44100, 48000)]
    rumble = 10 * np.log10(0.002**2 / (5 * 0.1**2 + 0.002**2))  # the 45 Hz tone's share: -41 dB
    assert shares == pytest.approx([rumble, rumble], abs=1.0)


def test_band_energies_split_white_noise_by_bandwidth() -> None:
    energies = measure(white(5.0), sr=SR, kinds=["spectral"])["band_energy_db"]
    for band, (low, high) in BANDS.items():
        share = (min(high, SR / 2, 20000.0) - low) / (20000.0 - 20.0)  # of the 20 Hz - 20 kHz energy
        tolerance = 1.0 if band == "sub_bass" else 0.5  # 40 Hz wide: a few STFT bins
        assert energies[band] == pytest.approx(10 * np.log10(share), abs=tolerance)


def test_flatness_orders_white_pink_and_a_sine() -> None:
    flatness = {
        name: measure(signal, sr=SR, kinds=["spectral"])["spectral_flatness"]
        for name, signal in (("white", white(3.0)), ("pink", pink(3.0)), ("sine", sine(1000.0, amplitude=0.5)))
    }
    assert flatness["white"] > 0.5
    assert flatness["white"] > flatness["pink"] > flatness["sine"]


def test_rolloff_of_white_noise_is_85_percent_of_nyquist() -> None:
    rolloff = measure(white(3.0), sr=SR, kinds=["spectral"])["spectral_rolloff_hz"]
    assert rolloff == pytest.approx(0.85 * SR / 2, rel=0.03)


def test_spectral_features_equal_librosa_on_the_same_spectrogram() -> None:
    import librosa

    analyzer = analyzer_for(SR)
    x = np.concatenate([pink(2.0, seed=3), white(2.0, seed=4), sine(3000.0, seconds=1.0, amplitude=0.3)])
    spec = analyzer.spectrum.spectrogram(x)
    magnitude = np.sqrt(spec.power).T
    metrics = analyzer.measure(x, kinds=["spectral"])
    freqs = analyzer.spectrum.freqs
    assert metrics["spectral_centroid_hz"] == pytest.approx(
        librosa.feature.spectral_centroid(S=magnitude, freq=freqs).mean(), rel=1e-4
    )
    assert metrics["spectral_rolloff_hz"] == pytest.approx(
        librosa.feature.spectral_rolloff(S=magnitude, freq=freqs, roll_percent=0.85).mean(), rel=1e-4
    )
    assert metrics["spectral_flatness"] == pytest.approx(
        librosa.feature.spectral_flatness(S=magnitude, power=2.0).mean(), rel=1e-3
    )


# -- stereo --------------------------------------------------------------------


def test_stereo_correlation_and_width() -> None:
    left = pink(2.0)
    identical = measure(np.stack([left, left]), sr=SR, kinds=["stereo"])
    assert identical["stereo_correlation"] == pytest.approx(1.0, abs=1e-4)
    assert identical["stereo_width"] == pytest.approx(0.0, abs=1e-4)
    inverted = measure(np.stack([left, -left]), sr=SR, kinds=["stereo"])
    assert inverted["stereo_correlation"] == pytest.approx(-1.0, abs=1e-4)
    assert inverted["stereo_width"] == pytest.approx(1.0, abs=1e-4)
    unrelated = measure(np.stack([white(2.0, seed=1), white(2.0, seed=2)]), sr=SR, kinds=["stereo"])
    assert abs(unrelated["stereo_correlation"]) < 0.05
    assert unrelated["stereo_width"] == pytest.approx(0.5, abs=0.05)
    one_sided = {"stereo_correlation": 1.0, "stereo_width": 0.0, "stereo_balance": 0.0}
    assert measure(left, sr=SR, kinds=["stereo"]) == one_sided


@pytest.mark.parametrize(("side", "balance"), [(0, -1.0), (1, 1.0)])
def test_a_hard_panned_track_has_no_correlation_but_a_width_and_a_side(side: int, balance: float) -> None:
    one_sided = np.zeros((2, 2 * SR), dtype=np.float32)
    one_sided[side] = pink(2.0)
    metrics = measure(one_sided, sr=SR, kinds=["stereo"])
    assert metrics["stereo_correlation"] is None  # no second signal to be in or out of phase with
    assert metrics["stereo_width"] == pytest.approx(0.5, abs=1e-6)  # as much side as mid energy
    assert metrics["stereo_balance"] == pytest.approx(balance, abs=1e-6)
    panned = one_sided.copy()
    panned[1 - side] = 0.5 * one_sided[side]  # the same source, panned part-way: defined again
    partial = measure(panned, sr=SR, kinds=["stereo"])
    assert partial["stereo_correlation"] == pytest.approx(1.0, abs=1e-4)
    assert 0.0 < abs(partial["stereo_balance"]) < 1.0 and 0.0 < partial["stereo_width"] < 0.5


# -- transients ------------------------------------------------------------------


def click_train(rate_hz: float, *, seconds: float = 6.0) -> np.ndarray:
    """Decaying noise bursts (drum-like hits) ``rate_hz`` times a second."""
    n = round(seconds * SR)
    since_hit = (np.arange(n) % round(SR / rate_hz)) / SR
    rng = np.random.default_rng(5)
    return (0.8 * rng.standard_normal(n) * np.exp(-since_hit * 60.0)).astype(np.float32)


def test_onset_rate_and_sharp_attacks_of_a_click_train() -> None:
    metrics = measure(click_train(4.0), sr=SR, kinds=["transients"])
    assert metrics["onsets_per_second"] == pytest.approx(4.0, abs=0.5)
    assert metrics["attack_time_ms"] < 5.0
    assert metrics["transient_crest_db"] > 8.0


def test_soft_swells_have_slow_attacks_and_low_transient_crest() -> None:
    n = 6 * SR
    swell = np.sin(np.pi * (np.arange(n) % SR) / SR) ** 2  # one slow swell a second
    pad = (sine(330.0, seconds=6.0, amplitude=0.5) * swell).astype(np.float32)
    drums = measure(click_train(1.0), sr=SR, kinds=["transients"])
    soft = measure(pad, sr=SR, kinds=["transients"])
    assert soft["onsets_per_second"] == pytest.approx(1.0, abs=0.4)
    assert drums["attack_time_ms"] < 5.0
    assert soft["attack_time_ms"] > 20.0
    assert drums["transient_crest_db"] > 8.0
    assert soft["transient_crest_db"] < 3.0


def kit(*, ghosts: bool, sr: int = SR, seconds: float = 6.0) -> np.ndarray:
    """Main hits twice a second (noise bursts dying in 17 ms); with ``ghosts``, a soft swelling ghost note
    (24 dB under them, rising over 20 ms) halfway between every two."""
    n = round(seconds * sr)
    t = np.arange(n) / sr
    rng = np.random.default_rng(5)
    y = rng.standard_normal(n) * np.exp(-(t % 0.5) * 60.0)
    if ghosts:
        since = (t - 0.25) % 0.5
        y += 0.063 * rng.standard_normal(n) * np.minimum(since / 0.02, 1.0) * np.exp(-since * 8.0) * (t >= 0.25)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


@pytest.mark.parametrize("sr", [44100, 48000])
def test_a_kits_transients_are_those_of_its_main_hits_whatever_its_ghost_notes(sr: int) -> None:
    # as many soft ghost notes as main hits: a median over every hit swung between the two kinds (a Hydrogen
    # kit read 6.5 dB of transient crest at 44.1 kHz and 4.7 dB at 48 kHz, called squashed at one rate only)
    plain = measure(kit(ghosts=False, sr=sr), sr=sr, kinds=["transients"])
    ghosted = measure(kit(ghosts=True, sr=sr), sr=sr, kinds=["transients"])
    assert ghosted["onsets_per_second"] == pytest.approx(2 * plain["onsets_per_second"], rel=0.2)
    assert ghosted["transient_crest_db"] == pytest.approx(plain["transient_crest_db"], abs=1.0)
    assert ghosted["attack_time_ms"] == pytest.approx(plain["attack_time_ms"], abs=2.0)


# -- every shape, every edge ----------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_every_kind_answers_mono_stereo_and_5_1(channels: int) -> None:
    x = np.stack([pink(3.0, seed=c) for c in range(channels)])
    metrics = measure(x if channels > 1 else x[0], sr=SR)
    assert_json_clean(metrics)
    assert metrics["integrated_lufs"] is not None
    assert metrics["true_peak_dbtp"] >= metrics["peak_dbfs"] - 1e-6


def test_silence_has_no_levels_but_answers() -> None:
    metrics = measure(np.zeros((2, SR), dtype=np.float32), sr=SR)
    assert_json_clean(metrics)
    for name in (
        "peak_dbfs",
        "rms_dbfs",
        "crest_factor_db",
        "true_peak_dbtp",
        "integrated_lufs",
        "momentary_lufs_max",
        "loudness_range_lu",
        "spectral_centroid_hz",
        "stereo_correlation",
    ):
        assert metrics[name] is None, name
    assert metrics["clipped_samples"] == 0


def test_clip_shorter_than_one_loudness_block() -> None:
    metrics = measure(sine(1000.0, seconds=0.2, amplitude=0.5), sr=SR)
    assert_json_clean(metrics)
    assert metrics["integrated_lufs"] is None
    assert metrics["short_term_lufs_max"] is None
    assert metrics["peak_dbfs"] == pytest.approx(-6.02, abs=0.1)
    assert measure(np.array([0.25], dtype=np.float32), sr=SR)["peak_dbfs"] == pytest.approx(-12.04, abs=0.01)


def test_float64_input_and_other_sample_rates() -> None:
    for sr in (8000, 22050, 96000):
        tone = np.sin(2 * np.pi * 1000.0 * np.arange(sr * 2) / sr) * 0.5
        metrics = measure(tone, sr=sr)
        assert_json_clean(metrics)
        assert metrics["spectral_centroid_hz"] == pytest.approx(1000.0, rel=0.05)
    assert measure(sine(1000.0), sr=8000, kinds=["spectral"])["band_energy_db"]["air"] is None


def test_kinds_select_what_is_measured_and_one_analyzer_per_rate() -> None:
    stereo = {"stereo_correlation", "stereo_width", "stereo_balance"}
    assert set(measure(sine(1000.0), sr=SR, kinds=["stereo"])) == stereo
    assert set(measure(sine(1000.0), sr=SR, kinds="true_peak")) == {"true_peak_dbtp"}
    assert analyzer_for(SR) is analyzer_for(float(SR))
    assert isinstance(analyzer_for(SR), Analyzer)
    assert tuple(ALL_KINDS) == (
        "levels",
        "true_peak",
        "loudness",
        "spectral",
        "stereo",
        "transients",
        "envelope",
        "programme",
    )


@pytest.mark.parametrize(
    ("y", "words"),
    [
        (np.zeros(100, dtype=np.int16), "dtype int16"),
        (np.zeros((2, 2, 10), dtype=np.float32), "shape"),
        (np.zeros((1000, 2), dtype=np.float32), "transpose"),
        (np.zeros(0, dtype=np.float32), "empty"),
        (np.array([0.0, np.nan, 0.1], dtype=np.float32), "sample 1 of channel 0 is nan"),
        (np.array([[0.0, 0.1], [np.inf, 0.0]]), "sample 0 of channel 1 is inf"),
        (np.array([0.0, 32767.0, -32768.0]), "divide integer pcm by its full scale"),
    ],
)
def test_bad_arrays_raise_audio_error(y: np.ndarray, words: str) -> None:
    with pytest.raises(AudioError) as caught:
        measure(y, sr=SR)
    assert words in str(caught.value).lower()


def test_unknown_kind_and_bad_sample_rate() -> None:
    with pytest.raises(RequestError, match="available: levels, true_peak"):
        measure(sine(100.0), sr=SR, kinds=["loudness", "vibes"])
    for sr in (0, -44100, float("nan")):
        with pytest.raises(CodetteError, match="sample rate"):
            measure(sine(100.0), sr=sr)
