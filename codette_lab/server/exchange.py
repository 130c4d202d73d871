"""One connection's exchange: frames read as they come, pings answered at once, the rest in order.

A reader task takes frames off the socket (as bytes: websockets need not
decode megabytes of text on the event loop). A ``ping`` is answered right
away, even while an analysis of the same connection is still running: a pong
carries no reference, and the protocol's keepalive expects it within seconds.
Every other request is queued, and a second task answers the queue strictly
in order, so replies other than pongs keep the order their requests came in.

Each step is bounded (see :mod:`.limits`): the queue is short, large frames
are held two at a time per connection and within a shared byte budget, worker
requests within a shared count (beyond either the reply is a "Server busy"
``error``), and a reply that a client leaves unread for longer than the reply
timeout closes it (1008). When the exchange ends, everything it held is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from ..engine import Failure, failure_of
from ..protocol import PingRequest, encode, replies
from ..protocol.attachments import is_attachment_frame
from .limits import CLOSE_TIMEOUT, INLINE_PARSE_LIMIT, LARGE_FRAMES_PER_CONNECTION, READ_AHEAD

if TYPE_CHECKING:
    from ..engine import Job
    from .connections import Connection

logger = logging.getLogger("codette_lab.server")


class TrafficRecorder(Protocol):
    """What the server tells a recorder (:class:`codette_lab.recording.Recorder`) of one connection's traffic."""

    def connected(self, connection: Connection) -> None: ...
    async def received(self, connection: Connection, frame: bytes) -> None: ...
    def replied(self, connection: Connection, reply: str) -> None: ...
    def disconnected(self, connection: Connection, close_code: int | None) -> None: ...


class ExchangeHost(Protocol):
    """What an exchange needs from the server that runs it (:class:`~.core.CodetteServer` is one).

    The exchange decides the order of things on one connection; the host turns frames into jobs and
    jobs into replies (where they run is its business), holds the budget shared by all connections,
    and tells listeners and the log.
    """

    @property
    def closing(self) -> bool:
        """Whether the server is stopping (a request cancelled then is dropped, not answered)."""
        ...

    def receive(self, frame: bytes) -> Job:
        """A small frame parsed into a job; raises what parsing raises."""
        ...

    async def receive_large(self, frame: bytes) -> tuple[Job, int]:
        """A large frame (or one with attached audio files) parsed and its audio decoded away from the event
        loop, bound to its job, with the bytes its decoded audio holds; raises what parsing raises."""
        ...

    async def answer(self, connection: Connection, job: Job) -> replies.Message:
        """The reply to ``job``; raises what answering raises."""
        ...

    def admit(self, *, audio_bytes: int, analysis: bool) -> str | None:
        """Reserve a request's share of the shared budget; the "Server busy" text when it is spent."""
        ...

    def release(self, *, audio_bytes: int, analysis: bool) -> None:
        """Give back what :meth:`admit` reserved."""
        ...

    def note_message(self, connection: Connection, job: Job) -> None: ...
    def note_reply(self, connection: Connection, reply: replies.Message, received: float) -> None: ...

    def failed(self, connection: Connection, job: Job | None, failure: Failure) -> str:
        """Log and report one failure; its ``error`` reply frame."""
        ...


@dataclass
class Pending:
    """One queued request: its frame (large, not parsed yet), its job, or why it already failed."""

    frame: bytes | None
    job: Job | None
    failure: Failure | None
    received: float
    audio_bytes: int = 0
    analysis: bool = False


class Exchange:
    """Runs one connection for ``host`` (see the module's docstring); ``recorder`` is told of its traffic,
    a client leaving a reply unread for ``reply_timeout`` seconds is closed, and so is one sending a frame
    over ``max_message_bytes`` that attaches no audio file (websockets reads frames up to the larger
    limit of frames with attached audio)."""

    def __init__(
        self,
        host: ExchangeHost,
        connection: Connection,
        *,
        recorder: TrafficRecorder | None = None,
        reply_timeout: float,
        max_message_bytes: int,
    ) -> None:
        self.host = host
        self.max_message_bytes = max_message_bytes
        self.recorder = recorder
        self.reply_timeout = reply_timeout
        self.connection = connection
        self.socket = connection.socket
        self._queue: asyncio.Queue[Pending] = asyncio.Queue(READ_AHEAD)
        #: The last ping frame received and its job, parsed once: a ping's answer depends on nothing else.
        self._ping: tuple[bytes, Job] | None = None
        self._large_frames = asyncio.Semaphore(LARGE_FRAMES_PER_CONNECTION)

    async def run(self) -> None:
        """Welcome the client, then read and answer until the connection closes (or either side stops)."""
        try:
            await self.socket.send(encode(replies.welcome(codette_available=True)))
        except ConnectionClosed:
            return
        tasks = {asyncio.create_task(self._read()), asyncio.create_task(self._answer_in_order())}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(outcome, Exception) and not isinstance(outcome, ConnectionClosed):
                    logger.error("WebSocket %s failed", self.connection.id, exc_info=outcome)
            while not self._queue.empty():  # give back what the requests never answered held
                self._release(self._queue.get_nowait())

    # -- reading --------------------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            pending = await self._next()
            if pending is not None:
                try:
                    await self._queue.put(pending)
                except asyncio.CancelledError:  # the exchange ends: what it reserved goes back
                    self._release(pending)
                    raise
            await asyncio.sleep(0)  # one frame at a time, then every other connection gets its turn

    async def _next(self) -> Pending | None:
        """The next frame as a queued request; None when it was a ping, answered here and now."""
        frame = await self.socket.recv(decode=False)
        self.connection.messages += 1
        received = time.perf_counter()
        if self.recorder is not None:
            await self.recorder.received(self.connection, frame)
        attached = is_attachment_frame(frame)
        if len(frame) > self.max_message_bytes and not attached:  # websockets read it under the attachment limit
            logger.info("WebSocket %s sent a %d-byte frame, over the limit: closing", self.connection.id, len(frame))
            await close_or_abort(self.socket, CloseCode.MESSAGE_TOO_BIG, f"frame over {self.max_message_bytes} bytes")
            raise ConnectionClosed(None, None)
        if len(frame) > INLINE_PARSE_LIMIT or attached:  # parsed, and its audio decoded, in a parsing process
            await self._large_frames.acquire()
            pending = Pending(frame, None, None, received, audio_bytes=len(frame), analysis=True)
            return self._admitted(pending)
        if self._ping is not None and frame == self._ping[0]:  # a client pings with the same bytes each time
            job = self._ping[1]
        else:
            try:
                job = self.host.receive(frame)
            except Exception as exc:  # an invalid message: its error reply keeps its place in the order
                return Pending(None, None, failure_of(exc), received)
        if isinstance(job.request, PingRequest):
            self._ping = (frame, job)
            self.host.note_message(self.connection, job)
            pong = replies.pong()
            await self._send(replies.pong_frame(pong))
            self.host.note_reply(self.connection, pong, received)
            return None
        return self._admitted(Pending(None, job, None, received, analysis=job.needs_worker))

    def _admitted(self, pending: Pending) -> Pending:
        """``pending`` with its share of the shared budget, or turned into a "Server busy" failure."""
        busy = self.host.admit(audio_bytes=pending.audio_bytes, analysis=pending.analysis)
        if busy is None:
            return pending
        self._release(pending, budget=False)
        return Pending(None, pending.job, Failure(busy), pending.received)

    def _release(self, pending: Pending, *, budget: bool = True) -> None:
        if pending.audio_bytes:
            self._large_frames.release()
        if budget:
            self.host.release(audio_bytes=pending.audio_bytes, analysis=pending.analysis)
        pending.frame = pending.job = None

    # -- answering ------------------------------------------------------------------------

    async def _answer_in_order(self) -> None:
        while True:
            pending = await self._queue.get()
            try:
                text = await self._answer(pending)
            finally:
                self._release(pending)
            if text is None:  # the server is closing: the request was dropped
                await self.socket.close(CloseCode.GOING_AWAY)
                return
            await self._send(text)
            del pending, text
            await asyncio.sleep(0)

    async def _answer(self, pending: Pending) -> str | None:
        """The reply frame to one queued request; None when the server is closing. Never raises otherwise."""
        host, job = self.host, pending.job
        if pending.failure is not None:
            return host.failed(self.connection, job, pending.failure)
        try:
            if job is None:
                assert pending.frame is not None
                frame, pending.frame = pending.frame, None
                job, decoded_bytes = await host.receive_large(frame)
                del frame
                busy = self._hold_decoded(pending, decoded_bytes)
                if busy is not None:
                    del job
                    return host.failed(self.connection, None, Failure(busy))
            host.note_message(self.connection, job)
            reply = await host.answer(self.connection, job)
            text = encode(reply)
        except asyncio.CancelledError:
            if host.closing:
                return None
            raise
        except Exception as exc:  # every failure, our own bugs included, is an error reply
            return host.failed(self.connection, job, failure_of(exc))
        host.note_reply(self.connection, reply, pending.received)
        return text

    def _hold_decoded(self, pending: Pending, held: int) -> str | None:
        """Count decoded audio larger than its frame (attached files expand when decoded) against the shared
        audio budget; the "Server busy" text when it does not fit (the audio is then dropped)."""
        if held <= pending.audio_bytes:
            return None
        busy = self.host.admit(audio_bytes=held - pending.audio_bytes, analysis=False)
        if busy is None:
            pending.audio_bytes = held
        return busy

    async def _send(self, text: str) -> None:
        """Send one reply; a client that leaves it unread past the reply timeout is closed (1008)."""
        timeout = self.reply_timeout
        if self.recorder is not None:
            self.recorder.replied(self.connection, text)
        try:
            async with asyncio.timeout(timeout):  # no task per reply, as wait_for would make
                await self.socket.send(text)
        except TimeoutError:
            logger.warning("WebSocket %s left its replies unread for %g s: closing it", self.connection.id, timeout)
            await close_or_abort(self.socket, CloseCode.POLICY_VIOLATION, f"replies unread for {timeout:g} s")
            raise ConnectionClosed(None, None) from None


async def close_or_abort(socket: ServerConnection, code: int, reason: str = "") -> None:
    """Close ``socket`` with ``code``; if the client does not complete the handshake within
    CLOSE_TIMEOUT (it stopped reading), drop the TCP connection instead."""
    try:
        await asyncio.wait_for(socket.close(code, reason), CLOSE_TIMEOUT)
    except TimeoutError:
        socket.transport.abort()
