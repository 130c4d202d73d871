"""``analyze(y, sr, ...)``: an analysis of arrays from Python, by the same code a DAW's request runs."""

from __future__ import annotations

from os import PathLike
from typing import Any

from ..protocol import TrackData
from ..registry import Registry
from ..rules import RuleSet, RuleSnapshot
from ..tracktypes import resolve_track_type
from ..usercode import call_entry
from .builtin_types import builtin_analysis_types
from .coerce import coerce_result
from .model import AnalysisResult, Levels, TrackRequest, rule_snapshot


def analyze(
    y: Any,
    sr: float,
    *,
    kind: str = "quality",
    track_type: str = "audio",
    rules: RuleSet | RuleSnapshot | str | PathLike[str] | None = None,
    target: str | float | None = None,
    other: Any = None,
    track_name: str | None = None,
    other_track_type: str = "audio",
    other_track_name: str | None = None,
    analysis_types: Registry | None = None,
) -> AnalysisResult:
    """Analyze an array from Python, with the same code a DAW request runs.

    Arguments:
        y: (n,) mono or (channels, n) float audio, finite, at ``sr`` Hz (8 to 384 kHz).
        kind: an analysis type or alias (``quality``, ``loudness``, ``masking``, ...).
        track_type, track_name: what the track is, as a DAW names it (rules are chosen by type).
        rules: a :class:`~codette_lab.RuleSet`, a snapshot, a rule file, or None for the built-ins.
        target: the loudness target: ``"streaming"``, ``"broadcast"``, ``"podcast"`` or a LUFS number.
        other, other_track_type, other_track_name: the second track of ``masking``, at the same rate.
        analysis_types: the registry ``kind`` is looked up in (default: the built-in types).

    Returns:
        An :class:`AnalysisResult`: ``metrics``, ``problems`` (the rules that fired), ``suggestions``,
        ``insights``, ``quality_score``; ``to_wire()`` is the protocol's ``analysis`` object.
        Raises RequestError (an unknown kind or track type) or AnalysisInputError (unusable audio).
    """
    from ..analysis.signal import as_channels, check_finite, check_sample_rate

    snapshot = rule_snapshot(rules)
    registry = analysis_types if analysis_types is not None else builtin_analysis_types()
    entry = registry.resolve(kind)
    rate = check_sample_rate(sr)
    resolved_target = snapshot.loudness_target(target)

    def track_request(
        array: Any, name: str | None, type_name: str, label: str, other_request: TrackRequest | None
    ) -> TrackRequest:
        samples = as_channels(array, name=label)
        check_finite(samples, name=label)
        match = resolve_track_type(type_name, track_name=name)
        return TrackRequest(
            track=TrackData(track_name=name, track_type=match.canonical),
            track_type_match=match,
            levels=Levels(duration_s=samples.shape[1] / rate, sample_rate=rate),
            samples=samples,
            sample_rate=int(rate) if float(rate).is_integer() else rate,
            analysis_type=entry.name,
            rules=snapshot,
            target=resolved_target,
            other=other_request,
        )

    other_request = (
        track_request(other, other_track_name, other_track_type, "other", None) if other is not None else None
    )
    request = track_request(y, track_name, track_type, "y", other_request)
    return coerce_result(entry, call_entry(entry, request), request)
