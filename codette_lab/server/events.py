"""What the server tells the notebook about its traffic: events and connection records.

The Monitor panel (and anything else) subscribes with ``add_listener(fn)``;
``fn(event)`` is called on the server's event-loop thread for every
:class:`ServerEvent`. A listener that raises is logged and otherwise ignored:
watching the server can never break serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

logger = logging.getLogger("codette_lab.server")

#: Every ``ServerEvent.kind``.
EVENT_KINDS = ("connect", "disconnect", "message", "reply", "error", "user_error")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ServerEvent:
    """One thing that happened on the server.

    ``kind`` is one of :data:`EVENT_KINDS`: ``connect`` / ``disconnect`` (detail:
    address and origin / close code), ``message`` (a frame arrived; ``message_type``
    is the request type, None when the frame was not a valid request), ``reply``
    (a reply was sent; ``message_type`` is its type, detail the time taken),
    ``error`` (an ``error`` reply was sent; detail is its text) and ``user_error``
    (the same, caused by a function defined in a notebook; ``traceback`` holds
    its traceback). A request that ran past the time limit gives an ``error``
    event whose ``traceback`` shows where the worker thread was still running.
    """

    kind: str
    connection_id: int | None = None
    message_type: str | None = None
    detail: str = ""
    traceback: str = ""
    timestamp: datetime = field(default_factory=_now)


@dataclass(frozen=True)
class ConnectionInfo:
    """A snapshot of one open connection, as ``server.connections()`` lists them."""

    id: int
    remote_address: str
    origin: str | None
    connected_at: datetime
    messages: int


Listener = Callable[[ServerEvent], object]


class Listeners:
    """The functions called with every event. Safe to change from any thread (copy on write)."""

    def __init__(self) -> None:
        self._functions: tuple[Listener, ...] = ()

    def add(self, function: Listener) -> None:
        if not callable(function):
            raise TypeError(f"a server listener must be callable, got {type(function).__name__}")
        self._functions = (*self._functions, function)

    def remove(self, function: Listener) -> None:
        """Forget ``function`` (no error if it was not listening)."""
        self._functions = tuple(f for f in self._functions if f is not function)

    def __bool__(self) -> bool:
        return bool(self._functions)

    def emit(self, event: ServerEvent) -> None:
        for function in self._functions:
            try:
                function(event)
            except Exception:  # a listener's bug must not reach the connection
                logger.exception("Server listener %r failed on a %s event", function, event.kind)
