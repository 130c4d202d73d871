"""The answer to a chat request, as a perspective returns it and the protocol sends it."""

from __future__ import annotations

from dataclasses import dataclass

from ..protocol import replies


@dataclass(frozen=True)
class ChatReply:
    """A chat answer: the document's ``response``, ``perspective``, ``confidence``, plus ``topics``.

    ``topics`` are the ids of the knowledge entries the answer drew on (sent as
    an extra ``topics`` field that clients knowing only the document ignore).
    """

    response: str
    perspective: str
    confidence: float
    topics: tuple[str, ...] = ()

    def to_message(self) -> replies.Message:
        return replies.chat_response(
            response=self.response,
            perspective=self.perspective,
            confidence=self.confidence,
            topics=list(self.topics),
        )
