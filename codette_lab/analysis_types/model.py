"""What an analysis function receives (:class:`TrackRequest`, :class:`Levels`) and returns (:class:`AnalysisResult`).

Built-in types and functions defined in a notebook share this model: the
engine builds a TrackRequest from a DAW's ``analyze`` request (or from arrays
in Python), calls the function with it, and sends ``AnalysisResult.to_wire()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Any

from ..errors import RequestError
from ..protocol import AudioData, TrackData
from ..protocol.replies import finite
from ..rules import Finding, LoudnessTarget, RuleSet, RuleSnapshot
from ..tracktypes import TrackTypeMatch

if TYPE_CHECKING:
    import numpy as np

#: The quality score when there is no evidence to rate on: the middle of the scale, neither a pass nor a fail.
#: A built-in type none of whose own checks could be judged (``stereo`` from levels alone) scores this times
#: what the checks every type runs found (0.5 with nothing found, less with clipping); a notebook function's
#: dict result that gives no ``quality_score`` scores this.
NOT_RATED_SCORE = 0.5

#: The least audio (seconds) an analysis judges: a little over one analysis frame (80 ms). Under it, every measure
#: rests on one padded frame, and a 20 ms slice of a voice reads as steady noise with a DC offset.
MIN_AUDIO_SECONDS = 0.1


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
        """The reported levels as metrics, at the precision measured ones are reported at."""
        from ..analysis.precision import reported

        peak, rms = self.peak_dbfs, self.rms_dbfs
        return reported(
            {
                "peak_dbfs": peak,
                "rms_dbfs": rms,
                "crest_factor_db": peak - rms if peak is not None and rms is not None else None,
                "duration_s": self.duration_s,
                "sample_rate": self.sample_rate,
            }
        )


class TrackRequest:
    """One track to analyze, as an analysis function receives it.

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
        sample_rate: float | None,
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
        if self.samples is not None:
            audio = f"audio {self.channels}x{self.samples.shape[1]} at {self.sample_rate} Hz"
        else:
            audio = "levels only"
        other = f", other track {self.other.track_name or self.other.track_type!r}" if self.other else ""
        name = self.track_name or "unnamed"
        return f"<TrackRequest {self.analysis_type} of {name!r} ({self.track_type}), {audio}{other}>"

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
            measured = self._measure_audio(chosen) if self.has_audio else self.levels.metrics()
            self._measured[chosen] = {**measured, **self.state_metrics()}
        return dict(self._measured[chosen])

    def audio(self) -> tuple[np.ndarray, float]:
        """The samples and their sample rate; RequestError when the request carries no audio."""
        if self.samples is None or self.sample_rate is None:
            raise RequestError(
                f"Analysis type '{self.analysis_type}' needs the audio of {self.track_name or 'the track'}: "
                "send audio_data.samples or audio_data.file_path (only levels came)"
            )
        return self.samples, self.sample_rate

    def _measure_audio(self, kinds: tuple[str, ...]) -> dict[str, Any]:
        from ..analysis import ALL_KINDS, measure  # numpy/scipy/librosa are paid only when audio is analyzed

        samples, sample_rate = self.audio()
        self._check_length(samples, sample_rate, self.track_name)
        return measure(samples, sr=sample_rate, kinds=kinds or ALL_KINDS)

    def _check_length(self, samples: np.ndarray, sample_rate: float, name: str | None) -> None:
        """RequestError for audio shorter than MIN_AUDIO_SECONDS, naming how much came and how much is needed."""
        frames = int(samples.shape[-1])
        if frames < MIN_AUDIO_SECONDS * sample_rate:
            needed = round(MIN_AUDIO_SECONDS * sample_rate)
            came = f"{frames} sample" if frames == 1 else f"{frames} samples"
            raise RequestError(
                f"Analysis type '{self.analysis_type}' needs at least {MIN_AUDIO_SECONDS:g} s of audio "
                f"({needed} samples at {sample_rate:g} Hz): {name or 'the track'} has {frames / sample_rate:.3f} s "
                f"({came})"
            )

    def measure_masking(self) -> dict[str, Any]:
        """Overlap with ``other`` (masking_overlap, masking_band_overlap, masked_band); both need audio."""
        other = self.other
        if other is None or not self.has_audio or not other.has_audio:
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
        from ..analysis import measure_masking

        samples, sample_rate = self.audio()
        other_samples = other.audio()[0]
        self._check_length(samples, sample_rate, self.track_name)
        self._check_length(other_samples, sample_rate, other.track_name or "the other track")
        return measure_masking(samples, other_samples, sr=sample_rate)


@dataclass
class AnalysisResult:
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
    #: False when a notebook function gave no ``quality_score`` (the wire then carries NOT_RATED_SCORE;
    #: the Analysis tab says "not scored"). Not sent to DAWs.
    scored: bool = True

    def to_wire(self) -> dict[str, Any]:
        """The document's four fields first, then metrics, problems, suggestion details and extras; no NaN."""
        details = self.details or [advice_detail(text, rule=None) for text in self.suggestions]
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


def advice_detail(text: str, *, rule: str | None) -> dict[str, Any]:
    """The ``suggestion_details`` entry of a suggestion no measured value triggered (advice, or a notebook's)."""
    return {"rule": rule, "metric": None, "value": None, "threshold": None, "severity": "info", "text": text}


def rule_snapshot(rules: RuleSet | RuleSnapshot | str | PathLike[str] | None) -> RuleSnapshot:
    """The snapshot one analysis is judged by: of a RuleSet, of a rule file, or of the built-in rules (None)."""
    if rules is None:
        return RuleSet.default().snapshot()
    if isinstance(rules, RuleSnapshot):
        return rules
    if isinstance(rules, RuleSet):
        return rules.snapshot()
    return RuleSet.load(rules).snapshot()
