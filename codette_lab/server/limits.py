"""How much one server holds at once, and what happens beyond: every memory bound of the server.

A classroom server is shared by thirty DAWs and reachable by anything on the
network, so each resource a client can make it hold is capped: the size of
one frame, the frames read ahead per connection, the audio held across all
connections, the analyses queued, and how long a reply may wait for a client
that stopped reading. Beyond a shared cap the request gets an ``error`` reply
saying the server is busy; a client that leaves replies unread is closed.
:class:`Budget` keeps the shared counts (on the event loop thread only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..heap import MIB

#: The longest clip a frame must carry: 60 s of stereo float32 at 48 kHz, as base64, with room for the JSON.
LONGEST_CLIP_BYTES = 60 * 48_000 * 2 * 4 * 4 // 3 + MIB
#: Largest frame accepted (``--max-message-mb``); larger ones close the connection with code 1009.
DEFAULT_MAX_MESSAGE_BYTES = -(-LONGEST_CLIP_BYTES // MIB) * MIB
#: Largest frame that carries its audio as attached encoded bytes (a frame starting with the attachment
#: magic, see :mod:`codette_lab.protocol.attachments`): a 10-minute stereo FLAC is 60 to 80 MB.
DEFAULT_MAX_ATTACHMENT_FRAME_BYTES = 128 * MIB
#: The share of the machine's memory that audio in flight may take (``--max-audio-mb`` sets it outright).
AUDIO_MEMORY_FRACTION = 0.25
#: The least audio in flight allowed, whatever the machine (what every server allowed before).
MIN_MAX_AUDIO_BYTES = 512 * MIB
#: Where a container's memory limit is read (cgroup v2); "max" means none.
CGROUP_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")


def machine_memory_bytes() -> int | None:
    """The memory this process may use: the machine's RAM, or its container's limit when lower."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    try:
        text = CGROUP_MEMORY_MAX.read_text().strip()
        if text != "max":
            return min(physical, int(text))
    except (OSError, ValueError):
        pass
    return physical


def default_max_audio_bytes() -> int:
    """AUDIO_MEMORY_FRACTION of :func:`machine_memory_bytes`, at least MIN_MAX_AUDIO_BYTES: 6 GiB on 24 GB,
    so twenty DAWs sending a 60 s stereo clip each at once are all answered."""
    memory = machine_memory_bytes()
    if memory is None:
        return MIN_MAX_AUDIO_BYTES
    return max(MIN_MAX_AUDIO_BYTES, int(memory * AUDIO_MEMORY_FRACTION) // MIB * MIB)


#: Bytes of audio held at once across all connections, from arrival until answered: large frames by their
#: size, attached audio by its decoded size.
DEFAULT_MAX_AUDIO_BYTES = default_max_audio_bytes()
#: Requests that need a worker (analyses, notebook functions), queued or running, across all connections.
DEFAULT_MAX_QUEUED_ANALYSES = 64
#: Seconds a reply may wait for a client that stopped reading before that client is closed (code 1008).
DEFAULT_REPLY_TIMEOUT = 30.0
#: Seconds a closing handshake may take before the connection is simply dropped.
CLOSE_TIMEOUT = 1.0
#: Frames longer than this (audio sent as samples) are parsed in a parsing process, not on the event
#: loop: decoding tens of megabytes of JSON would hold up every other connection's pings.
INLINE_PARSE_LIMIT = 256 * 2**10
#: Frames websockets buffers per connection before it stops reading the socket.
RECEIVE_QUEUE = 1
#: Requests read ahead per connection, waiting behind the one being answered.
READ_AHEAD = 8
#: Large frames per connection held at once (the one being answered and one read ahead).
LARGE_FRAMES_PER_CONNECTION = 2


@dataclass(frozen=True)
class Limits:
    """The caps of one server (see the module's constants for each default)."""

    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_attachment_frame_bytes: int = DEFAULT_MAX_ATTACHMENT_FRAME_BYTES
    max_audio_bytes: int = DEFAULT_MAX_AUDIO_BYTES
    max_queued_analyses: int = DEFAULT_MAX_QUEUED_ANALYSES
    reply_timeout: float = DEFAULT_REPLY_TIMEOUT


class Budget:
    """The shared counts the caps apply to: large-frame bytes held and worker requests queued."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.audio_bytes = 0
        self.analyses = 0

    def admit(self, *, audio_bytes: int, analysis: bool) -> str | None:
        """Reserve room for one request; None when admitted, else the ``error`` text saying why not."""
        limits = self.limits
        if analysis and self.analyses >= limits.max_queued_analyses:
            return (
                f"Server busy: {self.analyses} analyses are already queued (limit {limits.max_queued_analyses}); "
                "send this request again in a moment"
            )
        if audio_bytes and self.audio_bytes + audio_bytes > limits.max_audio_bytes:
            return (
                f"Server busy: {self.audio_bytes / MIB:.0f} MB of audio are being analyzed "
                f"(limit {limits.max_audio_bytes / MIB:.0f} MB); send this request again in a moment"
            )
        self.audio_bytes += audio_bytes
        self.analyses += analysis
        return None

    def release(self, *, audio_bytes: int, analysis: bool) -> None:
        self.audio_bytes -= audio_bytes
        self.analyses -= analysis

    @property
    def idle(self) -> bool:
        """No audio held and no analysis queued or running."""
        return self.audio_bytes == 0 and self.analyses == 0
