"""What the server tells the notebook about its traffic: events, connection records and the event log.

Events carry short summaries of what was asked and answered (:func:`describe_request`,
:func:`describe_reply`), never whole frames: every client-supplied text is cut to
:data:`SUMMARY_CHARS` with its line breaks and control characters escaped.

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..protocol import AnalyzeRequest, ChatRequest, Request

logger = logging.getLogger("codette_lab.server")

#: Every ``ServerEvent.kind``.
EVENT_KINDS = ("connect", "disconnect", "refused", "message", "reply", "error", "user_error")

#: The event kinds that report a failure (their ``traceback`` says where, when there is one).
ERROR_KINDS = frozenset({"error", "user_error"})

#: How many events an :class:`EventLog` keeps unless told otherwise (oldest dropped first).
DEFAULT_EVENT_LIMIT = 500

#: How many failures an :class:`EventLog` keeps apart from routine traffic (which cannot push them out).
DEFAULT_ERROR_LIMIT = 100

#: The longest summary or detail an event keeps (characters; longer ones are cut with an ellipsis).
SUMMARY_CHARS = 160

#: The longest traceback an event keeps (characters; the end, where the error is, is kept).
TRACEBACK_CHARS = 20_000

#: The ``client``/``name`` query parameter value of the Lab panel's own connection (not a DAW).
NOTEBOOK_CLIENT = "codette-lab-panel"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServerEvent:
    """One thing that happened on the server.

    ``kind`` is one of :data:`EVENT_KINDS`: ``connect`` / ``disconnect`` (detail:
    address and origin / close code; a connect's ``summary`` is the client's
    name from the URL's ``name``/``client`` query, see :func:`client_name`),
    ``refused`` (a handshake turned away: detail says why, e.g. its Origin),
    ``message`` (a frame arrived; ``message_type`` is the request type, None
    when the frame was not a valid request), ``reply`` (a reply was sent;
    ``message_type`` is its type, detail the time taken),
    ``error`` (an ``error`` reply was sent; detail is its text) and ``user_error``
    (the same, caused by a function defined in a notebook; ``traceback`` holds
    its traceback). A request that ran past the time limit gives an ``error``
    event whose ``traceback`` shows where the worker thread was still running.
    ``summary`` says what a message asked or a reply answered, in a few words.
    """

    kind: str
    connection_id: int | None = None
    message_type: str | None = None
    detail: str = ""
    traceback: str = ""
    timestamp: datetime = field(default_factory=_now)
    summary: str = ""

    def shortened(self) -> ServerEvent:
        """This event with ``detail`` and ``summary`` cut to :data:`SUMMARY_CHARS` and the traceback's end kept."""
        detail, summary = shorten(self.detail), shorten(self.summary)
        traceback = self.traceback[-TRACEBACK_CHARS:]
        if (detail, summary, traceback) == (self.detail, self.summary, self.traceback):
            return self
        return replace(self, detail=detail, summary=summary, traceback=traceback)


def shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text`` on one line (line breaks and control characters escaped), cut to ``limit`` characters."""
    if text.isprintable() and len(text) <= limit:
        return text
    flat = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text[: limit * 4])
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def client_name(path: str) -> str | None:
    """The name a client gave itself in its URL: ``/ws?name=Studio%20A`` (or ``client=``), else None."""
    query = parse_qs(urlsplit(path).query)
    for key in ("name", "client"):
        if query.get(key) and query[key][0].strip():
            return shorten(query[key][0].strip(), 40)
    return None


#: The HTTP statuses of a handshake turned away on purpose (Origin, token, Host): reported as ``refused``.
REFUSED_STATUSES = frozenset({401, 403})


def refusals_reported(
    process_request: Callable[[Any, Any], Any], emit: Callable[[ServerEvent], object]
) -> Callable[[Any, Any], Any]:
    """Wrap websockets' ``process_request`` hook so that every refused handshake is also an event.

    The event's detail names the client's address, the status and the reason the server answered with.
    """

    def hook(connection: Any, request: Any) -> Any:
        response = process_request(connection, request)
        if response is not None and response.status_code in REFUSED_STATUSES:
            address = connection.remote_address
            peer = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)
            reason = bytes(response.body or b"").decode("utf-8", "replace").strip()
            emit(ServerEvent("refused", detail=shorten(f"{peer} refused ({response.status_code}): {reason}")))
        return response

    return hook


def describe_request(request: Request) -> str:
    """A few words on what a request asks: the chat text and perspective, the track and analysis type."""
    if isinstance(request, ChatRequest):
        perspective = f" [{request.perspective}]" if request.perspective else ""
        return shorten(f"\u201c{request.message}\u201d{perspective}")
    if isinstance(request, AnalyzeRequest):
        track = request.track
        name = track.track_name or (str(track.track_id) if track.track_id is not None else "a track")
        audio = request.audio
        sent = "file" if audio.file_path else "samples" if audio.samples else "levels"
        if audio.attachment is not None:
            sent = f"attached {audio.attachment.name or 'file'}"
        other = f" vs {request.other_track.track.track_name}" if request.other_track is not None else ""
        return shorten(f"{request.analysis_type} of {name} ({track.track_type or 'audio'}, {sent}){other}")
    return ""


def describe_reply(reply: dict[str, Any]) -> str:
    """A few words on what a reply answers: the start of a chat answer, an analysis score, an error text."""
    kind = reply.get("type")
    if kind == "chat_response":
        return shorten(f"{reply.get('perspective')}: {reply.get('response', '')}")
    if kind == "analysis_response":
        analysis = reply.get("analysis") or {}
        score = analysis.get("quality_score")
        scored = f"quality {score:.2f}" if isinstance(score, int | float) else "not scored"
        found = len(analysis.get("mixing_suggestions") or ())
        return shorten(f"{analysis.get('analysis_type')}: {scored}, {found} suggestion(s)")
    if kind == "error":
        return shorten(str(reply.get("message", "")))
    return ""


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

    Events are kept shortened (:meth:`ServerEvent.shortened`). The last
    ``error_limit`` failures are also kept apart, so a busy class's routine
    traffic never pushes the one error a teacher is looking for out of the log.
    Subscribers are called on the thread that appends (the server's): they must
    return at once, so the widgets only schedule a refresh on the kernel's thread.
    """

    def __init__(self, *, limit: int = DEFAULT_EVENT_LIMIT, error_limit: int = DEFAULT_ERROR_LIMIT) -> None:
        self._events: deque[ServerEvent] = deque(maxlen=limit)
        self._errors: deque[ServerEvent] = deque(maxlen=error_limit)
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

    def resize(self, limit: int) -> None:
        """Keep at most ``limit`` events from now on (the oldest are dropped if there are more)."""
        with self._lock:
            self._events = deque(self._events, maxlen=limit)

    def append(self, event: ServerEvent) -> None:
        event = event.shortened()
        with self._lock:
            self._events.append(event)
            if event.kind in ERROR_KINDS:
                self._errors.append(event)
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
        """The failures kept (apart from routine traffic), oldest first: protocol errors, notebook exceptions."""
        with self._lock:
            return list(self._errors)

    def last_error(self) -> ServerEvent | None:
        errors = self.errors()
        return errors[-1] if errors else None

    def of_kind(self, *kinds: str) -> list[ServerEvent]:
        return [event for event in self.snapshot() if event.kind in kinds]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
            self._errors.clear()

    def __iter__(self) -> Iterator[ServerEvent]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        return len(self._events)

    def __repr__(self) -> str:
        return f"EventLog({len(self)} of {self.total} events kept, {len(self.errors())} errors)"
