"""The Codette WebSocket server: moves text frames between sockets and an Engine.

``serve(engine)`` gives a :class:`CodetteServer`, used as
``async with serve(...) as server:`` (then ``await server.serve_forever()``)
on any asyncio loop. Each connection is an :class:`~.exchange.Exchange`:
pings are answered at once, other requests strictly in the order they came.
Cheap requests (status, short built-in chats) are answered inline on the
event loop; jobs the engine marks ``needs_worker`` (analysis, long chats,
notebook functions) run in thread pools, and large frames are parsed in
worker processes, so no connection holds up the others. Functions defined in
a notebook are held to a per-request time limit; built-in analyses are not
(see :mod:`.workers`). A request that runs past the limit gets an ``error``
reply and the connection carries on.

Who may connect is decided before any frame (:mod:`.http`, :mod:`.access`:
a token off loopback); how much the server holds at once is bounded
(:mod:`.limits`). What each frame is answered with is the engine's pipeline
(:meth:`Engine.receive`, :meth:`Engine.answer`, :func:`failure_of`); this
module decides only where each step runs, and tells the listeners.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as websockets_serve
from websockets.frames import CloseCode

from ..engine import Failure
from ..errors import ServerError
from ..heap import TRIM_AFTER_IDLE_S, trim_heap
from ..protocol import encode, replies
from ..resources import page_folder
from .access import AccessPolicy
from .address import health_url, page_url, websocket_url
from .connections import AcceptedConnections, Connection
from .events import (
    ConnectionInfo,
    Listener,
    Listeners,
    ServerEvent,
    client_name,
    describe_reply,
    describe_request,
    refusals_reported,
)
from .exchange import Exchange, TrafficRecorder
from .http import http_routes
from .limits import (
    CLOSE_TIMEOUT,
    DEFAULT_MAX_ATTACHMENT_FRAME_BYTES,
    DEFAULT_MAX_AUDIO_BYTES,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_MAX_QUEUED_ANALYSES,
    DEFAULT_REPLY_TIMEOUT,
    RECEIVE_QUEUE,
    Budget,
    Limits,
)
from .origins import OriginPolicy
from .ports import bind_error
from .static import PageFiles
from .tls import TLSSetting, server_context
from .workers import WorkerPools

if TYPE_CHECKING:
    from ..engine import Engine, Job

logger = logging.getLogger("codette_lab.server")
#: websockets' own per-handshake lines; quiet unless asked for (``--log-level DEBUG``).
websockets_logger = logging.getLogger("codette_lab.server.websockets")
if websockets_logger.level == logging.NOTSET:
    websockets_logger.setLevel(logging.WARNING)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Seconds a function defined in a notebook may take to answer one request (built-in analyses have no limit).
DEFAULT_REQUEST_TIMEOUT = 5.0


class CodetteServer:
    """One Codette server on one host and port. Create it with :func:`serve`."""

    def __init__(
        self,
        engine: Engine,
        *,
        host: str,
        port: int,
        allowed_origins: Iterable[str],
        request_timeout: float,
        workers: int | None,
        limits: Limits,
        token: str | None,
        recorder: TrafficRecorder | None,
        ping_interval: float | None,
        ping_timeout: float | None,
        tls: TLSSetting | None = None,
        require_token: bool = False,
    ) -> None:
        if request_timeout <= 0:
            raise ServerError(f"request_timeout must be a number of seconds > 0, got {request_timeout!r}")
        if limits.reply_timeout <= 0:
            raise ServerError(f"reply_timeout must be a number of seconds > 0, got {limits.reply_timeout!r}")
        self.engine = engine
        self.host = host
        self.request_timeout = float(request_timeout)
        self.origin_policy = OriginPolicy(allowed_origins)
        #: The server's TLS context (``https://`` and ``wss://``), or None for plain ``http://`` and ``ws://``.
        self.ssl_context = server_context(tls)
        self.access = AccessPolicy(host, token, require_token=require_token, tls=self.ssl_context is not None)
        self.limits = limits
        self.budget = Budget(limits)
        self.workers = WorkerPools(workers or os.cpu_count() or 1, request_timeout=self.request_timeout)
        self.closing = False
        #: Told of every connection, frame and reply (``serve(recorder=...)``), or None.
        self.recorder = recorder
        self._requested_port = port
        self._bound_port = 0
        self._listeners = Listeners()
        self._connections: dict[int, Connection] = {}
        #: Every socket whose handler is still running, open or closing (what a stop may have to abort).
        self._accepted = AcceptedConnections()
        self._keepalive = (ping_interval, ping_timeout)
        self._websockets: Server | None = None
        self._trim_task: asyncio.Task[None] | None = None  # a heap trim waiting for the server to stay idle

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> CodetteServer:
        """Bind and listen. Raises PortInUseError or ServerError when the address cannot be used."""
        if self._websockets is not None:
            raise ServerError(f"This server was already started (on {self.url})")
        ping_interval, ping_timeout = self._keepalive
        self._websockets = websockets_serve(
            self._serve_connection,
            self.host,
            self._requested_port,
            process_request=refusals_reported(
                http_routes(
                    self.origin_policy,
                    self.access,
                    codette_available=lambda: True,
                    page=PageFiles(page_folder()),
                ),
                self._listeners.emit,
            ),
            ssl=self.ssl_context,
            compression=None,  # frames are small and local: deflate would only cost time
            max_size=max(self.limits.max_message_bytes, self.limits.max_attachment_frame_bytes),
            max_queue=RECEIVE_QUEUE,
            close_timeout=CLOSE_TIMEOUT,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            server_header=None,
            logger=websockets_logger,
            create_connection=self._accepted.factory(ServerConnection),
        )
        try:
            await self._websockets
        except OSError as exc:
            raise bind_error(exc, self.host, self._requested_port) from exc
        self._bound_port = self._websockets.sockets[0].getsockname()[1]
        self.workers.start()
        logger.info("Codette server listening on %s (page at %s)", self.url, self.page_url)
        if not self.access.loopback_only or self.access.require_token:
            origin = "generated" if self.access.generated else "given"
            reach = "Reachable from the network" if not self.access.loopback_only else "Token required on loopback too"
            logger.warning("%s, with a %s token. Students join at %s", reach, origin, self.join_url)
            if not self.access.loopback_only and self.ssl_context is None:
                logger.warning(
                    "Without TLS the token travels in clear on this network: anyone listening can join. "
                    "Serve with --certfile/--keyfile (tls=...) for https:// and wss://"
                )
        return self

    def close(self, code: int = CloseCode.GOING_AWAY, reason: str = "") -> None:
        """Stop listening and close every connection with ``code`` (1001, going away). Idempotent.

        A client that does not answer the closing handshake within CLOSE_TIMEOUT is dropped.
        """
        self.closing = True
        if self._websockets is not None:
            self._websockets.close(code=code, reason=reason)
            self._accepted.abort_handshaking()
            asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self._accepted.abort_unclosed)
        self.workers.cancel_pending()  # requests still running are not waited for
        if self._trim_task is not None:
            self._trim_task.cancel()

    async def wait_closed(self) -> None:
        """Wait until the port is free and every connection handler has finished."""
        if self._websockets is None:
            return
        await self._websockets.wait_closed()
        if await self.workers.shutdown():
            logger.info("Codette server on %s stopped", self.url)

    async def serve_forever(self) -> None:
        """Serve until :meth:`close` is called or this task is cancelled."""
        if self._websockets is None:
            await self.start()
        assert self._websockets is not None
        try:
            await self._websockets.wait_closed()
        except asyncio.CancelledError:
            self.close()
            await self.wait_closed()
            raise
        await self.wait_closed()

    async def __aenter__(self) -> CodetteServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()

    def __await__(self):  # ``server = await serve(...)``
        return self.start().__await__()

    # -- what the notebook reads -----------------------------------------------------

    @property
    def port(self) -> int:
        """The port actually listened on (the free one picked when asked for port 0)."""
        return self._bound_port or self._requested_port

    @property
    def tls(self) -> bool:
        """True when the server speaks ``https://`` and ``wss://``."""
        return self.ssl_context is not None

    @property
    def url(self) -> str:
        return websocket_url(self.host, self.port, tls=self.tls)

    @property
    def page_url(self) -> str:
        """The join page on the bound address, without the token (``http://127.0.0.1:8000/``)."""
        return page_url(self.host, self.port, tls=self.tls)

    @property
    def join_url(self) -> str:
        """The page students open: ``http(s)://<address>:<port>/?token=...`` (the token off loopback, or
        with ``require_token``); the page adds ``&name=<student>``."""
        return self.access.join_url(self.port)

    @property
    def ws_join_url(self) -> str:
        """What a DAW connects to from another machine: ``ws(s)://<address>:<port>/ws?token=...``."""
        return self.access.ws_join_url(self.port)

    @property
    def token(self) -> str | None:
        """The token clients off this machine must send; None on loopback."""
        return self.access.token

    @property
    def health_url(self) -> str:
        return health_url(self.host, self.port, tls=self.tls)

    @property
    def active_connections(self) -> int:
        """Connections open right now (a connection stops counting as soon as its close begins)."""
        return sum(1 for connection in self._connections.values() if connection.is_open)

    def connections(self) -> list[ConnectionInfo]:
        return [connection.info() for connection in self._connections.values() if connection.is_open]

    def add_listener(self, function: Listener) -> None:
        """Call ``function(event)`` for every ServerEvent, on the server's loop thread."""
        self._listeners.add(function)

    def remove_listener(self, function: Listener) -> None:
        self._listeners.remove(function)

    def _emit(self, kind: str, connection: Connection | None, **fields: Any) -> None:
        if self._listeners:
            self._listeners.emit(ServerEvent(kind, connection.id if connection else None, **fields))

    # -- one connection ------------------------------------------------------------------

    async def _serve_connection(self, socket: ServerConnection) -> None:
        connection = Connection.accepted(socket)
        if connection.is_open:
            self._connections = {**self._connections, connection.id: connection}  # copy on write: read by other threads
        logger.info("WebSocket connected: %s (total: %s)", connection.id, self.active_connections)
        origin = f" (origin {connection.origin})" if connection.origin else ""
        name = client_name(socket.request.path) if socket.request else None
        self._emit("connect", connection, detail=f"from {connection.remote_address}{origin}", summary=name or "")
        if self.recorder is not None:
            self.recorder.connected(connection)
        try:
            await Exchange(
                self,
                connection,
                recorder=self.recorder,
                reply_timeout=self.limits.reply_timeout,
                max_message_bytes=self.limits.max_message_bytes,
            ).run()
        finally:
            self._forget(connection.id)
            code = socket.close_code
            if self.recorder is not None:
                self.recorder.disconnected(connection, code)
            logger.info("WebSocket disconnected: %s", connection.id)
            self._emit("disconnect", connection, detail=f"close code {code}" if code is not None else "")
            logger.info("WebSocket cleanup: %s (remaining: %s)", connection.id, self.active_connections)

    def _forget(self, connection_id: int) -> None:
        if connection_id in self._connections:
            self._connections = {key: value for key, value in self._connections.items() if key != connection_id}

    # -- what an Exchange reports and asks for (exchange.ExchangeHost) ------------------------

    def receive(self, frame: bytes) -> Job:
        """A small frame parsed into a job, on the event loop."""
        return self.engine.receive(frame)

    async def receive_large(self, frame: bytes) -> tuple[Job, int]:
        """A large frame, or one with attached audio files, parsed and its audio decoded in a frame-parsing
        process (see :mod:`.parsing`), then bound to its job; with the bytes the decoded audio holds."""
        request, decoded = await self.workers.parse(frame, max_seconds=self.engine.audio_roots.max_seconds)
        del frame
        held = sum(int(array.nbytes) for array, _ in decoded.values())
        return self.engine.prepare(request, decoded), held

    async def answer(self, connection: Connection, job: Job) -> replies.Message:
        """The reply to ``job``: inline on the loop, or in a worker thread when it ``needs_worker`` (see
        :class:`WorkerPools`). A status reply counts the connections open now (exact on the loop thread)."""
        active = self.active_connections
        if not job.needs_worker:
            return self.engine.answer(job, session=connection.session, active_connections=active)
        return await self.workers.run(
            job, lambda: self.engine.answer(job, session=connection.session, active_connections=active)
        )

    def admit(self, *, audio_bytes: int, analysis: bool) -> str | None:
        """Reserve one request's share of the shared budget; the "Server busy" text when it is spent."""
        return self.budget.admit(audio_bytes=audio_bytes, analysis=analysis)

    def note_message(self, connection: Connection, job: Job) -> None:
        logger.info("WebSocket %s received: %s", connection.id, job.message_type)
        if self._listeners:
            self._emit("message", connection, message_type=job.message_type, summary=describe_request(job.request))

    def note_reply(self, connection: Connection, reply: replies.Message, received: float) -> None:
        if self._listeners:
            elapsed = (time.perf_counter() - received) * 1000
            summary = describe_reply(reply)
            self._emit("reply", connection, message_type=reply.get("type"), detail=f"{elapsed:.1f} ms", summary=summary)

    def failed(self, connection: Connection, job: Job | None, failure: Failure) -> str:
        """Log and report one failure; returns its ``error`` reply frame (its text is already safe to show)."""
        message_type = job.message_type if job is not None else None
        if failure.bug:
            logger.error(
                "WebSocket %s: processing %s failed\n%s", connection.id, message_type or "a message", failure.traceback
            )
        elif job is None:
            logger.info("WebSocket %s sent an invalid message: %s", connection.id, failure.text)
            self._emit("message", connection, detail=failure.text)
        elif failure.traceback and not failure.by_user_code:
            logger.warning("WebSocket %s: %s", connection.id, failure.text)
        kind = "user_error" if failure.by_user_code else "error"
        self._emit(kind, connection, message_type=message_type, detail=failure.text, traceback=failure.traceback)
        return encode(failure.reply())

    def release(self, *, audio_bytes: int, analysis: bool) -> None:
        """Give back one request's share of the budget; once no audio or analysis is held, return the
        freed heap."""
        self.budget.release(audio_bytes=audio_bytes, analysis=analysis)
        if (audio_bytes or analysis) and self.budget.idle and self._trim_task is None and not self.closing:
            self._trim_task = asyncio.get_running_loop().create_task(self._trim())

    async def _trim(self) -> None:
        """Trim the heap once the server has stayed idle for TRIM_AFTER_IDLE_S (a stream of small
        requests costs at most one trim per that time)."""
        try:
            await asyncio.sleep(TRIM_AFTER_IDLE_S)
            if self.budget.idle and not self.closing:
                await self.workers.call(trim_heap)
        except (asyncio.CancelledError, RuntimeError):  # the server closed meanwhile
            pass
        finally:
            self._trim_task = None


def serve(
    engine: Engine | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    allowed_origins: Iterable[str] = (),
    token: str | None = None,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    workers: int | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    max_attachment_frame_bytes: int = DEFAULT_MAX_ATTACHMENT_FRAME_BYTES,
    max_audio_bytes: int = DEFAULT_MAX_AUDIO_BYTES,
    max_queued_analyses: int = DEFAULT_MAX_QUEUED_ANALYSES,
    reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
    recorder: TrafficRecorder | None = None,
    ping_interval: float | None = 20.0,
    ping_timeout: float | None = 20.0,
    tls: TLSSetting | None = None,
    require_token: bool = False,
) -> CodetteServer:
    """A Codette server for ``engine``, not yet listening: ``async with serve(...) as server:``.

    Arguments:
        engine: what answers every request (default: a fresh :class:`~codette_lab.engine.Engine`).
        host, port: where to listen (default 127.0.0.1:8000); ``port=0`` picks a free port.
        allowed_origins: web origins (or ``"*"``) accepted beyond localhost pages.
        token: what clients off this machine must send when ``host`` is not loopback (default:
            the ``CODETTE_TOKEN`` environment variable, else one generated).
        request_timeout: seconds a notebook-defined perspective or analysis type may take per
            request (built-ins are never cut short).
        workers: threads of the pools for long requests (default: one per CPU).
        max_message_bytes, max_attachment_frame_bytes, max_audio_bytes, max_queued_analyses,
            reply_timeout: the bounds of :mod:`codette_lab.server.limits`.
        recorder: told of all traffic (see :class:`codette_lab.recording.Recorder`).
        ping_interval, ping_timeout: websockets' keepalive, in seconds (None turns it off).
        tls: an ``ssl.SSLContext``, a ``(certfile, keyfile)`` pair or one PEM path (see
            :mod:`.tls`): serves ``https://`` and ``wss://`` on the same port.
        require_token: ask loopback clients for the token too.

    Returns:
        A :class:`CodetteServer`; ``await serve(...)`` also starts it. Once listening, its
        ``port``, ``url``, ``health_url``, ``join_url`` (the join page) and ``ws_join_url`` say
        where it is. Starting raises
        :class:`~codette_lab.errors.PortInUseError` if the port is held.
    """
    if engine is None:
        from ..engine import Engine

        engine = Engine()
    limits = Limits(
        max_message_bytes=max_message_bytes,
        max_attachment_frame_bytes=max_attachment_frame_bytes,
        max_audio_bytes=max_audio_bytes,
        max_queued_analyses=max_queued_analyses,
        reply_timeout=reply_timeout,
    )
    return CodetteServer(
        engine,
        host=host,
        port=port,
        allowed_origins=allowed_origins,
        request_timeout=request_timeout,
        workers=workers,
        limits=limits,
        token=token,
        recorder=recorder,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        tls=tls,
        require_token=require_token,
    )
