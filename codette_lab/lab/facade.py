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

from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..analysis_types import AnalysisResult, analyze, answer_analyze
from ..audio_input import AudioRoots
from ..chat import ChatReply
from ..engine import Engine
from ..errors import ServerError
from ..protocol import AnalyzeRequest, AudioData, TrackData
from ..rules import RuleSet
from ..server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT,
    BackgroundServer,
    ConnectionInfo,
    websocket_url,
)
from ..server.events import DEFAULT_EVENT_LIMIT, EventLog
from .definitions import DefinitionListener, Definitions, UserFunction
from .recent_audio import ReceivedAudio, RecentAudio
from .warm_up import warm_up_in_background

if TYPE_CHECKING:
    from ..daw import SimulatedDAW, StudentResult
    from ..widgets import LabPanel


class Lab:
    """The Codette server in a notebook: start it, then change how it answers while DAWs stay connected.

    ``rules`` is a :class:`RuleSet`, a path to an exported rule file, or None
    for the built-in rules; ``audio_roots`` are the folders an ``analyze``
    request may read files from (default: the demo session's folder);
    ``request_timeout`` is the per-request time limit (seconds) for functions
    defined in the notebook (perspectives, analysis types); built-in analyses
    are never cut short. ``allowed_origins`` widens the WebSocket Origin check
    beyond localhost pages.
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        host: str = DEFAULT_HOST,
        rules: RuleSet | str | PathLike[str] | None = None,
        audio_roots: Iterable[str | PathLike[str]] | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        allowed_origins: Iterable[str] = (),
        event_limit: int = DEFAULT_EVENT_LIMIT,
        warm_up: bool = True,
    ) -> None:
        self.engine = Engine(rules=rules, audio_roots=audio_roots)
        self.host = host
        self.request_timeout = request_timeout
        self.allowed_origins = tuple(allowed_origins)
        self.events = EventLog(limit=event_limit)
        #: The last DAW analyze requests with audio (a hook on the engine), for the Analysis panel.
        self.recent = RecentAudio()
        self.engine.add_request_hook(self.recent)
        self._port = port
        self._warm_up_on_start = warm_up
        self._server: BackgroundServer | None = None
        self._daws: list[SimulatedDAW] = []
        self._definitions = Definitions()

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
        """Load the audio analysis stack on a background thread, once per process (see :mod:`.warm_up`).

        ``start()`` calls this (unless ``warm_up=False``); ``wait=True`` blocks until it is done.
        """
        thread = warm_up_in_background()
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
        return self._server.url if self._server is not None else websocket_url(self.host, self._port)

    @property
    def server(self) -> BackgroundServer:
        """The BackgroundServer (for its thread-safe hand-offs ``call_soon`` and ``run_coroutine``)."""
        if self._server is None:
            raise ServerError("The Lab is not started: call lab.start() first")
        return self._server

    def connections(self) -> list[ConnectionInfo]:
        """The connections open right now (empty when the server is not running)."""
        server = self._server
        return list(server.connections()) if server is not None and server.running else []

    @property
    def active_connections(self) -> int:
        server = self._server
        return server.active_connections if server is not None and server.running else 0

    # -- what answers -------------------------------------------------------------

    @property
    def rules(self) -> RuleSet:
        """The engine's tunable heuristics: ``lab.rules["vocal.highpass_hz"] = 100`` applies to the next request."""
        return self.engine.rules

    @property
    def audio_roots(self) -> AudioRoots:
        """The folders whose audio files ``analyze`` requests (and :meth:`analyze_file`) may read."""
        return self.engine.audio_roots

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
        return self._definitions.define(
            self.engine.perspectives, name, function, description=description, aliases=aliases
        )

    def analysis_type(
        self,
        name: str | UserFunction,
        function: UserFunction | None = None,
        *,
        description: str = "",
        aliases: Iterable[str] = (),
    ) -> Any:
        """Define (or redefine) an analysis type; usable as ``@lab.analysis_type("name")``.

        The function receives a TrackRequest (``.track``, ``.levels``,
        ``.samples`` and ``.sample_rate`` when audio was sent, ``.measure(...)``)
        and returns an AnalysisResult or a dict with any of ``insights``,
        ``suggestions``, ``quality_score``, ``metrics``.
        """
        return self._definitions.define(
            self.engine.analysis_types, name, function, description=description, aliases=aliases
        )

    def remove_perspective(self, name: str) -> None:
        """Remove a notebook perspective; one that replaced a built-in gives the built-in back."""
        self._definitions.remove(self.engine.perspectives, name)

    def remove_analysis_type(self, name: str) -> None:
        """Remove a notebook analysis type; one that replaced a built-in gives the built-in back."""
        self._definitions.remove(self.engine.analysis_types, name)

    def perspectives(self) -> list[str]:
        return self.engine.perspectives.names()

    @property
    def default_perspective(self) -> str | None:
        """The perspective that answers a chat naming none."""
        return self.engine.perspectives.default

    def analysis_types(self) -> list[str]:
        return self.engine.analysis_types.names()

    def resolve_analysis_type(self, name: str) -> str:
        """The registered name of an analysis type given by name or alias (RequestError lists the names)."""
        return self.engine.analysis_types.resolve(name).name

    def add_definition_listener(self, callback: DefinitionListener) -> None:
        """Call ``callback(kind, name)`` after a perspective or analysis type is defined or removed."""
        self._definitions.add_listener(callback)

    def remove_definition_listener(self, callback: DefinitionListener) -> None:
        self._definitions.remove_listener(callback)

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
    ) -> AnalysisResult:
        """Analyze an array ((n,) mono or (channels, n)) with this Lab's rules and analysis types.

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
    ) -> AnalysisResult:
        """Analyze an audio file under the audio roots, exactly as a DAW's ``file_path`` request would be."""
        name = track_name or Path(path).stem
        request = AnalyzeRequest(
            track=TrackData(track_id=name, track_name=name, track_type=track_type),
            audio=AudioData(file_path=str(Path(path).resolve())),
            analysis_type=kind,
        )
        return answer_analyze(
            request,
            analysis_types=self.engine.analysis_types,
            rules=self.engine.rules,
            audio_roots=self.engine.audio_roots,
        )

    def recent_audio(self) -> list[ReceivedAudio]:
        """The last analyze requests DAWs sent with audio, newest first (see :class:`RecentAudio`)."""
        return self.recent.items()

    # -- clients and panels ---------------------------------------------------------

    def simulate_daw(self, **options: Any) -> SimulatedDAW:
        """A DAW simulator connected to this Lab (closed by :meth:`stop`); options go to SimulatedDAW."""
        from ..daw import SimulatedDAW

        daw = SimulatedDAW(self.url, **options)
        daw.connect()
        self._daws.append(daw)
        return daw

    def simulate_class(self, *, students: int = 4, **options: Any) -> list[StudentResult]:
        """Several student DAWs on this Lab at once (see :func:`codette_lab.daw.simulate_class`)."""
        from ..daw import simulate_class

        return simulate_class(self.url, students=students, **options)

    def panel(self) -> LabPanel:
        """The ipywidgets UI: Chat, Monitor, Analysis and Rules tabs over this Lab."""
        from ..widgets import LabPanel

        return LabPanel(self)

    def __repr__(self) -> str:
        state = f"serving {self.url}" if self.running else "stopped"
        return (
            f"Lab({state}, {self.active_connections} connections, "
            f"{len(self.perspectives())} perspectives, {len(self.analysis_types())} analysis types)"
        )
