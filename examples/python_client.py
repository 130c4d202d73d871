"""A Codette client in Python: connect, then ping, status, chat and analyze, printing every reply.

Usage (with a server running, e.g. ``make serve``)::

    python examples/python_client.py [ws://127.0.0.1:8000/ws] [--file mix.flac [--analysis-type quality]]

The URL may also be a join page's (``http://192.168.1.20:8000/?token=...``):
the client connects to its WebSocket, ``/ws``, with the same token.
With ``--file``, the file's own bytes (WAV, FLAC, OGG, MP3, AIFF) are then
sent for analysis in one binary frame (see "Audio attached to a binary frame"
in docs/protocol.md), printed as ``analyze_file <reply>``. A reply saying
``Server busy:`` is retried by itself, after a growing pause.

Needs only the ``websockets`` package (14 or later), so it can be copied into
any project that talks to Codette. Each reply is printed on one line as
``<request> <reply as JSON>``. The exit status is 0 when every reply had the
type docs/protocol.md promises, 1 otherwise, 2 when the server cannot be
reached (or refuses the connection).

The server answers the requests of one connection in order, one reply each,
so a client can simply send a request and read the next message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import struct
import sys
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

DEFAULT_URL = "ws://127.0.0.1:8000/ws"

#: The track and its levels, as a DAW would report them: a drum bus peaking close to full scale.
DRUM_BUS = {"track_id": "track_001", "track_name": "Drum Bus", "track_type": "drums", "muted": False, "soloed": False}
DRUM_BUS_LEVELS = {"peak_level": -1.0, "rms_level": -14.0, "duration": 20.0, "sample_rate": 44100}

Message = dict[str, Any]

#: The first bytes of a binary frame with attached files, then the header's length (32-bit big-endian).
ATTACHMENT_MAGIC = b"CDA1"
#: How a busy server is retried: attempts, the first pause and the longest one, in seconds.
BUSY_ATTEMPTS = 8
BUSY_FIRST_PAUSE = 0.25
BUSY_LONGEST_PAUSE = 8.0


class UnexpectedReply(Exception):
    """The server answered with another message type than the request calls for."""


async def ask(socket: ClientConnection, request: Message, expected: str) -> Message:
    """Send one request and return its reply, which must be of type ``expected``."""
    await socket.send(json.dumps(request))
    reply: Message = json.loads(await socket.recv())
    if reply.get("type") != expected:
        raise UnexpectedReply(f"{request['type']}: expected a '{expected}' reply, got {json.dumps(reply)}")
    return reply


def attachment_frame(request: Message, *files: bytes) -> bytes:
    """An analyze request with files attached: magic, header length, JSON header, then the files' bytes."""
    header = json.dumps(request).encode("utf-8")
    return b"".join((ATTACHMENT_MAGIC, struct.pack(">I", len(header)), header, *files))


async def ask_until_not_busy(socket: ClientConnection, frame: str | bytes, label: str) -> Message:
    """Send ``frame`` and return its reply; a "Server busy:" error is sent again after a pause that doubles
    (with a little randomness, so a class retrying at once spreads out), up to BUSY_ATTEMPTS times."""
    pause = BUSY_FIRST_PAUSE
    for attempt in range(1, BUSY_ATTEMPTS + 1):
        await socket.send(frame)
        reply: Message = json.loads(await socket.recv())
        busy = reply.get("type") == "error" and str(reply.get("message", "")).startswith("Server busy:")
        if not busy or attempt == BUSY_ATTEMPTS:
            return reply
        wait = pause * random.uniform(0.8, 1.2)
        print(f"python_client: {label}: {reply['message']}; retrying in {wait:.2f} s", file=sys.stderr, flush=True)
        await asyncio.sleep(wait)
        pause = min(pause * 2, BUSY_LONGEST_PAUSE)
    raise AssertionError("unreachable")


async def analyze_file(socket: ClientConnection, path: Path, analysis_type: str) -> Message:
    """Send the file's own bytes for analysis in one binary frame; the reply must be an analysis."""
    data = path.read_bytes()
    request = {
        "type": "analyze",
        "track_data": {"track_id": path.stem, "track_name": path.stem, "track_type": "master"},
        "audio_data": {"attachment": {"bytes": len(data), "name": path.name}},
        "analysis_type": analysis_type,
    }
    reply = await ask_until_not_busy(socket, attachment_frame(request, data), f"analyze {path.name}")
    if reply.get("type") != "analysis_response":
        raise UnexpectedReply(f"analyze {path.name}: expected an 'analysis_response' reply, got {json.dumps(reply)}")
    return reply


def websocket_url(url: str) -> str:
    """The WebSocket URL for ``url``: a join page's ``http(s)://host:port/?token=...`` becomes
    ``ws(s)://host:port/ws?token=...``; a ``ws(s)://`` URL is used as it is."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https"):
        return url
    authority, _, tail = rest.partition("/")
    query = tail.partition("?")[2]
    return f"{'wss' if scheme == 'https' else 'ws'}://{authority}/ws{'?' + query if query else ''}"


def show(label: str, reply: Message) -> None:
    print(label, json.dumps(reply), flush=True)


async def run(url: str, file: Path | None = None, analysis_type: str = "quality") -> None:
    """The whole exchange: welcome, ping, status, a question, a levels-only analysis (then ``file``'s)."""
    async with connect(websocket_url(url), max_size=None) as socket:
        welcome: Message = json.loads(await socket.recv())
        if welcome.get("type") != "connection":
            raise UnexpectedReply(f"expected the 'connection' welcome first, got {json.dumps(welcome)}")
        show("welcome", welcome)
        show("ping", await ask(socket, {"type": "ping"}, "pong"))
        show("status", await ask(socket, {"type": "status"}, "status_response"))
        question = {"type": "chat", "message": "How should I compress a snare?", "perspective": "mix_engineering"}
        show("chat", await ask(socket, question, "chat_response"))
        analyze = {
            "type": "analyze",
            "track_data": DRUM_BUS,
            "audio_data": DRUM_BUS_LEVELS,
            "analysis_type": "dynamics",
        }
        show("analyze", await ask(socket, analyze, "analysis_response"))
        if file is not None:
            show("analyze_file", await analyze_file(socket, file, analysis_type))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python_client", description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--file", type=Path, default=None, help="an audio file to send in a binary frame")
    parser.add_argument("--analysis-type", default="quality")
    args = parser.parse_args(argv[1:])
    url = args.url
    try:
        asyncio.run(run(url, args.file, args.analysis_type))
    except (UnexpectedReply, ConnectionClosed) as problem:
        print(f"python_client: {problem}", file=sys.stderr)
        return 1
    except (OSError, InvalidHandshake, InvalidURI) as problem:
        if args.file is not None and not args.file.is_file():
            print(f"python_client: cannot read {args.file} ({problem})", file=sys.stderr)
            return 2
        print(f"python_client: cannot reach {url} ({problem}); is the server running? (make serve)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
