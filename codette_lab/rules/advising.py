"""The track type's generic advice, reconciled with what was measured on the track.

A generic tip is written for a typical track; a measurement may contradict it. Each advice item may say
when it holds (``when``: conditions over the track's metrics, derived ones included) and what to say
instead (``otherwise``); a tip that names an EQ move (``move``, with ``hz`` the parameter holding its
frequency) is reconciled with the build-ups the envelope measured: a build-up within
:data:`NEAR_OCTAVES` of the tip's frequency and standing at least ``general.buildup_noted_db`` out of the
track's envelope re-aims a cut at the measured frequency and drops a boost (it would pull against what is
already too loud there). Without metrics (or with a metric not measured) a tip is given as written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import evaluate as evaluation
from .model import OPERATORS, Advice, Condition

#: The build-ups the envelope measures: (centre frequency metric, excess metric, the rule that reports it); the
#: upper mids' is placed where the harshness rule cuts it (``harsh_at_hz``: the own peak, or where the type's
#: reference puts it when that peak is the instrument's usual one).
BUILD_UPS = (("mud_hz", "mud_excess_db", "low_mid_buildup"), ("harsh_at_hz", "harsh_excess_db", "harshness"))

#: A build-up this close (octaves) to a tip's frequency is the tip's business.
NEAR_OCTAVES = 1.0

#: The parameter saying how far (dB) a build-up must stand out of the envelope to steer generic EQ tips.
NOTED_PARAMETER = "general.buildup_noted_db"


def _holds(condition: Condition, flat: Mapping[str, Any], lookup: Callable[[str], Any]) -> bool:
    """Whether a ``when`` condition holds; one whose metric was not measured cannot contradict the tip."""
    value = evaluation.number(flat.get(condition.metric))
    threshold = condition.threshold if isinstance(condition.threshold, float) else lookup(condition.threshold)
    if value is None or threshold is None:
        return True
    return OPERATORS[condition.op](value, float(threshold))


def measured_build_ups(flat: Mapping[str, Any], lookup: Callable[[str], Any]) -> list[tuple[float, str]]:
    """(centre Hz, reporting rule) of the build-ups standing at least the noted amount out of the envelope."""
    noted = lookup(NOTED_PARAMETER)
    found = []
    for hz_metric, excess_metric, rule_id in BUILD_UPS:
        hz, excess = evaluation.number(flat.get(hz_metric)), evaluation.number(flat.get(excess_metric))
        if hz is not None and excess is not None and noted is not None and excess >= noted:
            found.append((hz, rule_id))
    return found


def _aimed(
    item: Advice, build_ups: list[tuple[float, str]], lookup: Callable[[str], Any], fired: set[str]
) -> dict[str, float] | None:
    """The parameter values the tip is told with (its frequency moved to a measured build-up), or None to drop
    it: a boost near a build-up, or a cut near one whose own finding already gives the cut."""
    if item.move is None or item.hz is None or not build_ups:
        return {}
    hz = evaluation.number(lookup(item.hz))
    if hz is None or hz <= 0:
        return {}
    near = [(found, rule_id) for found, rule_id in build_ups if abs(math.log2(found / hz)) <= NEAR_OCTAVES]
    if not near:
        return {}
    closest, rule_id = min(near, key=lambda build_up: abs(math.log2(build_up[0] / hz)))
    if item.move == "boost" or rule_id in fired:
        return None
    return {item.hz: closest}


def advise(
    items: Iterable[Advice],
    *,
    lookup: Callable[[str], Any],
    fired: set[str],
    flat: Mapping[str, Any] | None,
) -> list[str]:
    """The texts of ``items`` for a track: left out when a rule in ``unless`` fired, replaced by ``otherwise``
    (or left out) when a ``when`` condition fails, re-aimed or dropped by measured build-ups (see module)."""
    metrics = flat or {}
    build_ups = measured_build_ups(metrics, lookup)
    texts = []
    for item in items:
        if item.unless & fired:
            continue
        template = item.template
        if not all(_holds(condition, metrics, lookup) for condition in item.when):
            if item.otherwise is None:
                continue
            template = item.otherwise
        aimed = _aimed(item, build_ups, lookup, fired)
        if aimed is None:
            continue
        texts.append(evaluation.render(template, _chained(aimed, metrics, lookup)))
    return texts


def _chained(
    aimed: Mapping[str, float], metrics: Mapping[str, Any], lookup: Callable[[str], Any]
) -> Callable[[str], Any]:
    def value(name: str) -> Any:
        if name in aimed:
            return aimed[name]
        found = metrics.get(name)
        return found if found is not None else lookup(name)

    return value
