"""What the bridge knows of the Ardour session: its tracks as the OSC surface and the Lua hook report them.

:class:`ArdourSession` is fed OSC messages (address and arguments, already
decoded) by the surface thread and read by the bridge's other threads; a lock
keeps each update whole. Tracks are keyed by Ardour's strip number (``ssid``);
the Lua hook's reports (:data:`TRACK_FILES`) are matched to them by name.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from ...tracktypes import canonical_track_type

#: The silence Ardour's OSC meters report (dBFS): anything at or below it is "no signal".
SILENT_DB = -120.0

#: What the Lua hook (``codette_tracks.lua``) sends: a track's region and files, and the session's name and folder.
TRACK_FILES = "/codette/track"
SESSION_INFO = "/codette/session"


@dataclass(frozen=True)
class TrackFiles:
    """Where a track's audio is: its first region on the timeline and the files behind it (one per channel)."""

    position: int  # the region's first sample on the timeline
    start: int  # where in the files the region begins (samples)
    length: int  # samples
    sample_rate: int
    paths: tuple[str, ...]


@dataclass(frozen=True)
class ArdourTrack:
    """One of the session's audio tracks as Ardour reports it."""

    ssid: int
    name: str
    inputs: int = 1
    gain_db: float = 0.0
    muted: bool = False
    soloed: bool = False
    selected: bool = False
    meter_db: float | None = None  # Ardour's own peak meter (post-fader), None before the first report
    meter_at: float = 0.0  # time.monotonic() of the last meter report
    rms_db: float | None = None  # measured by the bridge from the track's files at the playhead
    files: TrackFiles | None = None

    @property
    def track_type(self) -> str:
        """The track's type guessed from its name with the project's alias table ("Lead Vox" -> vocal)."""
        return canonical_track_type(None, track_name=self.name)

    @property
    def sounding(self) -> bool:
        """True while Ardour meters a signal on it."""
        return self.meter_db is not None and self.meter_db > SILENT_DB

    def track_data(self) -> dict[str, Any]:
        """The protocol's ``track_data`` for this track."""
        return {
            "track_id": f"ardour_{self.ssid}",
            "track_name": self.name,
            "track_type": self.track_type,
            "muted": self.muted,
            "soloed": self.soloed,
        }

    def context(self) -> dict[str, Any]:
        """The track as it appears in a ``daw_context``: facts, gain and live levels."""
        entry = {**self.track_data(), "volume_db": round(self.gain_db, 2), "channels": self.inputs}
        if self.meter_db is not None:
            entry["peak_level"] = round(self.meter_db, 2)
        if self.rms_db is not None:
            entry["rms_level"] = round(self.rms_db, 2)
        return entry


@dataclass
class ArdourSession:
    """The session's state, updated message by message (see :meth:`apply`). Thread-safe."""

    name: str | None = None
    folder: str | None = None
    sample_rate: int | None = None
    playing: bool = False
    position: int = 0  # the playhead (samples), as last asked
    position_at: float = 0.0  # time.monotonic() when it was read
    listed: bool = False  # Ardour's strip list arrived whole (``end_route_list``)
    _tracks: dict[int, ArdourTrack] = field(default_factory=dict)
    _files: dict[str, TrackFiles] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tracks(self) -> list[ArdourTrack]:
        """The audio tracks in Ardour's order, each with the files the Lua hook reported for it."""
        with self._lock:
            return [replace(track, files=self._files.get(track.name)) for _, track in sorted(self._tracks.items())]

    def track(self, name: str) -> ArdourTrack | None:
        """The track of that name (case does not matter), or None."""
        wanted = name.strip().casefold()
        return next((track for track in self.tracks() if track.name.casefold() == wanted), None)

    def playhead(self) -> int:
        """Where the transport is now (samples): the last position read, moved on while it plays."""
        with self._lock:
            if not self.playing or self.sample_rate is None:
                return self.position
            return self.position + int((time.monotonic() - self.position_at) * self.sample_rate)

    def forget(self) -> None:
        """Ardour went away or loaded another session: what it said no longer holds."""
        with self._lock:
            self._tracks.clear()
            self._files.clear()
            self.listed = False
            self.playing = False

    def set_rms(self, ssid: int, rms_db: float | None) -> None:
        with self._lock:
            if ssid in self._tracks:
                self._tracks[ssid] = replace(self._tracks[ssid], rms_db=rms_db)

    def apply(self, address: str, args: list[Any]) -> str | None:
        """Take one OSC message into the state; returns what changed ("meter", "tracks", ...) or None."""
        with self._lock:
            try:
                return self._apply(address, args)
            except (ValueError, TypeError):  # a message of another shape than Ardour 7's: not ours to read
                return None

    def _apply(self, address: str, args: list[Any]) -> str | None:
        if address == "/reply" and args:
            return self._listed(args)
        if address.startswith("/strip/") and len(args) >= 2 and isinstance(args[0], int):
            return self._strip(address[len("/strip/") :], args[0], args[1])
        if address == "/transport_frame" and args:
            self.position, self.position_at = int(args[0]), time.monotonic()
            return "position"
        if address == "/position/samples" and args:
            self.position, self.position_at = int(float(args[0])), time.monotonic()
            return "position"
        if address in ("/transport_play", "/transport_stop") and args:
            playing = bool(args[0]) == (address == "/transport_play")
            if playing != self.playing:
                self.position, self.position_at, self.playing = self.position, time.monotonic(), playing
                return "transport"
            return None
        if address == "/session_name" and args:
            return self._named(str(args[0]))
        if address == SESSION_INFO and len(args) >= 2:
            self.folder = str(args[1])
            return self._named(str(args[0]))
        if address == TRACK_FILES and len(args) >= 6:
            name, position, start, length, rate, *paths = args
            self._files[str(name)] = TrackFiles(int(position), int(start), int(length), int(rate), tuple(paths))
            return "files"
        return None

    def _named(self, name: str) -> str | None:
        if name == self.name:
            return None
        if self.name is not None:  # another session was loaded: its strips are other strips
            self._tracks.clear()
            self._files.clear()
            self.listed = False
        self.name = name
        return "session"

    def _listed(self, args: list[Any]) -> str | None:
        """A line of ``/strip/list``'s answer: a strip (type, name, inputs, outputs, mute, solo, ssid, rec)
        or ``end_route_list`` (sample rate, session end, ...)."""
        if args[0] == "end_route_list":
            if len(args) > 1:
                self.sample_rate = int(args[1])
            self.listed = True
            return "tracks"
        if args[0] != "AT" or len(args) < 7:  # audio tracks only: buses and MIDI tracks have no audio files
            return None
        kind, name, inputs, _outputs, mute, solo, ssid = args[:7]
        del kind
        old = self._tracks.get(int(ssid))
        track = ArdourTrack(int(ssid), str(name), int(inputs), muted=bool(mute), soloed=bool(solo))
        if old is not None:
            track = replace(old, name=track.name, inputs=track.inputs, muted=track.muted, soloed=track.soloed)
        self._tracks[int(ssid)] = track
        return "tracks"

    def _strip(self, what: str, ssid: int, value: Any) -> str | None:
        track = self._tracks.get(ssid)
        if track is None:
            return None
        if what == "meter":
            self._tracks[ssid] = replace(track, meter_db=float(value), meter_at=time.monotonic())
            return "meter"
        changes: dict[str, Any] = {}
        if what == "name":
            changes["name"] = str(value)
        elif what == "gain":
            changes["gain_db"] = float(value)
        elif what == "mute":
            changes["muted"] = bool(value)
        elif what == "solo":
            changes["soloed"] = bool(value)
        elif what == "select":
            changes["selected"] = bool(value)
        if not changes:
            return None
        self._tracks[ssid] = replace(track, **changes)
        return what

    def daw_context(self) -> dict[str, Any]:
        """The ``daw_context`` a chat carries: the session's name, tracks and selected track."""
        tracks = self.tracks()
        context: dict[str, Any] = {"project_name": self.name, "daw": "Ardour", "playing": self.playing}
        context["tracks"] = [track.context() for track in tracks]
        selected = next((track for track in tracks if track.selected), None)
        if selected is not None:
            context["selected_track"] = selected.context()
        return context
