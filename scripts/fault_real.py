"""The realistic fault corpus: faults injected at several severities into sampled instruments, recorded kits,
samples, voices and mastered songs (scripts/fault_real_sources.py), judged on a split by source.

``python scripts/fault_real.py`` renders (cached under data/corpus_real/<fingerprint>/) and analyzes every case with the
built-in ``quality`` type (on a local Dask cluster, a worker process per core: codette_lab.corpus's), fits the
thresholds of the build-up, top-end and sibilance rules on the ``fit`` sources (codette_lab.corpus.fit_between)
and prints the figures of both splits; ``--report`` adds them to docs/advice.md. Each case carries one fault,
checked on the rendered audio by an independent measurement (fault_injection's Welch spectra and pyloudnorm); a
finding of any other rule on a fault case is a false alarm, as is any finding on a clean control.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_cases import Case
from fault_injection import _band_db, _gain_at, at_peak, bell, check, limited, lufs
from fault_real_clipping import SOURCE_CLIP_RULES, clipped_sources
from fault_real_report import figures, section, write_section
from fault_real_sources import REPO, SOURCES, clean

RATES = (44100, 48000)
STEM_PEAK_DBFS = -10.0
#: The loudness targets the songs are mastered to (a master of each, at each rate).
MASTERINGS = {"streaming": -14.0, "broadcast": -23.0}


@dataclass(frozen=True)
class RealCase:
    """One rendered track of the realistic corpus and what an engineer would say about it."""

    case: Case  # name, track type, rate, fault, rules, remedy, frequency and amount (fault_cases.Case)
    source: str
    split: str
    target: str | None = None

    @property
    def name(self) -> str:
        return self.case.name

    @property
    def control(self) -> str:
        target = f"-{self.target}" if self.target else ""
        return f"clean-{self.source}{target}-{self.case.sr}"


def _rate(*parts: object) -> int:
    return RATES[zlib.crc32("/".join(map(str, parts)).encode()) % 2]


def _case(
    source: str, sr: int, fault: str, severity: str = "", target: str | None = None, **fields: object
) -> RealCase:
    params = tuple(sorted(fields.pop("params", {}).items()))  # type: ignore[attr-defined]
    spec = SOURCES[source]
    label = f"{fault}{severity}-{source}{'-' + target if target else ''}-{sr}"
    case = Case(label, source, spec.track_type, sr, fault, target=target, params=params, **fields)  # type: ignore[arg-type]
    return RealCase(case, source, spec.split, target)


def cases() -> list[RealCase]:
    """Controls (every source at both rates, songs mastered to each target) and faults at several severities."""
    found: list[RealCase] = []
    for name, spec in SOURCES.items():
        targets = MASTERINGS if spec.track_type == "master" else (None,)
        found.extend(_case(name, sr, "clean", target=target) for sr in RATES for target in targets)
    cut = r"\bcut\b"
    for name, spec in SOURCES.items():
        kind = spec.track_type
        if kind in ("keys", "guitar", "synth", "vocal", "bass", "master"):
            hz = 300.0 if kind == "vocal" else 250.0
            for gain in (9.0, 6.0):
                target = "streaming" if kind == "master" else None
                found.append(
                    _case(
                        name,
                        _rate(name, "mud", gain),
                        "mud",
                        f"{gain:.0f}",
                        target,
                        rules=("low_mid_buildup", "low_mid_buildup_for_type"),
                        remedy=cut,
                        hz=hz,
                        hz_tolerance=1.3,
                        params={"gain_db": gain, "hz": hz, "q": 1.4},
                    )
                )
        if kind in ("keys", "guitar", "synth", "vocal", "master"):
            for gain in (9.0, 6.0):
                target = "streaming" if kind == "master" else None
                found.append(
                    _case(
                        name,
                        _rate(name, "harsh", gain),
                        "harsh",
                        f"{gain:.0f}",
                        target,
                        rules=("harshness", "harshness_for_type"),
                        remedy=cut,
                        hz=3200.0,
                        wrong="de-ess",
                        params={"gain_db": gain, "hz": 3200.0, "q": 2.0},
                    )
                )
            for hz in (3500.0, 5000.0):
                target = "streaming" if kind == "master" else None
                found.append(
                    _case(
                        name,
                        _rate(name, "dull", hz),
                        "dull",
                        f"{hz / 1000:g}k",
                        target,
                        rules=("dull", "dull_for_type"),
                        remedy=r"low-pass|shelf",
                        params={"hz": hz},
                    )
                )
        if kind == "vocal":
            found.extend(
                _case(
                    name,
                    _rate(name, "sib", gain),
                    "sibilance",
                    f"{gain:.0f}",
                    rules=("sibilance",),
                    remedy="de-ess",
                    hz=7000.0,
                    hz_tolerance=1.3,
                    params={"gain_db": gain, "hz": 7000.0, "q": 2.0},
                )
                for gain in (12.0, 8.0)
            )
            found.append(
                _case(name, _rate(name, "rumble"), "rumble", rules=("rumble",), remedy="high-pass", params={"hz": 35.0})
            )
        if kind in ("vocal", "guitar"):
            found.extend(
                _case(
                    name,
                    _rate(name, noise),
                    "hiss_only",
                    f"-{noise}",
                    rules=("no_programme",),
                    remedy=r"routing|record",
                    wrong=r"raise",
                    exact=True,
                    params={"colour": ("white", "pink", "hum").index(noise)},
                )
                for noise in ("white", "pink", "hum")
            )
        if kind == "master":
            found.append(
                _case(
                    name,
                    _rate(name, "loud"),
                    "too_loud",
                    target="streaming",
                    rules=("too_loud",),
                    remedy="lower",
                    db=4.0,
                    db_tolerance=0.6,
                    params={"lufs": -10.0},
                )
            )
            found.append(
                _case(
                    name,
                    _rate(name, "quiet"),
                    "too_quiet",
                    target="streaming",
                    rules=("too_quiet",),
                    remedy="raise",
                    db=6.0,
                    db_tolerance=0.6,
                    params={"lufs": -20.0},
                )
            )
    CASES_BY_NAME.update((rc.name, rc) for rc in found)
    return found


CASES_BY_NAME: dict[str, RealCase] = {}


# -- rendering: clean material at its level, one fault each, each checked --------------------------------------


#: A clean master's true peak stays under this (dBTP): under the -1 dBTP ceiling of every target.
MASTER_TRUE_PEAK_DBTP = -1.2
#: Limiter-and-trim passes a mastering gets before its true peak is taken as it is.
MASTERING_PASSES = 12


def _true_peak_db(y: np.ndarray) -> float:
    """The true peak (dBTP) by 4x oversampling (scipy), independent of the project's meter."""
    return float(20 * np.log10(np.abs(resample_poly(np.atleast_2d(y), 4, 1, axis=-1)).max()))


def mastered(y: np.ndarray, sr: int, goal: float) -> np.ndarray:
    """``y`` limited to ``goal`` LUFS with its true peak under MASTER_TRUE_PEAK_DBTP (a mastering engineer's
    last trim, then the limiter again until both hold)."""
    out = y
    for _ in range(MASTERING_PASSES):
        out = limited(out, sr, goal)
        over = _true_peak_db(out) - MASTER_TRUE_PEAK_DBTP
        if over <= 0:
            break
        out = out * 10 ** (-over / 20)
    return out


def _levelled(y: np.ndarray, rc: RealCase) -> np.ndarray:
    if rc.target is not None:
        stereo = np.atleast_2d(y) if np.atleast_2d(y).shape[0] == 2 else np.vstack([y, y])
        return mastered(stereo, rc.case.sr, MASTERINGS[rc.target])
    return at_peak(y, STEM_PEAK_DBFS)


def _noise(rc: RealCase, n: int) -> np.ndarray:
    """Hiss without programme: white (high-passed), pink, or hum with its harmonics under pink hiss."""
    sr, colour = rc.case.sr, int(rc.case.param("colour"))
    rng = np.random.default_rng(zlib.crc32(rc.name.encode()))
    white = rng.standard_normal(n)
    if colour == 0:
        return sosfilt(butter(2, 200.0, "highpass", fs=sr, output="sos"), white) * 10 ** (-60 / 20)
    spectrum = np.fft.rfft(white) / np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0))
    pink = np.fft.irfft(spectrum, n)
    pink = pink / np.sqrt(np.mean(pink**2)) * 10 ** (-66 / 20)
    if colour == 1:
        return pink
    t = np.arange(n) / sr
    hum = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3, 5)) * 10 ** (-62 / 20)
    return pink + hum


def render(rc: RealCase) -> np.ndarray:
    """The case's audio, float32: the clean source at its level with its one fault, checked."""
    case = rc.case
    y = _levelled(clean(rc.source, case.sr), rc)
    fault = case.fault
    if fault in ("mud", "harsh", "sibilance"):
        gain, hz = case.param("gain_db"), case.param("hz")
        raw = clean(rc.source, case.sr)
        out = sosfilt(bell(gain, hz, case.param("q"), case.sr), raw, axis=-1)
        check(abs(_gain_at(raw, out, case.sr, hz) - gain) < 1.5, case, f"{gain:+.0f} dB at {hz:.0f} Hz")
        y = _levelled(out, rc)  # a master is mastered after the EQ, as it happens
    elif fault == "dull":
        hz = case.param("hz")
        raw = clean(rc.source, case.sr)
        out = sosfilt(butter(8, hz, "lowpass", fs=case.sr, output="sos"), raw, axis=-1)
        drop = _band_db(raw, case.sr, hz * 1.5, 16000) - _band_db(out, case.sr, hz * 1.5, 16000)
        check(drop > 25, case, f"energy above {hz * 1.5:.0f} Hz down by more than 25 dB (got {drop:.1f})")
        y = _levelled(out, rc)
    elif fault == "rumble":
        t = np.arange(y.shape[-1]) / case.sr
        y = y + np.abs(y).max() * 0.3 * np.sin(2 * np.pi * case.param("hz") * t)
        check(_band_db(y, case.sr, 20, 60) > -15, case, "sub-bass above -15 dB of the energy")
    elif fault == "hiss_only":
        y = _noise(rc, y.shape[-1])
        check(20 * np.log10(np.sqrt(np.mean(y**2))) < -50, case, "noise under -50 dBFS RMS")
    elif fault in ("too_loud", "too_quiet"):
        goal = case.param("lufs")
        out = y * 10 ** ((goal - lufs(y, case.sr)) / 20)
        if np.abs(out).max() > 0.89 or _true_peak_db(out) > MASTER_TRUE_PEAK_DBTP:
            out = mastered(out, case.sr, goal)
        check(abs(lufs(out, case.sr) - goal) < 0.3, case, "integrated loudness (pyloudnorm)")
        y = out
    return np.asarray(y, dtype=np.float32)


# -- judging -------------------------------------------------------------------------------------------------------


def analyze_case(rc: RealCase, rules: object = None) -> dict:
    from codette_lab.analysis_types import analyze

    case = rc.case
    result = analyze(
        render(rc),
        case.sr,
        kind="quality",
        track_type=case.track_type,
        track_name=rc.source.title(),
        target=rc.target,
        rules=rules,
    )
    return result.to_wire()


def _scripts_importable() -> None:
    """On a Dask worker: the project's scripts importable (the cases and their renderers live there)."""
    folder = str(Path(__file__).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)


def answers(selected: list[RealCase], rules: object = None, client: Any = None) -> dict[str, dict]:
    """Every case's answer (wire format), by case name: here, one after the other, or on the Dask ``client``'s
    workers (``codette_lab.corpus``'s local cluster in ``main``: a worker process per core)."""
    if client is None:
        return {rc.name: analyze_case(rc, rules) for rc in selected}
    client.run(_scripts_importable)
    [shared] = client.scatter([rules], broadcast=True)
    futures = client.map(analyze_case, selected, rules=shared)
    return dict(zip((rc.name for rc in selected), client.gather(futures), strict=True))


def run(selected: list[RealCase], rules: object = None, client: Any = None) -> list[dict]:
    """Every case's verdict (make_fault_corpus.judge), with its split, extra findings and its control's score; a
    source clipped at the source (clipped_sources) has its clipping findings excused and says so. The cases are
    analyzed on the Dask ``client`` when one is given (:func:`answers`)."""
    from make_fault_corpus import judge

    wires = answers(selected, rules, client)
    clipped = clipped_sources({(rc.source, rc.case.sr) for rc in selected})
    verdicts = []
    for rc in selected:
        verdict = judge(rc.case, wires[rc.name]) | {"split": rc.split, "source": rc.source}
        verdict["metrics"] = wires[rc.name]["metrics"]
        verdict["suggestions"] = wires[rc.name]["mixing_suggestions"]
        excused = SOURCE_CLIP_RULES if (rc.source, rc.case.sr) in clipped else frozenset()
        if excused:
            verdict["clipped_at_source"] = clipped[rc.source, rc.case.sr]
        if rc.case.fault == "clean":
            verdict["false_alarms"] = [rule for rule in verdict["false_alarms"] if rule not in excused]
        else:
            verdict["extra"] = sorted(set(verdict["findings"]) - set(rc.case.rules) - excused)
            control = wires.get(rc.control)
            verdict["control_score"] = control["quality_score"] if control else None
            verdict["below_control"] = control is None or verdict["score"] < control["quality_score"]
        verdicts.append(verdict)
    return verdicts


#: The rules whose thresholds are fitted on the fit split: the judgements of timbre, which depend on the
#: instrument (levels, loudness, clipping and stereo are judged against fixed engineering marks).
FITTED_RULES = frozenset({"low_mid_buildup", "harshness", "dull", "sibilance"}) | {
    f"{rule}_for_type" for rule in ("low_mid_buildup", "harshness", "dull")
}


def _table(verdicts: list[dict], *, faults: bool) -> object:
    import pandas as pd

    from codette_lab.corpus.task import flatten
    from codette_lab.rules.tone import OUTPUTS as TONE_OUTPUTS
    from codette_lab.rules.tone import judge_tone

    rows = []
    for v in verdicts:
        if (v["fault"] != "clean") != faults:
            continue
        rc = CASES_BY_NAME[v["case"]]
        row = {"track_type": rc.case.track_type, **flatten(v["metrics"])}
        row.update(zip(TONE_OUTPUTS, judge_tone(row, rc.case.track_type), strict=True))  # derived by the rules
        if faults:
            row["rule"] = rc.case.rules[0] if rc.case.rules else None
        rows.append(row)
    return pd.DataFrame(rows)


def fit(verdicts: list[dict]) -> tuple[object, object]:
    """The built-in rules with the timbre thresholds set between the fit split's clean tracks and faults, and
    the report of :func:`codette_lab.corpus.fit_between` (margins to the nearest clean track and weakest fault)."""
    from codette_lab.corpus import fit_between
    from codette_lab.rules import RuleSet

    chosen = [v for v in verdicts if v["split"] == "fit"]
    faults = _table(chosen, faults=True)
    faults = faults[faults["rule"].isin(FITTED_RULES)]
    report = fit_between(_table(chosen, faults=False), faults)
    rules = RuleSet.default()
    rules.update(dict(zip(report["parameter"], report["value"], strict=True)))
    return rules, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("fit", "validation"), help="only this split")
    parser.add_argument("--report", nargs="?", const=str(REPO / "docs" / "advice.md"), help="write the figures")
    args = parser.parse_args(argv)
    from codette_lab.corpus.run import connected

    selected = [rc for rc in cases() if args.split in (None, rc.split)]
    for key in {(rc.source, rc.case.sr) for rc in selected}:
        clean(*key)  # every source rendered once, before the cases that share it are spread over the workers
    with connected(None) as client:  # a local Dask cluster: a worker process per core
        verdicts = run(selected, client=client)
        for split in ("fit", "validation"):
            print("built-in rules", split, figures(verdicts, split))
        rules, report = fit(verdicts)  # on the fit split only
        print(report.to_string())
        fitted = run(selected, rules.snapshot(), client=client)
    for split in ("fit", "validation"):
        print("fitted rules", split, figures(fitted, split))
    if args.report:
        write_section(Path(args.report), section(verdicts, fitted, report))
        print(f"wrote {args.report}")
    for v in verdicts:
        bad = (v["fault"] == "clean" and v["false_alarms"]) or (
            v["fault"] != "clean" and (not v["found"] or v["extra"] or not v["remedy_ok"] or not v["below_control"])
        )
        if bad:
            print(v["split"][:3], v["case"], v["findings"], v.get("remedy_problems"), v.get("extra"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
