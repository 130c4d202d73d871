"""The binary attachment frame: an ``analyze`` request followed by its audio files' own encoded bytes.

A 10-minute stereo mix as base64 float32 ``samples`` is about 280 MB; the
FLAC it came from is 60 to 80 MB. So a client may send the file itself, in
one WebSocket binary message laid out as::

    bytes 0-3   b"CDA1"                 the magic (no JSON text starts with it)
    bytes 4-7   N, unsigned 32-bit big-endian: the length of the header
    next N      the header: an analyze request as UTF-8 JSON
    the rest    the attached files' bytes, one after another

Each ``audio_data`` (the track's, then ``other_track``'s) that refers to
attached bytes carries ``"attachment": {"bytes": <int>, "name": "<file name>"}``;
the ``bytes`` add up to the length of the rest. Which container the bytes are
(WAV, FLAC, OGG, MP3, AIFF) is sniffed by the decoder, not declared. Layer 1:
this module only splits the frame; decoding is :mod:`codette_lab.attached_audio`.
"""

from __future__ import annotations

import struct

from ..errors import ProtocolError
from .requests import AnalyzeRequest, Request, parse_request

#: The first four bytes of an attachment frame.
MAGIC = b"CDA1"
#: The header's length, after the magic.
HEADER_LENGTH = struct.Struct(">I")
#: Bytes before the header.
PREFIX_BYTES = len(MAGIC) + HEADER_LENGTH.size
#: The fields (and decoded-audio keys) of a request's audio, in the order their attachments follow the header.
ATTACHMENT_FIELDS = ("audio_data", "other_track.audio_data")


def is_attachment_frame(frame: bytes | bytearray | memoryview | str) -> bool:
    """True for a binary frame that starts with MAGIC (a JSON text never does)."""
    return not isinstance(frame, str) and bytes(frame[: len(MAGIC)]) == MAGIC


def build_frame(header: bytes, *attachments: bytes) -> bytes:
    """An attachment frame holding the JSON ``header`` and ``attachments`` (for clients and tests)."""
    return b"".join((MAGIC, HEADER_LENGTH.pack(len(header)), header, *attachments))


def split_frame(frame: bytes | memoryview) -> tuple[memoryview, memoryview]:
    """The JSON header and the attached bytes of an attachment frame (views: nothing is copied)."""
    view = memoryview(frame)
    if len(view) < PREFIX_BYTES:
        raise ProtocolError(
            f"Invalid message: a binary frame starting with 'CDA1' needs {PREFIX_BYTES} bytes before its "
            f"header (magic and header length), got {len(view)}"
        )
    (length,) = HEADER_LENGTH.unpack(view[len(MAGIC) : PREFIX_BYTES])
    if length > len(view) - PREFIX_BYTES:
        raise ProtocolError(
            f"Invalid message: the header length says {length} bytes but only {len(view) - PREFIX_BYTES} "
            "bytes follow it"
        )
    return view[PREFIX_BYTES : PREFIX_BYTES + length], view[PREFIX_BYTES + length :]


def parse_attachment_frame(frame: bytes | memoryview) -> tuple[Request, dict[str, memoryview]]:
    """The request in an attachment frame's header, and each attachment's bytes by the field they belong to."""
    header, rest = split_frame(frame)
    request = parse_request(bytes(header), attached_bytes=len(rest))
    assert isinstance(request, AnalyzeRequest)  # parse_request refuses anything else with attached bytes
    audios = [request.audio] + ([request.other_track.audio] if request.other_track is not None else [])
    attached: dict[str, memoryview] = {}
    start = 0
    for field, audio in zip(ATTACHMENT_FIELDS, audios, strict=False):
        if audio.attachment is not None:
            attached[field] = rest[start : start + audio.attachment.bytes]
            start += audio.attachment.bytes
    return request, attached
