"""Conversation memory: the recent chat turns of every session, bounded and thread-safe.

The server thread records turns while a notebook reads them, so every access
holds one lock. The store keeps at most ``limit`` turns over all sessions
(oldest dropped first), which is what ``status_response.memory_size`` reports
and why it cannot grow forever however long the server runs.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass


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


class ConversationMemory:
    """The last ``limit`` turns across all sessions; ``len()`` counts them."""

    def __init__(self, *, limit: int = 1000) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"ConversationMemory limit must be a whole number >= 1, got {limit!r}")
        self.limit = limit
        self._turns: deque[Turn] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, turn: Turn) -> None:
        """Keep ``turn``; the oldest turn goes when the memory is full."""
        with self._lock:
            self._turns.append(turn)

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
                kept = [turn for turn in self._turns if turn.session != session]
                self._turns = deque(kept, maxlen=self.limit)

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
        return f"ConversationMemory({len(self)} of {self.limit} turns)"
