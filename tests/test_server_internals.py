"""Canaries: the internals of websockets that the server's fast path relies on are still as it expects.

Each test fails naming one internal (see :mod:`codette_lab.server.fastpaths`),
so that a websockets upgrade that moves it says so at once; the server itself
then serves the plain way (documented API only), as it does with
``CODETTE_PLAIN_SERVING=1``. The last tests check that switch.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Generator
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.messages import Assembler
from websockets.asyncio.server import ServerConnection
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol
from websockets.streams import StreamReader

from codette_lab.server import serve
from codette_lab.server.fastpaths import PLAIN_SERVING_VARIABLE, missing_internals, plain_serving_requested
from codette_lab.server.reading import ChunkedBuffer, FairlyReadConnection

STREAM_BUFFER = "websockets.streams.StreamReader.buffer"
ASSEMBLER_PAUSED = "websockets.asyncio.messages.Assembler.paused"


def _result(generator: Generator[None, None, Any]) -> Any:
    """What one of websockets' generator-based reads returns once its data is there."""
    try:
        next(generator)
    except StopIteration as done:
        return done.value
    raise AssertionError(f"{STREAM_BUFFER}: a read did not complete although its data was in the buffer")


def test_canary_stream_reader_buffer_is_a_bytearray_that_a_buffer_in_pieces_can_replace() -> None:
    reader = ServerProtocol().reader
    assert isinstance(reader, StreamReader), f"{STREAM_BUFFER}: ServerProtocol.reader is now {type(reader)}"
    assert type(getattr(reader, "buffer", None)) is bytearray, (
        f"{STREAM_BUFFER} is no longer a bytearray: fair reading (codette_lab.server.reading) cannot swap it"
    )
    reader.buffer = ChunkedBuffer(reader.buffer)  # type: ignore[assignment]
    for piece in (b"GET / HTTP/1.1\r", b"\nHost: x\r\n", b"abc", b"defgh", b"ij"):
        reader.feed_data(piece)
    try:
        assert _result(reader.read_line(100)) == b"GET / HTTP/1.1\r\n"
        assert _result(reader.read_line(100)) == b"Host: x\r\n"
        assert _result(reader.read_exact(4)) == b"abcd"
        assert _result(reader.read_exact(6)) == b"efghij"
    except (TypeError, ValueError, AttributeError) as exc:
        raise AssertionError(f"{STREAM_BUFFER} is used in a way ChunkedBuffer does not offer: {exc!r}") from exc
    assert len(reader.buffer) == 0, f"{STREAM_BUFFER}: reads no longer consume the buffer from its start"


def test_canary_assembler_paused_says_when_websockets_paused_reading() -> None:
    calls: list[str] = []

    async def fill() -> list[bool]:
        assembler = Assembler(high=2, low=1, pause=lambda: calls.append("pause"), resume=lambda: calls.append("resume"))
        seen = [getattr(assembler, "paused", None)]
        for _ in range(3):
            assembler.put(Frame(Opcode.TEXT, b"x"))
        seen.append(getattr(assembler, "paused", None))
        for _ in range(3):
            await assembler.get()
        seen.append(getattr(assembler, "paused", None))
        return seen

    seen = asyncio.run(fill())
    assert seen == [False, True, False] and calls == ["pause", "resume"], (
        f"{ASSEMBLER_PAUSED} no longer follows websockets' pausing of reads: {seen}, callbacks {calls}"
    )


def test_every_internal_the_fast_path_needs_is_found() -> None:
    async def check() -> list[str]:
        return missing_internals()

    assert asyncio.run(check()) == []


def test_the_switch_reads_the_environment_and_serve_follows_it(monkeypatch) -> None:
    assert plain_serving_requested({PLAIN_SERVING_VARIABLE: "1"})
    assert not plain_serving_requested({PLAIN_SERVING_VARIABLE: "0"})
    assert not plain_serving_requested({})
    monkeypatch.setenv(PLAIN_SERVING_VARIABLE, "1")
    assert serve(port=0).plain_serving and not serve(port=0, plain_serving=False).plain_serving
    monkeypatch.delenv(PLAIN_SERVING_VARIABLE)
    assert not serve(port=0).plain_serving and serve(port=0, plain_serving=True).plain_serving


def _connection_class(plain: bool) -> type:
    """The class of the connection websockets made for a client of a server with the switch ``plain``."""

    async def run() -> type:
        async with serve(port=0, plain_serving=plain) as server, connect(server.url, open_timeout=10) as client:
            await client.recv()
            await client.send(json.dumps({"type": "ping"}))
            assert json.loads(await client.recv())["type"] == "pong"
            (socket,) = server._accepted  # the server's own record of the connections websockets made for it
            return type(socket)

    return asyncio.run(run())


def test_the_plain_path_serves_with_websockets_own_connection_class() -> None:
    plain = _connection_class(plain=True)
    assert issubclass(plain, ServerConnection) and not issubclass(plain, FairlyReadConnection)
    assert issubclass(_connection_class(plain=False), FairlyReadConnection)
