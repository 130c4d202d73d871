"""What the server keeps about each open connection, and when it stops counting one as open."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from ..protocol.quoting import quote_client_text
from .events import ConnectionInfo

#: Connection ids are unique in the process, so a replaced server never reuses a session name.
_connection_ids = itertools.count(1)


def session_name(connection_id: int) -> str:
    """The engine session of a connection (its conversation memory, the request hooks' ``session``)."""
    return f"ws-{connection_id}"


def remote_host(socket: ServerConnection) -> str:
    """The peer's IP address (``127.0.0.1``, ``::1``), or ``""`` when the transport does not say."""
    address = socket.remote_address
    return str(address[0]) if isinstance(address, tuple) and address else ""


def _address(socket: ServerConnection) -> str:
    address = socket.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


@dataclass
class Connection:
    """What the server keeps about one open connection; ``session`` names it to the engine."""

    id: int
    socket: ServerConnection
    remote_address: str
    origin: str | None
    connected_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    messages: int = 0

    @classmethod
    def accepted(cls, socket: ServerConnection) -> Connection:
        """The record of a connection just accepted, with the next id of this process."""
        origin = socket.request.headers.get("Origin") if socket.request else None  # one at most (see http.py)
        origin = quote_client_text(origin) if origin is not None else None
        return cls(id=next(_connection_ids), socket=socket, remote_address=_address(socket), origin=origin)

    @property
    def session(self) -> str:
        return session_name(self.id)

    @property
    def is_open(self) -> bool:
        """Open, and not closing: a connection stops counting as soon as a close frame arrives."""
        return self.socket.state is State.OPEN

    def info(self) -> ConnectionInfo:
        return ConnectionInfo(self.id, self.remote_address, self.origin, self.connected_at, self.messages)


class AcceptedConnections:
    """Every connection websockets creates for one server, its opening handshake included, held weakly.

    websockets lists a connection only once its handshake is done, and at close waits for the others up to
    its open timeout (10 s); browsers open spare TCP connections they never speak on. So the server makes its
    connections through :meth:`factory` (websockets' documented ``create_connection``) and, at close, drops
    those still opening at once (nobody to say goodbye to) and, a moment later, any that did not close.
    """

    def __init__(self) -> None:
        self._sockets: weakref.WeakSet[ServerConnection] = weakref.WeakSet()

    def factory(self, cls: type[ServerConnection]) -> type[ServerConnection]:
        """A ``create_connection`` class: ``cls``, each instance remembered."""
        sockets = self._sockets

        class Remembered(cls):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                sockets.add(self)

        return Remembered

    def __iter__(self) -> Iterator[ServerConnection]:
        return iter(list(self._sockets))

    def abort_handshaking(self) -> None:
        """Drop the connections that have not finished their opening handshake."""
        self._abort(lambda state: state is State.CONNECTING)

    def abort_unclosed(self) -> None:
        """Drop every connection not closed yet (those that did not answer the closing handshake)."""
        self._abort(lambda state: state is not State.CLOSED)

    def _abort(self, which: Callable[[State], bool]) -> None:
        for socket in list(self._sockets):
            transport = getattr(socket, "transport", None)  # set once the connection is made
            if transport is not None and which(socket.state):
                transport.abort()
