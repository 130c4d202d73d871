"""What the server tells the notebook about its traffic: events, connection records and the event log.

Anything may subscribe with ``add_listener(fn)``; ``fn(event)`` is called on
the server's event-loop thread for every :class:`ServerEvent`. A listener that
raises is logged and otherwise ignored: watching the server can never break
serving. :class:`EventLog` is such a listener that keeps the last events for
code and panels to read from other threads (the Lab's ``lab.events``).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

logger = logging.getLogger("codette_lab.server")

#: Every ``ServerEvent.kind``.
EVENT_KINDS = ("connect", "disconnect", "message", "reply", "error", "user_error")

#: The event kinds that report a failure (their ``traceback`` says where, when there is one).
ERROR_KINDS = frozenset({"error", "user_error"})

#: How many events an :class:`EventLog` keeps unless told otherwise (oldest dropped first).
DEFAULT_EVENT_LIMIT = 500


def _now() -> datetime:
    return datetime.now(UTC)


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
