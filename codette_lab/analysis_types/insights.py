"""The prose of a built-in analysis: the ``codette_insights`` paragraph, sentence by sentence.

Most sentences are the rule set's texts (so a rule file can reword them); this
module picks which ones apply and fills them: the type's opening line, what
the analysis was measured from, what the rules found, which of the type's own
checks could not be judged, and a note on an unknown track type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..analysis.outputs import MASKING_OUTPUTS
from ..rules import Coverage, Finding
from ..rules.evaluate import flatten, number
from ..rules.model import Rule
from ..tracktypes import TRACK_TYPES
from .model import NOT_RATED_SCORE, TrackRequest

#: Metrics shown when none of an analysis type's summary metrics could be measured (levels-only requests).
LEVEL_SUMMARY = ("peak_dbfs", "rms_dbfs", "crest_factor_db")

#: What an analysis was measured from: the wire value of its ``measured_from`` field.
MEASURED_FROM_AUDIO, MEASURED_FROM_LEVELS, MEASURED_FROM_NOTHING = "audio", "levels", "none"

#: Metrics only a second track gives (``other_track``): without one, their checks are not "missing".
OTHER_TRACK_METRICS = frozenset(MASKING_OUTPUTS)


def _channels_text(channels: int | None) -> str:
    return {1: "mono", 2: "stereo"}.get(channels or 0, f"{channels}-channel")


def measured_from(request: TrackRequest) -> str:
    """``audio``, ``levels`` or ``none``: what the metrics of this request come from."""
    if request.has_audio:
        return MEASURED_FROM_AUDIO
    return MEASURED_FROM_LEVELS if request.levels.reported else MEASURED_FROM_NOTHING


def _summary(request: TrackRequest, metrics: Mapping[str, Any], metric_names: tuple[str, ...]) -> str:
    flat = flatten(metrics)
    labels = request.rules.document.metric_labels
    available = [name for name in metric_names if number(flat.get(name)) is not None]
    if not available:
        available = [name for name in LEVEL_SUMMARY if number(flat.get(name)) is not None and name in labels]
    if not available and request.has_audio:  # digital silence has no level to name
        return request.rules.words("programme_silence")
    return ", ".join(request.rules.metric_label(name, flat[name], track_type=request.track_type) for name in available)


def _audio_values(request: TrackRequest, summary: str) -> dict[str, Any]:
    samples, sample_rate = request.audio()
    return {
        "duration_s": samples.shape[1] / sample_rate,
        "channels_text": _channels_text(request.channels),
        "sample_rate": request.sample_rate,
        "summary": summary,
    }


#: Which text says what the analysis was measured from, and the values it is filled with.
MEASURED_TEXTS: dict[str, tuple[str, Callable[[TrackRequest, str], dict[str, Any]]]] = {
    MEASURED_FROM_AUDIO: ("measured_from_audio", _audio_values),
    MEASURED_FROM_LEVELS: ("measured_from_levels", lambda request, summary: {"summary": summary}),
    MEASURED_FROM_NOTHING: ("no_measurements", lambda request, summary: {}),
}

#: What is said about the type's own checks that could not be judged, by what the analysis was measured
#: from: (when none of them could be, when only some could not).
NOT_JUDGED_TEXTS: dict[str, tuple[str, str]] = {
    MEASURED_FROM_AUDIO: (
        (
            "None of the {analysis_type} checks ({checks}) could be made: what they measure is undefined for "
            "this audio (silence, or a silent channel), so the quality score stays at {cap:g} or below."
        ),
        "Not checked, as this audio leaves nothing to measure for them: {checks}.",
    ),
    MEASURED_FROM_LEVELS: (
        (
            "None of the {analysis_type} checks ({checks}) could be made without the audio: send "
            "audio_data.samples or audio_data.file_path; until then the quality score stays at {cap:g} or below."
        ),
        "Not checked without the audio: {checks}.",
    ),
}
NOT_JUDGED_TEXTS[MEASURED_FROM_NOTHING] = NOT_JUDGED_TEXTS[MEASURED_FROM_LEVELS]


def _needs_other_track(rule: Rule) -> bool:
    return any(condition.metric.split(".")[0] in OTHER_TRACK_METRICS for condition in (rule.condition, *rule.when))


def _not_judged(request: TrackRequest, source: str, coverage: Coverage, fired: frozenset[str]) -> str | None:
    """The sentence on the type's own checks that could not be judged, if any. Left out: the checks that compare
    with another track when the request has none, and those that give way to a finding made (``fired``: a track
    with no programme is not judged on its tone, and its finding says so; listing the tone checks it could not
    make as well would only repeat it)."""
    rules = {rule.id: rule for rule in request.rules.document.rules}
    missing = [
        rule_id
        for rule_id in coverage.specific_not_judged
        if (request.other is not None or not _needs_other_track(rules[rule_id]))
        and not fired.intersection(rules[rule_id].suppressed_by)
    ]
    if not missing:
        return None
    none_judged, some_not_judged = NOT_JUDGED_TEXTS[source]
    template = some_not_judged if coverage.type_judged else none_judged
    checks = ", ".join(rule_id.replace("_", " ") for rule_id in missing)
    return template.format(analysis_type=request.analysis_type, checks=checks, cap=NOT_RATED_SCORE)


def insights(request: TrackRequest, metrics: Mapping[str, Any], findings: list[Finding], coverage: Coverage) -> str:
    """Opening line of the type, what was measured, what the rules found (counting only the checks that
    could be judged), how the tone leans where that alone costs the score, what could not be checked, and a note on
    unknown types."""
    rules, track_type = request.rules, request.track_type
    texts = rules.analysis_texts(request.analysis_type)
    other = request.other
    situation = rules.situation(
        track_type=track_type,
        analysis_type=request.analysis_type,
        track_name=request.track_name,
        target=request.target,
        other_track_name=other.track_name if other else None,
        other_track_type=other.track_type if other else None,
    )
    sentences = []
    opening = rules.opening(request.analysis_type, track_type=track_type, values=situation)
    if opening:
        sentences.append(opening)
    summary = _summary(request, metrics, texts.summary if texts else LEVEL_SUMMARY)
    source = measured_from(request)
    text_name, values_of = MEASURED_TEXTS[source]
    sentences.append(rules.text(text_name, track_type=track_type, values=values_of(request, summary)))
    rule_count = len(coverage.judged)
    if findings:
        problems = " ".join(finding.problem for finding in findings)
        values = {"count": len(findings), "rule_count": rule_count, "problems": problems}
        sentences.append(rules.text("problems", track_type=track_type, values=values))
    elif source != MEASURED_FROM_NOTHING and coverage.type_judged:
        sentences.append(rules.text("no_problems", track_type=track_type, values={"rule_count": rule_count}))
    if not findings and source != MEASURED_FROM_NOTHING:  # why a track with nothing found scores under 1
        leaning = rules.balance_insight(metrics, track_type=track_type, analysis_type=request.analysis_type)
        if leaning:
            sentences.append(leaning)
    not_judged = _not_judged(request, source, coverage, frozenset(finding.rule_id for finding in findings))
    if not_judged:
        sentences.append(not_judged)
    if not request.track_type_match.recognised:
        given = request.track_type_match.given or "(none)"
        values = {"given": given, "known": ", ".join(TRACK_TYPES)}
        sentences.append(rules.text("unknown_track_type", track_type=track_type, values=values))
    return " ".join(sentences)
