"""The error texts of frames that are not valid protocol, and the patterns other error texts follow.

Here: every text a frame's parsing can fail with (``protocol.requests``),
the first two fixed by the protocol document word for word, and the shapes
shared with the layers above (:func:`field_problem` for a field's value,
:func:`unknown_choice` for a name not in a table). The texts of requests that
parse but cannot be answered are written where that is found out, in these
shapes: audio that cannot be used in ``audio_input``, "Server busy" in
``server.limits``, time limits in ``server.workers``, notebook functions in
``usercode``, rules in ``rules``. ``docs/protocol.md`` lists them all.
Every text names the field, says what was expected and what came.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .quoting import quote_client_text

INVALID_JSON = "Invalid JSON format"


def unknown_message_type(message_type: str) -> str:
    return f"Unknown message type: {quote_client_text(message_type)}"


def kind_of(value: object) -> str:
    """The JSON name of a decoded value's kind, for error texts."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "empty string" if not value.strip() else "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def not_an_object(value: object) -> str:
    return f"Invalid message: expected a JSON object with a 'type' field, got {kind_of(value)}"


def too_deeply_nested(limit: int) -> str:
    return f"Invalid message: arrays and objects nested deeper than {limit} levels"


def missing_type() -> str:
    return "Invalid message: missing field 'type' (expected a string such as 'chat')"


def missing_field(message_type: str, field: str, expected: str) -> str:
    return f"Missing field '{field}' in {message_type}: expected {expected}"


def invalid_field(message_type: str, field: str, expected: str, value: object) -> str:
    return f"Invalid field '{field}' in {message_type}: expected {expected}, got {kind_of(value)}"


def field_problem(message_type: str, field: str, problem: str) -> str:
    return f"Invalid field '{field}' in {message_type}: {problem}"


def out_of_range(message_type: str, field: str, expected: str, value: object) -> str:
    return f"Invalid field '{field}' in {message_type}: expected {expected}, got {value!r}"


def non_finite(path: str, value: float) -> str:
    shown = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return f"Invalid value at '{quote_client_text(path)}': expected a finite number, got {shown}"


def lone_surrogate(path: str) -> str:
    return f"Invalid value at '{quote_client_text(path)}': expected Unicode text, got a string holding a lone surrogate"


def unknown_choice(what: str, value: str, available: Iterable[str]) -> str:
    """For perspectives and analysis types: ``Unknown perspective: 'x' (available: a, b)``."""
    return f"Unknown {what}: '{quote_client_text(value)}' (available: {', '.join(sorted(available))})"
