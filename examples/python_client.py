"""A Codette client in Python: connect, then ping, status, chat and analyze, printing every reply.

Usage (with a server running, e.g. ``make serve``)::

    python examples/python_client.py [ws://127.0.0.1:8000/ws]

Needs only the ``websockets`` package (14 or later), so it can be copied into
any project that talks to Codette. Each reply is printed on one line as
``<request> <reply as JSON>``. The exit status is 0 when every reply had the
type docs/protocol.md promises, 1 otherwise, 2 when the server cannot be
reached (or refuses the connection).

The server answers the requests of one connection in order, one reply each,
so a client can simply send a request and read the next message.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

DEFAULT_URL = "ws://127.0.0.1:8000/ws"

#: The track and its levels, as a DAW would report them: a drum bus peaking close to full scale.
DRUM_BUS = {"track_id": "track_001", "track_name": "Drum Bus", "track_type": "drums", "muted": False, "soloed": False}
DRUM_BUS_LEVELS = {"peak_level": -1.0, "rms_level": -14.0, "duration": 20.0, "sample_rate": 44100}

Message = dict[str, Any]


class UnexpectedReply(Exception):
    """The server answered with another message type than the request calls for."""


async def ask(socket: ClientConnection, request: Message, expected: str) -> Message:
    """Send one request and return its reply, which must be of type ``expected``."""
    await socket.send(json.dumps(request))
    reply: Message = json.loads(await socket.recv())
    if reply.get("type") != expected:
        raise UnexpectedReply(f"{request['type']}: expected a '{expected}' reply, got {json.dumps(reply)}")
    return reply


def show(label: str, reply: Message) -> None:
    print(label, json.dumps(reply), flush=True)


async def run(url: str) -> None:
    """The whole exchange: welcome, ping, status, a question, a levels-only analysis."""
    async with connect(url) as socket:
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


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else DEFAULT_URL
    try:
        asyncio.run(run(url))
    except (UnexpectedReply, ConnectionClosed) as problem:
        print(f"python_client: {problem}", file=sys.stderr)
        return 1
    except (OSError, InvalidHandshake, InvalidURI) as problem:
        print(f"python_client: cannot reach {url} ({problem}); is the server running? (make serve)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
