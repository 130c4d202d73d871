"""Render the fault corpus (clean stems and masters, each fault injected at an unmistakable severity), and
judge the built-in ``quality`` analysis on it.

``python scripts/make_fault_corpus.py [OUT]`` writes every case as FLAC under OUT (default data/corpus/,
git-ignored) with ``cases.json`` describing them; ``--report [PAGE]`` analyzes every case and rewrites
docs/advice.md with recall per fault kind, false alarms on the clean controls, remedy accuracy and score
ordering. The tests (tests/test_advice_*.py) import this module and render what they need in memory.

Every case is deterministic (seeded by its name). Each fault is checked at render time by an independent
measurement on the rendered audio (a scipy Welch spectrum, pyloudnorm, correlation of the channels, ...),
so a case that does not contain its fault fails loudly instead of testing nothing. The clean material is
synthesised in fault_sounds.py, the faults are injected in fault_injection.py, the table of cases is
fault_cases.py and the figures page is written by fault_report.py.
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
from scipy.signal import sosfilt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fault_sounds as sounds
from fault_cases import CASES, Case
from fault_injection import FAULTS, MASTER_LUFS, STEM_PEAK_DBFS, at_peak, bell, check, level_db, limited

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


@lru_cache(maxsize=64)
def clean(stem: str, sr: int) -> np.ndarray:
    """A clean stem or master, float64, (n,) or (2, n): stems peak at -10 dBFS, masters sit on their target."""
    y = STEMS[stem](sr, int(SECONDS * sr))
    if stem in MASTER_LUFS:
        y = np.atleast_2d(y) if stem == "master" else np.vstack([y, y])
        return limited(y, sr, MASTER_LUFS[stem])
    return at_peak(y, STEM_PEAK_DBFS)


def render(case: Case) -> np.ndarray:
    """The case's audio, float32 (n,) or (channels, n)."""
    if case.fault == "buries_kick":
        return unducked_808(case)
    y = clean(case.stem, case.sr)
    if case.fault != "clean":
        y = FAULTS[case.fault](case, y)
    return np.asarray(y, dtype=np.float32)


def unducked_808(case: Case) -> np.ndarray:
    """The 808 on every kick without its side-chain, 15 dB (RMS) over the kick: checked to lead the kick by
    10 dB or more at 40-80 Hz in a Welch spectrum."""
    kick = clean("kick", case.sr)
    y = sounds.eight_o_eight(case.sr, len(kick), beat_s=0.5)
    y = y / np.sqrt(np.mean(y**2)) * np.sqrt(np.mean(kick**2)) * 10 ** (15 / 20)
    lead = level_db(y, case.sr, 40.0, 80.0) - level_db(kick, case.sr, 40.0, 80.0)
    check(lead >= 10.0, case, f"808 over the kick at 40-80 Hz by 10 dB or more (got {lead:.1f})")
    return y.astype(np.float32)


def render_other(case: Case) -> np.ndarray | None:
    """The other track of a masking case: the 808 un-ducked 15 dB over the kick, or a loud guitar."""
    if case.other is None:
        return None
    if case.fault == "kick_masked":
        return unducked_808(case)
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
        soundfile.write(path, np.atleast_2d(render(case)).T, case.sr, subtype="PCM_24")
        paths.append(path)
        other = render_other(case)
        if other is not None:
            soundfile.write(out / f"{case.name}.other.flac", np.atleast_2d(other).T, case.sr, subtype="PCM_24")
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
