"""The DAW's state as a perspective reads it: the tracks of a chat request's ``daw_context``, read leniently.

DAWs name the same fields differently (``name``/``track_name``/``trackName``,
``peak``/``peak_level``, ...), so each value is taken from the first of its
usual names that holds a usable value. A track's type and instrument come from
the one track-type table (:mod:`codette_lab.tracktypes`), the same reading
the analysis gives the same track.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..protocol.requests import LEVEL_FLOOR_DBFS, LEVEL_MAX_DBFS, rms_fits_peak
from ..tracktypes import resolve_track_type


def _first(raw: Mapping[str, Any], keys: tuple[str, ...], accept: Callable[[Any], bool]) -> Any:
    for key in keys:
        value = raw.get(key)
        if value is not None and accept(value):
            return value
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _levels(peak: Any, rms: Any) -> tuple[float | None, float | None]:
    """Peak and RMS (dBFS) as an ``analyze`` reads them, leniently: a level over LEVEL_MAX_DBFS is no level, one
    under LEVEL_FLOOR_DBFS is that floor (silence), and an RMS further over the peak than any meter shows it is
    dropped (one of the two is wrong, and the peak is what judges the headroom)."""
    levels = [
        None if value is None or value > LEVEL_MAX_DBFS else max(float(value), LEVEL_FLOOR_DBFS)
        for value in (peak, rms)
    ]
    if levels[0] is not None and levels[1] is not None and not rms_fits_peak(levels[1], levels[0]):
        levels[1] = None
    return levels[0], levels[1]


#: The loudness (LUFS) read from a track of ``daw_context``: a BS.1770 meter's range (its absolute gate is -70).
LOUDNESS_RANGE_LUFS = (-70.0, 10.0)


def _loudness(value: Any) -> float | None:
    """An integrated loudness (LUFS) a DAW reports, when it lies in LOUDNESS_RANGE_LUFS; None otherwise."""
    return float(value) if value is not None and LOUDNESS_RANGE_LUFS[0] <= value <= LOUDNESS_RANGE_LUFS[1] else None


def _volume_db(raw: Mapping[str, Any]) -> float | None:
    """A fader level in dB: ``volume_db``/``gain_db`` as given; ``volume`` in (0, 1] read as linear gain."""
    decibels = _first(raw, ("volume_db", "gain_db", "fader_db"), _is_number)
    if decibels is not None:
        return float(decibels)
    volume = _first(raw, ("volume", "gain", "fader"), _is_number)
    if volume is None:
        return None
    if 0.0 < volume <= 1.0:
        return 20.0 * math.log10(volume)
    return float(volume)


@dataclass(frozen=True)
class TrackView:
    """One track of ``daw_context``, read leniently (``name``/``track_name``, ``peak``/``peak_level``, ...).

    ``type`` is the type the DAW gave (or None); ``instrument`` is the
    instrument it names (``"Lead Vox"`` -> ``vocal``, ``"Kick In"`` -> ``kick``)
    and ``track_type`` the canonical type the rules judge it as (``kick`` ->
    ``drums``; ``audio`` when unrecognised). Levels are in dB (peak and RMS in
    dBFS) or None when the DAW sent none.
    """

    name: str
    type: str | None
    instrument: str | None
    track_type: str
    peak_db: float | None = None
    rms_db: float | None = None
    loudness_lufs: float | None = None
    volume_db: float | None = None
    muted: bool = False
    soloed: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, position: int = 0) -> TrackView:
        name = _first(raw, ("name", "track_name", "trackName", "title"), _is_text) or f"Track {position + 1}"
        kind = _first(raw, ("type", "track_type", "trackType", "kind"), _is_text)
        match = resolve_track_type(kind, track_name=name)
        peak, rms = _levels(
            _first(raw, ("peak_level", "peak", "peak_db", "peak_dbfs", "peakLevel"), _is_number),
            _first(raw, ("rms_level", "rms", "rms_db", "rms_dbfs", "rmsLevel"), _is_number),
        )
        return cls(
            name=name.strip(),
            type=kind.strip() if kind else None,
            instrument=match.instrument,
            track_type=match.canonical,
            peak_db=peak,
            rms_db=rms,
            loudness_lufs=_loudness(_first(raw, ("loudness_lufs", "integrated_lufs", "lufs", "loudness"), _is_number)),
            volume_db=_volume_db(raw),
            muted=_first(raw, ("muted", "mute", "isMuted"), lambda v: isinstance(v, bool)) is True,
            soloed=_first(raw, ("soloed", "solo", "isSoloed"), lambda v: isinstance(v, bool)) is True,
            raw=dict(raw),
        )

    @property
    def kind(self) -> str:
        """How answers name the track's type: the instrument, else the DAW's type, else ``audio``."""
        return self.instrument or self.type or "audio"

    @property
    def headroom_db(self) -> float | None:
        return -self.peak_db if self.peak_db is not None else None

    @property
    def crest_db(self) -> float | None:
        if self.peak_db is None or self.rms_db is None:
            return None
        return self.peak_db - self.rms_db


@dataclass(frozen=True)
class DawContext:
    """The ``daw_context`` of a chat request: its tracks, the selected one, and the raw mapping."""

    tracks: tuple[TrackView, ...] = ()
    selected_track: TrackView | None = None
    track_count: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> DawContext:
        raw = dict(raw or {})
        listed = raw.get("tracks")
        tracks = tuple(
            TrackView.from_mapping(track, position=position)
            for position, track in enumerate(listed if isinstance(listed, list) else ())
            if isinstance(track, Mapping)
        )
        selected_raw = raw.get("selected_track")
        selected = TrackView.from_mapping(selected_raw) if isinstance(selected_raw, Mapping) else None
        count = raw.get("track_count")
        track_count = (
            int(count) if isinstance(count, (int, float)) and _is_number(count) and count >= 0 else len(tracks)
        )
        return cls(tracks=tracks, selected_track=selected, track_count=track_count, raw=raw)

    def tracks_of(self, instrument: str) -> tuple[TrackView, ...]:
        """The session's tracks of one instrument (``vocal``, ``kick``, ...): by the instrument its type names, or
        its name (a track typed ``drums`` and named "Kick" is the kick a question asks about)."""
        return tuple(
            track
            for track in self.tracks
            if instrument in (track.instrument, resolve_track_type(None, track_name=track.name).instrument)
        )
