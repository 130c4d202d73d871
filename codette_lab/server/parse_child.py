"""A child process of :mod:`codette_lab.server.parsing`: large frames in on stdin, parsed requests out on stdout.

Run as ``python -m codette_lab.server.parse_child`` by the server, never
imported by it. Each message on both pipes is a length (see
:data:`~codette_lab.server.parsing.LENGTH`) then a pickle; the answer to a
frame is ``(False, (request, decoded audio))`` or ``(True, exception)``.
"""

from __future__ import annotations

import pickle
import sys
from typing import Any, BinaryIO

from ..audio_input import parse_with_samples
from ..errors import CodetteError
from .parsing import LENGTH


def _serve(source: BinaryIO, sink: BinaryIO) -> None:
    """The child's loop: a frame in, ``(failed, result or exception)`` out, until the input ends."""
    while header := source.read(LENGTH.size):
        (size,) = LENGTH.unpack(header)
        frame = source.read(size)
        try:
            answer: tuple[bool, Any] = (False, parse_with_samples(frame))
        except CodetteError as exc:
            answer = (True, exc)
        except Exception as exc:  # anything else still gets an answer, as our own bug
            answer = (True, RuntimeError(f"{type(exc).__name__}: {exc}"))
        del frame
        payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        sink.write(LENGTH.pack(len(payload)))
        sink.write(payload)
        sink.flush()


if __name__ == "__main__":
    output = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    _serve(sys.stdin.buffer, output)
