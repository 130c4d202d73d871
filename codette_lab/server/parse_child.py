"""A child process of :mod:`codette_lab.server.parsing`: large frames in on stdin, parsed requests out on stdout.

Run as ``python -m codette_lab.server.parse_child`` by the server, never
imported by it. A frame comes after its header (the longest attached audio
to decode, then the length: :data:`~codette_lab.server.parsing.FRAME_HEADER`);
each answer is a length (:data:`~codette_lab.server.parsing.LENGTH`) then a pickle; the answer to a
frame is ``(False, (request, decoded audio))`` or ``(True, exception)``, pickled with its arrays as
out-of-band buffers: their count and lengths follow the pickle, then the buffers themselves.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import Any, BinaryIO

import numpy as np

from ..attached_audio import parse_with_audio
from ..errors import CodetteError
from ..heap import forget_pages
from ..processes import configure_parse_child
from .parsing import CHUNK, FRAME_HEADER, LENGTH, SENT_AS_PCM16, SENT_RAW

#: How much lower than the server's the child's scheduling priority is (``nice`` steps).
CHILD_NICENESS = 10


def _send(sink: BinaryIO, answer: tuple[bool, Any]) -> None:
    """One answer: the pickle's length and the pickle, the count of its out-of-band buffers and of each
    its length and how it is sent (:data:`~codette_lab.server.parsing.SENT_AS_PCM16` or ``SENT_RAW``),
    then the buffers (the decoded audio, as raw bytes the server reads straight into place; each piece's
    pages go back to the system once it is written, as nothing here reads it again). Audio decoded as
    16-bit samples is pickled as a float32 array never touched here (it takes no memory), whose bytes
    the server makes from the int16 samples sent in their place. A function of its own, so that no name
    (a loop variable over the buffers) outlives it holding an array."""
    answer, sent_as_pcm16 = _with_placeholders(answer)
    buffers: list[pickle.PickleBuffer] = []
    header = pickle.dumps(answer, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    sent = [sent_as_pcm16.get(_address(raw)) for raw in raws]
    sink.write(LENGTH.pack(len(header)))
    sink.write(header)
    sink.write(LENGTH.pack(len(raws)))
    for raw, pcm16 in zip(raws, sent, strict=True):
        sink.write(LENGTH.pack(raw.nbytes))
        sink.write(LENGTH.pack(SENT_RAW if pcm16 is None else SENT_AS_PCM16))
    del answer, buffers
    for raw, pcm16 in zip(raws, sent, strict=True):  # piece by piece, each dropped once written
        data = raw if pcm16 is None else pcm16.data.cast("B")
        for start in range(0, data.nbytes, CHUNK):
            piece = data[start : start + CHUNK]
            sink.write(piece)
            forget_pages(piece)
    sink.flush()


def _address(buffer: memoryview) -> int:
    return int(np.frombuffer(buffer, dtype=np.uint8).ctypes.data) if buffer.nbytes else 0


def _with_placeholders(answer: tuple[bool, Any]) -> tuple[tuple[bool, Any], dict[int, np.ndarray]]:
    """``answer`` with each int16 audio array (16-bit PCM, see ``parse_with_audio(pcm16=True)``) replaced by
    an untouched float32 array of its shape, and those int16 arrays by the address of their placeholder."""
    failed, result = answer
    if failed:
        return answer, {}
    request, decoded = result
    sent_as_pcm16: dict[int, np.ndarray] = {}
    shown = {}
    for field, (audio, rate) in decoded.items():
        shown[field] = (audio, rate)
        if audio.dtype == np.int16:
            placeholder = np.empty(audio.shape, dtype=np.float32)
            sent_as_pcm16[_address(placeholder.data)] = audio
            shown[field] = (placeholder, rate)
    return (False, (request, shown)), sent_as_pcm16


def _serve(source: BinaryIO, sink: BinaryIO) -> None:
    """The child's loop: a frame in, ``(failed, result or exception)`` out, until the input ends."""
    configure_parse_child()  # each frame's buffers go back to the system once it is answered
    os.nice(CHILD_NICENESS)  # on a busy machine the server's event loop (its pings) goes first
    while header := source.read(FRAME_HEADER.size):
        max_seconds, size = FRAME_HEADER.unpack(header)
        frame = source.read(size)
        try:
            answer: tuple[bool, Any] = (False, parse_with_audio(frame, max_seconds=max_seconds, pcm16=True))
        except CodetteError as exc:
            answer = (True, exc)
        except Exception as exc:  # anything else still gets an answer, as our own bug
            answer = (True, RuntimeError(f"{type(exc).__name__}: {exc}"))
        del frame
        _send(sink, answer)
        del answer  # the decoded audio goes with it: nothing holds it until the next frame


if __name__ == "__main__":
    output = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    _serve(sys.stdin.buffer, output)
