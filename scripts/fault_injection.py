"""Injecting the faults of the fault corpus into clean material, each checked on the rendered audio.

Every fault is made the way it happens in a session (an EQ bell, a low-pass, a clipper, an imager pushed
too far, a forgotten offset ...) and then verified by a measurement independent of codette_lab's meters
(a scipy Welch spectrum, pyloudnorm, numpy's correlation of the channels, scipy's 4x resampling): a case
whose audio does not hold its fault raises instead of testing nothing. Also the level helpers the clean
material shares (peak and loudness normalisation, the masters' limiter).
"""

from __future__ import annotations

from collections.abc import Callable

import fault_sounds as sounds
import numpy as np
from fault_cases import Case
from scipy.signal import resample_poly, sosfilt, welch

#: Masters are set to their target loudness; stems to this peak.
STEM_PEAK_DBFS = -10.0
MASTER_LUFS = {"master": -14.0, "podcast": -16.0}


def _peak(y: np.ndarray) -> float:
    return float(np.abs(y).max())


def at_peak(y: np.ndarray, dbfs: float) -> np.ndarray:
    return y / _peak(y) * 10 ** (dbfs / 20)


def lufs(y: np.ndarray, sr: int) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(sr).integrated_loudness(np.atleast_2d(y).T))


def _at_lufs(y: np.ndarray, sr: int, target: float) -> np.ndarray:
    return y * 10 ** ((target - lufs(y, sr)) / 20)


#: The masters' limiter: a soft knee from half the ceiling to the ceiling (dBFS).
LIMITER_CEILING_DBFS = -1.5


def limited(y: np.ndarray, sr: int, target: float) -> np.ndarray:
    """``y`` brought to ``target`` LUFS through a soft limiter that keeps the true peak under -1 dBTP."""
    ceiling = 10 ** (LIMITER_CEILING_DBFS / 20)
    knee = ceiling / 2
    out = y
    for _ in range(4):
        out = _at_lufs(out, sr, target)
        over = np.abs(out) > knee
        out = np.where(
            over, np.sign(out) * (knee + (ceiling - knee) * np.tanh((np.abs(out) - knee) / (ceiling - knee))), out
        )
    return out


# -- faults and their independent checks -----------------------------------------------------------------------


def bell(gain_db: float, hz: float, q: float, sr: int) -> np.ndarray:
    """RBJ peaking-EQ biquad as second-order sections."""
    a, w = 10 ** (gain_db / 40), 2 * np.pi * hz / sr
    alpha = np.sin(w) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w), 1 - alpha / a])
    return np.concatenate([b / den[0], den / den[0]])[np.newaxis]


def _psd(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    mono = np.atleast_2d(y).mean(axis=0)
    return welch(mono, fs=sr, nperseg=8192)


def _gain_at(before: np.ndarray, after: np.ndarray, sr: int, hz: float) -> float:
    freqs, p0 = _psd(before, sr)
    _, p1 = _psd(after, sr)
    near = (freqs > hz / 1.06) & (freqs < hz * 1.06)
    return float(10 * np.log10(p1[near].sum() / p0[near].sum()))


def _band_db(y: np.ndarray, sr: int, low: float, high: float) -> float:
    freqs, p = _psd(y, sr)
    return float(10 * np.log10(p[(freqs >= low) & (freqs < high)].sum() / p[(freqs >= 20)].sum()))


def level_db(y: np.ndarray, sr: int, low: float, high: float) -> float:
    """Level of ``y`` between ``low`` and ``high`` Hz in a Welch spectrum, dB (absolute, for comparisons)."""
    freqs, power = _psd(y, sr)
    return float(10 * np.log10(power[(freqs >= low) & (freqs < high)].sum()))


def check(condition: bool, case: Case, what: str) -> None:
    if not condition:
        raise AssertionError(f"{case.name}: the rendered fault fails its check: {what}")


def _eq(case: Case, y: np.ndarray) -> np.ndarray:
    gain, hz, q = case.param("gain_db"), case.param("hz"), case.param("q")
    out = sosfilt(bell(gain, hz, q, case.sr), y, axis=-1)
    check(abs(_gain_at(y, out, case.sr, hz) - gain) < 1.5, case, f"{gain:+.0f} dB at {hz:.0f} Hz in the spectrum")
    return (
        at_peak(out, STEM_PEAK_DBFS) if case.track_type != "master" else limited(out, case.sr, MASTER_LUFS[case.stem])
    )


def _lowpass(case: Case, y: np.ndarray) -> np.ndarray:
    out = (
        sounds.filtered(y, case.sr, "lowpass", case.param("hz"), 8)
        if y.ndim == 1
        else np.vstack([sounds.filtered(channel, case.sr, "lowpass", case.param("hz"), 8) for channel in y])
    )
    drop = _band_db(y, case.sr, 6000, 16000) - _band_db(out, case.sr, 6000, 16000)
    check(drop > 25, case, f"energy above 6 kHz down by more than 25 dB (got {drop:.1f})")
    return out


def _rumble(case: Case, y: np.ndarray) -> np.ndarray:
    t = np.arange(y.shape[-1]) / case.sr
    out = y + _peak(y) * 0.3 * np.sin(2 * np.pi * case.param("hz") * t)
    check(_band_db(out, case.sr, 20, 60) > -15, case, "sub-bass above -15 dB of the energy")
    return out


def _gain(case: Case, y: np.ndarray) -> np.ndarray:
    out = at_peak(y, case.param("peak_dbfs"))
    check(abs(20 * np.log10(_peak(out)) - case.param("peak_dbfs")) < 0.01, case, "peak level")
    return out


def _hard_clip(case: Case, y: np.ndarray) -> np.ndarray:
    out = np.clip(y * 10 ** (case.param("drive_db") / 20), -1.0, 1.0)
    check(np.mean(np.abs(out) >= 1.0) > 0.001, case, "more than 0.1 % of the samples at full scale")
    return out


def _soft_clip(case: Case, y: np.ndarray) -> np.ndarray:
    """A cubic soft clipper driven hard (flat beyond its knee), then the stem set back to -10 dBFS."""
    x = y / _peak(y) * 10 ** (case.param("drive_db") / 20)
    out = np.where(np.abs(x) < 1, x - x**3 / 3, np.sign(x) * 2 / 3)
    check(np.mean(np.abs(x) >= 1) > 0.005, case, "more than 0.5 % of the samples past the knee")
    return at_peak(out, STEM_PEAK_DBFS)


def _dc(case: Case, y: np.ndarray) -> np.ndarray:
    out = y + case.param("offset")
    check(abs(np.mean(out) - case.param("offset")) < 0.002, case, "mean of the samples")
    return out


def _loudness(case: Case, y: np.ndarray) -> np.ndarray:
    out = _at_lufs(y, case.sr, case.param("lufs"))
    if _peak(out) > 0.98:  # a loud master goes through a limiter (here a soft saturator) to stay under 0 dBFS
        out = np.tanh(out / 0.98) * 0.95
        out = _at_lufs(out, case.sr, case.param("lufs"))
        out = np.clip(out, -0.99, 0.99)
    check(abs(lufs(out, case.sr) - case.param("lufs")) < 0.3, case, "integrated loudness (pyloudnorm)")
    return out


def _intersample(case: Case, y: np.ndarray) -> np.ndarray:
    """A 10 ms burst at sr/4 sampled 45 degrees off its crests: samples at -1.9 dBFS, true peak +1.1 dBTP."""
    out = y.copy()
    n = int(0.01 * case.sr)
    at = int(1.0 * case.sr)
    burst = 1.13 * np.sin(np.pi / 2 * np.arange(n) + np.pi / 4)
    out[..., at : at + n] = burst
    true_peak = 20 * np.log10(np.abs(resample_poly(np.atleast_2d(out)[0], 4, 1)).max())
    check(true_peak > 0.5 and 20 * np.log10(_peak(out)) < -1.0, case, f"true peak {true_peak:.1f} dBTP")
    return out


def _squash(case: Case, y: np.ndarray) -> np.ndarray:
    out = at_peak(np.tanh(30 * y / _peak(y)), -8.0)
    crest = 20 * np.log10(_peak(out) / np.sqrt(np.mean(out**2)))
    check(crest < 6, case, f"crest factor under 6 dB (got {crest:.1f})")
    return out


def _correlation(y: np.ndarray) -> float:
    return float(np.corrcoef(y[0], y[1])[0, 1])


def _polarity(case: Case, y: np.ndarray) -> np.ndarray:
    out = np.vstack([y[0], -y[1]])
    check(_correlation(out) < -0.8, case, "channel correlation under -0.8")
    return out


def _widen(case: Case, y: np.ndarray) -> np.ndarray:
    """An M/S imager pushed hard: a Haas-like 12 ms copy added to the side, side raised to 3.7 dB over mid."""
    mid, side = (y[0] + y[1]) / 2, (y[0] - y[1]) / 2
    side = side + np.roll(mid, int(0.012 * case.sr))
    side *= np.sqrt(2.33 * np.mean(mid**2) / np.mean(side**2))
    out = at_peak(np.vstack([mid + side, mid - side]), -8.0)
    corr = _correlation(out)
    check(-0.6 < corr < -0.2, case, f"correlation between -0.6 and -0.2 (got {corr:.2f})")
    return out


def _hiss(case: Case, y: np.ndarray) -> np.ndarray:
    noise = sounds.rng_for("hiss", case.name).standard_normal(y.shape[-1])
    out = sounds.filtered(noise, case.sr, "highpass", 200.0) * 10 ** (-55 / 20)
    check(abs(20 * np.log10(np.sqrt(np.mean(out**2))) + 55) < 1.5, case, "noise at about -55 dBFS RMS")
    return out


def _sibilant(case: Case, y: np.ndarray) -> np.ndarray:
    return _eq(case, y)


def _unducked(case: Case, y: np.ndarray) -> np.ndarray:
    return y


FAULTS: dict[str, Callable[[Case, np.ndarray], np.ndarray]] = {
    "dull": _lowpass,
    "mud": _eq,
    "harsh": _eq,
    "presence_peak": _eq,
    "sibilance": _sibilant,
    "rumble": _rumble,
    "quiet": _gain,
    "headroom": _gain,
    "clip_risk": _gain,
    "clipped": _hard_clip,
    "soft_clipped": _soft_clip,
    "dc": _dc,
    "too_loud": _loudness,
    "too_quiet": _loudness,
    "true_peak": _intersample,
    "squashed": _squash,
    "polarity": _polarity,
    "over_widened": _widen,
    "hiss_only": _hiss,
    "kick_masked": _unducked,
    "vocal_buried": _unducked,
}
