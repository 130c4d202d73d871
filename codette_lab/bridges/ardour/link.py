"""The bridge's WebSocket to the Codette server: one request at a time, reconnected with backoff.

Only the bridge's worker thread uses a :class:`CodetteLink`, so it needs no
lock. A lost connection (the server restarting, the network) is noticed at the
next exchange; :meth:`CodetteLink.ensure` then reconnects, waiting twice as
long after each failed try, up to :data:`MAX_BACKOFF_S`. Audio goes as base64
``samples`` or as one binary frame (``CDA1``, the contract agreed with the
server: header JSON, then the file's bytes); :meth:`CodetteLink.analyze_audio`
falls back to ``samples`` when the server refuses binary frames, and remembers
that until it reconnects.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import struct
import time
from typing import Any
from urllib.parse import urlencode

import numpy as np
import soundfile as sf
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from .audio import samples_payload

#: The first bytes of a binary frame carrying audio (the contract in docs/protocol.md once the server has it).
FRAME_MAGIC = b"CDA1"

FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0

#: How long a reply may take (s); a full analysis of long audio on a busy server takes a while.
REPLY_TIMEOUT_S = 60.0

#: Largest reply accepted.
MAX_REPLY_BYTES = 16 * 2**20

_DIRECT: dict[str, Any] = {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}

Message = dict[str, Any]


def named_url(url: str, name: str) -> str:
    """``url`` with ``name=<name>`` added to its query, so the server's Monitor names the connection."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'name': name})}"


def audio_frame(request: Message, audio: np.ndarray, sample_rate: int) -> bytes:
    """An analyze request with the audio attached as FLAC in one binary frame (``CDA1``, header length, header)."""
    encoded = io.BytesIO()
    sf.write(encoded, np.clip(audio, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_24")
    data = encoded.getvalue()
    header = json.dumps({**request, "audio_data": {"attachment": {"bytes": len(data), "name": "ardour.flac"}}}).encode(
        "utf-8"
    )
    return FRAME_MAGIC + struct.pack(">I", len(header)) + header + data


def _refuses_frames(reply: Message) -> bool:
    """True for the error a server without binary audio frames sends (it cannot read the frame at all);
    a busy server, or one that read the frame and names what is wrong with the audio, is answered as is."""
    if reply.get("type") != "error":
        return False
    text = str(reply.get("message", ""))
    return not (text.startswith("Server busy") or "attachment" in text)


class CodetteLink:
    """A DAW's connection to a Codette server (see the module's docstring)."""

    def __init__(self, url: str, name: str, *, audio_as: str = "auto") -> None:
        if audio_as not in ("auto", "samples", "frame"):
            raise ValueError(f"audio_as: expected 'auto', 'samples' or 'frame', got {audio_as!r}")
        self.url = url
        self.name = name
        self.audio_as = audio_as
        self.frames_refused = False
        self.welcome: Message | None = None
        self.failure: str | None = None  # why the last connection attempt failed, or why the link was lost
        self.connects = 0
        self._connection: ClientConnection | None = None
        self._backoff = 0.0
        self._next_try = 0.0

    @property
    def connected(self) -> bool:
        return self._connection is not None

    def ensure(self) -> bool:
        """Connected, or try now if the backoff allows; True when connected."""
        if self._connection is not None:
            return True
        now = time.monotonic()
        if now < self._next_try:
            return False
        try:
            connection = connect(
                named_url(self.url, self.name),
                open_timeout=5,
                close_timeout=2,
                compression=None,
                max_size=MAX_REPLY_BYTES,
                proxy=None,
                **_DIRECT,
            )
            welcome = json.loads(connection.recv(timeout=5))
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ConnectionClosed, ValueError) as exc:
            self._backoff = min(MAX_BACKOFF_S, max(FIRST_BACKOFF_S, self._backoff * 2))
            self._next_try = now + self._backoff
            self.failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return False
        self._connection, self.welcome, self.failure = connection, welcome, None
        self._backoff, self.frames_refused = 0.0, False
        self.connects += 1
        return True

    def request(self, message: Message | bytes) -> Message | None:
        """Send a request and return its reply; None when the connection was lost (it reconnects later)."""
        connection = self._connection
        if connection is None:
            return None
        try:
            connection.send(message if isinstance(message, bytes) else json.dumps(message))
            reply = json.loads(connection.recv(timeout=REPLY_TIMEOUT_S))
        except (ConnectionClosed, OSError, TimeoutError) as exc:
            self._lost(exc)
            return None
        return reply if isinstance(reply, dict) else {"type": "error", "message": f"unexpected reply {reply!r}"}

    def analyze_audio(self, request: Message, audio: np.ndarray, sample_rate: int) -> Message | None:
        """``request`` (an analyze without ``audio_data``) with the audio itself: as a binary frame where the
        server takes one, else as ``samples``."""
        if self.audio_as != "samples" and not self.frames_refused:
            reply = self.request(audio_frame(request, audio, sample_rate))
            if reply is None or self.audio_as == "frame" or not _refuses_frames(reply):
                return reply
            self.frames_refused = True  # a server without binary audio frames: samples from now on
        return self.request({**request, "audio_data": samples_payload(audio, sample_rate)})

    def _lost(self, exc: BaseException) -> None:
        self.failure = f"connection lost ({type(exc).__name__})"
        self.close()
        self._next_try = time.monotonic() + FIRST_BACKOFF_S
        self._backoff = FIRST_BACKOFF_S

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.close()
