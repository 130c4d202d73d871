"""Large frames parsed in child processes, so that the event loop never holds the interpreter for them.

Scanning the JSON of a 28 MB frame and decoding its base64 samples holds the
interpreter lock for tens of milliseconds; in a thread of the server's process
that would stall the event loop, and every connection's pings, for as long.
So each large frame goes to a child process (``python -m
codette_lab.server.parse_child``), which answers with the parsed request and the
decoded audio (:func:`~codette_lab.attached_audio.parse_with_audio`: base64
samples, or the files attached to a binary frame). The
exchange is length-prefixed pickles over the child's stdin and stdout, the
decoded samples following the pickle as raw bytes that the server reads
straight into place, a piece per pass of the event loop; the
children are started together at the first large frame, run one frame at a time, and
end when their stdin closes (the server stopped, or its process died). They
are plain subprocesses, not ``multiprocessing`` ones, so they never re-run
the script or notebook that started the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pickle
import socket
import struct
import sys
from typing import TYPE_CHECKING, Any

from ..audio_input import DEFAULT_MAX_AUDIO_SECONDS
from ..errors import ServerError

if TYPE_CHECKING:
    from ..audio_input import DecodedAudio
    from ..protocol import Request

#: Child processes parsing large frames (each holds a copy of numpy: about 40 MB).
PARSE_PROCESSES = 2
#: The module a child runs (``python -m``): it imports only what parsing needs.
CHILD_MODULE = "codette_lab.server.parse_child"
#: Each message on the pipes is preceded by its length.
LENGTH = struct.Struct("!Q")
#: A frame sent to a child is preceded by the longest attached audio to decode, in seconds, and its length.
FRAME_HEADER = struct.Struct("!dQ")
#: Bytes moved through a pipe at a time (the event loop gets its turn between pieces).
CHUNK = 2**20
#: Room in each pipe to a child (Linux's default pipe holds 64 KiB, a Unix socket about 200 KiB: each
#: fill took a turn of the event loop, and the interpreter lock; 1 MiB is what any process may ask for).
PIPE_BYTES = 2**20


def _widen_pipe(descriptor: int) -> None:
    """Give an OS pipe PIPE_BYTES of room (Linux), best effort: elsewhere it keeps its size."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _widen_input(writer: asyncio.StreamWriter) -> None:
    """Give the pipe to a child's stdin PIPE_BYTES of room, best effort (asyncio's own loop makes it an
    OS pipe, uvloop a Unix socket, whose buffer sizes are set instead)."""
    transport = writer.transport
    if (pipe := transport.get_extra_info("pipe")) is not None:
        _widen_pipe(pipe.fileno())
    elif (sock := transport.get_extra_info("socket")) is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_BYTES)


async def _output_pipe() -> tuple[int, asyncio.StreamReader, asyncio.BaseTransport]:
    """A widened OS pipe for a child's stdout: the end to give the child, and the server's reader of the
    other end (made here rather than by ``create_subprocess_exec``, whose reader does not offer its pipe)."""
    read_end, write_end = os.pipe()
    _widen_pipe(read_end)
    reader = asyncio.StreamReader(limit=PIPE_BYTES)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_end, "rb", buffering=0)
    )
    return write_end, reader, transport


async def _length(stream: asyncio.StreamReader) -> int:
    (value,) = LENGTH.unpack(await stream.readexactly(LENGTH.size))
    return int(value)


def _untouched(size: int) -> memoryview:
    """A writable buffer of ``size`` bytes whose pages are not touched until written (a ``bytearray`` is
    zeroed at once): the server's memory grows only as the child's audio arrives, while the child gives
    back what it has sent, so the audio is never held twice at its full size."""
    import numpy as np

    return np.empty(size, dtype=np.uint8).data


class _Child:
    """One parsing process and its two pipes (``output``: the server's reader of the child's stdout)."""

    def __init__(
        self, process: asyncio.subprocess.Process, output: asyncio.StreamReader, transport: asyncio.BaseTransport
    ) -> None:
        self.process = process
        self.output = output
        self._output_transport = transport

    async def parse(self, frame: bytes, max_seconds: float) -> Any:
        """Hand ``frame`` over and return the child's answer, unpickled.

        The frame goes in CHUNK-sized pieces, yielding to the loop between them; the answer's arrays
        arrive the same way, each piece read straight into place: no step copies megabytes at once.
        """
        stdin, stdout = self.process.stdin, self.output
        assert stdin is not None
        stdin.write(FRAME_HEADER.pack(max_seconds, len(frame)))
        view = memoryview(frame)
        for start in range(0, len(view), CHUNK):
            stdin.write(view[start : start + CHUNK])
            await stdin.drain()
        del view
        header = await stdout.readexactly(await _length(stdout))
        count = await _length(stdout)
        sizes = [await _length(stdout) for _ in range(count)]
        buffers = []
        for size in sizes:
            buffer = _untouched(size)
            for start in range(0, size, CHUNK):
                piece = await stdout.readexactly(min(CHUNK, size - start))
                buffer[start : start + len(piece)] = piece
            buffers.append(buffer)
        return pickle.loads(header, buffers=buffers)

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    async def wait(self) -> None:
        """Wait until the process ended (after :meth:`stop`), so its pipes close on this loop."""
        with contextlib.suppress(ProcessLookupError):
            await self.process.wait()
        self._output_transport.close()


class ParserProcesses:
    """Up to ``size`` parsing processes of one server, each parsing one frame at a time."""

    def __init__(self, size: int = PARSE_PROCESSES) -> None:
        self.size = size
        self._idle: asyncio.Queue[_Child] | None = None
        self._children: list[_Child] = []
        self._starting = 0

    async def parse(
        self, frame: bytes, *, max_seconds: float = DEFAULT_MAX_AUDIO_SECONDS
    ) -> tuple[Request, DecodedAudio]:
        """``frame`` parsed and its audio decoded in a child (attached files no longer than
        ``max_seconds``); raises what parsing raises (ProtocolError, AudioError), or ServerError when
        the child died.

        The first large frame starts every child of the pool at once (and a child that died is
        replaced at the next frame): the starts are paid together, before a class's burst of clips,
        and the pool's memory stays the same from then on.
        """
        idle = self._idle = self._idle or asyncio.Queue()
        missing = self.size - len(self._children) - self._starting
        if missing > 0:
            self._starting += missing  # counted before the await, so concurrent frames do not start more
            try:
                await asyncio.gather(*(self._spawn() for _ in range(missing)))
            finally:
                self._starting -= missing
        child = await idle.get()
        try:
            payload = await child.parse(frame, max_seconds)
        except (asyncio.IncompleteReadError, ConnectionError, BrokenPipeError):
            self._forget(child)
            raise ServerError("A frame-parsing process of the server ended; send the request again") from None
        except BaseException:  # cancelled mid-exchange: the pipe state is unknown, so the child goes
            self._forget(child)
            raise
        idle.put_nowait(child)
        failed, result = payload
        if failed:
            raise result
        return result

    async def _spawn(self) -> None:
        child_end, output, transport = await _output_pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", CHILD_MODULE, stdin=asyncio.subprocess.PIPE, stdout=child_end
            )
        except BaseException:
            transport.close()
            raise
        finally:
            os.close(child_end)  # the child holds its own copy; the reader sees the end when the child exits
        assert process.stdin is not None
        _widen_input(process.stdin)  # fewer, larger pieces: fewer turns of the event loop
        child = _Child(process, output, transport)
        if self._idle is None:  # the server stopped meanwhile
            child.stop()
            await child.wait()
            return
        self._children.append(child)
        self._idle.put_nowait(child)

    def _forget(self, child: _Child) -> None:
        child.stop()
        self._children = [other for other in self._children if other is not child]
        asyncio.get_running_loop().create_task(child.wait())

    async def stop(self) -> None:
        """End every child (frames being parsed are dropped) and wait for them to exit."""
        children, self._children, self._idle = self._children, [], None
        for child in children:
            child.stop()
        for child in children:
            await child.wait()
