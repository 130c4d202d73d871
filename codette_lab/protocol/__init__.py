"""The Codette wire protocol (``shared/websocket-api.md``), without any I/O.

``parse_request`` turns a text frame into a typed request or raises
``ProtocolError`` with the exact error text; ``replies`` builds and encodes
every server message.
"""

from . import replies, texts
from .replies import encode
from .requests import (
    DEFAULT_ANALYSIS_TYPE,
    REQUEST_TYPES,
    AnalyzeRequest,
    Attachment,
    AudioData,
    ChatRequest,
    PingRequest,
    Request,
    StatusRequest,
    TrackAudio,
    TrackData,
    decode_json,
    parse_request,
)
from .timestamps import utc_timestamp

__all__ = [
    "DEFAULT_ANALYSIS_TYPE",
    "REQUEST_TYPES",
    "AnalyzeRequest",
    "Attachment",
    "AudioData",
    "ChatRequest",
    "PingRequest",
    "Request",
    "StatusRequest",
    "TrackAudio",
    "TrackData",
    "decode_json",
    "encode",
    "parse_request",
    "replies",
    "texts",
    "utc_timestamp",
]
