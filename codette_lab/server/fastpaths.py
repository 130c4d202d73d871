"""The one switch between the server's fast path and its plain path, and the internals the fast path needs.

The fast path is fair reading (:mod:`.reading`): a connection class that
counts the event loop's time spent parsing what arrives, holds bulk reads for
a later pass once a pass has spent its budget, and keeps websockets' receive
buffer in pieces. It relies on two things websockets does not document:

- ``websockets.streams.StreamReader.buffer``: the receive buffer, a
  ``bytearray`` that the reader only grows, measures, slices from its start,
  trims from its start and searches (swapped for :class:`.reading.ChunkedBuffer`);
- ``websockets.asyncio.messages.Assembler.paused``: whether websockets itself
  paused reading because its queue of received messages is full (so that
  resuming after held data does not override it).

The plain path uses websockets' documented API only (its own
``ServerConnection``). It is chosen by ``serve(plain_serving=True)`` or the
environment variable ``CODETTE_PLAIN_SERVING=1`` (``make test`` runs the server
tests both ways), and taken by itself, with a warning, when an installed
websockets no longer has the internals above. When an upgrade misbehaves,
serve with the switch on: if the fault goes, it is in the fast path; the
canary tests (``tests/test_server_internals.py``) name the internal that moved.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The environment variable that selects the plain path ("1", "true", "yes" or "on"), when ``serve()`` is
#: not told either way.
PLAIN_SERVING_VARIABLE = "CODETTE_PLAIN_SERVING"
_TRUE = {"1", "true", "yes", "on"}


def plain_serving_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for the plain path (``CODETTE_PLAIN_SERVING``)."""
    return environ.get(PLAIN_SERVING_VARIABLE, "").strip().lower() in _TRUE


def missing_internals() -> list[str]:
    """The internals of the installed websockets the fast path needs but cannot find (named as in this
    module's docstring); empty when all are as expected. Called on the server's running event loop
    (websockets' message assembler needs one)."""
    from websockets.asyncio.messages import Assembler
    from websockets.streams import StreamReader

    missing = []
    if not isinstance(getattr(StreamReader(), "buffer", None), bytearray):
        missing.append("websockets.streams.StreamReader.buffer")
    try:
        assembler = Assembler(high=2, low=1)
    except TypeError:  # its signature changed
        assembler = None
    if assembler is None or not isinstance(getattr(assembler, "paused", None), bool):
        missing.append("websockets.asyncio.messages.Assembler.paused")
    return missing
