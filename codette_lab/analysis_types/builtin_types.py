"""The built-in analysis types and the pipeline they share: measure, judge by the rules, advise.

The built-in types (``spectrum``, ``dynamics``, ``loudness``, ``stereo``,
``transients``, ``masking``, ``quality``) all run one pipeline: measure what
the type needs (real audio when the request carries it, else the DAW's
reported levels), run the rule set, then add the track type's advice for
the type's categories. They differ in what they measure, which rules apply
and which advice they give, and all of that but the measurement kinds is in
the rule set's data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..protocol.requests import DEFAULT_ANALYSIS_TYPE
from ..registry import Registry
from ..rules import Finding
from .insights import insights, measured_from
from .model import NOT_RATED_SCORE, AnalysisResult, TrackRequest, advice_detail

#: What each built-in analysis type measures when audio is sent.
MEASURED_KINDS: dict[str, tuple[str, ...]] = {
    "spectrum": ("levels", "spectral", "envelope", "programme"),
    "dynamics": ("levels", "loudness", "transients", "programme"),
    "loudness": ("levels", "true_peak", "loudness", "programme"),
    "stereo": ("levels", "stereo", "programme"),
    "transients": ("levels", "transients", "programme"),
    "masking": ("levels", "spectral", "programme"),
    "quality": ("levels", "true_peak", "loudness", "spectral", "stereo", "transients", "envelope", "programme"),
}

#: Built-in types that measure masking against ``other_track`` when both tracks carry audio ...
USES_OTHER_TRACK = frozenset({"masking", "quality"})
#: ... and those that cannot answer without it.
NEEDS_OTHER_TRACK = frozenset({"masking"})

ALIASES: dict[str, tuple[str, ...]] = {
    "spectrum": ("frequency", "frequencies", "eq", "spectral"),
    "dynamics": ("dynamic", "compression"),
    "loudness": ("level", "levels", "lufs"),
    "stereo": ("stereo_image", "width", "imaging"),
    "transients": ("transient", "attack"),
    "masking": ("mask", "overlap"),
    "quality": ("overall", "full", "all"),
}

DESCRIPTIONS: dict[str, str] = {
    "spectrum": "Frequency balance: rumble, mud, harshness; EQ moves for the track type.",
    "dynamics": "Peak, RMS, crest factor, loudness range; compression settings for the track type.",
    "loudness": "Headroom and loudness against the streaming/broadcast/podcast targets, true peak.",
    "stereo": "Correlation and width: phase problems, too wide or narrow; panning advice.",
    "transients": "Onsets, transient crest and attack time: squashed or soft hits.",
    "masking": "Spectral overlap with another track (other_track): which band, where to cut.",
    "quality": "Everything at once, one overview and one score.",
}


def _findings(request: TrackRequest, metrics: Mapping[str, Any]) -> list[Finding]:
    other = request.other
    return request.rules.evaluate(
        metrics,
        track_type=request.track_type,
        analysis_type=request.analysis_type,
        track_name=request.track_name,
        target=request.target,
        other_track_name=other.track_name if other else None,
        other_track_type=other.track_type if other else None,
    )


def judge_metrics(request: TrackRequest, metrics: Mapping[str, Any]) -> AnalysisResult:
    """Rules and advice over already measured metrics: the second half of every built-in type.

    The score follows from what the rules found and how far the tonal balance leans past the type's normal
    (RuleSnapshot.score), but only claims what was checked: when none of the type's
    own checks could be judged (their metrics absent), it is scaled by :data:`NOT_RATED_SCORE`.
    """
    findings = _findings(request, metrics)
    coverage = request.rules.coverage(
        metrics, track_type=request.track_type, analysis_type=request.analysis_type, target=request.target
    )
    score = request.rules.score(findings, metrics, track_type=request.track_type, analysis_type=request.analysis_type)
    texts = request.rules.analysis_texts(request.analysis_type)
    fired = [finding.rule_id for finding in findings]
    advice = request.rules.advice(request.track_type, texts.advice if texts else (), fired=fired, metrics=metrics)
    suggestions: list[str] = []
    details: list[dict[str, Any]] = []
    for text, detail in [
        *((finding.suggestion, finding.suggestion_detail()) for finding in findings),
        *((text, advice_detail(text, rule=f"advice.{request.track_type}.{category}")) for category, text in advice),
    ]:
        if text not in suggestions:
            suggestions.append(text)
            details.append(detail)
    return AnalysisResult(
        analysis_type=request.analysis_type,
        track_type=request.track_type,
        insights=insights(request, metrics, findings, coverage),
        suggestions=suggestions,
        quality_score=score if coverage.type_judged else round(NOT_RATED_SCORE * score, 3),
        metrics=dict(metrics),
        problems=findings,
        details=details,
        extras={
            "measured_from": measured_from(request),
            "loudness_target": request.target.to_dict(),
        },
    )


def _builtin(name: str) -> Callable[[TrackRequest], AnalysisResult]:
    """The function of built-in type ``name`` (``analyze_spectrum``, ...): measure its kinds, then judge."""
    kinds = MEASURED_KINDS[name]

    def analyze_builtin(request: TrackRequest) -> AnalysisResult:
        metrics = request.measure(*kinds)
        other = request.other
        both_have_audio = request.has_audio and other is not None and other.has_audio
        if name in NEEDS_OTHER_TRACK or (name in USES_OTHER_TRACK and both_have_audio):
            metrics.update(request.measure_masking())
        return judge_metrics(request, metrics)

    analyze_builtin.__name__ = analyze_builtin.__qualname__ = f"analyze_{name}"
    analyze_builtin.__doc__ = DESCRIPTIONS[name]
    return analyze_builtin


def builtin_analysis_types() -> Registry:
    """A fresh registry of the built-in analysis types (default ``spectrum``, as the protocol's example)."""
    registry = Registry("analysis type", default=DEFAULT_ANALYSIS_TYPE)
    for name, kinds in MEASURED_KINDS.items():
        registry.register(
            name, _builtin(name), description=DESCRIPTIONS[name], aliases=ALIASES[name], builtin=True, kinds=kinds
        )
    return registry
