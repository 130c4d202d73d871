"""What the server keeps about each open connection, and when it stops counting one as open."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

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
