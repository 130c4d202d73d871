"""A track's audio, read from the session's own files: what played up to the playhead, and its levels.

Ardour keeps one mono file per channel; the Lua hook says which files a
track's region reads and where the region sits on the timeline
(:class:`TrackFiles`). :func:`excerpt` reads the channels for a stretch of the
timeline and interleaves them; :func:`rms_db` is the level a meter with that
window would show. Audio goes to the server as base64 float32 ``samples``
(:func:`samples_payload`), or as a binary frame's attachment where the server
takes them.
"""

from __future__ import annotations

import base64
import math

import numpy as np
import soundfile as sf

from ...errors import BridgeError
from .session import TrackFiles

#: Levels below this are reported as this (dBFS): digital silence has no level.
FLOOR_DB = -120.0


def excerpt(files: TrackFiles, end: int, seconds: float) -> np.ndarray:
    """The track's audio for the ``seconds`` of timeline before sample ``end``: frames x channels, float32.

    Only what the region covers is read; before or after the region the track is silent (an empty array).
    A file that cannot be read raises BridgeError naming it.
    """
    first = max(end - round(seconds * files.sample_rate), files.position)
    last = min(end, files.position + files.length)
    if last <= first:
        return np.zeros((0, len(files.paths)), dtype=np.float32)
    offset = files.start + first - files.position
    channels = []
    for path in files.paths:
        try:
            with sf.SoundFile(path) as source:
                source.seek(min(offset, source.frames))
                channels.append(source.read(last - first, dtype="float32", always_2d=True)[:, 0])
        except (OSError, RuntimeError) as exc:  # moved, deleted or being rewritten (soundfile's errors are both)
            raise BridgeError(f"track audio: cannot read {path}: {exc}") from None
    frames = min(len(channel) for channel in channels)
    return np.stack([channel[:frames] for channel in channels], axis=1)


def to_db(value: float) -> float:
    return max(FLOOR_DB, 20.0 * math.log10(value)) if value > 0 else FLOOR_DB


def rms_db(audio: np.ndarray, gain_db: float = 0.0) -> float:
    """The RMS level (dBFS) of ``audio`` over all its channels, after a fader at ``gain_db``."""
    if audio.size == 0:
        return FLOOR_DB
    return to_db(float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))) + gain_db


def peak_db(audio: np.ndarray, gain_db: float = 0.0) -> float:
    """The sample peak (dBFS) of ``audio``, after a fader at ``gain_db``."""
    if audio.size == 0:
        return FLOOR_DB
    return to_db(float(np.max(np.abs(audio)))) + gain_db


def samples_payload(audio: np.ndarray, sample_rate: int) -> dict[str, object]:
    """The protocol's ``audio_data`` with the audio as base64 little-endian float32, interleaved."""
    data = np.ascontiguousarray(audio, dtype="<f4")
    return {
        "samples": base64.b64encode(data.tobytes()).decode("ascii"),
        "channels": int(audio.shape[1]),
        "sample_rate": int(sample_rate),
    }
