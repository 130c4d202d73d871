"""Writing a recording: every frame a server receives and every reply it sends, as JSON Lines.

A :class:`Recorder` is handed to the server (``serve(engine, recorder=...)``,
``BackgroundServer(..., recorder=...)``, ``codette-lab serve --record DIR``,
``lab.record(DIR)``). One recorder writes one recording: the files
``codette-<start time>-<pid>.<part>.jsonl`` in its folder, a new part begun
whenever one passes ``max_bytes``. Each part opens with a ``recording`` line
(format, version, part number, the rules in force); then one line per event:

- ``connect`` / ``disconnect``: its address and Origin / its close code;
- ``request``: the frame as received (``message``; a frame that is not JSON
  is kept as text in ``frame``), written *before* it is answered;
- ``reply``: the reply as sent (``message``). Replies on a connection come
  in request order, except pongs, which may overtake a long request.

Every line carries ``time`` (UTC, milliseconds), ``kind``, the connection's
id (``connection``), session (``ws-3``) and the ``name`` it gave in its URL
(None if none), and ``rules``: the identity of the rule set in force
(:attr:`~codette_lab.rules.RuleSnapshot.identity`). Each line is flushed as
it is written, so a kernel that dies loses nothing already answered. Audio
sent as ``samples`` is kept as a ``samples_omitted`` record (SHA-256 of the
base64 text, bytes, channels, duration) unless ``keep_samples`` is true; a
``file_path`` is kept as given.

A large frame (over the server's inline-parse limit: audio) is never parsed
whole here, neither on the event loop nor in a thread, where scanning tens of
megabytes would still hold the interpreter lock and so every connection's
pings: its ``samples`` texts are found and hashed on the bytes (hashlib
releases the lock), and only the short rest is parsed. With ``keep_samples``
the samples are checked to be plain ASCII (numpy, without the lock) and
written as they came. A large frame that cannot be cut so (no ``samples``
text, escapes in it, or a rest that is still large or not JSON) is kept as a
``frame_omitted`` record (SHA-256 and bytes of the frame), or, with
``keep_samples``, as its text in ``frame``. A binary frame with attached
audio files keeps its header as ``message``, each file as a hash (or, with
``keep_samples``, its bytes): see :mod:`.attachments`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RecordingError
from ..protocol.attachments import is_attachment_frame
from ..protocol.timestamps import utc_timestamp
from ..rules import RuleSet
from ..server.connections import Connection
from ..server.events import client_name
from ..server.limits import INLINE_PARSE_LIMIT
from .attachments import recorded_message

logger = logging.getLogger("codette_lab.recording")

#: The ``format`` and ``version`` of the ``recording`` line that opens each part.
FORMAT = "codette-lab-recording"
VERSION = 1
#: A part is closed, and the next one begun, once it holds this many bytes.
DEFAULT_MAX_BYTES = 64 * 2**20
#: The key that stands for audio samples not kept (in ``audio_data``).
SAMPLES_OMITTED = "samples_omitted"
#: The key that stands for a large frame kept only as its hash and size (in place of ``message``).
FRAME_OMITTED = "frame_omitted"
#: Bytes per sample of the protocol's ``samples`` (float32).
SAMPLE_BYTES = 4
#: Where a ``samples`` text begins in a frame.
_SAMPLES_VALUE = re.compile(rb'"samples"\s*:\s*"')
#: What takes a samples text's place (quotes included) in a frame parsed without it: JSON, or None.
StandIn = Callable[[bytes, int, int], "bytes | None"]


class Recorder:
    """Records a server's traffic as JSON Lines in ``directory`` (created if needed); see the module text.

    ``rules`` is the rule set whose identity each line names (the engine's);
    ``keep_samples=True`` keeps audio sent as samples in full; ``max_bytes``
    is the size at which a part is closed and the next begun.
    """

    def __init__(
        self,
        directory: str | PathLike[str],
        *,
        rules: RuleSet | None = None,
        keep_samples: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if max_bytes <= 0:
            raise RecordingError(f"Recorder max_bytes: expected a number of bytes > 0, got {max_bytes!r}")
        self.directory = Path(directory)
        self.rules = rules
        self.keep_samples = keep_samples
        self.max_bytes = max_bytes
        self.stem = f"codette-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
        #: Every part written so far, in order.
        self.files: list[Path] = []
        self._file: Any = None
        self._size = 0
        self._lock = threading.Lock()
        self._names: dict[int, str] = {}
        try:  # a folder that cannot be written to fails here, not in the server
            self.directory.mkdir(parents=True, exist_ok=True)
            self._open_part()
        except OSError as exc:
            raise RecordingError(f"Cannot record into {self.directory}: {exc}") from None

    # -- what the server calls ----------------------------------------------------------------

    def connected(self, connection: Connection) -> None:
        """Record a connection; the name it gave in its URL (``/ws?name=Studio%20A``) goes on each of its lines."""
        request = connection.socket.request
        name = client_name(request.path) if request is not None else None
        if name is not None:
            self._names[connection.id] = name
        self._write("connect", connection, {"remote_address": connection.remote_address, "origin": connection.origin})

    async def received(self, connection: Connection, frame: str | bytes) -> None:
        """Record a frame before it is answered; a large one (audio) is cut and written off the event loop."""
        head = self._head("request", connection)
        data = frame.encode("utf-8", errors="replace") if isinstance(frame, str) else frame
        if is_attachment_frame(data):
            await asyncio.to_thread(self._record_attachments, head, data)
        elif len(data) <= INLINE_PARSE_LIMIT:
            self._append([_line(head, self._parsed_fields(data))])
        else:
            await asyncio.to_thread(self._record_large, head, data)

    def replied(self, connection: Connection, reply: str) -> None:
        """Record a reply frame about to be sent (kept as it is: it is already JSON)."""
        self._append([_line(self._head("reply", connection), {}, reply.encode("utf-8"))])

    def disconnected(self, connection: Connection, close_code: int | None) -> None:
        self._write("disconnect", connection, {"close_code": close_code})
        self._names.pop(connection.id, None)

    def close(self) -> None:
        """Close the current part; a later line begins a new one. Idempotent."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __repr__(self) -> str:
        return f"<Recorder {self.directory / self.stem}.*.jsonl, {len(self.files)} part(s)>"

    # -- lines ------------------------------------------------------------------------------------

    def _parsed_fields(self, frame: bytes) -> dict[str, Any]:
        """A short frame's fields: the message parsed (samples hashed unless kept), or its text."""
        try:
            message = json.loads(frame)
        except ValueError:
            return {"frame": frame.decode("utf-8", errors="replace")}
        return {"message": message if self.keep_samples else without_samples(message)}

    def _record_large(self, head: dict[str, Any], frame: bytes) -> None:
        """Write the line of a large frame without parsing it whole (run in a thread; see the module text)."""
        spans = _samples_spans(frame)
        if self.keep_samples:
            self._append(_kept_line(head, frame, spans))
            return
        message = _rest_parsed(frame, spans, _samples_hashed)
        fields = {"message": without_samples(message)} if message is not None else _frame_omitted(frame)
        self._append([_line(head, fields)])

    def _record_attachments(self, head: dict[str, Any], frame: bytes) -> None:
        """Write the line of an attachment frame: its header, each file hashed or kept (run in a thread)."""
        message = recorded_message(frame, keep=self.keep_samples, omitted_key=SAMPLES_OMITTED)
        self._append([_line(head, {"message": message} if message is not None else _frame_omitted(frame))])

    def _head(self, kind: str, connection: Connection) -> dict[str, Any]:
        return {
            "time": utc_timestamp(),
            "kind": kind,
            "connection": connection.id,
            "session": connection.session,
            "name": self._names.get(connection.id),
            "rules": self.rules.snapshot().identity if self.rules is not None else None,
        }

    def _write(self, kind: str, connection: Connection, fields: Mapping[str, Any]) -> None:
        self._append([_line(self._head(kind, connection), fields)])

    def _append(self, chunks: Sequence[bytes | memoryview]) -> None:
        """Write one line (given in pieces) and flush it, opening a new part first when needed. Never raises."""
        with self._lock:
            try:
                if self._file is None:
                    self._open_part()
                for chunk in chunks:
                    self._file.write(chunk)
                self._file.flush()
                self._size += sum(len(chunk) for chunk in chunks)
                if self._size >= self.max_bytes:
                    self._file.close()
                    self._file = None
            except OSError as exc:  # recording must never stop the server answering
                logger.error("Recording into %s failed: %s", self.directory, exc)
                self._file = None

    def _open_part(self) -> None:
        path = self.directory / f"{self.stem}.{len(self.files) + 1:03d}.jsonl"
        self._file = path.open("ab")
        self.files.append(path)
        self._size = 0
        snapshot = self.rules.snapshot() if self.rules is not None else None
        header = {
            "time": utc_timestamp(),
            "kind": "recording",
            "format": FORMAT,
            "version": VERSION,
            "part": len(self.files),
            "keep_samples": self.keep_samples,
            "rules": snapshot.identity if snapshot is not None else None,
            "rules_source": snapshot.document.source if snapshot is not None else None,
        }
        line = json.dumps(header).encode("ascii") + b"\n"
        self._file.write(line)
        self._size += len(line)
        logger.info("Recording to %s", path)


def without_samples(message: Any) -> Any:
    """``message`` with each ``audio_data.samples`` (also ``other_track``'s) replaced by a ``samples_omitted``
    record: the SHA-256 of the base64 text, the decoded bytes, channels and duration."""
    if not isinstance(message, dict):
        return message
    result = dict(message)
    audio = result.get("audio_data")
    if isinstance(audio, dict) and "samples" in audio:
        samples = audio["samples"]
        cut = samples.get(SAMPLES_OMITTED) if isinstance(samples, dict) and len(samples) == 1 else None
        if isinstance(samples, str):
            encoded = samples.encode("utf-8", errors="replace")
            cut = {"sha256": hashlib.sha256(encoded).hexdigest(), "bytes": _decoded_size(encoded)}
        if isinstance(cut, dict):
            result["audio_data"] = _omitted(audio, cut)
    other = result.get("other_track")
    if isinstance(other, dict):
        result["other_track"] = without_samples(other)
    return result


def _decoded_size(encoded: bytes | memoryview) -> int:
    """Bytes the base64 text decodes to."""
    text = bytes(encoded[-2:])
    return len(encoded) * 3 // 4 - (len(text) - len(text.rstrip(b"=")))


def _omitted(audio: Mapping[str, Any], cut: Mapping[str, Any]) -> dict[str, Any]:
    """``audio`` without its samples, with their hash, size, channels and duration instead."""
    size = cut.get("bytes", 0)
    channels = audio.get("channels", 1)
    channels = channels if isinstance(channels, int) and not isinstance(channels, bool) and channels > 0 else 1
    rate = audio.get("sample_rate")
    duration = None
    if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0:
        duration = round(size / SAMPLE_BYTES / channels / rate, 6)
    record = {"sha256": cut.get("sha256"), "bytes": size, "channels": channels, "duration_s": duration}
    return {**{key: value for key, value in audio.items() if key != "samples"}, SAMPLES_OMITTED: record}


def _line(head: Mapping[str, Any], fields: Mapping[str, Any], message: bytes = b"") -> bytes:
    """One line: ``head`` and ``fields`` as JSON, with ``message`` (JSON already) added as it is."""
    if message:
        return _opening(head) + message + b"}\n"
    return json.dumps({**head, **fields}).encode("ascii") + b"\n"


def _opening(head: Mapping[str, Any]) -> bytes:
    """A line up to where its ``message`` goes (``head`` is never empty)."""
    return json.dumps(head).encode("ascii")[:-1] + b', "message": '


def _samples_spans(frame: bytes) -> list[tuple[int, int]]:
    """Where each ``samples`` text lies in ``frame`` (between its quotes), found without parsing it."""
    spans = []
    position = 0
    while (match := _SAMPLES_VALUE.search(frame, position)) is not None:
        end = frame.find(b'"', match.end())
        if end == -1:
            break
        spans.append((match.end(), end))
        position = end + 1
    return spans


def _samples_hashed(frame: bytes, start: int, end: int) -> bytes | None:
    """The ``samples_omitted`` record (SHA-256 and decoded bytes) standing for one samples text, as JSON;
    None when the text holds an escape (then its hash would not be that of the text the client meant)."""
    if frame.find(b"\\", start, end) != -1:
        return None
    value = memoryview(frame)[start:end]
    record = {SAMPLES_OMITTED: {"sha256": hashlib.sha256(value).hexdigest(), "bytes": _decoded_size(value)}}
    return json.dumps(record).encode("ascii")


def _plain_ascii(frame: bytes, start: int, end: int) -> bytes | None:
    """``b'""'`` when a samples text is printable ASCII without escapes (so it is JSON as it is), else None.

    numpy's reductions release the interpreter lock, unlike any scan of the bytes in Python.
    """
    codes = np.frombuffer(frame, dtype=np.uint8, count=end - start, offset=start)
    if codes.size and (int(codes.min()) < 0x20 or int(codes.max()) > 0x7E):
        return None
    return b'""' if frame.find(b"\\", start, end) == -1 else None


def _rest_parsed(frame: bytes, spans: list[tuple[int, int]], stand_in: StandIn) -> Any:
    """The frame parsed with each samples text (quotes included) replaced by ``stand_in(frame, start, end)``;
    None when a stand-in is None, no samples were found, or the rest is still large or is not JSON."""
    pieces: list[bytes] = []
    position = 0
    for start, end in spans:
        replacement = stand_in(frame, start, end)
        if replacement is None:
            return None
        pieces += [frame[position : start - 1], replacement]
        position = end + 1
    pieces.append(frame[position:])
    if not spans or sum(len(piece) for piece in pieces) > INLINE_PARSE_LIMIT:
        return None
    try:
        return json.loads(b"".join(pieces).decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included: the line must stay valid UTF-8
        return None


def _kept_line(head: Mapping[str, Any], frame: bytes, spans: list[tuple[int, int]]) -> list[bytes | memoryview]:
    """The line of a large frame kept whole: the frame as it came (once its rest parsed and its samples
    are plain ASCII), the line breaks between its tokens made spaces; else its text as ``frame``."""
    if _rest_parsed(frame, spans, _plain_ascii) is None:
        return [_line(head, {"frame": frame.decode("utf-8", errors="replace")})]
    chunks: list[bytes | memoryview] = [_opening(head)]
    view = memoryview(frame)
    position = 0
    for start, end in [*spans, (len(frame), len(frame))]:
        between = frame[position:start]  # JSON outside the samples: any CR or LF in it is whitespace
        chunks += [between.replace(b"\n", b" ").replace(b"\r", b" "), view[start:end]]
        position = end
    chunks.append(b"}\n")
    return chunks


def _frame_omitted(frame: bytes) -> dict[str, Any]:
    return {FRAME_OMITTED: {"sha256": hashlib.sha256(frame).hexdigest(), "bytes": len(frame)}}
