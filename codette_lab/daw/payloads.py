"""What the simulator sends as an ``analyze`` request's ``audio_data``, one builder per ``send`` mode.

``levels`` is what the protocol document's DAW sends (meter readings only),
``samples`` adds the audio itself and ``path`` adds the stem's file path, for
a server whose audio roots include it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import numpy as np

from ..errors import DAWError
from .session import Message, Track, audio_levels


def _excerpt(track: Track, seconds: float | None) -> tuple[np.ndarray, int]:
    y, sr = track.audio()
    return (y[..., : round(seconds * sr)], sr) if seconds is not None else (y, sr)


def _levels_payload(track: Track, seconds: float | None) -> Message:
    """The document's levels only: peak, RMS, duration, sample rate."""
    if seconds is None:
        return track.levels()
    return audio_levels(*_excerpt(track, seconds))


def _samples_payload(track: Track, seconds: float | None) -> Message:
    """Levels plus the audio itself: base64 of interleaved little-endian float32, with channels."""
    y, sr = _excerpt(track, seconds)
    channels = 1 if y.ndim == 1 else y.shape[0]
    pcm = np.ascontiguousarray(y.T, dtype="<f4").tobytes()  # (n, channels) rows: interleaved frames
    return {**audio_levels(y, sr), "samples": base64.b64encode(pcm).decode("ascii"), "channels": channels}


def _path_payload(track: Track, seconds: float | None) -> Message:
    """Levels plus the file's absolute path, for a server that may read it (under its audio roots)."""
    if seconds is not None:
        raise DAWError("analyze(send='path') sends the whole file: 'seconds' applies only to 'levels' and 'samples'")
    return {**track.levels(), "file_path": str(track.file)}


#: The ``send`` modes, by name.
AUDIO_PAYLOADS: dict[str, Callable[[Track, float | None], Message]] = {
    "levels": _levels_payload,
    "samples": _samples_payload,
    "path": _path_payload,
}


def audio_payload(send: str, caller: str) -> Callable[[Track, float | None], Message]:
    """The builder for ``send``, or DAWError naming ``caller`` (``analyze``) and the modes there are."""
    payload = AUDIO_PAYLOADS.get(send)
    if payload is None:
        raise DAWError(f"{caller}(send={send!r}): expected one of {', '.join(map(repr, AUDIO_PAYLOADS))}")
    return payload
