"""Rules fitted to reference material, and how far a mix sits from that reference.

The rules themselves say which parameter bounds which measurement: a rule
``band_energy_db.sub_bass > type.rumble_max_db`` makes ``vocal.rumble_max_db``
the upper bound of a vocal's sub-bass share. Fitting sets each such parameter
to a percentile of the measurement over the reference tracks the parameter
applies to: the high percentile for an upper bound (``>``), the low one for a
lower bound (``<``). A parameter shared by several track types
(``general.crest_min_db``) is fitted on the tracks of all of them together.
Fitted values are rounded to the parameter's step and clipped into its range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any

from ..errors import RulesError
from ..extras import require
from ..rules.model import ANY
from ..tracktypes import TRACK_TYPES
from .task import flatten

if TYPE_CHECKING:
    import pandas as pd

    from ..analysis_types import AnalysisResult
    from ..rules import RuleSet

#: Default (low, high) percentiles: a lower bound at the 5th, an upper bound at the 95th.
DEFAULT_PERCENTILES = (5.0, 95.0)
#: Fewest reference tracks a parameter is fitted on; with fewer it keeps its value.
MIN_TRACKS = 3
#: Measurements that describe the file rather than the sound; never compared.
NOT_COMPARED = ("duration_s", "sample_rate")
UPPER_BOUND_OPS = (">", ">=")
LOWER_BOUND_OPS = ("<", "<=")


@dataclass(frozen=True)
class Bound:
    """One rule parameter that bounds a measurement, and the track types it does so for."""

    parameter: str
    metric: str
    op: str
    track_types: tuple[str, ...]


def rule_bounds(rules: RuleSet, *, with_when: bool = False) -> list[Bound]:
    """Every parameter a rule compares a measurement with (``metric op parameter``), per parameter; with
    ``with_when``, also those of the rules' extra ``when`` conditions."""
    found: dict[tuple[str, str, str], list[str]] = {}
    conditions = [
        (rule, condition)
        for rule in rules.snapshot().document.rules
        for condition in ((rule.condition, *rule.when) if with_when else (rule.condition,))
    ]
    for rule, condition in conditions:
        threshold, op = condition.threshold, condition.op
        if not isinstance(threshold, str) or op not in (*UPPER_BOUND_OPS, *LOWER_BOUND_OPS):
            continue
        for track_type in TRACK_TYPES:
            if (ANY in rule.track_types or track_type in rule.track_types) and track_type not in rule.not_track_types:
                try:
                    parameter = rules.snapshot().resolve(threshold, track_type)
                except RulesError:
                    continue
                found.setdefault((parameter, condition.metric, op), []).append(track_type)
    return [
        Bound(parameter, metric, op, tuple(dict.fromkeys(types))) for (parameter, metric, op), types in found.items()
    ]


def _with_derived(table: pd.DataFrame, metrics: set[str], rules: RuleSet) -> pd.DataFrame:
    """``table`` with a column for each of ``metrics`` the rules derive rather than measure (``sounding_crest_db``,
    the crest factor without the pauses) and the table lacks: each row's value as the rules derive it from the
    row's measurements, so a rule judging a derived measure is fitted on what it judges."""
    from ..rules.evaluate import DERIVED_METRICS

    missing = sorted(metric for metric in metrics if metric in DERIVED_METRICS and metric not in table)
    if not missing or table.empty:
        return table
    snapshot = rules.snapshot()
    derived: dict[str, list[Any]] = {metric: [] for metric in missing}
    for record in table.to_dict("records"):
        measured = {
            name: value for name, value in record.items() if isinstance(value, (int, float)) and not math.isnan(value)
        }
        measures = snapshot.measures(measured, track_type=str(record.get("track_type") or "audio"), analysis_type=ANY)
        for metric in missing:
            derived[metric].append(measures.get(metric))
    return table.assign(**derived)


def _checked_percentiles(percentiles: tuple[float, float]) -> tuple[float, float]:
    low, high = (float(value) for value in percentiles)
    if not 0.0 <= low <= high <= 100.0:
        raise ValueError(f"percentiles: expected (low, high) with 0 <= low <= high <= 100, got {percentiles!r}")
    return low, high


def fit_report(
    reference: pd.DataFrame,
    *,
    percentiles: tuple[float, float] = DEFAULT_PERCENTILES,
    rules: RuleSet | None = None,
    min_tracks: int = MIN_TRACKS,
) -> pd.DataFrame:
    """What :func:`fit_rules` would set: one row per fitted parameter.

    Columns: parameter, metric, op, track_types, tracks (how many reference
    tracks it was fitted on), percentile, measured (the percentile of the
    measurement), value (rounded and clipped into the parameter's range),
    clipped (whether the range cut it), default. ``reference`` is a table of
    :func:`analyze`; rows with an error are left out.
    """
    require("corpus", "codette_lab.corpus.fit_rules()", ("pandas",))
    import numpy as np
    import pandas as pd

    from ..rules import RuleSet

    low, high = _checked_percentiles(percentiles)
    base = rules if rules is not None else RuleSet.default()
    usable = reference[reference["error"].isna()] if "error" in reference else reference
    bounds = rule_bounds(base)
    usable = _with_derived(usable, {bound.metric for bound in bounds}, base)
    rows = []
    for bound in bounds:
        if bound.metric not in usable:
            continue
        chosen = usable[usable["track_type"].isin(bound.track_types)]
        values = pd.to_numeric(chosen[bound.metric], errors="coerce").dropna()
        if len(values) < min_tracks:
            continue
        percentile = high if bound.op in UPPER_BOUND_OPS else low
        measured = float(np.percentile(values, percentile))
        parameter = base.parameter(bound.parameter)
        value = round(measured / parameter.step) * parameter.step if parameter.step > 0 else measured
        value = min(parameter.maximum, max(parameter.minimum, value))
        rows.append(
            {
                "parameter": bound.parameter,
                "metric": bound.metric,
                "op": bound.op,
                "track_types": ", ".join(sorted(set(bound.track_types) & set(chosen["track_type"]))),
                "tracks": len(values),
                "percentile": percentile,
                "measured": measured,
                "value": float(value),
                "clipped": not parameter.minimum <= measured <= parameter.maximum,
                "default": parameter.default,
            }
        )
    columns = ["parameter", "metric", "op", "track_types", "tracks", "percentile", "measured", "value", "clipped"]
    return pd.DataFrame(rows, columns=[*columns, "default"])


def fit_rules(
    reference: pd.DataFrame,
    *,
    percentiles: tuple[float, float] = DEFAULT_PERCENTILES,
    rules: RuleSet | None = None,
    min_tracks: int = MIN_TRACKS,
) -> RuleSet:
    """A copy of ``rules`` (default: the built-in rules) with every bound fitted to ``reference``.

    See :func:`fit_report` for what is fitted; ``.export(path)`` saves the
    result for ``codette-lab serve --rules``.
    """
    from ..rules import RuleSet

    fitted = (rules if rules is not None else RuleSet.default()).copy()
    report = fit_report(reference, percentiles=percentiles, rules=fitted, min_tracks=min_tracks)
    fitted.update(dict(zip(report["parameter"], report["value"], strict=True)))
    return fitted


def _rules_of(rules: RuleSet, parameter: str, track_type: str) -> set[str]:
    """The ids of the rules one of whose conditions compares a measurement with ``parameter`` for ``track_type``."""
    snapshot = rules.snapshot()
    found = set()
    for rule in snapshot.document.rules:
        if not rule.applies(track_type=track_type, analysis_type="quality"):
            continue
        for condition in (rule.condition, *rule.when):
            if not isinstance(condition.threshold, str):
                continue
            try:
                if snapshot.resolve(condition.threshold, track_type) == parameter:
                    found.add(rule.id)
            except RulesError:
                continue
    return found


def fit_between(clean: pd.DataFrame, faults: pd.DataFrame, *, rules: RuleSet | None = None) -> pd.DataFrame:
    """Thresholds set between clean tracks and faults: one row per parameter with both on each side.

    ``clean`` holds the measurements of clean tracks (``track_type`` and metric columns, as :func:`analyze`
    writes them); ``faults`` those of tracks carrying a fault, with a ``rule`` column naming the rule that
    must report it. For each parameter a rule compares a measurement with, over the track types it serves:
    (a rule's ``when`` conditions included: a build-up must also stand out over the presence range),
    the clean extreme (the highest value for an upper bound, the lowest for a lower one), the weakest fault
    (the one nearest the clean side), and the value: halfway between them, rounded to the parameter's step
    (when they overlap, one step past the clean extreme: no warning on a clean track comes first).
    Columns: parameter, metric, op, track_types, clean_extreme, weakest_fault, value, clean_margin,
    fault_margin (both positive when the threshold separates them), default.
    """
    import numpy as np
    import pandas as pd

    from ..rules import RuleSet

    base = rules if rules is not None else RuleSet.default()
    bounds = rule_bounds(base, with_when=True)
    clean, faults = (_with_derived(table, {bound.metric for bound in bounds}, base) for table in (clean, faults))
    rows = []
    for bound in bounds:
        if bound.metric not in clean or bound.metric not in faults:
            continue
        types = list(bound.track_types)
        ids = set().union(*(_rules_of(base, bound.parameter, track_type) for track_type in types))
        clean_values = pd.to_numeric(clean[clean["track_type"].isin(types)][bound.metric], errors="coerce").dropna()
        chosen = faults[faults["track_type"].isin(types) & faults["rule"].isin(ids)]
        fault_values = pd.to_numeric(chosen[bound.metric], errors="coerce").dropna()
        if not len(clean_values) or not len(fault_values):
            continue
        upper = bound.op in UPPER_BOUND_OPS
        extreme = float(clean_values.max() if upper else clean_values.min())
        weakest = float(fault_values.min() if upper else fault_values.max())
        parameter = base.parameter(bound.parameter)
        step = parameter.step if parameter.step > 0 else 0.1
        separated = weakest > extreme if upper else weakest < extreme
        middle = (extreme + weakest) / 2 if separated else extreme + (step if upper else -step)
        value = float(np.clip(round(middle / step) * step, parameter.minimum, parameter.maximum))
        sign = 1.0 if upper else -1.0
        rows.append(
            {
                "parameter": bound.parameter,
                "metric": bound.metric,
                "op": bound.op,
                "track_types": ", ".join(sorted(set(types) & set(clean["track_type"]))),
                "clean_extreme": extreme,
                "weakest_fault": weakest,
                "value": value,
                "clean_margin": sign * (value - extreme),
                "fault_margin": sign * (weakest - value),
                "default": parameter.default,
            }
        )
    columns = ["parameter", "metric", "op", "track_types", "clean_extreme", "weakest_fault", "value"]
    return pd.DataFrame(rows, columns=[*columns, "clean_margin", "fault_margin", "default"])


def compared_metrics(table: pd.DataFrame) -> list[str]:
    """The numeric measurement columns of a corpus table: what the analysis measured of the sound (not the
    DAW's state such as ``muted``, nor the file's length and rate), bands as ``band_energy_db.<band>``."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    from ..analysis.outputs import KIND_OUTPUTS

    measured = {name for names in KIND_OUTPUTS.values() for name in names} - set(NOT_COMPARED)
    return [
        column
        for column in table.columns
        if column.split(".", 1)[0] in measured and is_numeric_dtype(table[column]) and not is_bool_dtype(table[column])
    ]


def _mix_metrics(mix: Any, track_type: str) -> dict[str, Any]:
    """The measurements of ``mix``: a table row, a metrics mapping, an AnalysisResult or an audio file."""
    from ..analysis_types import AnalysisResult

    if isinstance(mix, AnalysisResult):
        return flatten(mix.metrics)
    if isinstance(mix, Mapping) or hasattr(mix, "to_dict"):
        return flatten(dict(mix))
    if isinstance(mix, (str, PathLike)):
        from ..analysis_types import analyze
        from ..audio_input import read_samples

        samples, sr = read_samples(mix)
        return flatten(analyze(samples, sr, kind="quality", track_type=track_type).metrics)
    raise TypeError(
        f"mix: expected a table row, a metrics dict, an AnalysisResult or an audio file path, got {type(mix).__name__}"
    )


def distance_from_reference(
    reference: pd.DataFrame,
    mix: pd.Series | Mapping[str, Any] | AnalysisResult | str | PathLike[str],
    *,
    track_type: str | None = None,
    percentiles: tuple[float, float] = DEFAULT_PERCENTILES,
) -> pd.DataFrame:
    """Where ``mix`` sits against the reference tracks of its type, one row per measurement.

    Columns: metric, value (the mix's), low / median / high (the reference's
    percentiles), rank (the share of reference tracks below the mix, 0..1),
    outside (how far the mix lies beyond the low..high range, negative
    below, 0 inside) and spread (outside in units of the range's width, for
    ranking measurements of different units). Sorted, farthest first.
    ``track_type`` defaults to the mix row's own; the reference tracks of
    that type are used (all of them when the reference has none).
    """
    require("corpus", "codette_lab.corpus.distance_from_reference()", ("pandas",))
    import numpy as np
    import pandas as pd

    low_q, high_q = _checked_percentiles(percentiles)
    usable = reference[reference["error"].isna()] if "error" in reference else reference
    chosen_type = track_type or (mix.get("track_type") if isinstance(mix, (Mapping, pd.Series)) else None) or "audio"
    same = usable[usable["track_type"] == chosen_type] if "track_type" in usable else usable
    pool = same if len(same) else usable
    metrics = _mix_metrics(mix, chosen_type)
    rows = []
    for metric in compared_metrics(pool):
        values = pd.to_numeric(pool[metric], errors="coerce").dropna().to_numpy(dtype=float)
        value = metrics.get(metric)
        if not len(values) or value is None or isinstance(value, (str, bool)) or not np.isfinite(value):
            continue
        low, median, high = np.percentile(values, [low_q, 50.0, high_q])
        outside = value - high if value > high else (value - low if value < low else 0.0)
        width = high - low
        rows.append(
            {
                "metric": metric,
                "value": float(value),
                "low": float(low),
                "median": float(median),
                "high": float(high),
                "rank": float((values < value).mean()),
                "outside": float(outside),
                "spread": float(outside / width) if width > 0 else (0.0 if outside == 0 else float(np.sign(outside))),
            }
        )
    table = pd.DataFrame(rows, columns=["metric", "value", "low", "median", "high", "rank", "outside", "spread"])
    order = table["spread"].abs().sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index(drop=True)
