"""Reading a recording back: each request paired with the reply it got, in the order they came.

A recording is a ``.jsonl`` file, a folder of them (every part, read in name
order, which is time order), or a list of files. Replies on one connection
come in request order, except pongs, which may overtake a long request: each
request is paired with the next reply on its connection, a ping with the
next pong. A last line cut short (the process died while writing it) is
left out; any other line that is not a JSON object is a RecordingError
naming the file and line.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from ..errors import RecordingError
from .attachments import frame_to_send
from .recorder import FORMAT, FRAME_OMITTED, SAMPLES_OMITTED

RecordingSource = str | PathLike[str] | Iterable[str | PathLike[str]]


@dataclass
class RecordedExchange:
    """One recorded request and its reply.

    ``index`` numbers requests from 1 in the order they came; ``request`` is
    the message as recorded (None when the frame was not JSON: ``frame``
    holds its text); ``reply`` is None when the recording ends before it;
    ``rules`` is the identity of the rules in force when it was received;
    ``recording`` names the recording (server run) it belongs to; ``name`` is
    the name its client gave (None if none); ``frame_omitted`` is the SHA-256
    and size of a large frame kept only as those (it cannot be sent again).
    """

    index: int
    recording: str
    time: str
    connection: int | None
    session: str
    rules: str | None
    request: Any
    name: str | None = None
    frame: str | None = None
    reply: dict[str, Any] | None = None
    frame_omitted: dict[str, Any] | None = None

    @property
    def message_type(self) -> str | None:
        """The request's ``type`` as sent (None for a frame that is not a JSON object)."""
        kind = self.request.get("type") if isinstance(self.request, dict) else None
        return kind if isinstance(kind, str) else None

    @property
    def samples_omitted(self) -> bool:
        """True when audio samples were sent but recorded only as a hash (they cannot be sent again)."""
        if not isinstance(self.request, dict):
            return False
        other = self.request.get("other_track")
        audios = [self.request.get("audio_data"), other.get("audio_data") if isinstance(other, dict) else None]
        return any(isinstance(audio, dict) and SAMPLES_OMITTED in audio for audio in audios)

    def frame_text(self) -> str:
        """The frame to send again: the recorded message as JSON, or the recorded text."""
        return self.frame if self.request is None and self.frame is not None else json.dumps(self.request)

    def frame_to_send(self) -> str | bytes:
        """What to send again: the binary frame of a request whose attached files were kept, else
        :meth:`frame_text`."""
        if isinstance(self.request, dict) and (frame := frame_to_send(self.request)) is not None:
            return frame
        return self.frame_text()

    @property
    def label(self) -> str:
        """A short description for tables: the track and analysis type, or the question."""
        request = self.request if isinstance(self.request, dict) else {}
        if self.message_type == "analyze":
            track = request.get("track_data")
            name = track.get("track_name") or track.get("track_id") if isinstance(track, dict) else None
            return f"{name}: {request.get('analysis_type') or 'spectrum'}"
        if self.message_type == "chat":
            return str(request.get("message", ""))[:60]
        return self.message_type or (self.frame or "")[:60]


def recording_files(source: RecordingSource) -> list[Path]:
    """The files of a recording: ``source`` itself, every ``*.jsonl`` in a folder (name order), or a list."""
    if isinstance(source, (str, PathLike)):
        path = Path(source)
        if path.is_dir():
            files = sorted(path.glob("*.jsonl"))
            if not files:
                raise RecordingError(f"No recording in {path}: expected .jsonl files written by a Recorder")
            return files
        if not path.is_file():
            raise RecordingError(f"Cannot read recording {path}: no such file or folder")
        return [path]
    files = [Path(item) for item in source]
    if not files:
        raise RecordingError("No recording given: expected a .jsonl file, a folder of them, or a list")
    return [file for item in files for file in recording_files(item)]


def read_recording(source: RecordingSource) -> list[RecordedExchange]:
    """Every request of a recording with its reply, in the order the requests came."""
    exchanges: list[RecordedExchange] = []
    waiting: defaultdict[tuple[str, int | None, bool], deque[RecordedExchange]] = defaultdict(deque)
    for file in recording_files(source):
        recording = file.name.split(".")[0]  # the parts of one recording share it
        for entry in _lines(file):
            kind = entry.get("kind")
            connection = entry.get("connection")
            if kind == "recording" and entry.get("format") != FORMAT:
                raise RecordingError(f"{file} is not a codette-lab recording: its format is {entry.get('format')!r}")
            if kind == "request":
                exchange = RecordedExchange(
                    index=len(exchanges) + 1,
                    recording=recording,
                    time=str(entry.get("time", "")),
                    connection=connection,
                    session=str(entry.get("session", "")),
                    rules=entry.get("rules"),
                    request=entry.get("message"),
                    name=entry.get("name"),
                    frame=entry.get("frame"),
                    frame_omitted=entry.get(FRAME_OMITTED),
                )
                exchanges.append(exchange)
                waiting[recording, connection, exchange.message_type == "ping"].append(exchange)
            elif kind == "reply":
                message = entry.get("message")
                reply = message if isinstance(message, dict) else None
                queue = waiting[recording, connection, reply is not None and reply.get("type") == "pong"]
                if queue:
                    queue.popleft().reply = reply
    return exchanges


def _lines(file: Path) -> Iterator[dict[str, Any]]:
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(f"Cannot read recording {file}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            if number == len(lines):  # cut short by a crash while it was written
                return
            raise RecordingError(f"{file}, line {number}: expected a JSON object, got invalid JSON ({exc})") from None
        if not isinstance(entry, dict):
            raise RecordingError(f"{file}, line {number}: expected a JSON object, got {type(entry).__name__}")
        yield entry
