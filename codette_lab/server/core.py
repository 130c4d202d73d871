"""The Codette WebSocket server: moves text frames between sockets and an Engine.

``serve(engine)`` gives a :class:`CodetteServer`, used as
``async with serve(...) as server:`` (then ``await server.serve_forever()``)
on any asyncio loop. Per connection, requests are answered strictly in the
order they came. Cheap requests (ping, status, built-in chat) are answered
inline on the event loop; jobs the engine marks ``needs_worker`` (analysis,
notebook functions) run in thread pools, so one connection's long analysis
never holds up the others. Functions defined in a notebook are held to a
per-request time limit; built-in analyses are not (see :mod:`.workers`).
A request that runs past the limit gets an ``error`` reply and the
connection carries on.

What each frame is answered with is the engine's pipeline
(:meth:`Engine.receive`, :meth:`Engine.answer`, :func:`failure_of`); this
module decides only where each step runs, and tells the listeners.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as websockets_serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from ..engine import Failure, failure_of
from ..errors import ServerError
from ..protocol import encode, replies
from .address import health_url, websocket_url
from .connections import ClosingAwareConnection, Connection
from .events import ConnectionInfo, Listener, Listeners, ServerEvent
from .http import http_routes
from .origins import OriginPolicy
from .ports import bind_error
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
#: Largest frame accepted: room for minutes of stereo float32 audio sent as base64.
DEFAULT_MAX_MESSAGE_BYTES = 256 * 2**20

#: Frames longer than this (audio sent as samples) are parsed in a worker, not on the event loop:
#: decoding tens of megabytes of JSON would hold up every other connection's pings.
INLINE_PARSE_LIMIT = 256 * 2**10


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
        max_message_bytes: int,
        ping_interval: float | None,
        ping_timeout: float | None,
    ) -> None:
        if request_timeout <= 0:
            raise ServerError(f"request_timeout must be a number of seconds > 0, got {request_timeout!r}")
        self.engine = engine
        self.host = host
        self.request_timeout = float(request_timeout)
        self.origin_policy = OriginPolicy(allowed_origins)
        self._requested_port = port
        self._bound_port = 0
        self._workers = WorkerPools(workers or os.cpu_count() or 1, request_timeout=self.request_timeout)
        self._listeners = Listeners()
        self._connections: dict[int, Connection] = {}
        self._closing = False
        self._max_message_bytes = max_message_bytes
        self._keepalive = (ping_interval, ping_timeout)
        self._websockets: Server | None = None

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
            process_request=http_routes(self.origin_policy, codette_available=lambda: True),
            compression=None,  # frames are small and local: deflate would only cost time
            max_size=self._max_message_bytes,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            server_header=None,
            logger=websockets_logger,
            create_connection=ClosingAwareConnection,
        )
        try:
            await self._websockets
        except OSError as exc:
            raise bind_error(exc, self.host, self._requested_port) from exc
        self._bound_port = self._websockets.sockets[0].getsockname()[1]
        self._workers.start()
        logger.info("Codette server listening on %s", self.url)
        return self

    def close(self) -> None:
        """Stop listening and close every connection with code 1001 (going away). Idempotent."""
        self._closing = True
        if self._websockets is not None:
            self._websockets.close()
        self._workers.cancel_pending()  # requests still running are not waited for

    async def wait_closed(self) -> None:
        """Wait until the port is free and every connection handler has finished."""
        if self._websockets is None:
            return
        await self._websockets.wait_closed()
        if self._workers.shutdown():
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
    def url(self) -> str:
        return websocket_url(self.host, self.port)

    @property
    def health_url(self) -> str:
        return health_url(self.host, self.port)

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

    async def _serve_connection(self, accepted: ServerConnection) -> None:
        socket = cast(ClosingAwareConnection, accepted)  # websockets made it with create_connection
        connection = Connection.accepted(socket)
        if connection.is_open:
            self._connections = {**self._connections, connection.id: connection}  # copy on write: read by other threads
            socket.on_close_begins = lambda: self._forget(connection.id)
        logger.info("WebSocket connected: %s (total: %s)", connection.id, self.active_connections)
        origin = f" (origin {connection.origin})" if connection.origin else ""
        self._emit("connect", connection, detail=f"from {connection.remote_address}{origin}")
        try:
            await socket.send(encode(replies.welcome(codette_available=True)))
            async for frame in socket:
                reply = await self._answer(connection, frame)
                if reply is None:  # the server is closing: its request was dropped
                    await socket.close(CloseCode.GOING_AWAY)
                    return
                await socket.send(reply)
        except ConnectionClosed:
            pass
        finally:
            self._forget(connection.id)
            code = socket.close_code
            logger.info("WebSocket disconnected: %s", connection.id)
            self._emit("disconnect", connection, detail=f"close code {code}" if code is not None else "")
            logger.info("WebSocket cleanup: %s (remaining: %s)", connection.id, self.active_connections)

    def _forget(self, connection_id: int) -> None:
        if connection_id in self._connections:
            self._connections = {key: value for key, value in self._connections.items() if key != connection_id}

    async def _answer(self, connection: Connection, frame: str | bytes) -> str | None:
        """The reply frame to one frame; None when the server is closing. Never raises otherwise.

        The engine's pipeline decides the reply (:meth:`Engine.receive`, :meth:`Engine.answer`,
        :func:`failure_of`); this decides where each step runs and reports it to the listeners.
        """
        connection.messages += 1
        started = time.perf_counter()
        job: Job | None = None
        try:
            if len(frame) <= INLINE_PARSE_LIMIT:
                job = self.engine.receive(frame)
            else:
                job = await self._workers.call(self.engine.receive, frame)
            logger.info("WebSocket %s received: %s", connection.id, job.message_type)
            if self._listeners:
                self._emit("message", connection, message_type=job.message_type)
            if job.needs_worker:
                reply = await self._in_worker(connection, job)
            else:
                reply = self.engine.answer(job, session=connection.session, active_connections=len(self._connections))
            text = encode(reply)
        except asyncio.CancelledError:
            if self._closing:
                return None
            raise
        except Exception as exc:  # every failure, our own bugs included, is an error reply
            return self._failed(connection, job, failure_of(exc))
        if self._listeners:
            elapsed = (time.perf_counter() - started) * 1000
            self._emit("reply", connection, message_type=reply.get("type"), detail=f"{elapsed:.1f} ms")
        return text

    def _failed(self, connection: Connection, job: Job | None, failure: Failure) -> str:
        """Log and report one failure; returns its ``error`` reply frame."""
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

    async def _in_worker(self, connection: Connection, job: Job) -> replies.Message:
        """Answer ``job`` in a worker thread (see :class:`WorkerPools`), counting connections now."""
        active = len(self._connections)
        return await self._workers.run(
            job, lambda: self.engine.answer(job, session=connection.session, active_connections=active)
        )


def serve(
    engine: Engine | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    allowed_origins: Iterable[str] = (),
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    workers: int | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ping_interval: float | None = 20.0,
    ping_timeout: float | None = 20.0,
) -> CodetteServer:
    """A Codette server for ``engine`` (a fresh Engine when None), not yet listening.

    Use ``async with serve(...) as server:`` or ``server = await serve(...)``.
    ``port=0`` picks a free port (read it from ``server.port``); ``allowed_origins``
    adds web origins (or ``"*"``) beyond localhost pages; ``workers`` sizes the
    pool for long requests (default: one per CPU); ``ping_interval`` and
    ``ping_timeout`` are websockets' keepalive settings.
    """
    if engine is None:
        from ..engine import Engine

        engine = Engine()
    return CodetteServer(
        engine,
        host=host,
        port=port,
        allowed_origins=allowed_origins,
        request_timeout=request_timeout,
        workers=workers,
        max_message_bytes=max_message_bytes,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
    )
