"""Conversation memory: the recent chat turns of every session, bounded and thread-safe.

The server thread records turns while a notebook reads them, so every access
holds one lock. The store keeps at most ``limit`` turns over all sessions
(oldest dropped first), which is what ``status_response.memory_size`` reports,
and at most ``byte_limit`` bytes of their texts: long messages cannot make it
hold more than that, however many turns it counts or however long the server
runs. A text longer than the protocol accepts for a chat message (possible
only from a notebook) is kept cut to that length.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from .protocol.requests import MAX_CHAT_MESSAGE_CHARS

#: How many bytes of message and response text the memory holds at most, over all its turns.
DEFAULT_BYTE_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True)
class Turn:
    """One answered chat message.

    ``terms`` and ``instruments`` are what the question was understood to be
    about (follow-ups carry them over); ``entries`` are the knowledge entries
    the answer drew on; ``on_topic`` is False for questions the base could not
    match (those are not carried into follow-ups).
    """

    session: str
    message: str
    response: str
    perspective: str
    confidence: float
    terms: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    on_topic: bool = True


def _clipped(text: str) -> str:
    if len(text) <= MAX_CHAT_MESSAGE_CHARS:
        return text
    return f"{text[:MAX_CHAT_MESSAGE_CHARS]}... (cut from {len(text)} characters)"


def _size(turn: Turn) -> int:
    """The bytes a turn's texts take (Python's own measure of the two strings)."""
    return sys.getsizeof(turn.message) + sys.getsizeof(turn.response)


def _whole_number(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"ConversationMemory {name} must be a whole number >= {minimum}, got {value!r}")
    return value


class ConversationMemory:
    """The last turns across all sessions, at most ``limit`` of them and ``byte_limit`` bytes of text.

    ``len()`` counts the turns, :attr:`size_bytes` their texts' bytes.
    """

    def __init__(self, *, limit: int = 1000, byte_limit: int = DEFAULT_BYTE_LIMIT) -> None:
        self.limit = _whole_number("limit", limit, 1)
        self.byte_limit = _whole_number("byte_limit", byte_limit, 1)
        self._turns: deque[Turn] = deque()
        self._sizes: deque[int] = deque()  # each turn's _size, kept so that dropping one costs nothing to measure
        self._bytes = 0
        self._lock = threading.Lock()

    def record(self, turn: Turn) -> None:
        """Keep ``turn`` (its texts cut to the chat message limit); the oldest turns go while either limit is passed.

        The newest turn is always kept, so a follow-up can find it.
        """
        message, response = _clipped(turn.message), _clipped(turn.response)
        if message is not turn.message or response is not turn.response:
            turn = dataclasses.replace(turn, message=message, response=response)
        size = _size(turn)
        with self._lock:
            turns, sizes = self._turns, self._sizes
            turns.append(turn)
            sizes.append(size)
            self._bytes += size
            while len(turns) > self.limit or (self._bytes > self.byte_limit and len(turns) > 1):
                turns.popleft()
                self._bytes -= sizes.popleft()

    @property
    def size_bytes(self) -> int:
        """The bytes the remembered turns' messages and responses take."""
        with self._lock:
            return self._bytes

    def recent(self, session: str, n: int = 10) -> tuple[Turn, ...]:
        """The last ``n`` turns of ``session``, oldest first."""
        found: list[Turn] = []
        if n <= 0:
            return ()
        with self._lock:
            for turn in reversed(self._turns):
                if turn.session == session:
                    found.append(turn)
                    if len(found) == n:
                        break
        return tuple(reversed(found))

    def sessions(self) -> list[str]:
        """The sessions that have turns in memory, in order of their first remembered turn."""
        with self._lock:
            return list(dict.fromkeys(turn.session for turn in self._turns))

    def clear(self, session: str | None = None) -> None:
        """Forget every turn, or only those of ``session``."""
        with self._lock:
            if session is None:
                self._turns.clear()
            else:
                self._turns = deque(turn for turn in self._turns if turn.session != session)
            self._sizes = deque(map(_size, self._turns))
            self._bytes = sum(self._sizes)

    def snapshot(self) -> tuple[Turn, ...]:
        """Every remembered turn, oldest first (a copy: safe to read while the server records)."""
        with self._lock:
            return tuple(self._turns)

    def __len__(self) -> int:
        with self._lock:
            return len(self._turns)

    def __iter__(self) -> Iterator[Turn]:
        return iter(self.snapshot())

    def __repr__(self) -> str:
        return f"ConversationMemory({len(self)} of {self.limit} turns, {self.size_bytes} of {self.byte_limit} bytes)"
