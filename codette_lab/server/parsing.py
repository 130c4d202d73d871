"""Large frames parsed in child processes, so that the event loop never holds the interpreter for them.

Scanning the JSON of a 28 MB frame and decoding its base64 samples holds the
interpreter lock for tens of milliseconds; in a thread of the server's process
that would stall the event loop, and every connection's pings, for as long.
So each large frame goes to a child process (``python -m
codette_lab.server.parse_child``), which answers with the parsed request and the
decoded audio (:func:`~codette_lab.attached_audio.parse_with_audio`: base64
samples, or the files attached to a binary frame). The
exchange is length-prefixed pickles over the child's stdin and stdout, the
decoded samples left (on Linux) in a memory file of the child's that the server
maps, so that the event loop copies none of them; the
children are started together at the first large frame, run one frame at a time, and
end when their stdin closes (the server stopped, or its process died). They
are plain subprocesses, not ``multiprocessing`` ones, so they never re-run
the script or notebook that started the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import mmap
import os
import pickle
import socket
import struct
import sys
from typing import TYPE_CHECKING, Any

from ..audio_input import DEFAULT_MAX_AUDIO_SECONDS
from ..errors import ServerError, SharedSamplesError

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
#: Whether children leave the decoded samples in a memory file (memfd) for the server to map, instead of
#: sending them through the pipe: 10 MB per 30 s clip the event loop no longer reads and copies.
SHARED_SAMPLES = sys.platform.startswith("linux") and hasattr(os, "memfd_create")
#: The child's command-line flag for it.
SHARED_SAMPLES_FLAG = "--shared-samples"


def _widen(stream: asyncio.StreamReader | asyncio.StreamWriter | None) -> None:
    """Give one of a child's pipes PIPE_BYTES of room, best effort.

    asyncio's own loop makes the pipes OS pipes (room set with F_SETPIPE_SZ on Linux); uvloop makes
    them Unix sockets (room set as their buffer sizes). Where neither works the pipe keeps its size.
    """
    transport = None
    if isinstance(stream, asyncio.StreamWriter):
        transport = stream.transport
    elif stream is not None:
        transport = getattr(stream, "_transport", None)  # a StreamReader does not offer its transport
    if transport is None:
        return
    with contextlib.suppress(OSError, AttributeError, ValueError):
        if (pipe := transport.get_extra_info("pipe")) is not None:
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        elif (sock := transport.get_extra_info("socket")) is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_BYTES)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, PIPE_BYTES)


async def _length(stream: asyncio.StreamReader) -> int:
    (value,) = LENGTH.unpack(await stream.readexactly(LENGTH.size))
    return int(value)


def _map_samples(pid: int, descriptor: int, sizes: list[int]) -> list[memoryview]:
    """The buffers a child left back to back in its memory file ``descriptor``, mapped (copy on write:
    the arrays are writable, the child's file is never changed). The mapping lives as long as they do."""
    try:
        opened = os.open(f"/proc/{pid}/fd/{descriptor}", os.O_RDONLY)
    except OSError as exc:
        raise SharedSamplesError(f"cannot open the samples a frame-parsing process decoded: {exc}") from None
    try:
        view = memoryview(mmap.mmap(opened, sum(sizes), access=mmap.ACCESS_COPY))
    finally:
        os.close(opened)
    buffers, start = [], 0
    for size in sizes:
        buffers.append(view[start : start + size])
        start += size
    return buffers


class _Child:
    """One parsing process and its two pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def parse(self, frame: bytes, max_seconds: float) -> Any:
        """Hand ``frame`` over and return the child's answer, unpickled.

        The frame goes in CHUNK-sized pieces, yielding to the loop between them. The answer's arrays are
        mapped from the child's memory file, or (without one) arrive through the pipe in pieces read
        straight into place: no step copies megabytes at once.
        """
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(FRAME_HEADER.pack(max_seconds, len(frame)))
        view = memoryview(frame)
        for start in range(0, len(view), CHUNK):
            stdin.write(view[start : start + CHUNK])
            await stdin.drain()
        del view
        header = await stdout.readexactly(await _length(stdout))
        count = await _length(stdout)
        shared = await _length(stdout)  # the memory file's descriptor in the child plus one, or 0
        sizes = [await _length(stdout) for _ in range(count)]
        if shared:
            buffers: list[Any] = _map_samples(self.process.pid, shared - 1, sizes)
        else:
            buffers = []
            for size in sizes:
                buffer = bytearray(size)
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


class ParserProcesses:
    """Up to ``size`` parsing processes of one server, each parsing one frame at a time."""

    def __init__(self, size: int = PARSE_PROCESSES) -> None:
        self.size = size
        self._idle: asyncio.Queue[_Child] | None = None
        self._children: list[_Child] = []
        self._starting = 0
        self.shared_samples = SHARED_SAMPLES

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
        except SharedSamplesError:  # from now on children send their samples through the pipe
            self.shared_samples = False
            for other in list(self._children):
                self._forget(other)
            raise ServerError("The server could not map decoded samples; send the request again") from None
        except BaseException:  # cancelled mid-exchange: the pipe state is unknown, so the child goes
            self._forget(child)
            raise
        idle.put_nowait(child)
        failed, result = payload
        if failed:
            raise result
        return result

    async def _spawn(self) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            CHILD_MODULE,
            *([SHARED_SAMPLES_FLAG] if self.shared_samples else []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**20,
        )
        for pipe in (process.stdin, process.stdout):  # fewer, larger pieces: fewer turns of the event loop
            _widen(pipe)
        child = _Child(process)
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
