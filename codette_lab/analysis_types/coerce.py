"""What a function defined in a notebook returned, checked and made an :class:`AnalysisResult`.

A notebook's analysis function may return an AnalysisResult or a plain dict;
anything the server cannot send (a score outside 0..1, a suggestion that is
not text, an unknown key) becomes a UserCodeError that names the function
and says what it returned and what was expected. A dict result carries only
what it holds (no built-in findings are added, and without ``quality_score``
it scores :data:`NOT_RATED_SCORE`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from ..protocol.replies import finite
from ..registry import Entry
from ..rules import Finding
from ..usercode import malformed
from .model import NOT_RATED_SCORE, AnalysisResult, TrackRequest

#: Fields of a user analysis function's dict result.
USER_RESULT_KEYS = ("insights", "suggestions", "quality_score", "metrics")
#: How deeply a result's dicts and lists may nest (the reply is JSON a DAW has to read).
MAX_NESTING = 32


def _check_tree(entry: Entry, value: Any, what: str) -> None:
    """UserCodeError when ``value`` contains itself or nests deeper than MAX_NESTING: such a result
    could only fail later, deep in the encoder, as a RecursionError that names nobody. Built-in analysis
    types build plain trees, so only a notebook's results are walked (the walk costs a levels-only request
    a third of its time)."""
    if entry.builtin:
        return
    stack: list[tuple[Any, str, tuple[int, ...]]] = [(value, "", ())]
    while stack:
        item, path, outer = stack.pop()
        if isinstance(item, Mapping):
            children = [(child, f"{path}[{key!r}]") for key, child in item.items()]
        elif isinstance(item, (list, tuple)):
            children = [(child, f"{path}[{index}]") for index, child in enumerate(item)]
        else:
            continue
        where = path or "its top"
        if id(item) in outer:
            raise malformed(entry, f"{what} that contains itself (at {where}); expected a tree of plain values")
        if len(outer) >= MAX_NESTING:
            raise malformed(entry, f"{what} nested deeper than {MAX_NESTING} levels (at {where})")
        inner = (*outer, id(item))
        stack.extend((child, child_path, inner) for child, child_path in children)


def _clean_metrics(entry: Entry, metrics: Any) -> dict[str, Any]:
    if not isinstance(metrics, Mapping):
        raise malformed(entry, f"'metrics' as {type(metrics).__name__} (expected a dict of name -> number)")
    _check_tree(entry, metrics, "'metrics'")
    cleaned = finite(metrics)
    for name, value in cleaned.items():
        if not (value is None or isinstance(value, (bool, int, float, str, dict, list))):
            raise malformed(entry, f"metric {name!r} as {type(value).__name__} (expected a number, text or dict)")
    return cleaned


def _coerce_score(entry: Entry, value: Any) -> float:
    if isinstance(value, bool) or (not isinstance(value, (int, float)) and not hasattr(value, "item")):
        raise malformed(entry, f"'quality_score' as {type(value).__name__} (expected a number from 0 to 1)")
    score = float(value)
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise malformed(entry, f"'quality_score' {score!r} (expected a number from 0 to 1)")
    return score


def _coerce_suggestions(entry: Entry, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(s, str) for s in value):
        raise malformed(entry, f"'suggestions' as {type(value).__name__} (expected a list of strings)")
    return list(value)


def _coerce_dict(entry: Entry, result: Mapping[str, Any], request: TrackRequest) -> AnalysisResult:
    unknown = [key for key in result if key not in USER_RESULT_KEYS]
    if unknown or not result:
        problem = f"unknown keys {', '.join(map(repr, unknown))}" if unknown else "an empty dict"
        raise malformed(entry, f"{problem} (expected a dict with any of {', '.join(USER_RESULT_KEYS)})")
    insights = result.get("insights", "")
    if not isinstance(insights, str):
        raise malformed(entry, f"'insights' as {type(insights).__name__} (expected a string)")
    return AnalysisResult(
        analysis_type=request.analysis_type,
        track_type=request.track_type,
        insights=insights,
        suggestions=_coerce_suggestions(entry, result.get("suggestions", [])),
        quality_score=_coerce_score(entry, result["quality_score"]) if "quality_score" in result else NOT_RATED_SCORE,
        metrics=_clean_metrics(entry, result.get("metrics", {})),
        scored="quality_score" in result,
    )


def _coerce_analysis(entry: Entry, result: AnalysisResult, request: TrackRequest) -> AnalysisResult:
    if not isinstance(result.insights, str):
        insights_type = type(result.insights).__name__
        raise malformed(entry, f"an AnalysisResult whose insights is {insights_type} (expected a string)")
    strays = [type(problem).__name__ for problem in result.problems if not isinstance(problem, Finding)]
    if strays:
        raise malformed(entry, f"an AnalysisResult whose problems hold {strays[0]} (expected Finding objects)")
    _check_tree(entry, result.extras, "'extras'")
    _check_tree(entry, result.details, "'details'")
    return dataclasses.replace(
        result,
        analysis_type=result.analysis_type or request.analysis_type,
        track_type=result.track_type or request.track_type,
        suggestions=_coerce_suggestions(entry, result.suggestions),
        quality_score=_coerce_score(entry, result.quality_score),
        metrics=_clean_metrics(entry, result.metrics),
    )


def coerce_result(entry: Entry, result: Any, request: TrackRequest) -> AnalysisResult:
    """An analysis function's return value as an AnalysisResult, or UserCodeError saying what was wrong with it."""
    if isinstance(result, Mapping):
        _check_tree(entry, result, "a dict")
    if isinstance(result, AnalysisResult):
        return _coerce_analysis(entry, result, request)
    if isinstance(result, Mapping):
        return _coerce_dict(entry, result, request)
    expected = f"an AnalysisResult or a dict with any of {', '.join(USER_RESULT_KEYS)}"
    raise malformed(entry, f"{type(result).__name__} (expected {expected})")
