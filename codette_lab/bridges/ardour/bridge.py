"""The Ardour bridge: an Ardour session joins a Codette server as a DAW.

:class:`ArdourBridge` runs two threads. The surface thread
(:class:`~.surface.ArdourSurface`) keeps :attr:`ArdourBridge.session` current
from Ardour's OSC feedback (tracks, gains, mute/solo, selection, meters,
transport) and the Lua hook's reports (the tracks' files). The worker thread
holds the WebSocket (:class:`~.link.CodetteLink`, named ``Ardour: <session>``)
and, while the session plays, sends a levels-only ``analyze`` of each sounding
track every ``levels_interval`` seconds (Ardour's peak meter, and the RMS the
bridge measures from the track's files at the playhead; a track whose meter jumps
by :data:`JUMP_DB` is sent at once), a full analysis of the
audio itself every ``full_every`` seconds when asked to, and the analyses and
chats asked for with :meth:`ArdourBridge.analyze` / :meth:`ArdourBridge.chat`.
Every reply is kept in :attr:`ArdourBridge.answers` (newest last) and handed
to the ``on_answer`` callbacks. Ardour closing, another session being loaded
and the server restarting are all survived: each side reconnects on its own,
and :attr:`ArdourBridge.status` says in one line what the bridge is doing.
"""

from __future__ import annotations

import html
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import BridgeError
from ...protocol.requests import rms_fits_peak
from .audio import excerpt, rms_db
from .defaults import (
    DEFAULT_ARDOUR_PORT,
    DEFAULT_FULL_SECONDS,
    DEFAULT_LEVELS_INTERVAL,
    DEFAULT_LEVELS_TYPE,
    DEFAULT_LISTEN_PORT,
    DEFAULT_SERVER_URL,
)
from .link import CodetteLink, Message
from .session import ArdourSession, ArdourTrack
from .surface import ArdourSurface

if TYPE_CHECKING:
    import ipywidgets as widgets
    import pandas as pd

#: The window (s) of the track's audio the bridge measures RMS over, like a meter with a 300 ms integration.
RMS_WINDOW_S = 0.3

_log = logging.getLogger(__name__)

#: A meter that moves this much (dB) since its track's last levels analysis is sent at once, not at the next tick.
JUMP_DB = 6.0

#: How many answers :attr:`ArdourBridge.answers` keeps.
ANSWER_LIMIT = 500


@dataclass(frozen=True)
class Answer:
    """A reply the server sent the bridge, with what it answered."""

    track: str | None
    kind: str  # "levels", "audio" or "chat"
    request: str  # the analysis type, or the chat's question
    reply: Message
    levels_at: float | None  # time.monotonic() of the Ardour meter report the request carried (levels only)
    sent_at: float  # time.monotonic() when the request went out
    received_at: float  # time.monotonic() when the reply arrived

    @property
    def rules(self) -> set[str]:
        """The rule ids behind the answer's findings and suggestions."""
        analysis = self.reply.get("analysis") or {}
        details = [*analysis.get("problems_detected", []), *analysis.get("suggestion_details", [])]
        return {str(item["rule"]) for item in details if isinstance(item, dict) and item.get("rule")}


def rms_with_peak(rms: float | None, peak: float) -> bool:
    """Whether the RMS read off a track's files goes with the peak of Ardour's meter. The files are read before
    the track's plug-ins, the meter after them: a plug-in that lowers the level can put the RMS more than
    3 dB over the peak, which no one meter shows and the server refuses, so the peak goes alone."""
    return rms is not None and rms_fits_peak(rms, peak)


class ArdourBridge:
    """An Ardour session connected to a Codette server as a DAW (see the module's docstring)."""

    def __init__(
        self,
        url: str = DEFAULT_SERVER_URL,
        *,
        ardour_host: str = "127.0.0.1",
        ardour_port: int = DEFAULT_ARDOUR_PORT,
        listen_port: int = DEFAULT_LISTEN_PORT,
        levels_interval: float = DEFAULT_LEVELS_INTERVAL,
        levels_type: str = DEFAULT_LEVELS_TYPE,
        full_every: float | None = None,
        full_type: str = "quality",
        full_seconds: float = DEFAULT_FULL_SECONDS,
        audio_as: str = "auto",
        ardour_timeout: float = 3.0,
    ) -> None:
        if not levels_interval > 0:
            raise BridgeError(f"levels_interval: expected a number of seconds > 0, got {levels_interval!r}")
        if full_every is not None and not full_every > 0:
            raise BridgeError(f"full_every: expected a number of seconds > 0 or None, got {full_every!r}")
        self.url = url
        self.levels_interval = levels_interval
        self.levels_type = levels_type
        self.full_every = full_every
        self.full_type = full_type
        self.full_seconds = full_seconds
        self.session = ArdourSession()
        self.surface = ArdourSurface(
            self.session, ardour=(ardour_host, ardour_port), listen=("127.0.0.1", listen_port), timeout=ardour_timeout
        )
        self._audio_as = audio_as
        self._link: CodetteLink | None = None
        self.answers: deque[Answer] = deque(maxlen=ANSWER_LIMIT)
        self._callbacks: list[Callable[[Answer], None]] = []
        self._requests: queue.Queue[tuple[Callable[[CodetteLink], Any], Future[Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_levels = 0.0
        self._next_full = 0.0
        self._sent_peaks: dict[int, float] = {}  # ssid -> the peak its last levels analysis carried
        self._jumped: set[int] = set()  # tracks whose meter moved JUMP_DB since: sent before the next tick
        self._wake = threading.Event()
        self.sent = 0
        self.activity = "starting"

    # -- running -------------------------------------------------------------------------------------------

    def start(self) -> ArdourBridge:
        """Start both threads; returns at once (watch :attr:`status`, or :meth:`wait_for_tracks`)."""
        if self._thread is None:
            self.surface.add_listener(self._on_osc)
            self.surface.start()
            self._thread = threading.Thread(target=self._run, name="codette-ardour-bridge", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop both threads and close the WebSocket and the UDP port. Safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.surface.close()
        if self._link is not None:
            self._link.close()

    def __enter__(self) -> ArdourBridge:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def on_answer(self, callback: Callable[[Answer], None]) -> None:
        """``callback(answer)`` runs on the bridge's thread for every reply (it must not block)."""
        self._callbacks.append(callback)

    # -- what a notebook reads ------------------------------------------------------------------------------

    @property
    def tracks(self) -> list[ArdourTrack]:
        """The session's audio tracks now (name, type, gain, mute/solo, selection, levels, files)."""
        return self.session.tracks()

    @property
    def link(self) -> CodetteLink | None:
        """The WebSocket side (its ``connects`` counts the connections made), None before :meth:`start`."""
        return self._link

    @property
    def connected(self) -> bool:
        """True while both Ardour and the Codette server are connected."""
        return self.surface.connected and self._link is not None and self._link.connected

    def daw_context(self) -> Message:
        """The ``daw_context`` the bridge sends: the session, its tracks and levels, the selected track."""
        return self.session.daw_context()

    @property
    def status(self) -> str:
        """One line: Ardour's side, the server's side, and what the bridge is doing."""
        session = self.session
        if self.surface.connected:
            transport = "playing" if session.playing else "stopped"
            ardour = f"Ardour '{session.name}': {len(session.tracks())} tracks, {transport}"
        else:
            ardour = f"waiting for Ardour's OSC surface on {self.surface.ardour[0]}:{self.surface.ardour[1]}"
        link = self._link
        if link is not None and link.connected:
            server = f"connected to {self.url}"
        else:
            server = f"reconnecting to {self.url}" + (f" ({link.failure})" if link and link.failure else "")
        return f"{ardour} | {server} | {self.sent} sent; {self.activity}"

    def wait_for_tracks(self, timeout: float = 30.0) -> list[ArdourTrack]:
        """Block until Ardour has listed its tracks and the server is connected; the tracks."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected and self.session.listed:
                return self.tracks
            self._stop.wait(0.05)
        raise BridgeError(f"no Ardour session and server within {timeout:g} s: {self.status}")

    def next_answer(self, track: str | None = None, *, kind: str = "levels", timeout: float = 30.0) -> Answer:
        """Block until the server answers (about ``track``, of ``kind``) a request sent after this call; that
        answer. A request already on its way was answered by the rules as they were before the call (a rule
        changed in the cell before reaches only the next one)."""
        since = time.monotonic()
        deadline = since + timeout
        while time.monotonic() < deadline:
            for answer in reversed(list(self.answers)):
                if answer.received_at <= since:
                    break
                if answer.sent_at > since and answer.kind == kind and (track is None or answer.track == track):
                    return answer
            self._stop.wait(0.01)
        raise BridgeError(f"no {kind} answer{f' about {track!r}' if track else ''} within {timeout:g} s: {self.status}")

    def track_table(self) -> pd.DataFrame:
        """The tracks now, one row each: name, type, gain, mute/solo, selection, peak (Ardour's meter), RMS."""
        import pandas as pd

        rows = [
            {
                "track": t.name,
                "type": t.track_type,
                "gain_db": t.gain_db,
                "muted": t.muted,
                "soloed": t.soloed,
                "selected": t.selected,
                "peak_dbfs": t.meter_db,
                "rms_dbfs": t.rms_db,
                "files": len(t.files.paths) if t.files else 0,
            }
            for t in self.tracks
        ]
        return pd.DataFrame(rows).set_index("track") if rows else pd.DataFrame()

    def status_widget(self, every: float = 0.5) -> widgets.HTML:
        """The status line as a notebook widget, rewritten every ``every`` seconds while the bridge runs."""
        import ipywidgets as widgets

        line = widgets.HTML(value=f"<code>{html.escape(self.status)}</code>")

        def follow() -> None:
            while not self._stop.wait(every):
                line.value = f"<code>{html.escape(self.status)}</code>"

        threading.Thread(target=follow, name="codette-ardour-status", daemon=True).start()
        return line

    # -- asking -------------------------------------------------------------------------------------------

    def analyze(self, track: str, analysis_type: str = "quality", *, seconds: float | None = None) -> Future[Message]:
        """A full analysis of ``track``'s audio (the ``seconds`` before the playhead, read from the session's
        files and sent as the audio itself); the future's result is the server's reply."""
        found = self.session.track(track)
        if found is None:
            names = ", ".join(repr(t.name) for t in self.tracks) or "none listed yet"
            raise BridgeError(f"track: no track named {track!r} in the Ardour session (tracks: {names})")
        length = self.full_seconds if seconds is None else seconds
        return self._submit(lambda link: self._analyze_audio(link, found.name, analysis_type, length))

    def chat(self, message: str, *, perspective: str | None = None) -> Future[Message]:
        """Ask the server a question with the session as ``daw_context``; the future's result is the reply."""
        request: Message = {"type": "chat", "message": message, "daw_context": self.daw_context()}
        if perspective is not None:
            request["perspective"] = perspective
        return self._submit(lambda link: self._exchange(link, request, None, kind="chat", what=message, levels_at=None))

    def _submit(self, work: Callable[[CodetteLink], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._requests.put((work, future))
        return future

    # -- the worker thread ------------------------------------------------------------------------------------

    def _run(self) -> None:
        self._link = CodetteLink(self.url, self._name(), audio_as=self._audio_as)
        while not self._stop.is_set():
            if self.session.name is None:  # joins under the session's name, so the Monitor shows it
                self.activity = "waiting for Ardour to name its session"
                self._stop.wait(0.05)
                continue
            link = self._current_link()
            if not link.ensure():
                self.activity = "waiting for the server"
                self._stop.wait(0.1)
                continue
            try:
                work, future = self._requests.get_nowait()
            except queue.Empty:
                try:
                    self._periodic(link)
                except BridgeError as exc:  # the server went away mid-round, or a track's files went
                    self.activity = str(exc)
                except Exception as exc:  # our own bug: said and logged, and the bridge keeps Ardour connected
                    self.activity = f"error: {type(exc).__name__}: {exc}"
                    _log.exception("Ardour bridge: a round of analyses failed")
                continue
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(work(link))
                except Exception as exc:  # handed to the cell that asked, like any failed future
                    future.set_exception(exc)
        self.activity = "closed"

    def _name(self) -> str:
        return f"Ardour: {self.session.name or 'no session'}"

    def _current_link(self) -> CodetteLink:
        """The link, renewed (reconnected) when Ardour's session changed its name or :attr:`url` was changed."""
        link = self._link
        assert link is not None
        if (self.session.name and link.name != self._name()) or link.url != self.url:
            link.close()
            link = self._link = CodetteLink(self.url, self._name(), audio_as=self._audio_as)
        return link

    def _on_osc(self, address: str, args: list[Any]) -> None:
        """On the surface thread: a meter that moved :data:`JUMP_DB` since it was last sent wakes the worker."""
        if address != "/strip/meter" or len(args) != 2 or not isinstance(args[0], int):
            return
        sent = self._sent_peaks.get(args[0])
        if sent is not None and abs(float(args[1]) - sent) >= JUMP_DB:
            self._jumped.add(args[0])
            self._wake.set()

    def _periodic(self, link: CodetteLink) -> None:
        """The levels-only analyses (every track each tick, a track whose meter jumped at once), and the full
        ones when due; otherwise a short wait for something to do."""
        now = time.monotonic()
        if not (self.surface.connected and self.session.playing):
            self.activity = "idle: Ardour is stopped" if self.surface.connected else "idle: no Ardour"
            self._stop.wait(0.05)
            return
        if now >= self._next_levels:
            self._next_levels = now + self.levels_interval
            self._jumped.clear()
            for track in self.session.tracks():
                if track.sounding and not track.muted:
                    self._send_levels(link, track)
            self.activity = f"sending levels every {self.levels_interval:g} s"
        elif self._jumped:
            jumped, self._jumped = self._jumped, set()
            for track in self.session.tracks():
                if track.ssid in jumped and not track.muted:
                    self._send_levels(link, track)
        elif self.full_every is not None and now >= self._next_full:
            self._next_full = now + self.full_every
            for track in self.session.tracks():
                if track.sounding and not track.muted and track.files is not None:
                    self._analyze_audio(link, track.name, self.full_type, self.full_seconds)
        else:
            self._wake.wait(min(0.02, max(0.0, self._next_levels - now)))
            self._wake.clear()

    def _send_levels(self, link: CodetteLink, track: ArdourTrack) -> None:
        audio_data: Message = {"peak_level": round(track.meter_db or -120.0, 2)}
        self._sent_peaks[track.ssid] = track.meter_db or -120.0
        if track.files is not None:
            audio_data["sample_rate"] = track.files.sample_rate
            audio_data["duration"] = round(track.files.length / track.files.sample_rate, 3)
            try:
                rms = rms_db(excerpt(track.files, self.session.playhead(), RMS_WINDOW_S), track.gain_db)
            except BridgeError as exc:  # the peak still goes; the status line says why the RMS does not
                self.activity = str(exc)
                rms = None
            self.session.set_rms(track.ssid, rms)
            if rms is not None and rms_with_peak(rms, audio_data["peak_level"]):
                audio_data["rms_level"] = round(rms, 2)
        request = {
            "type": "analyze",
            "track_data": track.track_data(),
            "audio_data": audio_data,
            "analysis_type": self.levels_type,
        }
        self._exchange(link, request, track.name, kind="levels", what=self.levels_type, levels_at=track.meter_at)

    def _analyze_audio(self, link: CodetteLink, name: str, analysis_type: str, seconds: float) -> Message:
        track = self.session.track(name)
        if track is None or track.files is None:
            raise BridgeError(
                f"track: Ardour has not said where {name!r}'s audio is: install the Lua hook codette_tracks.lua "
                f"(README, 'Ardour, live')"
            )
        end = self.session.playhead()
        if end - track.files.position < seconds * track.files.sample_rate:  # early in the song: its start
            end = track.files.position + round(seconds * track.files.sample_rate)
        audio = excerpt(track.files, end, seconds)
        if audio.size == 0:
            raise BridgeError(f"track: {name!r} has no audio before the playhead")
        self.activity = f"analysing {name} ({analysis_type}, {len(audio) / track.files.sample_rate:.1f} s)"
        request = {"type": "analyze", "track_data": track.track_data(), "analysis_type": analysis_type}
        sent = time.monotonic()
        reply = link.analyze_audio(request, audio, track.files.sample_rate)
        if reply is None:
            raise BridgeError(f"the connection to {self.url} was lost while analysing {name!r}; ask again")
        self._keep(Answer(name, "audio", analysis_type, reply, None, sent, time.monotonic()))
        return reply

    def _exchange(
        self,
        link: CodetteLink,
        request: Message,
        track: str | None,
        *,
        kind: str,
        what: str,
        levels_at: float | None,
    ) -> Message:
        sent = time.monotonic()
        reply = link.request(request)
        if reply is None:
            raise BridgeError(f"the connection to {self.url} was lost; the bridge reconnects, ask again")
        self._keep(Answer(track, kind, what, reply, levels_at, sent, time.monotonic()))
        return reply

    def _keep(self, answer: Answer) -> None:
        self.sent += 1
        self.answers.append(answer)
        for callback in self._callbacks:
            try:
                callback(answer)
            except Exception:  # a notebook's callback must not stop the bridge
                self.activity = f"an on_answer callback raised on {answer.track}"
