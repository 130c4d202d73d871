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
straight into place, in a thread that talks to the child (blocking pipe reads
let go of the interpreter lock: the event loop moves none of the bytes); the
children are started together at the first large frame, run one frame at a time, and
end when their stdin closes (the server stopped, or its process died). They
are plain subprocesses, not ``multiprocessing`` ones, so they never re-run
the script or notebook that started the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import pickle
import struct
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

from ..audio_input import DEFAULT_MAX_AUDIO_SECONDS, PCM16_SCALE
from ..errors import ServerError
from ..heap import small_pages

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
#: Bytes of decoded audio a child writes at a time (each piece's pages given back once written).
CHUNK = 2**20
#: How an out-of-band buffer of an answer crosses the pipe: its own bytes, or (float32 audio decoded from
#: 16-bit PCM) the int16 samples it was decoded from, half the bytes, scaled by 2**-15 where they arrive.
SENT_RAW, SENT_AS_PCM16 = 0, 1
#: Room in each pipe to a child (Linux's default pipe holds 64 KiB: each fill is a system call and a wake-up
#: of the other side; 1 MiB is what any process may ask for).
PIPE_BYTES = 2**20


def _widen_pipe(descriptor: int) -> None:
    """Give an OS pipe PIPE_BYTES of room (Linux), best effort: elsewhere it keeps its size."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _untouched(size: int) -> memoryview:
    """A writable buffer of ``size`` bytes whose pages are not touched until written (a ``bytearray`` is
    zeroed at once): the server's memory grows only as the child's audio arrives, while the child gives
    back what it has sent, so the audio is never held twice at its full size. Backed by ordinary pages
    (:func:`~codette_lab.heap.small_pages`): filling 212 MB of them costs a steady 0.1 s, where huge pages
    cost 0.02 s or, when the kernel had to compact memory for them, 0.5 s."""
    import numpy as np

    buffer = np.empty(size, dtype=np.uint8).data
    small_pages(buffer)
    return buffer


def _read_into(stream: io.BufferedReader, buffer: memoryview) -> None:
    """Fill ``buffer`` from ``stream``, straight into place; EOFError if the stream ends first."""
    filled = 0
    while filled < len(buffer):
        got = stream.readinto(buffer[filled:])
        if not got:
            raise EOFError("the frame-parsing process closed its output")
        filled += got


def _read_pcm16_into(stream: io.BufferedReader, buffer: memoryview) -> None:
    """Fill ``buffer`` (float32 samples) from the int16 samples ``stream`` sends for them, a piece at a
    time, each scaled by 2**-15 as it arrives: the floats libsndfile gives for 16-bit PCM, exactly (the
    scale is a power of two), while the pipe carries half the bytes and no piece is held twice."""
    import numpy as np

    out = np.frombuffer(buffer, dtype=np.float32)
    piece = np.empty(CHUNK // 2, dtype=np.int16)
    for start in range(0, len(out), len(piece)):
        count = min(len(piece), len(out) - start)
        _read_into(stream, piece[:count].data.cast("B"))
        np.multiply(piece[:count], np.float32(PCM16_SCALE), out=out[start : start + count])


def _read_length(stream: io.BufferedReader) -> int:
    raw = bytearray(LENGTH.size)
    _read_into(stream, memoryview(raw))
    (value,) = LENGTH.unpack(raw)
    return int(value)


def _start_child() -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", CHILD_MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    _widen_pipe(process.stdin.fileno())
    _widen_pipe(process.stdout.fileno())
    return process


class _Child:
    """One parsing process, its two pipes, and the thread that talks to it during an exchange.

    The exchange runs in a daemon thread of its own (nothing waits for it at exit) with plain blocking
    reads and writes: the frame goes into the child's stdin in one write, the answer's arrays are read
    from its stdout straight into their final buffers, a pipe's worth per system call, each call letting
    go of the interpreter lock, so the event loop moves none of the bytes.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self._talking: threading.Thread | None = None

    @classmethod
    def start(cls) -> _Child:
        """Start a child, from the event loop's thread (as asyncio's own subprocesses are): a process is
        listed among the children of the thread that started it (``/proc/<pid>/task/<tid>/children``),
        where the server's own tools and benchmarks look for it."""
        return cls(_start_child())

    async def parse(self, frame: bytes, max_seconds: float) -> Any:
        """Hand ``frame`` over and return the child's answer, unpickled."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if answer.cancelled():
                return
            if error is not None:
                answer.set_exception(error)
            else:
                answer.set_result(result)

        def talk() -> None:
            try:
                result = self._exchange(frame, max_seconds)
            except BaseException as error:  # handed to the awaiting task, on the loop
                loop.call_soon_threadsafe(settle, None, error)
            else:
                loop.call_soon_threadsafe(settle, result, None)

        self._talking = threading.Thread(target=talk, name="codette-parse-pipe", daemon=True)
        self._talking.start()
        return await answer

    def _exchange(self, frame: bytes, max_seconds: float) -> Any:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and isinstance(stdout, io.BufferedReader)
        stdin.write(FRAME_HEADER.pack(max_seconds, len(frame)))
        stdin.write(frame)
        stdin.flush()
        header = _untouched(_read_length(stdout))
        _read_into(stdout, header)
        kept = [(_read_length(stdout), _read_length(stdout)) for _ in range(_read_length(stdout))]
        buffers = []
        for size, sent_as in kept:
            buffer = _untouched(size)
            if sent_as == SENT_AS_PCM16:
                _read_pcm16_into(stdout, buffer)
            else:
                _read_into(stdout, buffer)
            buffers.append(buffer)
        return pickle.loads(header, buffers=buffers)

    def stop(self) -> None:
        """End the process at once (a frame it is parsing is dropped); a thread talking to it then finds
        its pipes broken and ends."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    async def wait(self) -> None:
        """Wait until the process and the thread talking to it have ended (after :meth:`stop`), then
        close the pipes."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.process.wait)
        if self._talking is not None:
            await loop.run_in_executor(None, self._talking.join)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class ParserProcesses:
    """Up to ``size`` parsing processes of one server, each parsing one frame at a time."""

    def __init__(self, size: int = PARSE_PROCESSES) -> None:
        self.size = size
        self._idle: asyncio.Queue[_Child] | None = None
        self._children: list[_Child] = []

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
        for _ in range(self.size - len(self._children)):
            child = _Child.start()
            self._children.append(child)
            idle.put_nowait(child)
        child = await idle.get()
        try:
            payload = await child.parse(frame, max_seconds)
        except (EOFError, OSError):  # the child died: its pipes broke or closed
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
