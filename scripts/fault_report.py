"""The figures page of the fault corpus (docs/advice.md): written from a real run of ``run_all()``."""

from __future__ import annotations

import datetime
import platform
from collections import defaultdict
from pathlib import Path


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f} % ({part}/{whole})" if whole else "-"


def write_report(page: Path, verdicts: list[dict]) -> None:
    """Recall per fault kind, false alarms on the controls, remedy accuracy, score ordering, every miss."""
    faults = [v for v in verdicts if v["fault"] != "clean"]
    controls = [v for v in verdicts if v["fault"] == "clean"]
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for verdict in faults:
        by_kind[verdict["fault"]].append(verdict)
    found = sum(v["found"] for v in faults)
    right = sum(v["remedy_ok"] for v in faults)
    below = sum(v["below_control"] for v in faults)
    alarms = [v for v in controls if v["false_alarms"]]
    lines = [
        "# Advice on the fault corpus",
        "",
        "Written by `python scripts/make_fault_corpus.py --report` from a real run "
        f"({datetime.date.today().isoformat()}, Python {platform.python_version()}): every case of",
        "`scripts/fault_cases.py` rendered by `scripts/make_fault_corpus.py` (5 s clips at 44.1 and 48 kHz, each",
        "fault injected with scipy at an unmistakable severity and checked by an independent measurement at",
        "render time) and analyzed with the built-in `quality` type. `tests/test_advice_table.py` asserts the",
        "same table.",
        "",
        "| measure | result | target |",
        "| --- | --- | --- |",
        f"| recall (the fault is reported by the right rule) | {_percent(found, len(faults))} | >= 95 % |",
        f"| right remedy (move, frequency and amount from the injection) | {_percent(right, len(faults))} | >= 95 % |",
        f"| clean controls with any finding | {_percent(len(alarms), len(controls))} | 0 |",
        f"| faults scoring below their clean control | {_percent(below, len(faults))} | 100 % |",
        "",
        "What it does not show: the material is synthesised (a formant voice, additive strings and pads, drums",
        "from swept sines and noise), not recorded; the per-type thresholds of the build-up, top-end and",
        "sibilance rules (`type.mud_tilt_max_db`, `type.top_end_min_db`, `vocal.sibilance_max_db`, ...) were",
        "set between these clean controls and these faults, so the controls are not an independent test set",
        "for them. A low-mid bell on a part's own fundamentals is found through the low mids' level over the",
        "1-4 kHz presence range, but when it sits just above them (400 Hz on a sung vocal) the cut is still put",
        "on the fundamentals: the miss below.",
        "",
        "Seven synthetic faults are given up for the realistic corpus below (the misses listed): the own-envelope",
        "harshness rule also needs the upper mids out of the type's normal range (`type.harsh_ref_gate_z`), and",
        "a bell on the synthetic pad, master or formant voice stands no further out of it than clean sampled",
        "leads, recorded voices and bright masters do; and the formant voice's S sounds, even raised by its",
        "sibilance faults, sit under the ordinary S sounds of recorded people's voices, which the vocal",
        "sibilance threshold keeps clean. The clean sampled instruments and recorded voices are the stronger",
        "evidence.",
        "",
        "Every answer is also checked for agreeing with itself and the measurements",
        "(`tests/test_advice_consistency.py`, over every built-in chat perspective with each demo track selected, with",
        "the built-in and with tuned rules, and over the analyses of the demo stems and of every case here): the track",
        "count it names, a peak it calls hot never inside a range it recommends, no RMS target and peak ceiling the",
        "crest factor rules out (such a tip is told by the peaks instead), no gain moved both ways, no boost where it",
        "cuts or on a measured build-up, a generic cut near a measured build-up aimed at it, every figure measured,",
        "derived or a rule's, and the high-pass of the rules in force. No cut goes deeper than",
        "`general.eq_cut_max_db` (12 dB): beyond that the advice is to check the source.",
        "",
        "## Per fault kind",
        "",
        "| fault | cases | found | right remedy | below control |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind, cases in by_kind.items():
        lines.append(
            f"| {kind} | {len(cases)} | {sum(v['found'] for v in cases)} | {sum(v['remedy_ok'] for v in cases)}"
            f" | {sum(v['below_control'] for v in cases)} |"
        )
    lines += ["", "## Clean controls", "", "| control | score | findings |", "| --- | --- | --- |"]
    lines += [f"| {v['case']} | {v['score']:.3f} | {', '.join(v['false_alarms']) or '-'} |" for v in controls]
    misses = [v for v in faults if not (v["found"] and v["remedy_ok"] and v["below_control"])]
    lines += ["", "## Misses", ""]
    if not misses:
        lines.append("None.")
    for verdict in misses:
        why = "; ".join(verdict["remedy_problems"]) or ("not found" if not verdict["found"] else "score")
        lines.append(
            f"- `{verdict['case']}`: {why} (findings: {', '.join(verdict['findings']) or 'none'}; "
            f"score {verdict['score']:.3f}, control {verdict['control_score']:.3f})"
        )
    lines += ["", "## Every fault case", "", "| case | score | control | remedy |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {v['case']} | {v['score']:.3f} | {v['control_score']:.3f} | {v.get('remedy') or '-'} |" for v in faults
    ]
    kept = _realistic_section(page)
    page.write_text("\n".join(lines) + "\n" + (f"\n{kept}" if kept else ""))


#: The realistic corpus's section (scripts/fault_real.py writes it); this page keeps it when rewritten.
REALISTIC_SECTION = "## Realistic corpus"


def _realistic_section(page: Path) -> str:
    text = page.read_text() if page.is_file() else ""
    at = text.find(REALISTIC_SECTION)
    return text[at:] if at >= 0 else ""
