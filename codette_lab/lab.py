"""The notebook facade: run the Codette server inside a Jupyter kernel and reshape it live.

A :class:`Lab` owns one :class:`~codette_lab.engine.Engine` and serves it
with a :class:`~codette_lab.server.BackgroundServer`, whose event loop runs
on its own thread, so the server keeps answering while cells compute.
Everything a cell changes (perspectives, analysis types, rules) lives in the
engine's swappable tables, so a connected DAW's very next request sees it;
nothing here reaches into the server's loop except through the server's
thread-safe hand-offs.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis import warm_up as warm_up_analysis
from .analysis_types import Analysis, analyze, run_analysis
from .chat import ChatReply
from .engine import NOTEBOOK_SESSION, Engine, Job
from .errors import RequestError, ServerError
from .protocol import AnalyzeRequest, AudioData, Request, TrackData, replies
from .registry import Entry, Registry
from .rules import RuleSet
from .server import BackgroundServer, ConnectionInfo, ServerEvent

if TYPE_CHECKING:
    from .daw import SimulatedDAW
    from .widgets import LabPanel

logger = logging.getLogger("codette_lab.lab")

#: How many server events :attr:`Lab.events` keeps (oldest dropped first).
DEFAULT_EVENT_LIMIT = 500

#: How many recent DAW analyze requests with audio the Lab keeps for the Analysis panel.
RECENT_AUDIO_LIMIT = 5

#: How much base64 sample text those requests may hold in all (bytes; the oldest are dropped first).
#: A DAW may send frames of hundreds of MB: one whose samples alone exceed this is not kept at all,
#: since without its samples the panel would have nothing to plot.
RECENT_AUDIO_BYTES = 64 * 1024 * 1024

#: Sample rates whose analysis set-up :meth:`Lab.warm_up` prepares.
WARM_UP_RATES = (44100, 48000)

#: Event kinds that report a failure; their ``traceback`` is shown in the Monitor panel.
ERROR_KINDS = frozenset({"error", "user_error"})

UserFunction = Callable[..., Any]


class EventLog:
    """A bounded, thread-safe log of :class:`ServerEvent` (written on the server thread, read in cells).

    Subscribers are called on the thread that appends (the server's): they must
    return at once, so the widgets only schedule a refresh on the kernel's thread.
    """

    def __init__(self, *, limit: int = DEFAULT_EVENT_LIMIT) -> None:
        self._events: deque[ServerEvent] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._subscribers: tuple[Callable[[ServerEvent], None], ...] = ()
        self._count = 0

    @property
    def limit(self) -> int:
        return self._events.maxlen or 0

    @property
    def total(self) -> int:
        """How many events were ever appended (the log itself keeps the last ``limit``)."""
        return self._count

    def append(self, event: ServerEvent) -> None:
        with self._lock:
            self._events.append(event)
            self._count += 1
        for subscriber in self._subscribers:
            subscriber(event)

    def subscribe(self, callback: Callable[[ServerEvent], None]) -> None:
        """Call ``callback(event)`` on every new event (on the appending thread; it must not block)."""
        self._subscribers = (*self._subscribers, callback)

    def unsubscribe(self, callback: Callable[[ServerEvent], None]) -> None:
        self._subscribers = tuple(s for s in self._subscribers if s != callback)

    def snapshot(self) -> list[ServerEvent]:
        """The events kept, oldest first (a copy, safe to iterate while the server appends)."""
        with self._lock:
            return list(self._events)

    def errors(self) -> list[ServerEvent]:
        """The failures kept, oldest first: protocol errors and exceptions from notebook functions."""
        return [event for event in self.snapshot() if event.kind in ERROR_KINDS]

    def last_error(self) -> ServerEvent | None:
        errors = self.errors()
        return errors[-1] if errors else None

    def of_kind(self, *kinds: str) -> list[ServerEvent]:
        return [event for event in self.snapshot() if event.kind in kinds]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def __iter__(self) -> Iterator[ServerEvent]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        return len(self._events)

    def __repr__(self) -> str:
        return f"EventLog({len(self)} of {self.total} events kept, {len(self.errors())} errors)"


@dataclass(frozen=True)
class RecentAudio:
    """An ``analyze`` request a DAW sent with audio (samples or a file path), kept for the Analysis panel."""

    request: AnalyzeRequest
    session: str
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def sample_bytes(self) -> int:
        """The size of the base64 sample text this request holds (its own and its ``other_track``'s)."""
        audios = [self.request.audio]
        if self.request.other_track is not None:
            audios.append(self.request.other_track.audio)
        return sum(len(audio.samples or "") for audio in audios)

    @property
    def label(self) -> str:
        track = self.request.track
        source = "file" if self.request.audio.file_path else "samples"
        return (
            f"{self.received_at:%H:%M:%S} {self.session}: {track.track_name or track.track_id} "
            f"({track.track_type or 'audio'}, {source})"
        )


class LabEngine(Engine):
    """The engine a Lab serves: the standard one, remembering the last DAW requests that carried audio.

    The Analysis panel offers them next to the files of ``data/``, so a
    teacher can plot exactly what a student's DAW just sent. At most
    ``recent_limit`` requests are kept, holding at most ``recent_bytes`` of
    sample text in all (oldest dropped first); a request whose samples alone
    exceed ``recent_bytes`` is not kept.
    """

    def __init__(
        self,
        *,
        recent_limit: int = RECENT_AUDIO_LIMIT,
        recent_bytes: int = RECENT_AUDIO_BYTES,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.recent_limit = recent_limit
        self.recent_bytes = recent_bytes
        self._recent: tuple[RecentAudio, ...] = ()  # swapped whole under the lock, read without it
        self._recent_lock = threading.Lock()

    def handle(
        self, request: Request | Job, *, session: str = NOTEBOOK_SESSION, active_connections: int = 0
    ) -> replies.Message:
        job = request if isinstance(request, Job) else self.prepare(request)
        analyzed = job.request
        if isinstance(analyzed, AnalyzeRequest) and analyzed.audio.has_audio and session != NOTEBOOK_SESSION:
            self._remember(RecentAudio(analyzed, session))
        return super().handle(job, session=session, active_connections=active_connections)

    def _remember(self, item: RecentAudio) -> None:
        """Keep ``item`` within both bounds (called on server worker threads, possibly several at once)."""
        if item.sample_bytes > self.recent_bytes:
            logger.info("Not keeping %s for the Analysis panel: %d bytes of samples", item.label, item.sample_bytes)
            return
        with self._recent_lock:
            kept = [*self._recent, item][-self.recent_limit :] if self.recent_limit > 0 else []
            while sum(recent.sample_bytes for recent in kept) > self.recent_bytes:
                kept.pop(0)
            self._recent = tuple(kept)

    def recent_audio(self) -> list[RecentAudio]:
        """The last DAW analyze requests with audio, newest first."""
        return list(reversed(self._recent))


class Lab:
    """The Codette server in a notebook: start it, then change how it answers while DAWs stay connected.

    ``rules`` is a :class:`RuleSet`, a path to an exported rule file, or None
    for the built-in rules; ``audio_roots`` are the folders an ``analyze``
    request may read files from (default: the project's ``data/``);
    ``request_timeout`` is the per-request time limit (seconds) for functions
    defined in the notebook (perspectives, analysis types); built-in analyses
    are never cut short. ``allowed_origins`` widens the WebSocket Origin check
    beyond localhost pages.
    """

    def __init__(
        self,
        port: int = 8000,
        *,
        host: str = "127.0.0.1",
        rules: RuleSet | str | PathLike[str] | None = None,
        audio_roots: Iterable[str | PathLike[str]] | None = None,
        request_timeout: float = 5.0,
        allowed_origins: Iterable[str] = (),
        event_limit: int = DEFAULT_EVENT_LIMIT,
        warm_up: bool = True,
    ) -> None:
        self.engine = LabEngine(rules=rules, audio_roots=audio_roots)
        self.host = host
        self.request_timeout = request_timeout
        self.allowed_origins = tuple(allowed_origins)
        self.events = EventLog(limit=event_limit)
        self._port = port
        self._warm_up_on_start = warm_up
        self._server: BackgroundServer | None = None
        self._daws: list[SimulatedDAW] = []
        self._definition_listeners: tuple[Callable[[str, str], None], ...] = ()
        self._builtins = {
            "perspective": _entries(self.engine.perspectives),
            "analysis type": _entries(self.engine.analysis_types),
        }

    # -- the server ---------------------------------------------------------------

    def start(self) -> Lab:
        """Start serving ``ws://host:port/ws``; returns as soon as the port listens.

        Re-running the cell (or a new Lab on the same port, whatever host
        either names) replaces the server this kernel already runs there;
        connected DAWs reconnect to the new one. A port held by another
        process raises PortInUseError.
        """
        if self._server is not None and self._server.running:
            return self
        server = BackgroundServer(
            self.engine,
            host=self.host,
            port=self._port,
            request_timeout=self.request_timeout,
            allowed_origins=self.allowed_origins,
        )
        server.add_listener(self.events.append)
        server.start()
        self._server = server
        if self._warm_up_on_start:
            self.warm_up()
        return self

    def warm_up(self, *, wait: bool = False, timeout: float | None = None) -> None:
        """Load the audio analysis stack (librosa, compiled kernels) on a background thread, once per process.

        The first analysis of real audio in a fresh kernel pays a few seconds
        of imports and compilation (:func:`codette_lab.analysis.warm_up`, for
        each of ``WARM_UP_RATES``); doing it as soon as the server starts keeps
        a DAW's first ``analyze`` (and a notebook analysis type's first
        ``request.measure``, which the time limit does cover) from paying it.
        ``start()`` calls this (unless ``warm_up=False``); ``wait=True`` blocks
        until it is done.
        """
        global _warm_up_thread
        with _warm_up_lock:
            if _warm_up_thread is None:
                _warm_up_thread = threading.Thread(target=_warm_up_analysis, name="codette-warm-up", daemon=True)
                _warm_up_thread.start()
            thread = _warm_up_thread
        if wait:
            thread.join(timeout)

    def stop(self) -> None:
        """Close the simulated DAWs and every connection (1001) and free the port."""
        for daw in self._daws:
            daw.close()
        self._daws.clear()
        if self._server is not None:
            self._server.stop()

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def port(self) -> int:
        """The port served (the one asked for, or the one the system chose for port 0)."""
        return self._server.port if self._server is not None else self._port

    @property
    def url(self) -> str:
        """``ws://host:port/ws``, where a DAW connects."""
        return self._server.url if self._server is not None else f"ws://{self.host}:{self._port}/ws"

    @property
    def server(self) -> BackgroundServer:
        """The BackgroundServer (for its thread-safe hand-offs ``call_soon`` and ``run_coroutine``)."""
        if self._server is None:
            raise ServerError("The Lab is not started: call lab.start() first")
        return self._server

    def connections(self) -> list[ConnectionInfo]:
        """The connections open right now (empty when the server is not running)."""
        return list(self._server.connections()) if self.running else []

    @property
    def active_connections(self) -> int:
        return self._server.active_connections if self.running else 0

    # -- what answers -------------------------------------------------------------

    @property
    def rules(self) -> RuleSet:
        """The engine's tunable heuristics: ``lab.rules["vocal.highpass_hz"] = 100`` applies to the next request."""
        return self.engine.rules

    def perspective(
        self,
        name: str | UserFunction,
        function: UserFunction | None = None,
        *,
        description: str = "",
        aliases: Iterable[str] = (),
    ) -> Any:
        """Define (or redefine) a chat perspective; usable as ``@lab.perspective("name")``.

        The function receives a ChatContext (``.message``, ``.perspective``,
        ``.daw_context``, ``.memory``, ...) and returns a string, a dict with
        ``response`` and ``confidence``, or a ChatReply. The next chat naming
        it, from any connected DAW, is answered by it.
        """
        return self._define(self.engine.perspectives, name, function, description=description, aliases=aliases)

    def analysis(
        self,
        name: str | UserFunction,
        function: UserFunction | None = None,
        *,
        description: str = "",
        aliases: Iterable[str] = (),
    ) -> Any:
        """Define (or redefine) an analysis type; usable as ``@lab.analysis("name")``.

        The function receives a TrackRequest (``.track``, ``.levels``,
        ``.samples`` and ``.sample_rate`` when audio was sent, ``.measure(...)``)
        and returns an Analysis or a dict with any of ``insights``,
        ``suggestions``, ``quality_score``, ``metrics``.
        """
        return self._define(self.engine.analysis_types, name, function, description=description, aliases=aliases)

    def remove_perspective(self, name: str) -> None:
        """Remove a notebook perspective; one that replaced a built-in gives the built-in back."""
        self._remove(self.engine.perspectives, name)

    def remove_analysis(self, name: str) -> None:
        """Remove a notebook analysis type; one that replaced a built-in gives the built-in back."""
        self._remove(self.engine.analysis_types, name)

    def perspectives(self) -> list[str]:
        return self.engine.perspectives.names()

    def analysis_types(self) -> list[str]:
        return self.engine.analysis_types.names()

    def _define(
        self,
        registry: Registry,
        name: str | UserFunction,
        function: UserFunction | None,
        *,
        description: str,
        aliases: Iterable[str],
    ) -> Any:
        if callable(name) and function is None:  # bare @lab.perspective
            function, name = name, name.__name__
        aliases = tuple(aliases)

        def register(fn: UserFunction) -> UserFunction:
            entry = registry.register(name, fn, description=description, aliases=aliases)
            self._definitions_changed(registry.kind, entry.name)
            return fn

        return register(function) if function is not None else register

    def _remove(self, registry: Registry, name: str) -> None:
        entry = registry.resolve(name)
        if entry.builtin:
            raise RequestError(
                f"{entry.label} is built in and cannot be removed; define a {registry.kind} "
                f"named '{entry.name}' to replace it"
            )
        builtin = self._builtins[registry.kind].get(entry.name)
        if builtin is None:
            registry.unregister(entry.name)
        else:
            registry.register(
                builtin.name,
                builtin.function,
                description=builtin.description,
                aliases=builtin.aliases,
                builtin=True,
                **builtin.options,
            )
        self._definitions_changed(registry.kind, entry.name)

    def add_definition_listener(self, callback: Callable[[str, str], None]) -> None:
        """Call ``callback(kind, name)`` after a perspective or analysis type is defined or removed."""
        self._definition_listeners = (*self._definition_listeners, callback)

    def remove_definition_listener(self, callback: Callable[[str, str], None]) -> None:
        self._definition_listeners = tuple(c for c in self._definition_listeners if c != callback)

    def _definitions_changed(self, kind: str, name: str) -> None:
        for callback in self._definition_listeners:
            callback(kind, name)

    # -- asking the engine directly (no socket) -------------------------------------

    def chat(
        self,
        message: str,
        *,
        perspective: str | None = None,
        daw_context: Mapping[str, Any] | None = None,
    ) -> ChatReply:
        """The answer a DAW would get to this chat, computed in this cell."""
        return self.engine.chat(message, perspective=perspective, daw_context=daw_context)

    def analyze(
        self,
        y: Any,
        sr: float,
        *,
        kind: str = "quality",
        track_type: str = "audio",
        track_name: str | None = None,
        **options: Any,
    ) -> Analysis:
        """Analyse an array ((n,) mono or (channels, n)) with this Lab's rules and analysis types.

        The same as :func:`codette_lab.analyze`, but notebook-defined types and
        tuned rules apply; ``options`` (``target``, ``other``, ...) are passed on.
        """
        return analyze(
            y,
            sr,
            kind=kind,
            track_type=track_type,
            track_name=track_name,
            rules=self.engine.rules,
            analysis_types=self.engine.analysis_types,
            **options,
        )

    def analyze_file(
        self,
        path: str | PathLike[str],
        *,
        kind: str = "quality",
        track_type: str | None = None,
        track_name: str | None = None,
    ) -> Analysis:
        """Analyse an audio file under the audio roots, exactly as a DAW's ``file_path`` request would be."""
        name = track_name or Path(path).stem
        request = AnalyzeRequest(
            track=TrackData(track_id=name, track_name=name, track_type=track_type),
            audio=AudioData(file_path=str(Path(path).resolve())),
            analysis_type=kind,
        )
        return run_analysis(
            request,
            analysis_types=self.engine.analysis_types,
            rules=self.engine.rules,
            audio_roots=self.engine.audio_roots,
        )

    # -- clients and panels ---------------------------------------------------------

    def simulate_daw(self, **options: Any) -> SimulatedDAW:
        """A DAW simulator connected to this Lab (closed by :meth:`stop`); options go to SimulatedDAW."""
        from .daw import SimulatedDAW

        daw = SimulatedDAW(self.url, **options)
        daw.connect()
        self._daws.append(daw)
        return daw

    def simulate_class(self, *, students: int = 4, **options: Any) -> Any:
        """Several student DAWs on this Lab at once (see :func:`codette_lab.daw.simulate_class`)."""
        from .daw import simulate_class

        return simulate_class(self.url, students=students, **options)

    def panel(self) -> LabPanel:
        """The ipywidgets UI: Chat, Monitor, Analysis and Rules tabs over this Lab."""
        from .widgets import LabPanel

        return LabPanel(self)

    def __repr__(self) -> str:
        state = f"serving {self.url}" if self.running else "stopped"
        return (
            f"Lab({state}, {self.active_connections} connections, "
            f"{len(self.perspectives())} perspectives, {len(self.analysis_types())} analysis types)"
        )


_warm_up_thread: threading.Thread | None = None
_warm_up_lock = threading.Lock()


def _warm_up_analysis() -> None:
    """The warm-up thread: :func:`codette_lab.analysis.warm_up` for each common sample rate.

    Best effort: if it fails, the first real request reports the same problem to whoever sent it.
    """
    try:
        for rate in WARM_UP_RATES:
            warm_up_analysis(rate)
    except Exception:
        logger.warning("Warming up the audio analysis failed", exc_info=True)


def _entries(registry: Registry) -> dict[str, Entry]:
    return {entry.name: entry for entry in registry}
