"""Fit the reference envelopes per track type (codette_lab/rules/tone_references.json) and the thresholds that
judge a track against them (the ``*_ref_z_max`` parameters of codette_lab/rules/default_rules.json), and the
middle and spread of each tonal balance per track type (codette_lab.rules.balance: what the score leans on).

``python scripts/fit_tone_references.py`` measures the tone shape (``tone_shape_db``: the smoothed long-term
spectrum at 1/3-octave centres, level-normalised) of every clean source of the ``fit`` split of
scripts/fault_real_sources.py at 44.1 and 48 kHz and writes, per track type, the mean and spread of each view
of it (codette_lab.rules.tone), plus a pooled ``audio`` reference over every source for the types without
one of their own. The thresholds come from the clean sources alone, each judged against the reference fitted on
the *other* instruments of its type (leave one out, every bank's rendering of an instrument together: how far an
instrument the reference has not seen stands out of it), and the clean controls of the synthetic corpus
(scripts/make_fault_corpus.py): the largest such score of the type plus a margin, so no clean fit source would
be called muddy, harsh or dull by a reference that lacked it, and no synthetic clean control at all. The
``validation`` sources are never read here: docs/advice.md judges the references on instruments, kits and voices
they were not fitted on. ``make advice`` runs it first.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_real_sources import REPO, SOURCES, clean, instrument

from codette_lab.analysis import measure
from codette_lab.analysis.envelope import SHAPE_BANDS
from codette_lab.rules import RuleSet, balance
from codette_lab.rules.evaluate import flatten
from codette_lab.rules.tone import OUTPUTS, POOLED, Reference, fitted, judge_shape, judge_tone, to_document

RATES = (44100, 48000)
OUT = REPO / "codette_lab" / "rules" / "tone_references.json"
RULES = REPO / "codette_lab" / "rules" / "default_rules.json"
#: Added to the largest leave-one-out score of a type's clean sources (in spreads).
MARGIN = 0.5
#: No threshold under this (in spreads): a reference of few sources must not call ordinary variation a fault.
LOWEST = 2.0
#: The judgements and the score each is made on, and the track types each applies to (as the rules say).
JUDGEMENTS = {"mud": "mud_ref_z", "harsh": "harsh_ref_z", "dark": "dark_ref_z", "sibilance": "sibilance_ref_z"}
NOT_JUDGED = {"harsh": ("bass", "drums"), "dark": ("bass", "drums")}
#: Judgements made on these track types only (sibilance: vocals).
ONLY_JUDGED = {"sibilance": ("vocal",)}
#: A master pausing in more than this share of its frames is speech, not judged against the master reference.
DEFAULT_RULES = RuleSet.default().snapshot()
SPEECH_PAUSE_FRACTION = DEFAULT_RULES["general.speech_pause_fraction"]


def envelopes_of(name: str) -> tuple[np.ndarray, list[bool]]:
    """A source's tone shape at each rate (rates x bands; NaN where a band is not measured), and at each rate
    whether the own-envelope ``dull`` rule already calls it dull (:func:`called_dull`)."""
    rows, dull = [], []
    for sr in RATES:
        metrics = measure(clean(name, sr), sr=sr, kinds=("envelope",))
        shape = metrics["tone_shape_db"] or {}
        rows.append([np.nan if shape.get(band) is None else shape[band] for band in SHAPE_BANDS])
        dull.append(called_dull(metrics.get("top_end_db"), SOURCES[name].track_type))
    return np.array(rows, dtype=float), dull


def called_dull(top_end_db: float | None, track_type: str) -> bool:
    """Whether the ``dull`` rule (the top end's share under ``type.top_end_min_db``) calls a track dull: such a
    clean track does not set the dark threshold, which would only cost the faults that threshold finds and
    leave that track called dull all the same (``dull_for_type`` gives way to ``dull``)."""
    if top_end_db is None:
        return False
    return top_end_db < DEFAULT_RULES[DEFAULT_RULES.resolve("type.top_end_min_db", track_type)]


#: Balances fitted on these track types only (the S sounds: voices); the pooled reference has none of them.
BALANCE_ONLY = {"sibilance": ("vocal",)}


def balances_of(name: str) -> list[dict[str, float]]:
    """A source's balances (codette_lab.rules.balance) at each rate."""
    return [balance.values(flatten(measure(clean(name, sr), sr=sr, kinds=("spectral", "envelope")))) for sr in RATES]


def balance_entry(track_type: str, measured: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Each balance's middle and spread (dB) over the clean sources' values at both rates."""
    entry = {}
    for name in balance.BALANCES:
        if track_type not in BALANCE_ONLY.get(name, (track_type,)):
            continue
        found = np.array([values[name] for values in measured if name in values], dtype=float)
        if len(found) >= 2:
            entry[name] = {"median_db": round(float(np.median(found)), 2), "spread_db": round(float(np.std(found)), 2)}
    return entry


def _mean_shape(shapes: np.ndarray) -> np.ndarray:
    return np.array([np.nan if np.isnan(col).all() else np.nanmean(col) for col in shapes.T])


def left_out_scores(
    names: list[str], shapes: dict[str, np.ndarray], dull: dict[str, list[bool]], track_type: str = "left-out"
) -> dict[str, float]:
    """The largest score of each judgement over ``names``, each judged by a reference fitted on the others
    (other instruments: another bank's rendering of the same program is left out with it); a rendering the
    ``dull`` rule already calls dull does not count for the darkness (:func:`called_dull`)."""
    largest = dict.fromkeys(JUDGEMENTS.values(), -math.inf)
    for name in names:
        others = [_mean_shape(shapes[other]) for other in names if instrument(other) != instrument(name)]
        ref = fitted(track_type, list(SHAPE_BANDS), np.vstack(others))  # judged as that type's reference judges
        for shape, called in zip(shapes[name], dull[name], strict=True):
            scores = dict(zip(OUTPUTS, judge_shape(shape, ref), strict=True))
            if called:
                scores[JUDGEMENTS["dark"]] = None
            for metric in largest:
                if scores[metric] is not None:
                    largest[metric] = max(largest[metric], scores[metric])
    return largest


def synthetic_scores(refs: dict[str, Reference]) -> dict[str, dict[str, float]]:
    """The largest score of each judgement over the clean controls of the synthetic fault corpus
    (scripts/make_fault_corpus.py: they are clean too, and no threshold may call them otherwise), per reference
    they are judged by."""
    import make_fault_corpus

    largest: dict[str, dict[str, float]] = {}
    for case in make_fault_corpus.CASES:
        if case.fault != "clean":
            continue
        ref = refs.get(case.track_type, refs[POOLED])
        metrics = flatten(measure(make_fault_corpus.render(case), sr=case.sr, kinds=("envelope", "programme")))
        judged = judge_tone(metrics, case.track_type, SPEECH_PAUSE_FRACTION)  # as the rules judge it ...
        if judged[0] is None:  # ... a speech master is not judged against the master reference
            continue
        values = np.array([metrics.get(f"tone_shape_db.{band}", np.nan) for band in SHAPE_BANDS], dtype=float)
        scores = dict(zip(OUTPUTS, judge_shape(values, ref), strict=True))  # ... by the reference being fitted
        if called_dull(metrics.get("top_end_db"), case.track_type):
            scores[JUDGEMENTS["dark"]] = None
        mine = largest.setdefault(ref.name, dict.fromkeys(JUDGEMENTS.values(), -math.inf))
        for metric in mine:
            if scores[metric] is not None:
                mine[metric] = max(mine[metric], scores[metric])
    return largest


def threshold(score: float) -> float:
    return round(max(LOWEST, math.ceil((score + MARGIN) * 10) / 10), 1)


def update_rules(values: dict[str, float], path: Path) -> None:
    """Set the fitted parameters' values (and defaults) in the rule file, in place: only those two numbers
    of each change, the file's layout is kept."""
    text = path.read_text()
    for name, value in values.items():
        start = text.index(f'"name": "{name}"')
        end = text.index("}", start)
        block = re.sub(r'("(?:value|default)": )[^,\n]+', rf"\g<1>{value!r}", text[start:end])
        text = text[:start] + block + text[end:]
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--rules", default=str(RULES), help="rule file whose *_ref_z_max values are set")
    args = parser.parse_args(argv)
    fit = {name: spec for name, spec in SOURCES.items() if spec.split == "fit"}
    envelopes = {name: envelopes_of(name) for name in fit}
    shapes = {name: shape for name, (shape, _) in envelopes.items()}
    dull = {name: called for name, (_, called) in envelopes.items()}
    measured = {name: balances_of(name) for name in fit}
    groups = {
        track_type: [name for name, spec in fit.items() if spec.track_type == track_type]
        for track_type in sorted({spec.track_type for spec in fit.values()})
    }
    groups[POOLED] = list(fit)
    types: dict[str, object] = {}
    refs = {
        track_type: fitted(track_type, list(SHAPE_BANDS), np.vstack([_mean_shape(shapes[name]) for name in names]))
        for track_type, names in groups.items()
    }
    synthetic = synthetic_scores(refs)
    values: dict[str, float] = {}
    for track_type, names in groups.items():
        types[track_type] = to_document(refs[track_type], names) | {
            "balance": balance_entry(track_type, [values for name in names for values in measured[name]])
        }
        scores = left_out_scores(names, shapes, dull, track_type)
        others = synthetic.get(track_type, {})
        prefix = "general" if track_type == POOLED else track_type
        for kind, metric in JUDGEMENTS.items():
            judged = track_type in ONLY_JUDGED.get(kind, (track_type,))
            if judged and track_type not in NOT_JUDGED.get(kind, ()):
                values[f"{prefix}.{kind}_ref_z_max"] = threshold(max(scores[metric], others.get(metric, -math.inf)))
        shown = {metric: round(score, 2) for metric, score in scores.items()}
        print(track_type, len(names), "left out:", shown, "synthetic:", {k: round(v, 2) for k, v in others.items()})
    document = {
        "format": "codette-lab-tone-references",
        "version": 1,
        "written_by": "scripts/fit_tone_references.py (the fit split of scripts/fault_real_sources.py)",
        "bands_hz": list(SHAPE_BANDS),
        "types": types,
    }
    Path(args.out).write_text(json.dumps(document, indent=1) + "\n")
    update_rules(values, Path(args.rules))
    print(f"wrote {args.out} and {len(values)} thresholds into {args.rules}: {values}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
