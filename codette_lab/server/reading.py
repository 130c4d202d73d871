"""Received data parsed a little at a time, so that no pass of the event loop runs long.

websockets parses what a connection receives in the transport's callback:
joining the pieces of a frame, and unmasking it when it is complete, costs
milliseconds for a 14 MB frame (30 s of stereo audio). When many DAWs send
their clips at once, many such frames complete in the same pass of the loop,
and a ping that arrived meanwhile waits behind all of them.

So the time spent parsing bulk reads is counted per pass of the loop (:class:`ReadBudget`).
Once a pass has used its budget, further bulk reads (a connection streaming a
large frame) are held: the connection stops reading and its held data is
parsed in a later pass, in order, within that pass's budget. A small read
that begins a message (a ping, a chat, the opening handshake) is parsed at
once whatever the budget, so it never waits behind bulk data.

This is the server's fast path: it uses two internals of websockets, named in
:mod:`.fastpaths`, which also holds the switch to the plain path without it.
What it gains is measured on and off in ``docs/benchmarks.md`` (fast paths).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from typing import Any

from websockets.asyncio.server import ServerConnection

#: Seconds of parsing one pass of the event loop may spend on bulk reads before the rest waits for the next.
PASS_BUDGET_S = 0.005
#: Reads at least this long are bulk (a piece of a large frame), as is any read that continues a frame
#: already begun: they wait when the budget is spent.
BULK_READ_BYTES = 16 * 2**10


class ReadBudget:
    """Parsing time spent in the current pass of one event loop; reset at the start of the next pass."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.spent = 0.0
        self._reset_pending = False

    @property
    def exhausted(self) -> bool:
        return self.spent >= PASS_BUDGET_S

    def charge(self, seconds: float) -> None:
        """Count ``seconds`` of parsing against this pass (the count starts again in the next pass)."""
        self.spent += seconds
        if not self._reset_pending:  # callbacks scheduled now run in the next pass, this one first
            self._reset_pending = True
            self._loop.call_soon(self._reset)

    def _reset(self) -> None:
        self.spent = 0.0
        self._reset_pending = False


_budgets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReadBudget] = weakref.WeakKeyDictionary()


def budget_of(loop: asyncio.AbstractEventLoop) -> ReadBudget:
    """The budget shared by every connection on ``loop``."""
    budget = _budgets.get(loop)
    if budget is None:
        budget = _budgets[loop] = ReadBudget(loop)
    return budget


class ChunkedBuffer:
    """The receive buffer of websockets' stream reader, kept as the pieces received.

    websockets appends every read to one ``bytearray``; while many connections
    each receive a 14 MB frame at once, each append that cannot grow in place
    copies the whole buffer so far. Kept in pieces, a frame's bytes are copied
    once, when it is complete.
    Only what the reader does with its buffer is offered: ``len``, ``+=``,
    ``[:n]``, ``del [:n]``, ``find``. A connection swaps it in when a large
    frame begins and back to a ``bytearray`` (faster for small messages) once
    it is empty.
    """

    def __init__(self, start: bytes | bytearray = b"") -> None:
        self._pieces: deque[bytes] = deque()
        self._size = 0
        self += start

    def __len__(self) -> int:
        return self._size

    def __iadd__(self, data: bytes | bytearray) -> ChunkedBuffer:
        if data:
            self._pieces.append(bytes(data) if isinstance(data, bytearray) else data)
            self._size += len(data)
        return self

    def _stop(self, key: slice) -> int:
        start, stop, step = key.indices(self._size)
        if start != 0 or step != 1:
            raise ValueError(f"a receive buffer is only read from its start, got {key!r}")
        return stop

    def __getitem__(self, key: slice) -> bytes:
        stop = self._stop(key)
        parts: list[memoryview] = []
        filled = 0
        for piece in self._pieces:
            if filled >= stop:
                break
            take = min(len(piece), stop - filled)
            parts.append(memoryview(piece)[:take])
            filled += take
        return b"".join(parts)  # the one copy of these bytes (no zero-filling first)

    def __delitem__(self, key: slice) -> None:
        left = self._stop(key)
        self._size -= left
        while left:
            piece = self._pieces[0]
            if len(piece) <= left:
                self._pieces.popleft()
                left -= len(piece)
            else:
                self._pieces[0] = piece[left:]
                left = 0

    def find(self, sub: bytes, start: int = 0) -> int:
        if len(self._pieces) > 1:  # lines are read only in the opening handshake: few, small pieces
            whole = bytes(self[:])
            self._pieces = deque([whole]) if whole else deque()
        return self._pieces[0].find(sub, start) if self._pieces else -1


class FairlyReadConnection(ServerConnection):
    """A ServerConnection whose bulk reads wait for a later pass of the loop once its budget is spent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._budget = budget_of(self.loop)
        self._held: deque[bytes] = deque()

    def data_received(self, data: bytes) -> None:
        if not self._held:
            if not self._is_bulk(data):  # a small read beginning a message: parsed at once, in microseconds
                super().data_received(data)
                return
            if not self._budget.exhausted:
                self._parse(data)
                return
            self.loop.call_soon(self._parse_held)
        self._held.append(data)
        self.transport.pause_reading()  # nothing more until the held data is parsed (idempotent)

    def _is_bulk(self, data: bytes) -> bool:
        """A long read, or any read that continues a frame already begun (its last piece may be short,
        and it is the one that completes the frame: the costly step)."""
        return len(data) >= BULK_READ_BYTES or len(self.protocol.reader.buffer) > 0

    def _parse(self, data: bytes) -> None:
        reader = self.protocol.reader
        if len(data) >= BULK_READ_BYTES and type(reader.buffer) is bytearray:  # a large frame: keep it in pieces
            reader.buffer = ChunkedBuffer(reader.buffer)  # type: ignore[assignment]
        started = time.perf_counter()
        try:
            super().data_received(data)
        finally:
            self._budget.charge(time.perf_counter() - started)
        if isinstance(reader.buffer, ChunkedBuffer) and not len(reader.buffer):  # small messages: the fast one
            reader.buffer = bytearray()

    def _parse_held(self) -> None:
        """Parse held data in order while this pass's budget lasts, then read again (unless websockets
        itself paused reading meanwhile, its queue of messages being full)."""
        while self._held:
            if self._budget.exhausted:
                self.loop.call_soon(self._parse_held)
                return
            self._parse(self._held.popleft())
        if not getattr(self.recv_messages, "paused", False) and not self.transport.is_closing():
            self.transport.resume_reading()

    def _parse_all_held(self) -> None:
        while self._held:
            self._parse(self._held.popleft())

    def eof_received(self) -> None:
        self._parse_all_held()  # the end of the stream comes after the data held before it
        super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._parse_all_held()
        super().connection_lost(exc)
