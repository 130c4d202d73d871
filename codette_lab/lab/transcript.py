"""The Lab's transcript: every request and whole reply of the last while, for a log people keep.

The server's events carry short summaries (a Monitor line is enough to see
what happened); a teacher who saves the log wants what each student asked
and *the whole answer*. :class:`Transcript` is a traffic recorder the Lab
hands its server (see :class:`~codette_lab.server.exchange.TrafficRecorder`):
it keeps the last :data:`TRANSCRIPT_ENTRIES` frames in memory, replies whole,
requests whole up to :data:`FRAME_CHARS` (a frame carrying audio keeps its
head and says how large it was). :class:`Tee` hands the traffic to it and to
the Lab's file recorder (``lab.record(DIR)``) when there is one.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..server.connections import Connection
    from ..server.exchange import TrafficRecorder

#: How many frames (requests and replies) the transcript keeps; the oldest go first.
TRANSCRIPT_ENTRIES = 2000

#: The longest request text kept whole (characters); longer ones (audio as samples) keep their head.
FRAME_CHARS = 4000


@dataclass(frozen=True)
class Entry:
    """One frame of the transcript: who, which way (``asked`` or ``answered``), the text, when."""

    connection_id: int
    direction: str
    text: str
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))


class Transcript:
    """The last frames in and out, whole (see the module's docstring). Thread-safe."""

    def __init__(self, limit: int = TRANSCRIPT_ENTRIES) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def connected(self, connection: Connection) -> None:
        return None

    async def received(self, connection: Connection, frame: bytes) -> None:
        if frame[:1] not in (b"{", b"[", b" ", b"\n"):  # a binary frame: an attached file
            text = f"(a binary frame of {len(frame)} bytes: an attached audio file)"
        elif len(frame) > FRAME_CHARS:
            head = frame[:FRAME_CHARS].decode("utf-8", errors="replace")
            text = f"{head}... ({len(frame)} bytes in all: audio sent as samples, cut here)"
        else:
            text = frame.decode("utf-8", errors="replace")
        with self._lock:
            self._entries.append(Entry(connection.id, "asked", text))

    def replied(self, connection: Connection, reply: str) -> None:
        with self._lock:
            self._entries.append(Entry(connection.id, "answered", reply))

    def disconnected(self, connection: Connection, close_code: int | None) -> None:
        return None

    def entries(self) -> list[Entry]:
        """The frames kept, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Tee:
    """A traffic recorder that tells every recorder given (the transcript, and a file recorder if any)."""

    def __init__(self, *recorders: TrafficRecorder | None) -> None:
        self.recorders = [recorder for recorder in recorders if recorder is not None]

    def connected(self, connection: Connection) -> None:
        for recorder in self.recorders:
            recorder.connected(connection)

    async def received(self, connection: Connection, frame: bytes) -> None:
        for recorder in self.recorders:
            await recorder.received(connection, frame)

    def replied(self, connection: Connection, reply: str) -> None:
        for recorder in self.recorders:
            recorder.replied(connection, reply)

    def disconnected(self, connection: Connection, close_code: int | None) -> None:
        for recorder in self.recorders:
            recorder.disconnected(connection, close_code)
