"""Render the fault corpus (clean stems and masters, each fault injected at an unmistakable severity), and
judge the built-in ``quality`` analysis on it.

``python scripts/make_fault_corpus.py [OUT]`` writes every case as FLAC under OUT (default data/corpus/,
git-ignored) with ``cases.json`` describing them; ``--report [PAGE]`` analyzes every case and rewrites
docs/advice.md with recall per fault kind, false alarms on the clean controls, remedy accuracy and score
ordering. The tests (tests/test_advice_*.py) import this module and render what they need in memory.

Every case is deterministic (seeded by its name). Each fault is checked at render time by an independent
measurement on the rendered audio (a scipy Welch spectrum, pyloudnorm, correlation of the channels, ...),
so a case that does not contain its fault fails loudly instead of testing nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly, sosfilt, welch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fault_sounds as sounds
from fault_cases import CASES, Case

SECONDS = 5.0
REPO = Path(__file__).resolve().parents[1]


#: Clean stems and masters: name -> synthesis (sample rate, length) -> samples.
STEMS: dict[str, Callable[[int, int], np.ndarray]] = {
    "vocal": lambda sr, n: sounds.voice(sr, n, seed="vocal", spoken=False),
    "speech": lambda sr, n: sounds.voice(sr, n, seed="speech", spoken=True),
    "drums": lambda sr, n: sounds.drum_kit(sr, n, seed="kit"),
    "kick": lambda sr, n: sounds.kick(sr, n, beat_s=0.5),
    "bass": lambda sr, n: sounds.bass_line(sr, n, seed="bass"),
    "808": lambda sr, n: sounds.eight_o_eight(sr, n, beat_s=0.5, ducked_by=sounds.kick(sr, n, beat_s=0.5)),
    "guitar": lambda sr, n: sounds.plucked(
        sr,
        n,
        seed="guitar",
        pitches=[[82.4, 123.5, 164.8, 207.7, 246.9, 329.6], [110.0, 164.8, 220.0, 277.2, 329.6]],
        step_s=0.5,
        bright=1.0,
    ),
    "piano": lambda sr, n: sounds.plucked(
        sr,
        n,
        seed="piano",
        pitches=[[130.8, 261.6, 329.6, 392.0], [110.0, 220.0, 261.6, 329.6]],
        step_s=1.0,
        bright=0.8,
    ),
    "pad": lambda sr, n: sounds.pad(sr, n, seed="pad"),
    "drumbus": lambda sr, n: sounds.drum_kit(sr, n, seed="bus"),
    "texture": lambda sr, n: sounds.plucked(
        sr, n, seed="texture", pitches=[[196.0, 293.7, 392.0], [174.6, 261.6, 349.2]], step_s=0.25, bright=1.2
    ),
    "master": lambda sr, n: _music_mix(sr, n),  # noqa: PLW0108 (defined below, after the stems it mixes)
    "podcast": lambda sr, n: sounds.voice(sr, n, seed="podcast", spoken=True),
}
#: Masters are set to their target loudness; stems to this peak.
STEM_PEAK_DBFS = -10.0
MASTER_LUFS = {"master": -14.0, "podcast": -16.0}


def _music_mix(sr: int, n: int) -> np.ndarray:
    parts = {
        "vocal": (0.0, 0.0),
        "drums": (-2.0, 0.0),
        "bass": (-4.0, 0.0),
        "guitar": (-6.0, -0.9),
        "piano": (-7.0, 0.8),
        "pad": (-8.0, 0.0),
    }
    mix = np.zeros((2, n))
    for stem, (gain, pan) in parts.items():
        y = np.atleast_2d(clean(stem, sr)).astype(np.float64)
        y = y / np.sqrt(np.mean(y**2)) * 10 ** (gain / 20)
        if y.shape[0] == 1:
            y = np.vstack([y[0] * np.sqrt(0.5 - pan / 2), y[0] * np.sqrt(0.5 + pan / 2)])
        mix += y
    return np.tanh(1.2 * mix / np.abs(mix).max())


def _peak(y: np.ndarray) -> float:
    return float(np.abs(y).max())


def _at_peak(y: np.ndarray, dbfs: float) -> np.ndarray:
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


@lru_cache(maxsize=64)
def clean(stem: str, sr: int) -> np.ndarray:
    """A clean stem or master, float64, (n,) or (2, n): stems peak at -10 dBFS, masters sit on their target."""
    y = STEMS[stem](sr, int(SECONDS * sr))
    if stem in MASTER_LUFS:
        y = np.atleast_2d(y) if stem == "master" else np.vstack([y, y])
        return limited(y, sr, MASTER_LUFS[stem])
    return _at_peak(y, STEM_PEAK_DBFS)


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


def _check(condition: bool, case: Case, what: str) -> None:
    if not condition:
        raise AssertionError(f"{case.name}: the rendered fault fails its check: {what}")


def _eq(case: Case, y: np.ndarray) -> np.ndarray:
    gain, hz, q = case.param("gain_db"), case.param("hz"), case.param("q")
    out = sosfilt(bell(gain, hz, q, case.sr), y, axis=-1)
    _check(abs(_gain_at(y, out, case.sr, hz) - gain) < 1.5, case, f"{gain:+.0f} dB at {hz:.0f} Hz in the spectrum")
    return (
        _at_peak(out, STEM_PEAK_DBFS) if case.track_type != "master" else limited(out, case.sr, MASTER_LUFS[case.stem])
    )


def _lowpass(case: Case, y: np.ndarray) -> np.ndarray:
    out = (
        sounds.filtered(y, case.sr, "lowpass", case.param("hz"), 8)
        if y.ndim == 1
        else np.vstack([sounds.filtered(channel, case.sr, "lowpass", case.param("hz"), 8) for channel in y])
    )
    drop = _band_db(y, case.sr, 6000, 16000) - _band_db(out, case.sr, 6000, 16000)
    _check(drop > 25, case, f"energy above 6 kHz down by more than 25 dB (got {drop:.1f})")
    return out


def _rumble(case: Case, y: np.ndarray) -> np.ndarray:
    t = np.arange(y.shape[-1]) / case.sr
    out = y + _peak(y) * 0.3 * np.sin(2 * np.pi * case.param("hz") * t)
    _check(_band_db(out, case.sr, 20, 60) > -15, case, "sub-bass above -15 dB of the energy")
    return out


def _gain(case: Case, y: np.ndarray) -> np.ndarray:
    out = _at_peak(y, case.param("peak_dbfs"))
    _check(abs(20 * np.log10(_peak(out)) - case.param("peak_dbfs")) < 0.01, case, "peak level")
    return out


def _hard_clip(case: Case, y: np.ndarray) -> np.ndarray:
    out = np.clip(y * 10 ** (case.param("drive_db") / 20), -1.0, 1.0)
    _check(np.mean(np.abs(out) >= 1.0) > 0.001, case, "more than 0.1 % of the samples at full scale")
    return out


def _soft_clip(case: Case, y: np.ndarray) -> np.ndarray:
    """A cubic soft clipper driven hard (flat beyond its knee), then the stem set back to -10 dBFS."""
    x = y / _peak(y) * 10 ** (case.param("drive_db") / 20)
    out = np.where(np.abs(x) < 1, x - x**3 / 3, np.sign(x) * 2 / 3)
    _check(np.mean(np.abs(x) >= 1) > 0.005, case, "more than 0.5 % of the samples past the knee")
    return _at_peak(out, STEM_PEAK_DBFS)


def _dc(case: Case, y: np.ndarray) -> np.ndarray:
    out = y + case.param("offset")
    _check(abs(np.mean(out) - case.param("offset")) < 0.002, case, "mean of the samples")
    return out


def _loudness(case: Case, y: np.ndarray) -> np.ndarray:
    out = _at_lufs(y, case.sr, case.param("lufs"))
    if _peak(out) > 0.98:  # a loud master goes through a limiter (here a soft saturator) to stay under 0 dBFS
        out = np.tanh(out / 0.98) * 0.95
        out = _at_lufs(out, case.sr, case.param("lufs"))
        out = np.clip(out, -0.99, 0.99)
    _check(abs(lufs(out, case.sr) - case.param("lufs")) < 0.3, case, "integrated loudness (pyloudnorm)")
    return out


def _intersample(case: Case, y: np.ndarray) -> np.ndarray:
    """A 10 ms burst at sr/4 sampled 45 degrees off its crests: samples at -1.9 dBFS, true peak +1.1 dBTP."""
    out = y.copy()
    n = int(0.01 * case.sr)
    at = int(1.0 * case.sr)
    burst = 1.13 * np.sin(np.pi / 2 * np.arange(n) + np.pi / 4)
    out[..., at : at + n] = burst
    true_peak = 20 * np.log10(np.abs(resample_poly(np.atleast_2d(out)[0], 4, 1)).max())
    _check(true_peak > 0.5 and 20 * np.log10(_peak(out)) < -1.0, case, f"true peak {true_peak:.1f} dBTP")
    return out


def _squash(case: Case, y: np.ndarray) -> np.ndarray:
    out = _at_peak(np.tanh(30 * y / _peak(y)), -8.0)
    crest = 20 * np.log10(_peak(out) / np.sqrt(np.mean(out**2)))
    _check(crest < 6, case, f"crest factor under 6 dB (got {crest:.1f})")
    return out


def _correlation(y: np.ndarray) -> float:
    return float(np.corrcoef(y[0], y[1])[0, 1])


def _polarity(case: Case, y: np.ndarray) -> np.ndarray:
    out = np.vstack([y[0], -y[1]])
    _check(_correlation(out) < -0.8, case, "channel correlation under -0.8")
    return out


def _widen(case: Case, y: np.ndarray) -> np.ndarray:
    """An M/S imager pushed hard: a Haas-like 12 ms copy added to the side, side raised to 3.7 dB over mid."""
    mid, side = (y[0] + y[1]) / 2, (y[0] - y[1]) / 2
    side = side + np.roll(mid, int(0.012 * case.sr))
    side *= np.sqrt(2.33 * np.mean(mid**2) / np.mean(side**2))
    out = _at_peak(np.vstack([mid + side, mid - side]), -8.0)
    corr = _correlation(out)
    _check(-0.6 < corr < -0.2, case, f"correlation between -0.6 and -0.2 (got {corr:.2f})")
    return out


def _hiss(case: Case, y: np.ndarray) -> np.ndarray:
    noise = sounds.rng_for("hiss", case.name).standard_normal(y.shape[-1])
    out = sounds.filtered(noise, case.sr, "highpass", 200.0) * 10 ** (-55 / 20)
    _check(abs(20 * np.log10(np.sqrt(np.mean(out**2))) + 55) < 1.5, case, "noise at about -55 dBFS RMS")
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


def render(case: Case) -> np.ndarray:
    """The case's audio, float32 (n,) or (channels, n)."""
    y = clean(case.stem, case.sr)
    if case.fault != "clean":
        y = FAULTS[case.fault](case, y)
    return np.asarray(y, dtype=np.float32)


def render_other(case: Case) -> np.ndarray | None:
    """The other track of a masking case: the 808 un-ducked 15 dB over the kick, or a loud guitar."""
    if case.other is None:
        return None
    if case.fault == "kick_masked":
        kick = clean("kick", case.sr)
        y = sounds.eight_o_eight(case.sr, len(kick), beat_s=0.5)
        y = y / np.sqrt(np.mean(y**2)) * np.sqrt(np.mean(kick**2)) * 10 ** (15 / 20)
        return y.astype(np.float32)
    if case.fault == "vocal_buried":
        guitar = clean("guitar", case.sr)
        guitar = sosfilt(bell(8.0, 1500.0, 0.7, case.sr), guitar)
        vocal = clean("vocal", case.sr)
        return (guitar / np.sqrt(np.mean(guitar**2)) * np.sqrt(np.mean(vocal**2)) * 10 ** (18 / 20)).astype(np.float32)
    return np.asarray(clean(case.other, case.sr), dtype=np.float32)


# -- judging an analysis -----------------------------------------------------------------------------------------


def analyze_case(case: Case, rules: object = None) -> dict:
    """The wire analysis of ``quality`` for the case, as a DAW would get it."""
    from codette_lab.analysis_types import analyze

    other = render_other(case)
    result = analyze(
        render(case),
        case.sr,
        kind="quality",
        track_type=case.track_type,
        track_name=case.stem.title(),
        target=case.target,
        other=other,
        other_track_type=case.other_type,
        other_track_name=case.other.title() if case.other else None,
        rules=rules,
    )
    return result.to_wire()


def _numbers(text: str, unit: str) -> list[float]:
    return [float(value) for value in re.findall(rf"(-?\d+(?:\.\d+)?) ?{unit}\b", text)]


def judge(case: Case, wire: dict) -> dict:
    """found / remedy_ok / extra findings of one analysis, as the report and the tests count them."""
    findings = [problem["rule"] for problem in wire["problems_detected"]]
    verdict = {"case": case.name, "fault": case.fault, "score": wire["quality_score"], "findings": findings}
    if case.fault == "clean":
        return verdict | {"false_alarms": findings}
    found = [rule for rule in findings if rule in case.rules]
    verdict["found"] = bool(found)
    suggestions = [d["text"] for d in wire["suggestion_details"] if found and d["rule"] == found[0]]
    text = suggestions[0] if suggestions else ""
    problems = {case.fault}
    if case.remedy and not re.search(case.remedy, text, re.I):
        problems.add(f"remedy does not match /{case.remedy}/")
    if case.wrong and any(re.search(case.wrong, s, re.I) for s in wire["mixing_suggestions"]):
        problems.add(f"a suggestion matches the wrong remedy /{case.wrong}/")
    if case.hz is not None:
        hz = _numbers(text, "Hz")
        if not hz or not case.hz / case.hz_tolerance <= hz[0] <= case.hz * case.hz_tolerance:
            problems.add(f"frequency {hz[:1]} not within x{case.hz_tolerance} of {case.hz:g} Hz")
    if case.db is not None:
        amounts = _numbers(text, "dB")
        if not amounts or abs(abs(amounts[0]) - case.db) > case.db_tolerance:
            problems.add(f"amount {amounts[:1]} not within {case.db_tolerance} dB of {case.db:g} dB")
    if case.exact and set(findings) - set(case.rules):
        problems.add(f"other findings {sorted(set(findings) - set(case.rules))}")
    problems.discard(case.fault)
    return verdict | {"remedy": text, "remedy_ok": bool(found) and not problems, "remedy_problems": sorted(problems)}


def run_all(cases: tuple[Case, ...] = CASES) -> list[dict]:
    verdicts = {case.name: judge(case, analyze_case(case)) for case in cases}
    for case in cases:
        if case.fault != "clean":
            control = verdicts[case.control]["score"]
            verdicts[case.name]["control_score"] = control
            verdicts[case.name]["below_control"] = verdicts[case.name]["score"] < control
    return list(verdicts.values())


def write_corpus(out: Path) -> list[Path]:
    import soundfile

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in CASES:
        path = out / f"{case.name}.flac"
        soundfile.write(path, np.atleast_2d(render(case)).T, case.sr, subtype="FLOAT")
        paths.append(path)
        other = render_other(case)
        if other is not None:
            soundfile.write(out / f"{case.name}.other.flac", np.atleast_2d(other).T, case.sr, subtype="FLOAT")
    (out / "cases.json").write_text(json.dumps([asdict(case) for case in CASES], indent=1))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(REPO / "data" / "corpus"), help="folder for the FLAC files")
    parser.add_argument("--report", nargs="?", const=str(REPO / "docs" / "advice.md"), help="write the figures page")
    args = parser.parse_args(argv)
    if args.report:
        from fault_report import write_report

        write_report(Path(args.report), run_all())
        print(f"wrote {args.report}")
        return 0
    paths = write_corpus(Path(args.out))
    print(f"wrote {len(paths)} cases under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
