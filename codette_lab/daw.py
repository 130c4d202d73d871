"""A DAW simulator: a client that connects to the Codette server and speaks its protocol like a DAW.

For notebooks, lessons and tests there is rarely a real DAW at hand. A
:class:`SimulatedDAW` opens ``ws://.../ws``, reads the welcome, and sends
the protocol's requests (``ping``, ``status``, ``chat``, ``analyze``) about
the tracks of a :class:`Session` (by default the demo session in
``data/``), returning each reply as a dict. Its API is synchronous (built on
``websockets.sync.client``), so a notebook cell calls it while the server
runs on its own thread: no asyncio in the caller's thread, no nest_asyncio.

Replies are returned as they come: an ``error`` reply is a dict of type
``"error"``, not an exception, so a lesson can show what the server says
about bad input (:meth:`SimulatedDAW.send_raw`). Only a connection that
cannot be opened, is lost or stays silent raises :class:`DAWConnectionError`
(naming the URL).

Keepalive follows the protocol document's best practice (a ping every 30 s,
a pong expected within 5 s); the sync client sends and answers WebSocket
ping frames on its own background thread, so an idle simulator in a notebook
stays connected between cells.

:func:`simulate_class` runs several student DAWs at once, each in its own
thread, for the mixing-class notebook.
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect

from .errors import CodetteError
from .protocol.timestamps import utc_timestamp

DEFAULT_URL = "ws://127.0.0.1:8000/ws"

#: The demo session that ``make data`` renders and the repository commits.
DEMO_SESSION = Path(__file__).resolve().parents[1] / "data" / "session.json"

#: Keepalive as the protocol document recommends: ping every 30 s, expect the pong within 5 s.
PING_INTERVAL_S = 30.0
PING_TIMEOUT_S = 5.0

#: Largest reply accepted (replies are small; this only guards against a runaway server).
MAX_REPLY_BYTES = 16 * 2**20

#: Levels of digital silence are reported at this floor (JSON has no -Infinity).
SILENCE_FLOOR_DBFS = -120.0

#: How many sent/received messages :attr:`SimulatedDAW.transcript` keeps (oldest dropped first).
TRANSCRIPT_LIMIT = 1000

#: Upper bound on :func:`simulate_class` students, so a typo cannot open thousands of sockets.
MAX_STUDENTS = 64

Message = dict[str, Any]

#: The simulator keeps its connection across cells, so it opens it directly, not in a ``with`` block;
#: websockets 17 wants that said with ``legacy=True`` (older versions have no such flag).
_DIRECT_CONNECTION = {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}


class DAWError(CodetteError):
    """The simulator was asked for something it cannot do (unknown track, unknown send mode, ...)."""


class DAWConnectionError(DAWError):
    """The server at the URL could not be reached, closed the connection, or did not answer in time."""


# -- the session: tracks and their audio -----------------------------------------------------------


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
    """A file's audio as :func:`codette_lab.analyze` takes it: float32, (n,) mono or (channels, n)."""
    y, sr = sf.read(path, dtype="float32")
    return (np.ascontiguousarray(y.T) if y.ndim == 2 else y), sr


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
        """Read a session file (default: the demo session ``data/session.json``)."""
        source = Path(path) if path is not None else DEMO_SESSION
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


# -- what analyze sends as audio_data -----------------------------------------------------------------


def _excerpt(track: Track, seconds: float | None) -> tuple[np.ndarray, int]:
    y, sr = track.audio()
    return (y[..., : round(seconds * sr)], sr) if seconds is not None else (y, sr)


def _levels_payload(track: Track, seconds: float | None) -> Message:
    """The document's levels only: peak, RMS, duration, sample rate."""
    if seconds is None:
        return track.levels()
    return audio_levels(*_excerpt(track, seconds))


def _samples_payload(track: Track, seconds: float | None) -> Message:
    """Levels plus the audio itself: base64 of interleaved little-endian float32, with channels."""
    y, sr = _excerpt(track, seconds)
    channels = 1 if y.ndim == 1 else y.shape[0]
    pcm = np.ascontiguousarray(y.T, dtype="<f4").tobytes()  # (n, channels) rows: interleaved frames
    return {**audio_levels(y, sr), "samples": base64.b64encode(pcm).decode("ascii"), "channels": channels}


def _path_payload(track: Track, seconds: float | None) -> Message:
    """Levels plus the file's absolute path, for a server that may read it (under its audio roots)."""
    if seconds is not None:
        raise DAWError("analyze(send='path') sends the whole file: 'seconds' applies only to 'levels' and 'samples'")
    return {**track.levels(), "file_path": str(track.file)}


AUDIO_PAYLOADS: dict[str, Callable[[Track, float | None], Message]] = {
    "levels": _levels_payload,
    "samples": _samples_payload,
    "path": _path_payload,
}


# -- the simulator -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptEntry:
    """One message the simulator sent or received: its JSON value (a dict for protocol messages), or
    the raw text of a frame that was not JSON."""

    direction: str  # "sent" or "received"
    message: Any
    timestamp: str


class SimulatedDAW:
    """A DAW connected to the Codette server: chat about the session's tracks, analyse them.

    ``session`` is a :class:`Session`, a path to a session file, or None for
    the demo session; ``timeout`` bounds the connection handshake and each
    wait for a reply (seconds). Use as a context manager, or call
    :meth:`connect` and :meth:`close`. Calls are serialised by a lock, so
    a widget callback and a cell never interleave their requests.

    If the server closed the connection (a restarted Lab, say), the next
    request reconnects first, up to ``reconnect_attempts`` times with a
    doubling delay, as the document's client does; a request is never sent
    twice.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        session: Session | str | PathLike[str] | None = None,
        name: str = "DAW",
        timeout: float = 10.0,
        reconnect_attempts: int = 5,
    ) -> None:
        self.url = url
        self.name = name
        self.timeout = timeout
        self.reconnect_attempts = reconnect_attempts
        self.session = session if isinstance(session, Session) else Session.load(session)
        self.selected: Track | None = self.session.selected
        self.welcome: Message | None = None
        self._connection: ClientConnection | None = None
        self._transcript: deque[TranscriptEntry] = deque(maxlen=TRANSCRIPT_LIMIT)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        return f"<SimulatedDAW {self.name!r} {self.url} {state}, session {self.session.title!r}>"

    def __enter__(self) -> SimulatedDAW:
        if not self.connected:
            self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- connection lifecycle ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the WebSocket is open (the server may still close it at any moment)."""
        connection = self._connection
        return connection is not None and connection.state is State.OPEN

    @property
    def transcript(self) -> list[TranscriptEntry]:
        """Every message sent and received, oldest first (the last TRANSCRIPT_LIMIT of them)."""
        return list(self._transcript)

    def connect(self) -> Message:
        """Open the connection and read the welcome (kept as :attr:`welcome`, and returned)."""
        with self._lock:
            self._drop_connection()
            try:
                connection = connect(
                    self.url,
                    open_timeout=self.timeout,
                    close_timeout=self.timeout,
                    ping_interval=PING_INTERVAL_S,
                    ping_timeout=PING_TIMEOUT_S,
                    compression=None,  # audio frames are large and local: deflate would only cost time
                    max_size=MAX_REPLY_BYTES,
                    proxy=None,
                    **_DIRECT_CONNECTION,
                )
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
                raise DAWConnectionError(f"{self.name}: cannot connect to {self.url}: {_describe(exc)}") from None
            self._connection = connection
            welcome = self._receive(after="the connection")
            if not isinstance(welcome, dict) or welcome.get("type") != "connection":
                self._drop_connection()
                raise DAWConnectionError(
                    f"{self.name}: {self.url} did not greet with a 'connection' message, it sent {welcome!r}"
                )
            self.welcome = welcome
            return welcome

    def close(self) -> None:
        """Close the connection (normal closure, 1000). Safe to call twice."""
        with self._lock:
            self._drop_connection()

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    # -- the protocol's requests ------------------------------------------------------------------------

    def ping(self) -> Message:
        """``ping`` -> ``pong``."""
        return self.request({"type": "ping"})

    def status(self) -> Message:
        """``status`` -> ``status_response`` (connections, memory size, engine)."""
        return self.request({"type": "status"})

    def chat(
        self, message: str, *, perspective: str | None = None, daw_context: Mapping[str, Any] | None = None
    ) -> Message:
        """``chat`` -> ``chat_response``. Sends the session's context (tracks, selected track) unless given one."""
        request: Message = {"type": "chat", "message": message}
        if perspective is not None:
            request["perspective"] = perspective
        request["daw_context"] = dict(daw_context) if daw_context is not None else self.daw_context()
        return self.request(request)

    def select(self, track: str | Track) -> Track:
        """Select a track (by id, name or type), as clicking it in the DAW would; later chats mention it."""
        self.selected = self.session.track(track)
        return self.selected

    def daw_context(self) -> Message:
        """The ``daw_context`` this DAW sends with a chat: the session's tracks and the selected one."""
        return self.session.daw_context(self.selected)

    def analyze(
        self,
        track: str | Track | None = None,
        *,
        analysis_type: str = "spectrum",
        send: str = "levels",
        other: str | Track | None = None,
        seconds: float | None = None,
    ) -> Message:
        """``analyze`` -> ``analysis_response`` for a track (default: the selected one).

        ``send`` chooses what goes in ``audio_data``: ``"levels"`` (the
        document's peak/RMS/duration/sample rate, measured from the stem),
        ``"samples"`` (levels plus the audio as base64 float32, with
        ``channels``) or ``"path"`` (levels plus the stem's ``file_path``, for
        a server whose audio roots include it). ``other`` adds a second track
        as ``other_track`` (for ``masking``), sent the same way. ``seconds``
        sends only the first seconds of the audio.
        """
        payload = AUDIO_PAYLOADS.get(send)
        if payload is None:
            raise DAWError(f"analyze(send={send!r}): expected one of {', '.join(map(repr, AUDIO_PAYLOADS))}")
        chosen = self._target(track)
        request: Message = {
            "type": "analyze",
            "track_data": chosen.track_data(),
            "audio_data": payload(chosen, seconds),
            "analysis_type": analysis_type,
        }
        if other is not None:
            second = self.session.track(other)
            request["other_track"] = {"track_data": second.track_data(), "audio_data": payload(second, seconds)}
        return self.request(request)

    def send_raw(self, text: str) -> Message:
        """Send any text frame as is (bad JSON, unknown types, ...) and return the server's reply."""
        return self._exchange(text)

    def request(self, message: Mapping[str, Any]) -> Message:
        """Send one protocol message and return the server's reply to it."""
        return self._exchange(json.dumps(message))

    # -- plumbing ---------------------------------------------------------------------------------------

    def _target(self, track: str | Track | None) -> Track:
        if track is not None:
            return self.session.track(track)
        if self.selected is None:
            raise DAWError(f"{self.name}: analyze() needs a track: none given and none selected")
        return self.selected

    def _exchange(self, text: str) -> Message:
        """Send ``text`` (reconnecting first if the server had closed) and return the next reply."""
        sent = _parsed(text)
        kind = sent.get("type") if isinstance(sent, dict) else None
        with self._lock:
            self._send(text)
            self._record("sent", sent)
            return self._receive(after=f"a '{kind}' request" if isinstance(kind, str) else "a raw message")

    def _send(self, text: str) -> None:
        """Send one frame, (re)connecting first when the connection is gone, with a doubling delay."""
        failure: DAWConnectionError | None = None
        for attempt in range(self.reconnect_attempts + 1):
            try:
                if not self.connected:
                    if attempt:
                        time.sleep(min(0.1 * 2**attempt, 2.0))
                    self.connect()
                self._connection.send(text)
                return
            except ConnectionClosed:
                self._connection = None  # closed before this frame left: safe to send it again
            except DAWConnectionError as exc:
                failure = exc
        raise failure or DAWConnectionError(
            f"{self.name}: the connection to {self.url} keeps closing ({self.reconnect_attempts} reconnects tried)"
        )

    def _receive(self, *, after: str) -> Message:
        connection = self._connection
        if connection is None:
            raise DAWConnectionError(f"{self.name}: not connected to {self.url}")
        try:
            text = connection.recv(timeout=self.timeout)
        except TimeoutError:
            self._drop_connection()  # a late reply would be taken for the next request's: start afresh
            raise DAWConnectionError(
                f"{self.name}: no reply from {self.url} within {self.timeout:g} s after {after}"
            ) from None
        except ConnectionClosed as exc:
            self._connection = None
            raise DAWConnectionError(
                f"{self.name}: {self.url} closed the connection while we waited for a reply to {after} "
                f"(code {exc.rcvd.code if exc.rcvd else 'none'})"
            ) from None
        reply = _parsed(text)
        self._record("received", reply)
        return reply

    def _record(self, direction: str, message: Any) -> None:
        self._transcript.append(TranscriptEntry(direction, message, utc_timestamp()))


def _parsed(text: str | bytes) -> Any:
    """A frame's JSON value, or the frame itself when it is not JSON (raw messages sent on purpose)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# -- a class of students ------------------------------------------------------------------------------

#: What simulated students ask, drawn at random (seeded) by :func:`simulate_class`.
CLASS_QUESTIONS = (
    "How should I EQ this vocal?",
    "Why does my mix sound muddy?",
    "How much compression should I put on the bass?",
    "How do I make the kick and bass sit together?",
    "What reverb works on a lead vocal?",
    "How loud should my master be for streaming?",
    "How do I get rid of rumble on a voice recording?",
    "Should I pan the keys?",
    "How much headroom should I leave on each track?",
    "How do I make the drums punchier?",
)

#: The analysis types simulated students ask for by default.
CLASS_ANALYSES = ("spectrum", "dynamics", "loudness")


@dataclass
class StudentResult:
    """What one simulated student asked, analysed and got back.

    ``asked`` are its questions and ``analysed`` its ``"Track: type"``
    analyses; ``errors`` holds the texts of failures and error replies.
    """

    name: str
    asked: list[str] = field(default_factory=list)
    analysed: list[str] = field(default_factory=list)
    replies: list[Message] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.replies)


def _student(
    url: str,
    name: str,
    rng: np.random.Generator,
    *,
    session: Session,
    questions: int,
    analyses: int,
    question_bank: Sequence[str],
    analysis_types: Sequence[str],
    send: str,
    timeout: float,
    deadline: float,
) -> StudentResult:
    """One student: connect, ask ``questions`` questions about a random track, analyse ``analyses`` stems."""
    started = time.monotonic()
    picks = rng.choice(len(question_bank), size=min(questions, len(question_bank)), replace=False)
    result = StudentResult(name, asked=[question_bank[index] for index in picks])
    steps: list[Callable[[SimulatedDAW], Message]] = [lambda daw, q=question: daw.chat(q) for question in result.asked]
    for _ in range(analyses):
        track = session.tracks[int(rng.integers(len(session.tracks)))]
        kind = analysis_types[int(rng.integers(len(analysis_types)))]
        result.analysed.append(f"{track.track_name}: {kind}")
        steps.append(lambda daw, t=track, k=kind: daw.analyze(t, analysis_type=k, send=send))
    try:
        with SimulatedDAW(url, session=session, name=name, timeout=timeout, reconnect_attempts=0) as daw:
            daw.select(session.tracks[int(rng.integers(len(session.tracks)))])
            for step in steps:
                if time.monotonic() > deadline:
                    result.errors.append(f"{name}: stopped at the class's time limit")
                    break
                reply = step(daw)
                result.replies.append(reply)
                if reply.get("type") == "error":
                    result.errors.append(f"{name}: server error: {reply.get('message')}")
    except CodetteError as exc:
        result.errors.append(str(exc))
    result.elapsed_s = time.monotonic() - started
    return result


def simulate_class(
    url: str = DEFAULT_URL,
    *,
    students: int = 5,
    questions: int = 2,
    analyses: int = 1,
    seed: int = 0,
    question_bank: Sequence[str] = CLASS_QUESTIONS,
    analysis_types: Sequence[str] = CLASS_ANALYSES,
    send: str = "levels",
    session: Session | str | PathLike[str] | None = None,
    timeout: float = 10.0,
    time_limit: float = 60.0,
) -> list[StudentResult]:
    """Several student DAWs on one server at once, each in its own thread; returns one result per student.

    Each student connects, selects a track, asks ``questions`` questions
    drawn from ``question_bank`` and runs ``analyses`` analyses of random
    stems (types from ``analysis_types``, audio sent as ``send``), then
    disconnects. Draws are seeded (``seed``), so a class is repeatable. No
    student starts a request after ``time_limit`` seconds, and each request
    waits at most ``timeout`` seconds: the call always returns. Failures end
    up in each result's ``errors``, they are not raised.
    """
    if not 1 <= students <= MAX_STUDENTS:
        raise DAWError(f"simulate_class(students={students}): expected 1 to {MAX_STUDENTS}")
    if send not in AUDIO_PAYLOADS:
        raise DAWError(f"simulate_class(send={send!r}): expected one of {', '.join(map(repr, AUDIO_PAYLOADS))}")
    if questions < 0 or analyses < 0 or not (question_bank or not questions) or not (analysis_types or not analyses):
        raise DAWError("simulate_class: questions and analyses must be >= 0, with a bank to draw them from")
    shared = session if isinstance(session, Session) else Session.load(session)
    deadline = time.monotonic() + time_limit
    options = dict(
        session=shared,
        questions=questions,
        analyses=analyses,
        question_bank=question_bank,
        analysis_types=analysis_types,
        send=send,
        timeout=timeout,
        deadline=deadline,
    )
    with ThreadPoolExecutor(max_workers=students, thread_name_prefix="codette-student") as pool:
        futures = [
            pool.submit(_student, url, f"student_{index + 1}", np.random.default_rng([seed, index]), **options)
            for index in range(students)
        ]
        wait(futures)
    return [future.result() for future in futures]
