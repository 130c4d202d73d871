"""Client-to-server messages: parse a text frame into a typed request, or say exactly why not.

Pure functions, no I/O: ``parse_request(text)`` either returns one of the
request classes below or raises :class:`~codette_lab.errors.ProtocolError`
whose text is what the server sends back in its ``error`` reply.

What is checked here is the *shape* of a message (types, required fields,
finite numbers). Whether a perspective or analysis type exists is the
engine's business, because notebooks add new ones while the server runs.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import ProtocolError
from . import texts
from .fields import Reader

#: The deepest nesting of arrays and objects a frame may have (the message object itself is level 1):
#: far more than any message needs, and far below what would exhaust Python's recursion limit
#: wherever a message is handled later (logged, recorded, answered).
MAX_NESTING = 100

#: Used when an ``analyze`` request names no ``analysis_type``.
DEFAULT_ANALYSIS_TYPE = "spectrum"

#: The highest reported level (``peak_level``, ``rms_level``, dBFS) read: far over full scale (a floating-point mix
#: bus). Over it the number is not a level a meter shows, and advice built on it would be nonsense.
LEVEL_MAX_DBFS = 200.0
#: A reported level under this is read as this: silence, however a DAW spells it (JSON has no -Infinity, so
#: DAWs send -150, -1000 or -1e9), without a 300-digit number in the answer.
LEVEL_FLOOR_DBFS = -1000.0
#: How far (dB) a reported RMS level may stand over the peak level: a signal's RMS never exceeds its peak, but an
#: AES-17 RMS meter reads a sine's RMS at its peak, so a square wave reads 3 dB over it.
RMS_OVER_PEAK_MAX_DB = 3.01

#: The longest chat ``message`` accepted, in characters: a question, not a document. A longer one is
#: refused with an error naming this limit, so no message can hold the server up while it is understood.
MAX_CHAT_MESSAGE_CHARS = 10_000


@dataclass(frozen=True)
class PingRequest:
    """``{"type": "ping"}``: keepalive, answered by ``pong``."""

    TYPE: ClassVar[str] = "ping"


@dataclass(frozen=True)
class StatusRequest:
    """``{"type": "status"}``: answered by ``status_response``."""

    TYPE: ClassVar[str] = "status"


@dataclass(frozen=True)
class ChatRequest:
    """A mixing question. ``perspective`` is None when the client named none."""

    TYPE: ClassVar[str] = "chat"

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
class Attachment:
    """``audio_data.attachment``: the track's audio is a file's own encoded bytes, attached to a binary frame
    after its JSON header (see :mod:`.attachments`); ``name`` is the file's name as the user has it."""

    bytes: int
    name: str | None = None


@dataclass(frozen=True)
class AudioData:
    """``analyze.audio_data``: levels (the document's fields) and, as extensions, real audio.

    ``samples`` is base64 of little-endian float32 PCM, interleaved over
    ``channels``; ``file_path`` names a file on the server's machine;
    ``attachment`` says the audio is attached to the frame as a file's encoded
    bytes. At most one of the three is given; with none, only the levels are
    analyzed.
    """

    peak_level: float | None = None
    rms_level: float | None = None
    duration: float | None = None
    sample_rate: float | None = None
    samples: str | None = None
    channels: int | None = None
    file_path: str | None = None
    attachment: Attachment | None = None

    @property
    def has_audio(self) -> bool:
        return self.samples is not None or self.file_path is not None or self.attachment is not None


@dataclass(frozen=True)
class TrackAudio:
    """A track and its audio: the second track of a ``masking`` analysis (``other_track``)."""

    track: TrackData
    audio: AudioData


@dataclass(frozen=True)
class AnalyzeRequest:
    """A request to analyze one track (and, for masking, a second one in ``other_track``)."""

    TYPE: ClassVar[str] = "analyze"

    track: TrackData
    audio: AudioData
    analysis_type: str = DEFAULT_ANALYSIS_TYPE
    other_track: TrackAudio | None = None


Request = PingRequest | StatusRequest | ChatRequest | AnalyzeRequest


class _WireTexts:
    """The protocol's error texts for one message type, as :class:`~.fields.ErrorTexts` for the reader."""

    __slots__ = ("message_type",)

    def __init__(self, message_type: str) -> None:
        self.message_type = message_type

    def missing(self, path: str, expected: str) -> ProtocolError:
        return ProtocolError(texts.missing_field(self.message_type, path, expected))

    def invalid(self, path: str, expected: str, value: object) -> ProtocolError:
        return ProtocolError(texts.invalid_field(self.message_type, path, expected, value))

    def out_of_range(self, path: str, expected: str, value: object) -> ProtocolError:
        return ProtocolError(texts.out_of_range(self.message_type, path, expected, value))

    def problem(self, path: str, text: str) -> ProtocolError:
        return ProtocolError(texts.field_problem(self.message_type, path, text))


def _identifier(fields: Reader, key: str) -> str | int | None:
    value = fields.get(key, None)
    if value is None or (isinstance(value, (str, int)) and not isinstance(value, bool)):
        return value
    raise fields.fail(key, "a string or a whole number", value)


def _track_data(fields: Reader) -> TrackData:
    return TrackData(
        track_id=_identifier(fields, "track_id"),
        track_name=fields.text("track_name", None),
        track_type=fields.text("track_type", None),
        muted=fields.flag("muted", False),
        soloed=fields.flag("soloed", False),
        extra=dict(fields.data),
    )


def _attachment(fields: Reader | None) -> Attachment | None:
    if fields is None:
        return None
    return Attachment(
        bytes=fields.integer("bytes", minimum=1),
        name=fields.text("name", None),
    )


def _audio_data(fields: Reader | None) -> AudioData:
    if fields is None:
        return AudioData()
    audio = AudioData(
        peak_level=_level(fields, "peak_level"),
        rms_level=_level(fields, "rms_level"),
        duration=fields.number("duration", None, minimum=0),
        sample_rate=fields.number("sample_rate", None, minimum=0, exclusive=True),
        samples=fields.text("samples", None),
        channels=fields.integer("channels", None, minimum=1),
        file_path=fields.text("file_path", None, non_empty=True),
        attachment=_attachment(fields.object("attachment", None)),
    )
    if audio.samples is not None and audio.file_path is not None:
        raise fields.problem("samples", f"give either '{fields.at('samples')}' or '{fields.at('file_path')}', not both")
    if audio.attachment is not None and (audio.samples is not None or audio.file_path is not None):
        given = "samples" if audio.samples is not None else "file_path"
        raise fields.problem("attachment", f"give either '{fields.at('attachment')}' or '{fields.at(given)}', not both")
    if audio.samples is not None and audio.sample_rate is None:
        raise fields.errors.missing(fields.at("sample_rate"), "a number > 0 when 'samples' is sent")
    _check_rms(fields, audio.peak_level, audio.rms_level)
    return audio


def _level(fields: Reader, key: str) -> float | None:
    """A reported level (dBFS) up to LEVEL_MAX_DBFS, read as LEVEL_FLOOR_DBFS when under it; None when not sent."""
    level = fields.number(key, None, maximum=LEVEL_MAX_DBFS)
    return None if level is None else max(level, LEVEL_FLOOR_DBFS)


def _parse_chat(fields: Reader) -> ChatRequest:
    message = fields.text("message", non_empty=True)
    if len(message) > MAX_CHAT_MESSAGE_CHARS:
        raise fields.problem("message", f"expected at most {MAX_CHAT_MESSAGE_CHARS} characters, got {len(message)}")
    perspective = fields.text("perspective", None)
    context = fields.object("daw_context", None)
    if context is not None:
        # only the kinds are checked (no reader is made for the selected track: every chat passes here)
        tracks = context.get("tracks", None)
        if tracks is not None and not isinstance(tracks, list):
            raise context.fail("tracks", "an array of track objects", tracks)
        selected = context.get("selected_track", None)
        if selected is not None and not isinstance(selected, dict):
            raise context.fail("selected_track", "an object", selected)
    return ChatRequest(
        message=message,
        perspective=perspective if perspective and perspective.strip() else None,
        daw_context=dict(context.data) if context is not None else {},
    )


def _parse_analyze(fields: Reader) -> AnalyzeRequest:
    analysis_type = fields.text("analysis_type", None, non_empty=True) or DEFAULT_ANALYSIS_TYPE
    other = fields.object("other_track", None)
    other_track = None
    if other is not None:
        other_fields = other.object("track_data", None)
        other_track = TrackAudio(
            track=_track_data(other_fields if other_fields is not None else other.child("track_data", {})),
            audio=_audio_data(other.object("audio_data", None)),
        )
    track_fields = fields.object("track_data")
    audio_fields = fields.object("audio_data", None)
    return AnalyzeRequest(
        track=_track_data(track_fields),
        audio=_levels_from_track(track_fields, audio_fields, _audio_data(audio_fields)),
        analysis_type=analysis_type,
        other_track=other_track,
    )


def _levels_from_track(track_fields: Reader, audio_fields: Reader | None, audio: AudioData) -> AudioData:
    """``track_data.peak_level`` / ``rms_level`` (where ``daw_context`` tracks carry a track's levels) stand
    in for ``audio_data``'s when those are absent, rather than being silently ignored."""
    peak = _level(track_fields, "peak_level") if audio.peak_level is None else audio.peak_level
    rms = _level(track_fields, "rms_level") if audio.rms_level is None else audio.rms_level
    if audio_fields is None or audio.rms_level is None:  # the RMS comes from track_data (the peak from either)
        _check_rms(track_fields, peak, rms)
    elif audio.peak_level is None:  # the RMS from audio_data, the peak from track_data
        _check_rms(audio_fields, peak, rms)
    return dataclasses.replace(audio, peak_level=peak, rms_level=rms)


def rms_fits_peak(rms: float, peak: float) -> bool:
    """Whether one meter could show this RMS level with this peak (dBFS): at most RMS_OVER_PEAK_MAX_DB over it."""
    return rms <= peak + RMS_OVER_PEAK_MAX_DB


def _check_rms(fields: Reader, peak: float | None, rms: float | None) -> None:
    """Refuse an RMS level (``fields``' ``rms_level``) further over the peak than any meter reads it."""
    if peak is not None and rms is not None and not rms_fits_peak(rms, peak):
        raise fields.problem(
            "rms_level",
            f"expected at most {RMS_OVER_PEAK_MAX_DB:g} dB over the peak level ({peak:g} dBFS), got {rms:g}: "
            "a signal's RMS never exceeds its peak (an AES-17 meter reads a square wave 3 dB over it)",
        )


# Each request class names its wire type once (``TYPE``); both tables are keyed by it.
# Requests without fields are immutable and all alike: one instance each answers every such message
# (ping is the keepalive: nothing is read for it).
_FIELDLESS: dict[str, Request] = {request.TYPE: request for request in (PingRequest(), StatusRequest())}
# The others: a parser each, with its type's error texts made once (every message passes here).
_PARSERS: dict[str, tuple[Callable[[Reader], Request], _WireTexts]] = {
    cls.TYPE: (parser, _WireTexts(cls.TYPE))
    for cls, parser in ((ChatRequest, _parse_chat), (AnalyzeRequest, _parse_analyze))
}

#: The message types a client may send, in the protocol document's order.
REQUEST_TYPES = (*_FIELDLESS, *_PARSERS)


def _survey(value: Any) -> tuple[bool, int]:
    """The cheap pass every message gets over its decoded JSON: whether it holds a NaN or infinity
    anywhere, and how many arrays and objects it has (a bound on how deeply it can nest)."""
    stack = [value]
    containers = 0
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if not math.isfinite(item):
                return True, containers
        elif kind is dict:
            containers += 1
            stack.extend(item.values())
        elif kind is list:
            containers += 1
            stack.extend(item)
    return False, containers


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


def _first_lone_surrogate(value: Any) -> str | None:
    """The path of the first string (or key) holding a lone surrogate, which no reply or log could encode."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return path or "(the message)"
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((f"{path}.{key}" if path else key, key))  # the key itself, then its value
                stack.append((f"{path}.{key}" if path else key, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(item))
    return None


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether decoded JSON nests arrays and objects deeper than ``limit`` (an explicit stack: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict:
            children = item.values()
        elif kind is list:
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _may_hold_surrogates(text: str | bytes) -> bool:
    """Whether a frame has a ``\\uD8..``-style escape: the only way JSON text can carry a lone surrogate."""
    # a frame without any backslash (most of them) is settled by one memchr-fast scan
    if isinstance(text, str):
        return "\\" in text and ("\\ud" in text or "\\uD" in text)
    return b"\\" in text and (b"\\ud" in text or b"\\uD" in text)


def decode_json(text: str | bytes) -> Any:
    """JSON text to Python values, raising ProtocolError("Invalid JSON format") on anything else.

    Bytes (binary frames) must be UTF-8; nesting too deep for the decoder is refused naming MAX_NESTING.
    """
    try:
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode("utf-8")
        return json.loads(text)
    # ValueError covers JSONDecodeError and UnicodeDecodeError
    except (ValueError, TypeError):
        raise ProtocolError(texts.INVALID_JSON) from None
    except RecursionError:  # the C decoder refuses nesting near the recursion limit this way
        raise ProtocolError(texts.too_deeply_nested(MAX_NESTING)) from None


def _check_attachments(request: Request, attached_bytes: int | None) -> None:
    """ProtocolError unless the ``attachment`` objects of ``request`` account for ``attached_bytes`` exactly
    (None: the frame has no attached bytes, so no audio may refer to any)."""
    if not isinstance(request, AnalyzeRequest):
        if attached_bytes is not None:
            raise ProtocolError(
                f"Invalid message: a frame with attached bytes must hold an analyze request, not {request.TYPE}"
            )
        return
    audios = [("audio_data", request.audio)]
    if request.other_track is not None:
        audios.append(("other_track.audio_data", request.other_track.audio))
    declared = [(field, audio.attachment.bytes) for field, audio in audios if audio.attachment is not None]
    if attached_bytes is None:
        if declared:
            raise ProtocolError(
                texts.field_problem(
                    "analyze",
                    f"{declared[0][0]}.attachment",
                    "attached audio comes only in a binary frame that starts with 'CDA1' (see the protocol "
                    "document); send the file's bytes after the JSON header, or send 'samples' instead",
                )
            )
        return
    field = declared[0][0] if declared else "audio_data"
    if sum(size for _, size in declared) != attached_bytes:
        total = " + ".join(str(size) for _, size in declared) or "no attachment"
        raise ProtocolError(
            texts.field_problem(
                "analyze",
                f"{field}.attachment",
                f"the attachments declare {total} bytes but {attached_bytes} bytes follow the header; "
                "'bytes' must add up to the length of the rest of the frame",
            )
        )


def parse_request(text: str | bytes, *, attached_bytes: int | None = None) -> Request:
    """Parse one WebSocket frame (its JSON) into a request, or raise ProtocolError naming what is wrong.

    ``attached_bytes`` is the length of the bytes attached after the JSON header of a binary
    attachment frame (see :mod:`.attachments`): the request's ``attachment`` objects must add up to
    it. A plain frame (None) may not refer to attached bytes.
    """
    request = _parse_request(text)
    _check_attachments(request, attached_bytes)
    return request


def _parse_request(text: str | bytes) -> Request:
    data = decode_json(text)
    if not isinstance(data, dict):
        raise ProtocolError(texts.not_an_object(data))
    non_finite, containers = _survey(data)
    if containers > MAX_NESTING and _nested_deeper_than(data, MAX_NESTING):
        raise ProtocolError(texts.too_deeply_nested(MAX_NESTING))
    if _may_hold_surrogates(text) and (where := _first_lone_surrogate(data)) is not None:
        raise ProtocolError(texts.lone_surrogate(where))
    if non_finite and (found := _first_non_finite(data)) is not None:
        raise ProtocolError(texts.non_finite(*found))
    message_type = data.get("type")
    if message_type is None:
        raise ProtocolError(texts.missing_type())
    if not isinstance(message_type, str):
        raise ProtocolError(f"Invalid field 'type': expected a string, got {texts.kind_of(message_type)}")
    fieldless = _FIELDLESS.get(message_type)
    if fieldless is not None:
        return fieldless
    parsing = _PARSERS.get(message_type)
    if parsing is None:
        raise ProtocolError(texts.unknown_message_type(message_type))
    parser, wire_texts = parsing
    return parser(Reader(data, wire_texts, "", True))  # null is absent on the wire
