"""How far the measures the timbre rules read could carry them on one split of the realistic corpus: an upper
bound, not a rule set.

For each timbre fault kind and track type (or instrument): the most faults that a threshold on one measure,
or thresholds on all the kind's measures at once (the fault above every one), could single out while no clean
control of that group and split lies above them. The thresholds are chosen by looking at the very split they
are judged on, which no fitted rule may do, so the figures bound what any rule of that form could find there
without a false alarm. A fault beyond their reach stands, in each of those measures at once, no further out
than some clean track of its group does: finding it takes information they do not carry."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fault_real_sources import SOURCES, Source

#: Per timbre fault kind, the measures the rules read for it, each with the direction a fault moves it
#: (+1: the fault raises it; -1: lowers it). ``*_ref_z`` and ``dark_ref_z`` are derived by the rules
#: (codette_lab.rules.tone.judge_tone), the others are the analysis's own.
MEASURES: dict[str, dict[str, int]] = {
    "mud": {"mud_ref_z": 1, "mud_excess_db": 1, "mud_tilt_db": 1},
    "harsh": {"harsh_ref_z": 1, "harsh_excess_db": 1},
    "dull": {"dark_ref_z": 1, "top_end_db": -1, "top_end_hz": -1},
    "sibilance": {"sibilance_ref_z": 1, "sibilance_db": 1},
}


def measured(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """A verdict's metrics as the rules read them: flattened, with the tone judged against its type's reference."""
    from codette_lab.corpus.task import flatten
    from codette_lab.rules.tone import OUTPUTS, judge_tone

    flat = flatten(verdict["metrics"])
    flat.update(zip(OUTPUTS, judge_tone(flat, SOURCES[verdict["source"]].track_type), strict=True))
    return flat


def _point(values: Mapping[str, Any], directions: Iterable[tuple[str, int]]) -> tuple[float, ...]:
    """The values in the direction a fault moves them; a measure missing on a track cannot lie above anything."""
    return tuple(
        sign * float(values[name]) if values.get(name) is not None else float("-inf") for name, sign in directions
    )


def separable(
    faults: Sequence[Mapping[str, Any]], clean: Sequence[Mapping[str, Any]], directions: tuple[tuple[str, int], ...]
) -> int:
    """How many ``faults`` thresholds on ``directions`` (every one exceeded at once) could find with no ``clean``
    track exceeding them all: those no clean track matches or passes in every measure."""
    clean_points = [_point(values, directions) for values in clean]
    count = 0
    for values in faults:
        fault = _point(values, directions)
        if not any(all(c >= f for c, f in zip(point, fault, strict=True)) for point in clean_points):
            count += 1
    return count


def by_type(source: Source) -> str:
    """The group thresholds are set per in the rules: the track type a DAW gives."""
    return source.track_type


def by_instrument(source: Source) -> str:
    """A finer group than the rules know: the General MIDI program (every bank's rendering of it), else the
    source itself."""
    return source.instrument or source.name


def bounds(
    verdicts: Sequence[Mapping[str, Any]], split: str, group: Callable[[Source], str] = by_type
) -> dict[str, tuple[int, int, int, int]]:
    """Per timbre fault kind of ``split``: (faults, found by the rules that judged ``verdicts``, the most a
    threshold on one measure could find, the most thresholds on all the kind's measures at once could), each
    threshold per ``group`` of sources (their track type, as the rules have it, unless told otherwise). Clean
    controls clipped at the source are left out, as in the figures."""
    chosen = [v for v in verdicts if v["split"] == split and "clipped_at_source" not in v]
    values = {v["case"]: measured(v) for v in chosen}
    group_of = {v["case"]: group(SOURCES[v["source"]]) for v in chosen}
    result = {}
    for fault, directions in MEASURES.items():
        totals = [0, 0, 0, 0]
        for label in sorted({group_of[v["case"]] for v in chosen if v["fault"] == fault}):
            faults = [v for v in chosen if v["fault"] == fault and group_of[v["case"]] == label]
            clean = [values[v["case"]] for v in chosen if v["fault"] == "clean" and group_of[v["case"]] == label]
            measured_faults = [values[v["case"]] for v in faults]
            totals[0] += len(faults)
            totals[1] += sum(bool(v["found"]) for v in faults)
            for size, at in ((1, 2), (len(directions), 3)):
                totals[at] += max(
                    separable(measured_faults, clean, combo) for combo in combinations(directions.items(), size)
                )
        result[fault] = (totals[0], totals[1], totals[2], totals[3])
    return result


def overall(
    found: Mapping[str, tuple[int, int, int, int]], verdicts: Sequence[Mapping[str, Any]], split: str
) -> tuple[int, int, int, int]:
    """Every fault of ``split`` together: the timbre faults as :func:`bounds` ``found`` them, the faults of the
    other kinds (levels, hiss, rumble) as the rules find them: (faults, found by the rules, one measure, all)."""
    others = [v for v in verdicts if v["split"] == split and v["fault"] not in ("clean", *MEASURES)]
    found_others = sum(bool(v["found"]) for v in others)
    total = sum(counts[0] for counts in found.values()) + len(others)
    rules, one, every = (sum(counts[at] for counts in found.values()) + found_others for at in (1, 2, 3))
    return total, rules, one, every
