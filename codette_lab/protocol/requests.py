"""Client-to-server messages: parse a text frame into a typed request, or say exactly why not.

Pure functions, no I/O: ``parse_request(text)`` either returns one of the
request classes below or raises :class:`~codette_lab.errors.ProtocolError`
whose text is what the server sends back in its ``error`` reply.

What is checked here is the *shape* of a message (types, required fields,
finite numbers). Whether a perspective or analysis type exists is the
engine's business, because notebooks add new ones while the server runs.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProtocolError
from . import texts

#: Used when an ``analyze`` request names no ``analysis_type``.
DEFAULT_ANALYSIS_TYPE = "spectrum"


@dataclass(frozen=True)
class PingRequest:
    """``{"type": "ping"}``: keepalive, answered by ``pong``."""


@dataclass(frozen=True)
class StatusRequest:
    """``{"type": "status"}``: answered by ``status_response``."""


@dataclass(frozen=True)
class ChatRequest:
    """A mixing question. ``perspective`` is None when the client named none."""

    message: str
    perspective: str | None = None
    daw_context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackData:
    """``analyze.track_data``: which track, of which kind, in which state."""

    track_id: str | int | None = None
    track_name: str | None = None
    track_type: str | None = None
    muted: bool = False
    soloed: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AudioData:
    """``analyze.audio_data``: levels (the document's fields) and, as extensions, real audio.

    ``samples`` is base64 of little-endian float32 PCM, interleaved over
    ``channels``; ``file_path`` names a file on the server's machine. At most
    one of the two is given; with neither, only the levels are analysed.
    """

    peak_level: float | None = None
    rms_level: float | None = None
    duration: float | None = None
    sample_rate: float | None = None
    samples: str | None = None
    channels: int | None = None
    file_path: str | None = None

    @property
    def has_audio(self) -> bool:
        return self.samples is not None or self.file_path is not None


@dataclass(frozen=True)
class TrackAudio:
    """A track and its audio: the second track of a ``masking`` analysis (``other_track``)."""

    track: TrackData
    audio: AudioData


@dataclass(frozen=True)
class AnalyzeRequest:
    """A request to analyse one track (and, for masking, a second one in ``other_track``)."""

    track: TrackData
    audio: AudioData
    analysis_type: str = DEFAULT_ANALYSIS_TYPE
    other_track: TrackAudio | None = None


Request = PingRequest | StatusRequest | ChatRequest | AnalyzeRequest


class _Fields:
    """Reads fields of one JSON object, raising ProtocolError texts that name them."""

    def __init__(self, data: Mapping[str, Any], message_type: str, prefix: str = "") -> None:
        self.data = data
        self.message_type = message_type
        self.prefix = prefix

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _fail(self, key: str, expected: str, value: object) -> ProtocolError:
        return ProtocolError(texts.invalid_field(self.message_type, self._name(key), expected, value))

    def text(self, key: str, *, required: bool = False, non_empty: bool = False) -> str | None:
        expected = "a non-empty string" if non_empty else "a string"
        value = self.data.get(key)
        if value is None:
            if required:
                raise ProtocolError(texts.missing_field(self.message_type, self._name(key), expected))
            return None
        if not isinstance(value, str) or (non_empty and not value.strip()):
            raise self._fail(key, expected, value)
        return value

    def number(self, key: str, *, minimum: float | None = None, exclusive: bool = False) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(key, "a number", value)
        if minimum is not None and (value <= minimum if exclusive else value < minimum):
            bound = f"a number {'>' if exclusive else '>='} {minimum:g}"
            raise ProtocolError(texts.out_of_range(self.message_type, self._name(key), bound, value))
        return float(value)

    def integer(self, key: str, *, minimum: int) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise self._fail(key, "a whole number", value)
        if value < minimum:
            raise ProtocolError(
                texts.out_of_range(self.message_type, self._name(key), f"a whole number >= {minimum}", value)
            )
        return int(value)

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def obj(self, key: str, *, required: bool = False) -> Mapping[str, Any] | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ProtocolError(texts.missing_field(self.message_type, self._name(key), "an object"))
            return None
        if not isinstance(value, dict):
            raise self._fail(key, "an object", value)
        return value

    def identifier(self, key: str) -> str | int | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, (str, int)) and not isinstance(value, bool)):
            return value
        raise self._fail(key, "a string or a whole number", value)

    def nested(self, key: str, *, required: bool = False) -> _Fields | None:
        value = self.obj(key, required=required)
        if value is None:
            return None
        return _Fields(value, self.message_type, f"{self._name(key)}.")


def _track_data(fields: _Fields) -> TrackData:
    return TrackData(
        track_id=fields.identifier("track_id"),
        track_name=fields.text("track_name"),
        track_type=fields.text("track_type"),
        muted=fields.flag("muted"),
        soloed=fields.flag("soloed"),
        extra=dict(fields.data),
    )


def _audio_data(fields: _Fields | None) -> AudioData:
    if fields is None:
        return AudioData()
    audio = AudioData(
        peak_level=fields.number("peak_level"),
        rms_level=fields.number("rms_level"),
        duration=fields.number("duration", minimum=0),
        sample_rate=fields.number("sample_rate", minimum=0, exclusive=True),
        samples=fields.text("samples"),
        channels=fields.integer("channels", minimum=1),
        file_path=fields.text("file_path", non_empty=True),
    )
    if audio.samples is not None and audio.file_path is not None:
        raise ProtocolError(
            f"Invalid field '{fields.prefix}samples' in {fields.message_type}: "
            f"give either '{fields.prefix}samples' or '{fields.prefix}file_path', not both"
        )
    if audio.samples is not None and audio.sample_rate is None:
        raise ProtocolError(
            texts.missing_field(
                fields.message_type, f"{fields.prefix}sample_rate", "a number > 0 when 'samples' is sent"
            )
        )
    return audio


# Requests without fields are immutable and all alike: one instance each serves every message.
_PING = PingRequest()
_STATUS = StatusRequest()


def _parse_ping(_: _Fields) -> PingRequest:
    return _PING


def _parse_status(_: _Fields) -> StatusRequest:
    return _STATUS


def _parse_chat(fields: _Fields) -> ChatRequest:
    message = fields.text("message", required=True, non_empty=True)
    perspective = fields.text("perspective")
    context = fields.nested("daw_context")
    if context is not None:
        tracks = context.data.get("tracks")
        if tracks is not None and not isinstance(tracks, list):
            raise context._fail("tracks", "an array of track objects", tracks)
        context.obj("selected_track")
    return ChatRequest(
        message=message,
        perspective=perspective if perspective and perspective.strip() else None,
        daw_context=dict(context.data) if context is not None else {},
    )


def _parse_analyze(fields: _Fields) -> AnalyzeRequest:
    analysis_type = fields.text("analysis_type", non_empty=True) or DEFAULT_ANALYSIS_TYPE
    other = fields.nested("other_track")
    other_track = None
    if other is not None:
        other_track = TrackAudio(
            track=_track_data(other.nested("track_data") or _Fields({}, fields.message_type)),
            audio=_audio_data(other.nested("audio_data")),
        )
    return AnalyzeRequest(
        track=_track_data(fields.nested("track_data", required=True)),
        audio=_audio_data(fields.nested("audio_data")),
        analysis_type=analysis_type,
        other_track=other_track,
    )


_PARSERS: dict[str, Callable[[_Fields], Request]] = {
    "ping": _parse_ping,
    "status": _parse_status,
    "chat": _parse_chat,
    "analyze": _parse_analyze,
}

#: The message types a client may send.
REQUEST_TYPES = tuple(_PARSERS)


def _has_non_finite(value: Any) -> bool:
    """Whether decoded JSON holds a NaN or infinity anywhere: the cheap check every message gets."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if not math.isfinite(item):
                return True
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return False


def _first_non_finite(value: Any) -> tuple[str, float] | None:
    """Where a NaN or infinity sits in decoded JSON (Python's json accepts them; we do not).

    Walks the document with an explicit stack, so deeply nested input cannot
    exhaust Python's recursion limit.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return path, item
        if isinstance(item, dict):
            children = [(f"{path}.{key}" if path else str(key), child) for key, child in item.items()]
        elif isinstance(item, list):
            children = [(f"{path}[{index}]", child) for index, child in enumerate(item)]
        else:
            continue
        stack.extend(reversed(children))
    return None


# json.loads wraps the C scanner in checks that cost more than scanning a small frame;
# every message passes here, so the scanner is called directly (whitespace, then one value,
# then nothing but whitespace: the same grammar json.loads accepts).
_scan_value = json.JSONDecoder().scan_once
_skip_whitespace = re.compile(r"[ \t\n\r]*").match


def decode_json(text: str | bytes) -> Any:
    """JSON text to Python values, raising ProtocolError("Invalid JSON format") on anything else.

    Bytes (binary frames) must be UTF-8; nesting too deep for the decoder is refused the same way.
    """
    try:
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode("utf-8")
        value, end = _scan_value(text, _skip_whitespace(text, 0).end())
        if _skip_whitespace(text, end).end() != len(text):
            raise ValueError("extra data after the JSON value")
        return value
    # StopIteration: no value where one should start; ValueError covers JSONDecodeError and UnicodeDecodeError
    except (StopIteration, ValueError, TypeError, RecursionError):
        raise ProtocolError(texts.INVALID_JSON) from None


def parse_request(text: str | bytes) -> Request:
    """Parse one WebSocket text frame into a request, or raise ProtocolError naming what is wrong."""
    data = decode_json(text)
    if not isinstance(data, dict):
        raise ProtocolError(texts.not_an_object(data))
    if _has_non_finite(data):
        raise ProtocolError(texts.non_finite(*_first_non_finite(data)))
    if "type" not in data or data["type"] is None:
        raise ProtocolError(texts.missing_type())
    message_type = data["type"]
    if not isinstance(message_type, str):
        raise ProtocolError(f"Invalid field 'type': expected a string, got {texts.kind_of(message_type)}")
    parser = _PARSERS.get(message_type)
    if parser is None:
        raise ProtocolError(texts.unknown_message_type(message_type))
    return parser(_Fields(data, message_type))
