"""Analysis types: from an ``analyze`` request (or an array in a notebook) to insights, suggestions and a score.

The built-in types (``spectrum``, ``dynamics``, ``loudness``, ``stereo``,
``transients``, ``masking``, ``quality``) all run one pipeline: measure what
the type needs (real audio when the request carries it, else the DAW's
reported levels), run the rule set, then add the track type's advice for
the type's categories. They differ in what they measure, which rules apply
and which advice they give, and all of that but the measurement kinds is in
the rule set's data. A notebook registers more types as plain functions
taking a :class:`TrackRequest` and returning an :class:`Analysis` or a dict;
a dict result carries only what it holds (no built-in findings are added,
and without ``quality_score`` it scores :data:`NOT_RATED_SCORE`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Any

from .errors import RequestError
from .protocol import AnalyzeRequest, AudioData, TrackData
from .protocol.replies import finite
from .protocol.requests import DEFAULT_ANALYSIS_TYPE
from .registry import Entry, Registry
from .rules import Finding, LoudnessTarget, RuleSet, RuleSnapshot
from .rules.evaluate import flatten, number
from .rules.model import Rule
from .rules.ruleset import Coverage
from .tracktypes import TRACK_TYPES, TrackTypeMatch, resolve_track_type
from .usercode import call_entry, malformed

if TYPE_CHECKING:
    import numpy as np

    from .audio_input import AudioRoots

#: What each built-in analysis type measures when audio is sent.
MEASURED_KINDS: dict[str, tuple[str, ...]] = {
    "spectrum": ("levels", "spectral"),
    "dynamics": ("levels", "loudness", "transients"),
    "loudness": ("levels", "true_peak", "loudness"),
    "stereo": ("levels", "stereo"),
    "transients": ("levels", "transients"),
    "masking": ("levels", "spectral"),
    "quality": ("levels", "true_peak", "loudness", "spectral", "stereo", "transients"),
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

#: Fields of a user analysis function's dict result.
USER_RESULT_KEYS = ("insights", "suggestions", "quality_score", "metrics")

#: The quality score when there is no evidence to rate on: the middle of the scale, neither a pass nor a fail.
#: A built-in type none of whose own checks could be judged (``stereo`` from levels alone) scores this times
#: what the checks every type runs found (0.5 with nothing found, less with clipping); a notebook function's
#: dict result that gives no ``quality_score`` scores this.
NOT_RATED_SCORE = 0.5

#: Where a request names its loudness target.
TARGET_FIELD = "loudness_target"

#: Metrics shown when none of an analysis type's summary metrics could be measured (levels-only requests).
LEVEL_SUMMARY = ("peak_dbfs", "rms_dbfs", "crest_factor_db")

MEASURED_FROM_AUDIO, MEASURED_FROM_LEVELS, MEASURED_FROM_NOTHING = "audio", "levels", "none"


# -- what an analysis function receives --------------------------------------------------------------------


@dataclass(frozen=True)
class Levels:
    """The levels a DAW reports in ``audio_data`` (dBFS, seconds, Hz); any may be missing."""

    peak_dbfs: float | None = None
    rms_dbfs: float | None = None
    duration_s: float | None = None
    sample_rate: float | None = None

    @classmethod
    def from_audio_data(cls, audio: AudioData) -> Levels:
        return cls(
            peak_dbfs=audio.peak_level,
            rms_dbfs=audio.rms_level,
            duration_s=audio.duration,
            sample_rate=audio.sample_rate,
        )

    @property
    def reported(self) -> bool:
        """True when the DAW reported a peak or an RMS level."""
        return self.peak_dbfs is not None or self.rms_dbfs is not None

    def metrics(self) -> dict[str, Any]:
        peak, rms = self.peak_dbfs, self.rms_dbfs
        return {
            "peak_dbfs": peak,
            "rms_dbfs": rms,
            "crest_factor_db": peak - rms if peak is not None and rms is not None else None,
            "duration_s": self.duration_s,
            "sample_rate": self.sample_rate,
        }


class TrackRequest:
    """One track to analyse, as an analysis function receives it.

    ``track`` is the request's TrackData with ``track_type`` made canonical
    (``"Vox"`` -> ``"vocal"``); ``levels`` are what the DAW reported;
    ``samples`` is a float32 (channels, n) array when audio was sent, else
    None; ``other`` is the second track of a masking request; ``rules`` is
    the rule-set snapshot this request is answered with; ``target`` the
    loudness target. ``measure(*kinds)`` gives the built-in metrics.
    """

    def __init__(
        self,
        *,
        track: TrackData,
        track_type_match: TrackTypeMatch,
        levels: Levels,
        samples: np.ndarray | None,
        sample_rate: int | None,
        analysis_type: str,
        rules: RuleSnapshot,
        target: LoudnessTarget,
        other: TrackRequest | None = None,
    ) -> None:
        self.track = track
        self.track_type_match = track_type_match
        self.levels = levels
        self.samples = samples
        self.sample_rate = sample_rate
        self.analysis_type = analysis_type
        self.rules = rules
        self.target = target
        self.other = other
        self._measured: dict[tuple[str, ...], dict[str, Any]] = {}

    def __repr__(self) -> str:
        audio = f"audio {self.channels}x{self.samples.shape[1]} at {self.sample_rate} Hz" if self.has_audio else "levels only"
        other = f", other track {self.other.track_name or self.other.track_type!r}" if self.other else ""
        return f"<TrackRequest {self.analysis_type} of {self.track_name or 'unnamed'!r} ({self.track_type}), {audio}{other}>"

    @property
    def track_type(self) -> str:
        return self.track_type_match.canonical

    @property
    def track_name(self) -> str | None:
        return self.track.track_name

    @property
    def has_audio(self) -> bool:
        return self.samples is not None

    @property
    def channels(self) -> int | None:
        return int(self.samples.shape[0]) if self.samples is not None else None

    def state_metrics(self) -> dict[str, Any]:
        """What the request says besides levels: muted, soloed and (with audio) the channel count."""
        state: dict[str, Any] = {"muted": self.track.muted, "soloed": self.track.soloed}
        if self.samples is not None:
            state["channels"] = self.channels
        return state

    def measure(self, *kinds: str) -> dict[str, Any]:
        """Built-in metrics of the given kinds (all when none given) plus the track's state.

        Without audio, the metrics are the DAW's reported levels. Results are
        kept, so several calls for the same kinds measure once.
        """
        chosen = tuple(kinds)
        if chosen not in self._measured:
            measured = self.levels.metrics() if self.samples is None else self._measure_audio(chosen)
            self._measured[chosen] = {**measured, **self.state_metrics()}
        return dict(self._measured[chosen])

    def _measure_audio(self, kinds: tuple[str, ...]) -> dict[str, Any]:
        from .analysis import ALL_KINDS, measure  # numpy/scipy/librosa are paid only when audio is analysed

        return measure(self.samples, sr=self.sample_rate, kinds=kinds or ALL_KINDS)

    def measure_masking(self) -> dict[str, Any]:
        """Overlap with ``other`` (masking_overlap, masking_band_overlap, masked_band); both need audio."""
        other = self.other
        if other is None or self.samples is None or other.samples is None:
            raise RequestError(
                f"Analysis type '{self.analysis_type}' needs audio for two tracks: send audio_data.samples "
                "(or file_path) for this track and an 'other_track' with its own audio_data "
                "(from Python: analyze(y, sr, other=second_array))"
            )
        if other.sample_rate != self.sample_rate:
            raise RequestError(
                f"Analysis type '{self.analysis_type}': both tracks need the same sample rate, got "
                f"{self.sample_rate} Hz and {other.sample_rate} Hz (other_track.audio_data.sample_rate)"
            )
        from .analysis import measure_masking

        return measure_masking(self.samples, other.samples, sr=self.sample_rate)


# -- what an analysis function returns ---------------------------------------------------------------------


@dataclass
class Analysis:
    """The result of one analysis; ``to_wire()`` is the protocol's ``analysis`` object (plus extensions)."""

    analysis_type: str = ""
    track_type: str = ""
    insights: str = ""
    suggestions: list[str] = field(default_factory=list)
    quality_score: float = 1.0
    metrics: dict[str, Any] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    #: Extra fields appended to the wire object (``measured_from``, ``loudness_target``, ...).
    extras: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The document's four fields first, then metrics, problems, suggestion details and extras; no NaN."""
        details = self.details or [_advice_detail(text, rule=None) for text in self.suggestions]
        return finite(
            {
                "analysis_type": self.analysis_type,
                "codette_insights": self.insights,
                "mixing_suggestions": list(self.suggestions),
                "quality_score": self.quality_score,
                "metrics": self.metrics,
                "problems_detected": [finding.problem_detail() for finding in self.problems],
                "suggestion_details": details,
                "track_type": self.track_type,
                **self.extras,
            }
        )


def _advice_detail(text: str, *, rule: str | None) -> dict[str, Any]:
    return {"rule": rule, "metric": None, "value": None, "threshold": None, "severity": "info", "text": text}


# -- the built-in pipeline -----------------------------------------------------------------------------------


def _channels_text(channels: int | None) -> str:
    return {1: "mono", 2: "stereo"}.get(channels or 0, f"{channels}-channel")


def _measured_from(request: TrackRequest) -> str:
    if request.has_audio:
        return MEASURED_FROM_AUDIO
    return MEASURED_FROM_LEVELS if request.levels.reported else MEASURED_FROM_NOTHING


def _summary(request: TrackRequest, metrics: Mapping[str, Any], metric_names: tuple[str, ...]) -> str:
    flat = flatten(metrics)
    labels = request.rules.document.metric_labels
    available = [name for name in metric_names if number(flat.get(name)) is not None]
    if not available:
        available = [name for name in LEVEL_SUMMARY if number(flat.get(name)) is not None and name in labels]
    return ", ".join(
        request.rules.metric_label(name, flat[name], track_type=request.track_type) for name in available
    )


def _audio_values(request: TrackRequest, summary: str) -> dict[str, Any]:
    return {
        "duration_s": request.samples.shape[1] / request.sample_rate,
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


#: Metrics only a second track gives (``other_track``): without one, their checks are not "missing".
OTHER_TRACK_METRICS = frozenset({"masking_overlap", "masking_band_overlap", "masked_band"})


def _needs_other_track(rule: Rule) -> bool:
    return any(condition.metric.split(".")[0] in OTHER_TRACK_METRICS for condition in (rule.condition, *rule.when))


def _not_judged(request: TrackRequest, source: str, coverage: Coverage) -> str | None:
    """The sentence on the type's own checks that could not be judged, if any (the checks that compare
    with another track are left out when the request has none)."""
    rules = {rule.id: rule for rule in request.rules.document.rules}
    missing = [
        rule_id
        for rule_id in coverage.specific_not_judged
        if request.other is not None or not _needs_other_track(rules[rule_id])
    ]
    if not missing:
        return None
    none_judged, some_not_judged = NOT_JUDGED_TEXTS[source]
    template = some_not_judged if coverage.type_judged else none_judged
    checks = ", ".join(rule_id.replace("_", " ") for rule_id in missing)
    return template.format(analysis_type=request.analysis_type, checks=checks, cap=NOT_RATED_SCORE)


def _insights(
    request: TrackRequest, metrics: Mapping[str, Any], findings: list[Finding], coverage: Coverage
) -> str:
    """Opening line of the type, what was measured, what the rules found (counting only the checks that
    could be judged), what could not be checked, and a note on unknown types."""
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
    source = _measured_from(request)
    text_name, values_of = MEASURED_TEXTS[source]
    sentences.append(rules.text(text_name, track_type=track_type, values=values_of(request, summary)))
    rule_count = len(coverage.judged)
    if findings:
        problems = " ".join(finding.problem for finding in findings)
        values = {"count": len(findings), "rule_count": rule_count, "problems": problems}
        sentences.append(rules.text("problems", track_type=track_type, values=values))
    elif source != MEASURED_FROM_NOTHING and coverage.type_judged:
        sentences.append(rules.text("no_problems", track_type=track_type, values={"rule_count": rule_count}))
    not_judged = _not_judged(request, source, coverage)
    if not_judged:
        sentences.append(not_judged)
    if not request.track_type_match.recognised:
        given = request.track_type_match.given or "(none)"
        values = {"given": given, "known": ", ".join(TRACK_TYPES)}
        sentences.append(rules.text("unknown_track_type", track_type=track_type, values=values))
    return " ".join(sentences)


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


def rules_analysis(request: TrackRequest, metrics: Mapping[str, Any]) -> Analysis:
    """Rules and advice over already measured metrics: the second half of every built-in type.

    The score follows from what the rules found, but only claims what was checked: when none of the type's
    own checks could be judged (their metrics absent), it is scaled by :data:`NOT_RATED_SCORE`.
    """
    findings = _findings(request, metrics)
    coverage = request.rules.coverage(
        metrics, track_type=request.track_type, analysis_type=request.analysis_type, target=request.target
    )
    score = request.rules.score(findings)
    texts = request.rules.analysis_texts(request.analysis_type)
    fired = [finding.rule_id for finding in findings]
    advice = request.rules.advice(request.track_type, texts.advice if texts else (), fired=fired)
    suggestions: list[str] = []
    details: list[dict[str, Any]] = []
    for text, detail in [
        *((finding.suggestion, finding.suggestion_detail()) for finding in findings),
        *((text, _advice_detail(text, rule=f"advice.{request.track_type}.{category}")) for category, text in advice),
    ]:
        if text not in suggestions:
            suggestions.append(text)
            details.append(detail)
    return Analysis(
        analysis_type=request.analysis_type,
        track_type=request.track_type,
        insights=_insights(request, metrics, findings, coverage),
        suggestions=suggestions,
        quality_score=score if coverage.type_judged else round(NOT_RATED_SCORE * score, 3),
        metrics=dict(metrics),
        problems=findings,
        details=details,
        extras={
            "measured_from": _measured_from(request),
            "loudness_target": request.target.to_dict(),
        },
    )


def _builtin(name: str) -> Callable[[TrackRequest], Analysis]:
    kinds = MEASURED_KINDS[name]

    def analyse(request: TrackRequest) -> Analysis:
        metrics = request.measure(*kinds)
        other = request.other
        both_have_audio = request.has_audio and other is not None and other.has_audio
        if name in NEEDS_OTHER_TRACK or (name in USES_OTHER_TRACK and both_have_audio):
            metrics.update(request.measure_masking())
        return rules_analysis(request, metrics)

    analyse.__name__ = analyse.__qualname__ = f"analyse_{name}"
    analyse.__doc__ = DESCRIPTIONS[name]
    return analyse


def builtin_analysis_types() -> Registry:
    """A fresh registry of the built-in analysis types (default ``spectrum``, as the protocol's example)."""
    registry = Registry("analysis type", default=DEFAULT_ANALYSIS_TYPE)
    for name in MEASURED_KINDS:
        registry.register(
            name, _builtin(name), description=DESCRIPTIONS[name], aliases=ALIASES[name], builtin=True,
            kinds=MEASURED_KINDS[name],
        )
    return registry


# -- user functions' results ------------------------------------------------------------------------------------


def _clean_metrics(entry: Entry, metrics: Any) -> dict[str, Any]:
    if not isinstance(metrics, Mapping):
        raise malformed(entry, f"'metrics' as {type(metrics).__name__} (expected a dict of name -> number)")
    cleaned = finite(metrics)
    for name, value in cleaned.items():
        if not (value is None or isinstance(value, (bool, int, float, str, dict, list))):
            raise malformed(entry, f"metric {name!r} as {type(value).__name__} (expected a number, text or dict)")
    return cleaned


def _coerce_score(entry: Entry, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "item"):
        raise malformed(entry, f"'quality_score' as {type(value).__name__} (expected a number from 0 to 1)")
    score = float(value)
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise malformed(entry, f"'quality_score' {score!r} (expected a number from 0 to 1)")
    return score


def _coerce_suggestions(entry: Entry, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(s, str) for s in value):
        raise malformed(entry, f"'suggestions' as {type(value).__name__} (expected a list of strings)")
    return list(value)


def _coerce_dict(entry: Entry, result: Mapping[str, Any], request: TrackRequest) -> Analysis:
    unknown = [key for key in result if key not in USER_RESULT_KEYS]
    if unknown or not result:
        problem = f"unknown keys {', '.join(map(repr, unknown))}" if unknown else "an empty dict"
        raise malformed(entry, f"{problem} (expected a dict with any of {', '.join(USER_RESULT_KEYS)})")
    insights = result.get("insights", "")
    if not isinstance(insights, str):
        raise malformed(entry, f"'insights' as {type(insights).__name__} (expected a string)")
    return Analysis(
        analysis_type=request.analysis_type,
        track_type=request.track_type,
        insights=insights,
        suggestions=_coerce_suggestions(entry, result.get("suggestions", [])),
        quality_score=_coerce_score(entry, result["quality_score"]) if "quality_score" in result else NOT_RATED_SCORE,
        metrics=_clean_metrics(entry, result.get("metrics", {})),
    )


def _coerce_analysis(entry: Entry, result: Analysis, request: TrackRequest) -> Analysis:
    if not isinstance(result.insights, str):
        raise malformed(entry, f"an Analysis whose insights is {type(result.insights).__name__} (expected a string)")
    strays = [type(problem).__name__ for problem in result.problems if not isinstance(problem, Finding)]
    if strays:
        raise malformed(entry, f"an Analysis whose problems hold {strays[0]} (expected Finding objects)")
    return dataclasses.replace(
        result,
        analysis_type=result.analysis_type or request.analysis_type,
        track_type=result.track_type or request.track_type,
        suggestions=_coerce_suggestions(entry, result.suggestions),
        quality_score=_coerce_score(entry, result.quality_score),
        metrics=_clean_metrics(entry, result.metrics),
    )


def coerce_result(entry: Entry, result: Any, request: TrackRequest) -> Analysis:
    """An analysis function's return value as an Analysis, or UserCodeError saying what was wrong with it."""
    if isinstance(result, Analysis):
        return _coerce_analysis(entry, result, request)
    if isinstance(result, Mapping):
        return _coerce_dict(entry, result, request)
    raise malformed(
        entry, f"{type(result).__name__} (expected an Analysis or a dict with any of {', '.join(USER_RESULT_KEYS)})"
    )


# -- from a request, and from Python ----------------------------------------------------------------------------


def _target_of(track: TrackData, rules: RuleSnapshot, prefix: str) -> LoudnessTarget:
    value = track.extra.get(TARGET_FIELD)
    try:
        return rules.loudness_target(value)
    except RequestError as exc:
        raise RequestError(f"Invalid field '{prefix}{TARGET_FIELD}' in analyze: {exc}") from None


def _load_audio(audio: AudioData, roots: AudioRoots, field: str) -> tuple[np.ndarray, int] | None:
    from .audio_input import load_audio  # decoding needs numpy and soundfile: only for requests with audio

    return load_audio(audio, roots=roots, field=field)


def _track_request(
    track: TrackData,
    audio: AudioData,
    *,
    analysis_type: str,
    rules: RuleSnapshot,
    roots: AudioRoots,
    target: LoudnessTarget,
    field: str = "audio_data",
    other: TrackRequest | None = None,
) -> TrackRequest:
    match = resolve_track_type(track.track_type, track_name=track.track_name)
    loaded = _load_audio(audio, roots, field) if audio.has_audio else None
    samples, sample_rate = loaded if loaded is not None else (None, None)
    return TrackRequest(
        track=dataclasses.replace(track, track_type=match.canonical),
        track_type_match=match,
        levels=Levels.from_audio_data(audio),
        samples=samples,
        sample_rate=sample_rate,
        analysis_type=analysis_type,
        rules=rules,
        target=target,
        other=other,
    )


def build_track_request(
    request: AnalyzeRequest, *, analysis_type: str, rules: RuleSnapshot, audio_roots: AudioRoots
) -> TrackRequest:
    """The :class:`TrackRequest` for an ``analyze`` request: audio decoded, type canonical, target resolved."""
    target = _target_of(request.track, rules, "track_data.")
    other = None
    if request.other_track is not None:
        other = _track_request(
            request.other_track.track,
            request.other_track.audio,
            analysis_type=analysis_type,
            rules=rules,
            roots=audio_roots,
            target=target,
            field="other_track.audio_data",
        )
    return _track_request(
        request.track, request.audio, analysis_type=analysis_type, rules=rules, roots=audio_roots, target=target,
        other=other,
    )


def _snapshot(rules: RuleSet | RuleSnapshot | str | PathLike[str] | None) -> RuleSnapshot:
    if rules is None:
        return RuleSet.default().snapshot()
    if isinstance(rules, RuleSnapshot):
        return rules
    if isinstance(rules, RuleSet):
        return rules.snapshot()
    return RuleSet.load(rules).snapshot()


def run_analysis(
    request: AnalyzeRequest,
    *,
    analysis_types: Registry,
    rules: RuleSet | RuleSnapshot,
    audio_roots: AudioRoots,
    entry: Entry | None = None,
) -> Analysis:
    """Answer one ``analyze`` request: resolve the type (unless ``entry`` is given), build the TrackRequest,
    call it, check its result."""
    entry = entry or analysis_types.resolve(request.analysis_type)
    track_request = build_track_request(
        request, analysis_type=entry.name, rules=_snapshot(rules), audio_roots=audio_roots
    )
    return coerce_result(entry, call_entry(entry, track_request), track_request)


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
) -> Analysis:
    """Analyse an array from Python, with the same code a DAW request runs.

    ``y`` is (n,) mono or (channels, n) float audio at ``sr`` Hz; ``kind`` an
    analysis type (or alias); ``other`` a second array at the same rate for
    ``masking``; ``target`` ``"streaming"``, ``"broadcast"``, ``"podcast"`` or
    a LUFS number; ``rules`` a RuleSet, a rule file, or None for the built-ins.
    """
    from .analysis.signal import as_channels, check_finite, check_sample_rate

    snapshot = _snapshot(rules)
    registry = analysis_types if analysis_types is not None else builtin_analysis_types()
    entry = registry.resolve(kind)
    rate = check_sample_rate(sr)
    resolved_target = snapshot.loudness_target(target)

    def track_request(array: Any, name: str | None, type_name: str, label: str, other_request: TrackRequest | None) -> TrackRequest:
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

    other_request = track_request(other, other_track_name, other_track_type, "other", None) if other is not None else None
    request = track_request(y, track_name, track_type, "y", other_request)
    return coerce_result(entry, call_entry(entry, request), request)
