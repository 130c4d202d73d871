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
import weakref
from collections.abc import Callable, Iterable
from os import PathLike
from typing import TYPE_CHECKING, Any, Self

from websockets.frames import CloseCode

from ..audio_input import AudioRoots
from ..engine import Engine
from ..errors import PortInUseError, RecordingError, ServerError
from ..recording import Recorder, RecordingSource, replay
from ..rules import RuleSet
from ..server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT,
    BackgroundServer,
    ConnectionInfo,
    page_url,
    websocket_url,
)
from ..server.events import DEFAULT_EVENT_LIMIT, EventLog
from ..server.ports import free_port_near, port_holder
from ..warm_up import warm_up_in_background
from .clients import Clients
from .definitions import Definitions, NotebookDefinitions
from .direct import DirectCalls
from .join import JoinCode
from .recent_audio import ReceivedAudio, RecentAudio
from .settings import LabSettings
from .transcript import Tee, Transcript

if TYPE_CHECKING:
    import pandas as pd

    from ..bridges.ardour import ArdourBridge
    from ..daw import SimulatedDAW, StudentResult
    from ..widgets import LabPanel


#: The address a DAW on this machine uses for a Lab listening on every interface.
LOOPBACK_FOR_WILDCARD = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}

#: The Lab this process serves from: set by :meth:`Lab.start`, cleared by :meth:`Lab.stop`.
_current: Lab | None = None
_current_lock = threading.Lock()

#: Who wants to know when a Lab of this kernel starts (panels of a stopped Lab follow the next one).
_start_listeners: list[weakref.WeakMethod[Callable[[Lab], None]]] = []


def port_in_use_text(host: str, port: int) -> str:
    """What a notebook user reads when the port is taken: what holds it, what to do, a port that is free."""
    holder = port_holder(port)
    if holder is None:
        holder, remedy = "another process", "Stop that process"
    elif "kernel" in holder:
        remedy = (
            "Shut that kernel down (Kernel > Shut Down Kernel in that notebook, or JupyterLab's Running panel; "
            "closing a notebook's tab leaves its kernel running)"
        )
    elif holder == "this process":
        holder, remedy = "this kernel (a server started in an earlier cell)", "Stop that server"
    else:
        remedy = "Stop it (Ctrl-C in its terminal, or kill its pid)"
    free = free_port_near(port, host)
    elsewhere = f"Lab(port={free}) is free now, or " if free is not None else ""
    return (
        f"Port {port} on {host} is already in use by {holder}. {remedy}, "
        f"or start this Lab on another port: {elsewhere}Lab(port=0) for any free one."
    )


def _running_lab() -> Lab | None:
    with _current_lock:
        current = _current
    return current if current is not None and current.running else None


class Lab(DirectCalls, NotebookDefinitions):
    """The Codette server in a notebook: start it, then change how it answers while DAWs stay connected.

    ``port`` and ``host`` say where :meth:`start` listens (default 127.0.0.1:8000;
    ``port=0`` takes any free port, read back from ``lab.port`` and ``lab.url``).
    ``rules`` is a :class:`RuleSet` (copied), a path to an exported rule file,
    or None for the built-in rules; ``audio_roots`` are the folders an
    ``analyze`` request may read files from (default: the demo session's
    folder); ``request_timeout`` is the per-request time limit (seconds) for
    functions defined in the notebook, which the panels' actions are held to
    as well; built-in analyses sent by DAWs are never cut short.
    ``allowed_origins`` widens the WebSocket Origin check beyond localhost pages
    (the server's own join page is always let in); ``event_limit`` is how many
    server events ``lab.events`` keeps; ``warm_up`` loads the analysis stack in
    the background at start; ``token`` is what clients off this machine send
    when ``host`` is not loopback (default: generated). ``tls`` (an ``ssl.SSLContext``,
    a ``(certfile, keyfile)`` pair or one PEM path) serves ``https://`` and
    ``wss://``; ``require_token=True`` asks clients on this machine for the
    token too (to try the join URL you hand out). :meth:`start` returns the Lab,
    listening; it raises PortInUseError (one line, saying what to do) when
    another process holds the port.

    A kernel runs one Lab. While it runs, ``Lab(...)`` hands back that same
    Lab, so re-running the start cell keeps every definition, rule change,
    recent audio, connected DAW and panel on screen; arguments that changed
    are applied (see :meth:`_apply`). :meth:`reset` goes back to the built-ins
    on purpose; after :meth:`stop`, the next ``Lab(...)`` starts afresh.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        running = _running_lab()
        if isinstance(running, cls):
            return running
        return super().__new__(cls)

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
        token: str | None = None,
        tls: Any = None,
        require_token: bool = False,
    ) -> None:
        settings = LabSettings.of(
            port=port,
            host=host,
            rules=rules,
            audio_roots=audio_roots,
            request_timeout=request_timeout,
            allowed_origins=allowed_origins,
            event_limit=event_limit,
            warm_up=warm_up,
            token=token,
            tls=tls,
            require_token=require_token,
        )
        if "_settings" in self.__dict__:  # the running Lab, handed back by __new__
            self._apply(settings)
            return
        self._settings = settings
        self.engine = Engine(rules=settings.starting_rules(), audio_roots=settings.audio_roots)
        self.events = EventLog(limit=event_limit)
        #: The last DAW analyze requests with audio (a hook on the engine), for the Analysis panel.
        self.recent = RecentAudio()
        self.engine.add_request_hook(self.recent)
        #: The open connections by name, with each DAW's last ``daw_context`` (for the Monitor and Chat tabs).
        self.clients = Clients()
        self.engine.add_request_hook(self.clients)
        self._server: BackgroundServer | None = None
        self._daws: list[SimulatedDAW] = []
        self._ardour: tuple[dict[str, Any], ArdourBridge] | None = None
        self._definitions = Definitions()
        #: What the server said when it started that people should read (the join URL off loopback, ...).
        self.notices: tuple[str, ...] = ()
        #: The last requests and whole replies, in memory (the Monitor's *Save log* writes them).
        self.transcript = Transcript()
        #: Writes down every request and reply once :meth:`record` was called.
        self.recorder: Recorder | None = None

    def _apply(self, settings: LabSettings) -> None:
        """Take the arguments of a re-run start cell: only those that changed are applied.

        Audio roots and rules are swapped in place (panels and DAWs keep
        going); a changed port, host, time limit, origin list or token restarts
        the running server (DAWs get close code 1012 and reconnect to ``lab.url``).
        """
        old, self._settings = self._settings, settings
        if settings.audio_roots != old.audio_roots:
            self.engine.audio_roots = AudioRoots(settings.audio_roots)
        if settings.rules != old.rules:
            self.engine.rules.replace(settings.starting_rules())
        if settings.event_limit != old.event_limit:
            self.events.resize(settings.event_limit)
        if settings.server_options() != old.server_options() and self.running:
            self._restart(same_port=settings.port == old.port)

    @property
    def host(self) -> str:
        return self._settings.host

    @property
    def request_timeout(self) -> float:
        """Seconds a notebook function may take per request (and a panel action, built-in or not)."""
        return self._settings.request_timeout

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return self._settings.allowed_origins

    # -- the server ---------------------------------------------------------------

    def start(self) -> Lab:
        """Start serving ``ws://host:port/ws``; returns as soon as the port listens (at once if it does).

        A port held by another process (another notebook's kernel, a
        standalone server) raises PortInUseError saying what to do.
        """
        global _current
        if not self.running:
            self._server = self._start_server()
        with _current_lock:
            _current = self
            listeners = [listener() for listener in _start_listeners]
            _start_listeners[:] = [ref for ref, alive in zip(_start_listeners, listeners, strict=True) if alive]
        for listener in listeners:
            if listener is not None:
                listener(self)
        if self._settings.warm_up:
            self.warm_up()
        return self

    def when_started(self, callback: Callable[[Lab], None]) -> None:
        """Call the bound method ``callback(lab)`` whenever a Lab of this kernel starts: this one again, or
        the next one after :meth:`stop`, so a panel on screen follows it (held weakly: a closed panel goes)."""
        with _current_lock:
            _start_listeners.append(weakref.WeakMethod(callback))

    def _start_server(self, port: int | None = None) -> BackgroundServer:
        """A server with the current settings, listening (on ``port`` instead of the settings' when given)."""
        options = {**self._settings.server_options(), **({"port": port} if port is not None else {})}
        server = BackgroundServer(self.engine, **options, recorder=Tee(self.transcript, self.recorder))
        server.add_listener(self.clients.on_event)  # first: the Monitor's refresh reads the names
        server.add_listener(self.events.append)
        notices = _StartNotices()
        server_logger = logging.getLogger("codette_lab.server")
        server_logger.addFilter(notices)  # the Lab shows them itself: a notebook paints stderr like an error
        try:
            server.start()
        except PortInUseError:
            raise PortInUseError(port_in_use_text(server.host, server.requested_port)) from None
        finally:
            server_logger.removeFilter(notices)
        self.notices = notices.texts
        return server

    def _restart(self, *, same_port: bool) -> None:
        """Serve again with the current settings; connected DAWs are told 1012 (service restart).

        With the port argument unchanged the port served stays (also one the system chose for port 0).
        """
        port = self.port if same_port else None
        if self._server is not None:
            self._server.stop(code=CloseCode.SERVICE_RESTART, reason="service restart")
        self._server = self._start_server(port)
        for daw in self._daws:  # the simulated DAWs were told 1012 and come back here, as a DAW would
            daw.url = self.url
            daw.reconnect_soon()
        if self._ardour is not None:  # the bridge reconnects to the new address on its own
            self._ardour[1].url = self.url

    def warm_up(self, *, wait: bool = False, timeout: float | None = None) -> None:
        """Load the audio analysis stack on a background thread, once per process (see :mod:`.warm_up`).

        ``start()`` calls this (unless ``warm_up=False``); ``wait=True`` blocks until it is done.
        """
        thread = warm_up_in_background()
        if wait:
            thread.join(timeout)

    def stop(self) -> None:
        """Close the simulated DAWs and every connection (1001) and free the port.

        The Lab is then done: the next ``Lab(...)`` in this kernel starts from the built-ins.
        """
        global _current
        for daw in self._daws:
            daw.close()
        self._daws.clear()
        if self._ardour is not None:
            self._ardour[1].close()
            self._ardour = None
        if self._server is not None:
            self._server.stop()
        if self.recorder is not None:
            self.recorder.close()
        with _current_lock:
            if _current is self:
                _current = None

    def record(self, directory: str | PathLike[str], *, keep_samples: bool = False) -> Recorder:
        """Record every request and reply as JSON Lines in ``directory`` (see :mod:`codette_lab.recording`).

        A running server restarts to begin recording (DAWs reconnect on their next request).
        """
        if self.recorder is not None:
            self.recorder.close()
        self.recorder = Recorder(directory, rules=self.engine.rules, keep_samples=keep_samples)
        if self.running:
            self._restart(same_port=True)
        return self.recorder

    def replay(
        self,
        recording: RecordingSource | None = None,
        rules: RuleSet | str | PathLike[str] | None = None,
        *,
        against: RuleSet | str | PathLike[str] | None = None,
    ) -> pd.DataFrame:
        """Answer a recording (default: this Lab's) again with ``rules`` (default: this Lab's, as tuned now).

        One row per request: findings and suggestions that appeared or disappeared, and the score's move,
        against the recorded replies or ``against`` other rules (see :func:`codette_lab.recording.replay`).
        """
        if recording is None:
            if self.recorder is None:
                raise RecordingError("lab.replay(): nothing recorded: call lab.record(DIR) first, or name a recording")
            recording = self.recorder.files
        return replay(recording, self.rules if rules is None else rules, against=against, engine=self.engine).to_frame()

    def reset(self) -> None:
        """Back to the built-ins on purpose: notebook perspectives and analysis types removed, rules as at start.

        The conversation memory and the recent DAW audio are forgotten too;
        the server keeps serving and connected DAWs stay connected.
        """
        self._definitions.reset(self.engine.perspectives, self.engine.analysis_types)
        self.engine.rules.replace(self._settings.starting_rules())
        self.engine.memory.clear()
        self.recent.clear()

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def port(self) -> int:
        """The port served (the one asked for, or the one the system chose for port 0)."""
        return self._server.port if self._server is not None else self._settings.port

    @property
    def url(self) -> str:
        """``ws(s)://host:port/ws``, where a DAW on this machine connects (others: :attr:`ws_join_url`).

        A Lab on every interface (``host="0.0.0.0"`` or ``"::"``) is reached here through loopback, where no
        token is asked for, unless ``require_token``: then the token is in it (``?token=...``)."""
        host = LOOPBACK_FOR_WILDCARD.get(self.host, self.host)
        url = websocket_url(host, self.port, tls=self._settings.tls is not None)
        token = self._server.token if self._server is not None and self._settings.require_token else None
        return url + (f"?token={token}" if token else "")

    @property
    def join_url(self) -> str:
        """The page students open, ``http(s)://host:port/?token=...`` (the token off loopback or when
        required); each student's page adds ``&name=<student>``."""
        if self._server is not None:
            return self._server.join_url
        return page_url(self.host, self._settings.port, tls=self._settings.tls is not None)

    @property
    def ws_join_url(self) -> str:
        """What a DAW on another machine connects to: ``ws(s)://host:port/ws?token=...``."""
        return self._server.ws_join_url if self._server is not None else self.url

    def join_code(self) -> JoinCode:
        """The join URL with its QR code, for the class to scan (a cell's value shows both)."""
        return JoinCode(self.join_url)

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

    def time_limit(self, analysis_type: str) -> float | None:
        """Seconds a DAW's request of this analysis type may take: the request timeout for a notebook
        function, None (no limit) for a built-in. The Analysis panel holds its runs to the same."""
        entry = self.engine.analysis_types.resolve(analysis_type)
        return None if entry.builtin else self.request_timeout

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
        """Several student DAWs on this Lab at once (see :func:`codette_lab.daw.simulate_class`).

        The students stay connected (the Monitor lists them by name) until :meth:`stop`.
        """
        from ..daw import simulate_class

        results = simulate_class(self.url, students=students, stay_connected=True, **options)
        arriving = {result.name for result in results if result.daw is not None}
        for daw in [daw for daw in self._daws if daw.name in arriving]:  # the same student, back again
            daw.close()
            self._daws.remove(daw)
        self._daws.extend(result.daw for result in results if result.daw is not None)
        return results

    def connect_ardour(self, **options: Any) -> ArdourBridge:
        """The Ardour session open on this machine joins this Lab as a DAW, named ``Ardour: <session>``.

        Options go to :class:`~codette_lab.bridges.ardour.ArdourBridge` (``levels_interval``, ``full_every``,
        ``ardour_port``, ``listen_port``, ...). Run again with the same options (a re-run cell), it hands back
        the bridge already running; with others, that one is closed and a new one started. :meth:`stop`
        closes it. ``bridge.tracks``, ``bridge.status`` and ``bridge.answers`` show what it sees and gets.
        """
        from ..bridges.ardour import ArdourBridge

        if self._ardour is not None:
            running_options, running = self._ardour
            if running_options == options:
                return running
            running.close()
            self._ardour = None
        bridge = ArdourBridge(self.url, **options).start()
        self._ardour = (dict(options), bridge)
        return bridge

    def panel(self) -> LabPanel:
        """The ipywidgets UI: Chat, Monitor, Analysis and Rules tabs over this Lab."""
        from ..widgets import LabPanel

        return LabPanel(self)

    def __repr__(self) -> str:
        state = f"serving {self.url}" if self.running else "stopped"
        notes = "".join(f"\n  {notice}" for notice in self.notices) if self.running else ""
        return (
            f"Lab({state}, {self.active_connections} connections, "
            f"{len(self.perspectives())} perspectives, {len(self.analysis_types())} analysis types){notes}"
        )


class _StartNotices(logging.Filter):
    """Keeps the server's start-up warnings (join URL, token in clear) for the Lab to show as its value."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: tuple[str, ...] = ()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.funcName == "start":
            self.texts = (*self.texts, record.getMessage())
            return False
        return True
