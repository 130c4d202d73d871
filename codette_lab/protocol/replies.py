"""Server-to-client messages: builders for each reply type and their serialisation.

Each builder returns a plain dict in the document's field order, ending with
the timestamp; :func:`encode` turns any of them into the text frame. Fields
beyond the document's are additions only, so clients that know just the
document read every reply unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from .timestamps import utc_timestamp

WELCOME_TEXT = "Connected to Codette AI Unified Server"
SERVICE_NAME = "Codette AI Unified Server"

Message = dict[str, Any]


def welcome(*, codette_available: bool) -> Message:
    return {
        "type": "connection",
        "status": "connected",
        "message": WELCOME_TEXT,
        "codette_available": codette_available,
        "timestamp": utc_timestamp(),
    }


def pong() -> Message:
    return {"type": "pong", "timestamp": utc_timestamp()}


def pong_frame(message: Message) -> str:
    """``encode(message)`` for a :func:`pong`, written out directly: the server answers pings by the ten
    thousand per second, and a timestamp is plain ASCII, which JSON writes as it is."""
    return f'{{"type": "pong", "timestamp": "{message["timestamp"]}"}}'


def error(message: str) -> Message:
    return {"type": "error", "message": message, "timestamp": utc_timestamp()}


def chat_response(*, response: str, perspective: str, confidence: float, **extra: Any) -> Message:
    """``extra`` fields (e.g. ``topics``) follow the document's ones."""
    return {
        "type": "chat_response",
        "response": response,
        "perspective": perspective,
        "confidence": confidence,
        **extra,
        "timestamp": utc_timestamp(),
    }


def status_response(
    *, codette_available: bool, engine_type: str, memory_size: int, active_connections: int, **extra: Any
) -> Message:
    """``extra`` fields (e.g. ``rules``) follow the document's ones."""
    return {
        "type": "status_response",
        "status": "ok",
        "codette_available": codette_available,
        "engine_type": engine_type,
        "memory_size": memory_size,
        "active_connections": active_connections,
        **extra,
        "timestamp": utc_timestamp(),
    }


def analysis_response(*, track_id: str | int | None, analysis: Mapping[str, Any]) -> Message:
    return {
        "type": "analysis_response",
        "status": "success",
        "trackId": track_id,
        "analysis": dict(analysis),
        "timestamp": utc_timestamp(),
    }


def health(*, codette_available: bool) -> Message:
    """The body of ``GET /health``."""
    return {
        "status": "healthy",
        "service": SERVICE_NAME,
        "codette_available": codette_available,
        "timestamp": utc_timestamp(),
    }


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values, for json."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def finite(value: Any) -> Any:
    """The same structure made JSON-ready: NaN and infinity become None, numpy scalars and arrays Python
    numbers and lists, tuples lists, mapping keys text. Used by :func:`encode` and by anything that builds
    a reply's nested data (an analysis' metrics)."""
    if isinstance(value, Mapping):
        return {str(key): finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    if hasattr(value, "tolist"):
        return finite(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: Made once: ``json.dumps`` builds a new encoder on every call (documented json API only; calling the C
#: encoder directly saved about a microsecond per reply, not worth depending on CPython's internals).
_encode = json.JSONEncoder(allow_nan=False, default=_plain).encode


def encode(message: Mapping[str, Any]) -> str:
    """One text frame. Never emits NaN or Infinity: they become null (JSON has no such numbers)."""
    try:
        return _encode(message)
    except ValueError:
        return _encode(finite(message))
