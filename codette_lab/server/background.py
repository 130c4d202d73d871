"""Running the server inside a Jupyter kernel: its own event loop on a daemon thread.

The kernel's main thread stays free for cells; the server thread keeps
answering (and keeps WebSocket keepalive pings going) while a cell computes.
Cells reach the server's loop only through thread-safe hand-offs
(:meth:`BackgroundServer.call_soon`, :meth:`BackgroundServer.run_coroutine`),
so nothing needs nest-asyncio.

A process-wide registry remembers which BackgroundServer serves which port:
starting another one on that port stops the first, whatever host either names
(``"localhost"`` and ``"127.0.0.1"`` share the loopback socket, so keying by
host too would report this very kernel as "another process"). Re-running a
notebook's start cell therefore never fails with "address already in use",
and every server still running when the interpreter exits is stopped.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from websockets.frames import CloseCode

from ..errors import ServerError
from .address import health_url, page_url, websocket_url
from .core import DEFAULT_HOST, DEFAULT_PORT, CodetteServer, serve
from .events import ConnectionInfo, Listener

if TYPE_CHECKING:
    from ..engine import Engine

logger = logging.getLogger("codette_lab.server")

T = TypeVar("T")

#: How long start() waits for the server thread to be listening.
START_TIMEOUT = 30.0

#: The running BackgroundServers of this process, by the port each one listens on.
_registry: dict[int, BackgroundServer] = {}
_registry_lock = threading.Lock()


class BackgroundServer:
    """A Codette server on its own event-loop thread: ``BackgroundServer(engine, port=8000).start()``.

    ``options`` are those of :func:`~codette_lab.server.serve` (``allowed_origins``,
    ``request_timeout``, ``workers``, ...). Also usable as ``with BackgroundServer(...) as server:``.
    """

    def __init__(
        self, engine: Engine | None = None, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, **options: Any
    ) -> None:
        if engine is None:
            from ..engine import Engine

            engine = Engine()
        self.engine = engine
        self.host = host
        self.requested_port = port
        self.options = options
        self._listeners: list[Listener] = []
        self._server: CodetteServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop_requested: asyncio.Event | None = None
        self._close_with: tuple[int, str] = (CloseCode.GOING_AWAY, "")

    # -- start and stop ----------------------------------------------------------------

    def start(self) -> BackgroundServer:
        """Listen, replacing this process's server on the same port (whatever its host); returns once serving.

        Raises PortInUseError (naming host and port) when another process holds the port,
        ServerError when it cannot listen for any other reason.
        """
        if self.running:
            return self
        if self.requested_port:
            with _registry_lock:
                previous = _registry.get(self.requested_port)
            if previous is not None and previous is not self:
                logger.info("Replacing the Codette server already running on %s", previous.url)
                previous.stop()
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=self._run, args=(loop, started), name=f"codette-server-{self.requested_port}", daemon=True
        )
        self._loop, self._thread = loop, thread
        thread.start()
        try:
            started.result(timeout=START_TIMEOUT)
        except concurrent.futures.TimeoutError:
            raise ServerError(
                f"The server on {self.host}:{self.requested_port} did not start within {START_TIMEOUT:g} s"
            ) from None
        except BaseException:
            thread.join()
            self._loop = self._thread = None
            raise
        with _registry_lock:
            _registry[self.port] = self
        return self

    def stop(self, timeout: float = 5.0, *, code: int = CloseCode.GOING_AWAY, reason: str = "") -> None:
        """Close every connection (with ``code``, 1001 by default), free the port and end the thread. Idempotent."""
        self._close_with = (code, reason)
        thread, loop, stop_requested = self._thread, self._loop, self._stop_requested
        if thread is not None and loop is not None and stop_requested is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # RuntimeError: the loop already closed
                loop.call_soon_threadsafe(stop_requested.set)
            if thread is threading.current_thread():  # asked from a listener or hand-off: the loop winds down
                return
            thread.join(timeout)
            if thread.is_alive():
                raise ServerError(f"The server on {self.url} did not stop within {timeout:g} s")
        with _registry_lock:
            for port, server in list(_registry.items()):
                if server is self:
                    del _registry[port]
        self._thread = self._loop = self._stop_requested = None

    def _run(self, loop: asyncio.AbstractEventLoop, started: concurrent.futures.Future[None]) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(started))
        finally:
            # what the server left running (a connection accepted as it closed) is cancelled and ended here, as
            # asyncio.run does: a task still pending when the loop closes is reported at garbage collection
            # ("Task was destroyed but it is pending!", on the kernel's stderr)
            left = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self, started: concurrent.futures.Future[None]) -> None:
        try:
            server = serve(self.engine, host=self.host, port=self.requested_port, **self.options)
            for function in self._listeners:
                server.add_listener(function)
            await server.start()
        except BaseException as exc:
            started.set_exception(exc)
            return
        self._server = server
        self._stop_requested = asyncio.Event()
        started.set_result(None)
        try:
            await self._stop_requested.wait()
        finally:
            server.close(*self._close_with)
            await server.wait_closed()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what the notebook reads -----------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._stop_requested is not None

    @property
    def port(self) -> int:
        return self._server.port if self._server is not None else self.requested_port

    @property
    def tls(self) -> bool:
        """True when the server serves (or will serve) ``https://`` and ``wss://``."""
        return self._server.tls if self._server is not None else self.options.get("tls") is not None

    @property
    def url(self) -> str:
        return websocket_url(self.host, self.port, tls=self.tls)

    @property
    def page_url(self) -> str:
        """The join page on the bound address, without the token."""
        return page_url(self.host, self.port, tls=self.tls)

    @property
    def join_url(self) -> str:
        """The page students open: with the token off loopback or when required (see :mod:`.access`)."""
        return self._server.join_url if self._server is not None else self.page_url

    @property
    def ws_join_url(self) -> str:
        """What a DAW on another machine connects to: the WebSocket URL with the token when one is needed."""
        return self._server.ws_join_url if self._server is not None else self.url

    @property
    def token(self) -> str | None:
        """The token clients off this machine must send (None on loopback, or before the first start)."""
        return self._server.token if self._server is not None else None

    @property
    def health_url(self) -> str:
        return health_url(self.host, self.port, tls=self.tls)

    @property
    def active_connections(self) -> int:
        return self._server.active_connections if self.running and self._server is not None else 0

    def connections(self) -> list[ConnectionInfo]:
        return self._server.connections() if self.running and self._server is not None else []

    def add_listener(self, function: Listener) -> None:
        """Call ``function(event)`` for every ServerEvent, on the server thread (kept across restarts)."""
        self._listeners.append(function)
        if self._server is not None:
            self._server.add_listener(function)

    def remove_listener(self, function: Listener) -> None:
        self._listeners = [f for f in self._listeners if f is not function]
        if self._server is not None:
            self._server.remove_listener(function)

    # -- hand-offs to the server thread ----------------------------------------------

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if not self.running or self._loop is None:
            raise ServerError("The server is not running: call start() first")
        return self._loop

    def call_soon(self, function: Callable[..., object], *args: Any) -> None:
        """Run ``function(*args)`` on the server's loop thread, soon (thread-safe)."""
        self._running_loop().call_soon_threadsafe(function, *args)

    def run_coroutine(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coroutine`` on the server's loop; ``.result()`` on the returned future waits for it."""
        try:
            loop = self._running_loop()
        except ServerError:
            coroutine.close()
            raise
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

    def __repr__(self) -> str:
        state = f"running, {self.active_connections} connection(s)" if self.running else "stopped"
        return f"<BackgroundServer {self.url} {state}>"


def running_servers() -> list[BackgroundServer]:
    """The BackgroundServers of this process that are serving now."""
    with _registry_lock:
        return [server for server in _registry.values() if server.running]


@atexit.register
def _stop_all() -> None:
    for server in running_servers():
        try:
            server.stop(timeout=2.0)
        except ServerError:
            logger.warning("Could not stop %r at exit", server)
