"""Recording attachment frames: the JSON header as the message, each attached file as a hash or as base64.

A binary frame with attached audio files (see
:mod:`codette_lab.protocol.attachments`) is recorded like a frame with
``samples``: each ``audio_data`` that had an attachment keeps its
``attachment`` object (size and file name) and gets a ``samples_omitted``
record (SHA-256 of the file's bytes, their size, and, read from the file's
header, its channels, duration and container), so a replay knows it cannot
send it again; with ``keep_samples`` the file's bytes are kept instead, as
``attachment.base64``, and :func:`frame_to_send` rebuilds the binary frame.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from ..attached_audio import MemoryFile
from ..errors import ProtocolError
from ..protocol.attachments import build_frame, split_frame

#: Where a kept file's bytes go in a recorded ``attachment`` object.
KEPT_BYTES = "base64"
#: The audio objects that may carry attachments, in the order their bytes follow the header.
_AUDIO_PATHS = (("audio_data",), ("other_track", "audio_data"))


def _audio_at(message: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    node: Any = message
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _with_audio(message: dict[str, Any], path: tuple[str, ...], audio: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``message`` with the audio object at ``path`` replaced."""
    if len(path) == 1:
        return {**message, path[0]: audio}
    return {**message, path[0]: _with_audio(message[path[0]], path[1:], audio)}


def _described(data: memoryview) -> dict[str, Any]:
    """Channels, duration and container of an attached file, from its header (None each when unreadable)."""
    import soundfile

    try:
        with soundfile.SoundFile(MemoryFile(data)) as audio_file:
            rate = audio_file.samplerate
            return {
                "channels": audio_file.channels,
                "duration_s": round(audio_file.frames / rate, 6) if rate else None,
                "format": audio_file.format,
            }
    except (soundfile.SoundFileError, RuntimeError, OSError, ValueError, TypeError):
        return {"channels": None, "duration_s": None, "format": None}


def recorded_message(frame: bytes, *, keep: bool, omitted_key: str) -> dict[str, Any] | None:
    """The message to record for an attachment frame, or None when its header cannot be read (the frame is
    then kept as a hash)."""
    try:
        header, rest = split_frame(frame)
        message = json.loads(bytes(header))
    except (ProtocolError, ValueError):
        return None
    if not isinstance(message, dict):
        return None
    start = 0
    for path in _AUDIO_PATHS:
        audio = _audio_at(message, path)
        attachment = audio.get("attachment") if audio is not None else None
        if audio is None or not isinstance(attachment, dict):
            continue
        size = attachment.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or start + size > len(rest):
            return None
        data = rest[start : start + size]
        start += size
        if keep:
            kept = {**attachment, KEPT_BYTES: base64.b64encode(data).decode("ascii")}
            message = _with_audio(message, path, {**audio, "attachment": kept})
        else:
            record = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": size, **_described(data)}
            message = _with_audio(message, path, {**audio, omitted_key: record})
    return message


def frame_to_send(message: dict[str, Any]) -> bytes | None:
    """The binary frame a recorded message with kept attachments stood for, or None when it has none."""
    files: list[bytes] = []
    for path in _AUDIO_PATHS:
        audio = _audio_at(message, path)
        attachment = audio.get("attachment") if audio is not None else None
        if audio is None or not isinstance(attachment, dict) or KEPT_BYTES not in attachment:
            continue
        try:
            files.append(base64.b64decode(str(attachment[KEPT_BYTES]), validate=True))
        except (binascii.Error, ValueError):
            return None
        stripped = {key: value for key, value in attachment.items() if key != KEPT_BYTES}
        message = _with_audio(message, path, {**audio, "attachment": stripped})
    return build_frame(json.dumps(message).encode(), *files) if files else None
