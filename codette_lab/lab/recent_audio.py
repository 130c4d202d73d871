"""The last DAW ``analyze`` requests that carried audio, kept so the Analysis panel can plot them.

A :class:`RecentAudio` is a request hook of the Lab's engine
(``engine.add_request_hook``): it sees every request before it is answered and
keeps those that came from a DAW connection with samples or a file path, so a
teacher can plot exactly what a student's DAW just sent. Samples come either
as the request's base64 text or, for a large frame the server decoded while
parsing it, as the job's decoded arrays. Both bounds hold at all times: at
most ``limit`` requests, holding at most ``max_bytes`` of samples in all
(oldest dropped first); a request whose samples alone exceed ``max_bytes``
is not kept.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from ..audio_input import AUDIO_FIELD, AudioRoots, DecodedAudio, load_audio
from ..engine import NOTEBOOK_SESSION, Job
from ..protocol import AnalyzeRequest

logger = logging.getLogger("codette_lab.lab")

#: How many recent DAW analyze requests with audio are kept for the Analysis panel.
RECENT_AUDIO_LIMIT = 5

#: How many bytes of samples (base64 text or decoded arrays) those requests may hold in all; the oldest go first.
#: A DAW may send frames of hundreds of MB: one whose samples alone exceed this is not kept at all,
#: since without its samples the panel would have nothing to plot.
RECENT_AUDIO_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ReceivedAudio:
    """An ``analyze`` request a DAW sent with audio (samples or a file path), and when it came.

    ``decoded`` holds the samples the server already decoded, by field
    (``"audio_data"``, ``"other_track.audio_data"``: ``(array, sample_rate)``).
    """

    request: AnalyzeRequest
    session: str
    decoded: DecodedAudio = field(default_factory=lambda: MappingProxyType({}))
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def sample_bytes(self) -> int:
        """The size of the samples this request holds (its own and its ``other_track``'s; text or arrays)."""
        audios = [self.request.audio]
        if self.request.other_track is not None:
            audios.append(self.request.other_track.audio)
        text = sum(len(audio.samples or "") for audio in audios)
        return text + sum(int(array.nbytes) for array, _ in self.decoded.values())

    def audio(self, roots: AudioRoots) -> tuple[Any, int] | None:
        """The track's samples and rate: decoded by the server, or read from its file under ``roots``."""
        if AUDIO_FIELD in self.decoded:
            return self.decoded[AUDIO_FIELD]
        return load_audio(self.request.audio, roots=roots)

    @property
    def label(self) -> str:
        track = self.request.track
        source = "file" if self.request.audio.file_path else "samples"
        return (
            f"{self.received_at:%H:%M:%S} {self.session}: {track.track_name or track.track_id} "
            f"({track.track_type or 'audio'}, {source})"
        )


class RecentAudio:
    """A request hook remembering the last DAW analyze requests with audio (see the module's docstring)."""

    def __init__(self, *, limit: int = RECENT_AUDIO_LIMIT, max_bytes: int = RECENT_AUDIO_BYTES) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._kept: tuple[ReceivedAudio, ...] = ()  # swapped whole under the lock, read without it
        self._lock = threading.Lock()

    def __call__(self, job: Job, session: str) -> None:
        """The hook: keep ``job``'s request when a DAW (not a notebook call) sent it with audio."""
        request = job.request
        if not isinstance(request, AnalyzeRequest) or session == NOTEBOOK_SESSION:
            return
        if request.audio.has_audio or AUDIO_FIELD in job.decoded:
            self.keep(ReceivedAudio(request, session, job.decoded))

    def keep(self, item: ReceivedAudio) -> None:
        """Keep ``item`` within both bounds (called on server worker threads, possibly several at once)."""
        if item.sample_bytes > self.max_bytes:
            logger.info("Not keeping %s for the Analysis panel: %d bytes of samples", item.label, item.sample_bytes)
            return
        with self._lock:
            kept = [*self._kept, item][-self.limit :] if self.limit > 0 else []
            while sum(recent.sample_bytes for recent in kept) > self.max_bytes:
                kept.pop(0)
            self._kept = tuple(kept)

    def clear(self) -> None:
        with self._lock:
            self._kept = ()

    def items(self) -> list[ReceivedAudio]:
        """The requests kept, newest first."""
        return list(reversed(self._kept))
