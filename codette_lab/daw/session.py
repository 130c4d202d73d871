"""A DAW session as the simulator knows it: tracks, the files holding their audio, and meter levels.

A :class:`Session` is read from a session.json (by default the demo session
shipped with the package, :func:`~codette_lab.resources.demo_session_path`);
each :class:`Track` describes itself the way a DAW does in ``track_data`` and
measures the ``audio_data`` levels a DAW's meters would report.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..audio_input import read_samples
from ..errors import DAWError
from ..resources import demo_session_path

#: Levels of digital silence are reported at this floor (JSON has no -Infinity).
SILENCE_FLOOR_DBFS = -120.0

Message = dict[str, Any]


def _dbfs(amplitude: float) -> float:
    """Amplitude (full scale = 1.0) in dBFS, floored for silence."""
    if amplitude <= 0.0:
        return SILENCE_FLOOR_DBFS
    return max(SILENCE_FLOOR_DBFS, 20.0 * float(np.log10(amplitude)))


def audio_levels(y: np.ndarray, sr: int) -> dict[str, float]:
    """The protocol's ``audio_data`` levels of ``y`` ((n,) or (channels, n)): peak/RMS dBFS, duration, rate."""
    samples = np.asarray(y, dtype=np.float64)
    frames = samples.shape[-1]
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    rms = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
    return {
        "peak_level": round(_dbfs(peak), 2),
        "rms_level": round(_dbfs(rms), 2),
        "duration": round(frames / sr, 3),
        "sample_rate": sr,
    }


def read_audio(path: str | PathLike[str]) -> tuple[np.ndarray, int]:
    """A file's audio as :func:`codette_lab.analyze` takes it: float32, (n,) mono or (channels, n)
    (read by :func:`codette_lab.audio_input.read_samples`, as the server reads it)."""
    y, sr = read_samples(path)
    return (y[0] if y.shape[0] == 1 else y), sr


@functools.lru_cache(maxsize=64)
def _file_levels(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, float], ...]:
    """Levels of a file, cached per (path, modification time, size) so edits are noticed."""
    return tuple(audio_levels(*read_audio(path)).items())


@dataclass(frozen=True)
class Track:
    """One track of a session: how the DAW describes it, and the file holding its audio."""

    track_id: str
    track_name: str
    track_type: str
    file: Path
    channels: int | None = None
    muted: bool = False
    soloed: bool = False
    volume_db: float = 0.0
    pan: float = 0.0

    def audio(self) -> tuple[np.ndarray, int]:
        """``(y, sr)``: float32, ``(n,)`` mono or ``(channels, n)``, ready for ``codette_lab.analyze(y, sr)``."""
        try:
            return read_audio(self.file)
        except (OSError, RuntimeError) as exc:  # soundfile raises LibsndfileError, a RuntimeError
            raise DAWError(f"Track '{self.track_name}': cannot read audio file {self.file}: {exc}") from None

    def levels(self) -> dict[str, float]:
        """The protocol's ``audio_data`` levels of the whole file (peak/RMS dBFS, duration, sample rate)."""
        try:
            stat = self.file.stat()
        except OSError as exc:
            raise DAWError(f"Track '{self.track_name}': cannot read audio file {self.file}: {exc}") from None
        return dict(_file_levels(str(self.file), stat.st_mtime_ns, stat.st_size))

    def track_data(self) -> Message:
        """The protocol's ``track_data`` object (the document's fields, plus the mixer's volume and pan)."""
        return {
            "track_id": self.track_id,
            "track_name": self.track_name,
            "track_type": self.track_type,
            "muted": self.muted,
            "soloed": self.soloed,
            "volume_db": self.volume_db,
            "pan": self.pan,
        }


@dataclass(frozen=True)
class Session:
    """A DAW session: song facts and tracks, read from a session.json (``file`` paths relative to it)."""

    path: Path
    title: str
    tracks: tuple[Track, ...]
    tempo: float | None = None
    key: str | None = None
    selected_track_id: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | PathLike[str] | None = None) -> Session:
        """Read a session file (default: the demo session, :func:`~codette_lab.resources.demo_session_path`)."""
        source = Path(path) if path is not None else demo_session_path()
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise DAWError(f"Cannot read session file {source}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise DAWError(f"Session file {source} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("tracks"), list) or not data["tracks"]:
            raise DAWError(f"Session file {source}: expected an object with a non-empty 'tracks' array")
        tracks = tuple(_track_from(entry, index, source) for index, entry in enumerate(data["tracks"]))
        return cls(
            path=source.resolve(),
            title=str(data.get("title", source.stem)),
            tracks=tracks,
            tempo=data.get("tempo"),
            key=data.get("key"),
            selected_track_id=data.get("selected_track_id"),
            facts={name: value for name, value in data.items() if name != "tracks"},
        )

    @classmethod
    def coerce(cls, session: Session | str | PathLike[str] | None) -> Session:
        """``session`` itself, or the session file it names (None: the demo session)."""
        return session if isinstance(session, Session) else cls.load(session)

    def track(self, name_or_id: str | Track) -> Track:
        """The track with this id, else this name, else this type (case-insensitive for names and types)."""
        if isinstance(name_or_id, Track):
            return name_or_id
        wanted = str(name_or_id).casefold()
        matchers: tuple[Callable[[Track], bool], ...] = (
            lambda track: track.track_id == name_or_id,
            lambda track: track.track_name.casefold() == wanted,
            lambda track: track.track_type.casefold() == wanted,
        )
        for matches in matchers:
            found = [track for track in self.tracks if matches(track)]
            if len(found) == 1:
                return found[0]
        available = ", ".join(f"'{track.track_name}' ({track.track_id})" for track in self.tracks)
        raise DAWError(f"No single track named '{name_or_id}' in session '{self.title}' (tracks: {available})")

    @property
    def selected(self) -> Track | None:
        """The track the session file marks as selected, if any."""
        return self.track(self.selected_track_id) if self.selected_track_id else None

    def daw_context(self, selected: Track | None = None) -> Message:
        """The chat's ``daw_context``: every track, and the selected one with its meter levels."""
        context: Message = {"tracks": [track.track_data() for track in self.tracks]}
        chosen = selected or self.selected
        if chosen is not None:
            context["selected_track"] = {**chosen.track_data(), **chosen.levels()}
        return context


def _track_from(entry: Any, index: int, source: Path) -> Track:
    """One ``tracks[i]`` entry of a session file, its ``file`` resolved against the file's folder."""
    required = ("track_id", "track_name", "track_type", "file")
    if not isinstance(entry, dict) or any(not isinstance(entry.get(name), str) for name in required):
        raise DAWError(f"Session file {source}: tracks[{index}] needs the strings {', '.join(required)}")
    return Track(
        track_id=entry["track_id"],
        track_name=entry["track_name"],
        track_type=entry["track_type"],
        file=(source.parent / entry["file"]).resolve(),
        channels=entry.get("channels"),
        muted=bool(entry.get("muted", False)),
        soloed=bool(entry.get("soloed", False)),
        volume_db=float(entry.get("volume_db", 0.0)),
        pan=float(entry.get("pan", 0.0)),
    )
