"""A notebook perspective's return value as a ChatReply: a str, a ChatReply or a dict, checked.

Anything else, or a value of the right kind holding the wrong thing (an empty
response, a confidence outside 0..1), is refused with a UserCodeError that
names the function and says what came and what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .. import usercode
from ..registry import Entry
from .reply import ChatReply

if TYPE_CHECKING:
    from .context import ChatContext


def _confidence(entry: Entry, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise usercode.malformed(entry, f"a confidence of {value!r}, expected a number between 0 and 1")
    if not 0.0 <= value <= 1.0:
        raise usercode.malformed(entry, f"a confidence of {value!r}, expected a number between 0 and 1")
    return float(value)


def _response(entry: Entry, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        shown = "an empty response" if isinstance(value, str) else f"a response of type {type(value).__name__}"
        raise usercode.malformed(entry, f"{shown}, expected a non-empty string")
    return value


def _topics(entry: Entry, value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise usercode.malformed(entry, f"topics of type {type(value).__name__}, expected a list of strings")
    return tuple(value)


def _from_text(entry: Entry, value: str, context: ChatContext) -> ChatReply:
    confidence = context.understanding.ranking.confidence
    return ChatReply(_response(entry, value), entry.name, confidence)


def _from_reply(entry: Entry, value: ChatReply, context: ChatContext) -> ChatReply:
    return ChatReply(
        _response(entry, value.response), entry.name, _confidence(entry, value.confidence), _topics(entry, value.topics)
    )


def _from_mapping(entry: Entry, value: Mapping[str, Any], context: ChatContext) -> ChatReply:
    if "response" not in value:
        raise usercode.malformed(entry, "a dict without 'response', expected {'response': str, 'confidence': float}")
    confidence = value.get("confidence")
    return ChatReply(
        _response(entry, value["response"]),
        entry.name,
        context.understanding.ranking.confidence if confidence is None else _confidence(entry, confidence),
        _topics(entry, value.get("topics", ())),
    )


_COERCIONS: tuple[tuple[type, Callable[[Entry, Any, ChatContext], ChatReply]], ...] = (
    (str, _from_text),
    (ChatReply, _from_reply),
    (Mapping, _from_mapping),
)


def coerce_reply(entry: Entry, value: Any, context: ChatContext) -> ChatReply:
    """A perspective's return value as a ChatReply: str, ChatReply or dict; anything else is malformed."""
    for kind, convert in _COERCIONS:
        if isinstance(value, kind):
            return convert(entry, value, context)
    raise usercode.malformed(
        entry, f"{type(value).__name__}, expected a str, a ChatReply or a dict with 'response' (and 'confidence')"
    )
