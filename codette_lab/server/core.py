"""The Codette WebSocket server: moves text frames between sockets and an Engine.

``serve(engine)`` gives a :class:`CodetteServer`, used as
``async with serve(...) as server:`` (then ``await server.serve_forever()``)
on any asyncio loop. Per connection, requests are answered strictly in the
order they came. Cheap requests (ping, status, built-in chat) are answered
inline on the event loop; jobs the engine marks ``needs_worker`` (analysis,
notebook functions) run in thread pools, so one connection's long analysis
never holds up the others. Functions defined in a notebook are held to a
per-request time limit; built-in analyses are not.

A request that runs past the limit gets an ``error`` reply and the
connection carries on, but its thread cannot be killed: it keeps running
until the function returns (its result is dropped), and the pool for
notebook functions is replaced so that later requests get fresh workers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as websockets_serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.protocol import State

from ..errors import CodetteError, ServerError, UserCodeError
from ..protocol import AnalyzeRequest, ChatRequest, PingRequest, Request, StatusRequest, encode, parse_request, replies
from .events import ConnectionInfo, Listener, Listeners, ServerEvent
from .http import HEALTH_PATH, WEBSOCKET_PATH, http_routes
from .origins import OriginPolicy
from .ports import bind_error

if TYPE_CHECKING:
    from ..engine import Engine, Job

logger = logging.getLogger("codette_lab.server")
#: websockets' own per-handshake lines; quiet unless asked for (``--log-level DEBUG``).
websockets_logger = logging.getLogger("codette_lab.server.websockets")
if websockets_logger.level == logging.NOTSET:
    websockets_logger.setLevel(logging.WARNING)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_REQUEST_TIMEOUT = 10.0
#: Largest frame accepted: room for minutes of stereo float32 audio sent as base64.
DEFAULT_MAX_MESSAGE_BYTES = 256 * 2**20

#: Frames longer than this (audio sent as samples) are parsed in a worker, not on the event loop:
#: decoding tens of megabytes of JSON would hold up every other connection's pings.
INLINE_PARSE_LIMIT = 256 * 2**10

#: The wire ``type`` of each request class, for logs and events.
REQUEST_TYPE_NAMES: dict[type, str] = {
    PingRequest: "ping",
    StatusRequest: "status",
    ChatRequest: "chat",
    AnalyzeRequest: "analyze",
}

#: Connection ids are unique in the process, so a replaced server never reuses a session name.
_connection_ids = itertools.count(1)


@dataclass
class _Connection:
    """What the server keeps about one open connection."""

    id: int
    socket: ServerConnection
    remote_address: str
    origin: str | None
    connected_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    messages: int = 0

    @property
    def session(self) -> str:
        return f"ws-{self.id}"

    def info(self) -> ConnectionInfo:
        return ConnectionInfo(self.id, self.remote_address, self.origin, self.connected_at, self.messages)


@dataclass
class _WorkerCall:
    """One request handed to the thread pool; remembers its thread to show where a timeout was stuck."""

    thread_id: int | None = None


class _ClosingAwareConnection(ServerConnection):
    """A ServerConnection that reports the moment its closing begins.

    The server drops a connection from its table as soon as the close frame
    arrives (or the TCP connection drops), not when the handler gets round to
    cleaning up: on the loop thread the table's size is then the exact count a
    status request must report, at O(1) cost per message. Other threads read
    ``CodetteServer.active_connections``, which also checks each state.
    """

    on_close_begins: Callable[[], None] | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.on_close_begins is not None and self.protocol.state in _CLOSING_STATES:
            self.on_close_begins()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.on_close_begins is not None:
            self.on_close_begins()


_CLOSING_STATES = (State.CLOSING, State.CLOSED)


def _address(connection: ServerConnection) -> str:
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


def _stack_of(thread_id: int | None) -> str:
    frame = sys._current_frames().get(thread_id) if thread_id is not None else None
    if frame is None:
        return ""
    return "Still running in the worker thread:\n" + "".join(traceback.format_stack(frame))


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
        self._workers = workers or os.cpu_count() or 1
        self._pool: ThreadPoolExecutor | None = None  # built-in analyses
        self._user_pool: ThreadPoolExecutor | None = None  # notebook functions, replaced when one gets stuck
        self._listeners = Listeners()
        self._connections: dict[int, _Connection] = {}
        self._pending: set[asyncio.Future[Any]] = set()
        self._closing = False
        self._websocket_options = dict(
            process_request=http_routes(self.origin_policy, codette_available=lambda: True),
            compression=None,  # frames are small and local: deflate would only cost time
            max_size=max_message_bytes,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            server_header=None,
            logger=websockets_logger,
            create_connection=_ClosingAwareConnection,
        )
        self._websockets: Server | None = None

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> CodetteServer:
        """Bind and listen. Raises PortInUseError or ServerError when the address cannot be used."""
        if self._websockets is not None:
            raise ServerError(f"This server was already started (on {self.url})")
        self._websockets = websockets_serve(
            self._serve_connection, self.host, self._requested_port, **self._websocket_options
        )
        try:
            await self._websockets
        except OSError as exc:
            raise bind_error(exc, self.host, self._requested_port) from exc
        self._bound_port = self._websockets.sockets[0].getsockname()[1]
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="codette-worker")
        self._user_pool = self._new_user_pool()
        logger.info("Codette server listening on %s", self.url)
        return self

    def close(self) -> None:
        """Stop listening and close every connection with code 1001 (going away). Idempotent."""
        self._closing = True
        if self._websockets is not None:
            self._websockets.close()
        for future in list(self._pending):  # requests still running are not waited for
            future.cancel()

    async def wait_closed(self) -> None:
        """Wait until the port is free and every connection handler has finished."""
        if self._websockets is None:
            return
        await self._websockets.wait_closed()
        if self._pool is not None:
            for pool in (self._pool, self._user_pool):
                pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._user_pool = None
            logger.info("Codette server on %s stopped", self.url)

    def _new_user_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self._workers, thread_name_prefix="codette-user-code")

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
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}{WEBSOCKET_PATH}"

    @property
    def health_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{HEALTH_PATH}"

    @property
    def active_connections(self) -> int:
        """Connections open right now (a connection stops counting as soon as its close begins)."""
        return sum(1 for connection in self._connections.values() if connection.socket.protocol.state is State.OPEN)

    def connections(self) -> list[ConnectionInfo]:
        return [
            connection.info()
            for connection in self._connections.values()
            if connection.socket.protocol.state is State.OPEN
        ]

    def add_listener(self, function: Listener) -> None:
        """Call ``function(event)`` for every ServerEvent, on the server's loop thread."""
        self._listeners.add(function)

    def remove_listener(self, function: Listener) -> None:
        self._listeners.remove(function)

    def _emit(self, kind: str, connection: _Connection | None, **fields: Any) -> None:
        if self._listeners:
            self._listeners.emit(ServerEvent(kind, connection.id if connection else None, **fields))

    # -- one connection ------------------------------------------------------------------

    async def _serve_connection(self, socket: _ClosingAwareConnection) -> None:
        connection = _Connection(
            id=next(_connection_ids),
            socket=socket,
            remote_address=_address(socket),
            origin=socket.request.headers.get("Origin") if socket.request else None,
        )
        if socket.protocol.state is State.OPEN:
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

    async def _answer(self, connection: _Connection, frame: str | bytes) -> str | None:
        """The reply frame to one frame; None when the server is closing. Never raises otherwise."""
        connection.messages += 1
        started = time.perf_counter()
        request: Request | None = None
        try:
            request = parse_request(frame) if len(frame) <= INLINE_PARSE_LIMIT else await self._parse_in_worker(frame)
            message_type = REQUEST_TYPE_NAMES[type(request)]
            logger.info("WebSocket %s received: %s", connection.id, message_type)
            if self._listeners:
                self._emit("message", connection, message_type=message_type)
            job = self.engine.prepare(request)
            if job.needs_worker:
                reply = await self._in_worker(connection, job)
            else:
                reply = self.engine.handle(job, session=connection.session, active_connections=len(self._connections))
            text = encode(reply)
        except asyncio.CancelledError:
            if self._closing:
                return None
            raise
        except UserCodeError as exc:
            self._emit(
                "user_error", connection, message_type=_type_of(request), detail=str(exc), traceback=exc.traceback
            )
            return encode(replies.error(str(exc)))
        except CodetteError as exc:
            if request is None:
                logger.info("WebSocket %s sent an invalid message: %s", connection.id, exc)
                self._emit("message", connection, detail=str(exc))
            self._emit("error", connection, message_type=_type_of(request), detail=str(exc))
            return encode(replies.error(str(exc)))
        except _Timeout as exc:
            logger.warning("WebSocket %s: %s", connection.id, exc)
            self._emit("error", connection, message_type=_type_of(request), detail=str(exc), traceback=exc.stack)
            return encode(replies.error(str(exc)))
        except Exception as exc:  # our own bug: say so, keep the connection
            logger.exception("WebSocket %s: processing %s failed", connection.id, _type_of(request) or "a message")
            problem = f"Processing error: {type(exc).__name__}: {exc}"
            self._emit(
                "error", connection, message_type=_type_of(request), detail=problem, traceback=traceback.format_exc()
            )
            return encode(replies.error(problem))
        if self._listeners:
            elapsed = (time.perf_counter() - started) * 1000
            self._emit("reply", connection, message_type=reply.get("type"), detail=f"{elapsed:.1f} ms")
        return text

    async def _parse_in_worker(self, frame: str | bytes) -> Request:
        """The request in a large frame, parsed in the built-in pool, off the event loop."""
        assert self._pool is not None, "the server was not started"
        return await asyncio.get_running_loop().run_in_executor(self._pool, parse_request, frame)

    async def _in_worker(self, connection: _Connection, job: Job) -> replies.Message:
        """Answer in a thread pool; notebook functions within the time limit, in a pool of their own.

        A notebook function past its limit keeps its thread (threads cannot be
        killed), so its pool is replaced: stuck user code never starves the
        built-in analyses or the next notebook function of workers.
        """
        call = _WorkerCall()
        active = len(self._connections)

        def work() -> replies.Message:
            call.thread_id = threading.get_ident()
            return self.engine.handle(job, session=connection.session, active_connections=active)

        assert self._pool is not None and self._user_pool is not None, "the server was not started"
        pool = self._user_pool if job.runs_user_code else self._pool
        future = asyncio.get_running_loop().run_in_executor(pool, work)
        self._pending.add(future)
        try:
            return await asyncio.wait_for(future, self.request_timeout if job.runs_user_code else None)
        except asyncio.TimeoutError:
            if pool is self._user_pool:
                self._user_pool = self._new_user_pool()
                pool.shutdown(wait=False)
            text = f"{job.label} did not answer within {self.request_timeout:g} s"
            raise _Timeout(text, _stack_of(call.thread_id)) from None
        finally:
            self._pending.discard(future)


class _Timeout(Exception):
    """A worker request ran past the time limit (internal: becomes an ``error`` reply)."""

    def __init__(self, text: str, stack: str) -> None:
        super().__init__(text)
        self.stack = stack


def _type_of(request: Request | None) -> str | None:
    return REQUEST_TYPE_NAMES.get(type(request)) if request is not None else None


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
