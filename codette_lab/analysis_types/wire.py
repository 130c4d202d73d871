"""From a DAW's ``analyze`` request to an :class:`AnalysisResult`: decode the audio, resolve, call, check.

Reading audio (base64 ``samples`` or a ``file_path`` under the audio roots)
happens here and nowhere else in this package; numpy and soundfile are
imported only when a request carries audio.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..audio_input import AUDIO_FIELD, OTHER_AUDIO_FIELD
from ..errors import RequestError
from ..protocol import AnalyzeRequest, AudioData, TrackData
from ..registry import Entry, Registry
from ..rules import LoudnessTarget, RuleSet, RuleSnapshot
from ..tracktypes import resolve_track_type
from ..usercode import call_entry
from .coerce import coerce_result
from .model import AnalysisResult, Levels, TrackRequest, rule_snapshot

if TYPE_CHECKING:
    import numpy as np

    from ..audio_input import AudioRoots, DecodedAudio

#: Where a request names its loudness target.
TARGET_FIELD = "loudness_target"


def _target_of(track: TrackData, rules: RuleSnapshot, prefix: str) -> LoudnessTarget:
    value = track.extra.get(TARGET_FIELD)
    try:
        return rules.loudness_target(value)
    except RequestError as exc:
        raise RequestError(f"Invalid field '{prefix}{TARGET_FIELD}' in analyze: {exc}") from None


def _load_audio(audio: AudioData, roots: AudioRoots, field: str) -> tuple[np.ndarray, int] | None:
    from ..audio_input import load_audio  # decoding needs numpy and soundfile: only for requests with audio

    return load_audio(audio, roots=roots, field=field)


def _track_request(
    track: TrackData,
    audio: AudioData,
    *,
    analysis_type: str,
    rules: RuleSnapshot,
    roots: AudioRoots,
    target: LoudnessTarget,
    decoded: DecodedAudio,
    field: str = AUDIO_FIELD,
    other: TrackRequest | None = None,
) -> TrackRequest:
    match = resolve_track_type(track.track_type, track_name=track.track_name)
    loaded = decoded.get(field) or (_load_audio(audio, roots, field) if audio.has_audio else None)
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
    request: AnalyzeRequest,
    *,
    analysis_type: str,
    rules: RuleSnapshot,
    audio_roots: AudioRoots,
    decoded: DecodedAudio | None = None,
) -> TrackRequest:
    """The :class:`TrackRequest` for an ``analyze`` request: audio decoded, type canonical, target resolved.

    ``decoded`` holds audio already decoded from the request's samples, by field (the server decodes
    large frames in another process, see :func:`~codette_lab.audio_input.parse_with_samples`).
    """
    decoded = decoded or {}
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
            decoded=decoded,
            field=OTHER_AUDIO_FIELD,
        )
    return _track_request(
        request.track,
        request.audio,
        analysis_type=analysis_type,
        rules=rules,
        roots=audio_roots,
        target=target,
        decoded=decoded,
        other=other,
    )


def answer_analyze(
    request: AnalyzeRequest,
    *,
    analysis_types: Registry,
    rules: RuleSet | RuleSnapshot,
    audio_roots: AudioRoots,
    entry: Entry | None = None,
    decoded: DecodedAudio | None = None,
) -> AnalysisResult:
    """Answer one ``analyze`` request: resolve the type (unless ``entry`` is given), build the TrackRequest
    (with ``decoded`` audio, see :func:`build_track_request`), call it, check its result."""
    entry = entry or analysis_types.resolve(request.analysis_type)
    track_request = build_track_request(
        request, analysis_type=entry.name, rules=rule_snapshot(rules), audio_roots=audio_roots, decoded=decoded
    )
    return coerce_result(entry, call_entry(entry, track_request), track_request)
