"""Where long work runs: thread pools, frame-parsing processes, and the time limit on notebook functions.

Built-in work (analyses, long chats) runs in one pool of threads with no time
limit. Functions defined in a notebook run in a pool of their own within the
per-request time limit. A notebook function past its limit keeps its thread
(threads cannot be killed): it runs on until it returns (its result is
dropped) and its pool is replaced, so stuck user code never starves the
built-in analyses or the next notebook function of workers. All these threads
are daemon threads that nobody joins, so a stuck notebook function never holds
up the exit of the process (``concurrent.futures`` threads are joined at exit).

Large frames (audio sent as samples) are parsed and their base64 decoded in
child processes (see :mod:`.parsing`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import RequestTimeoutError
from .parsing import ParserProcesses

if TYPE_CHECKING:
    from ..audio_input import DecodedAudio
    from ..engine import Job
    from ..protocol import Request

T = TypeVar("T")


def _stack_of(thread_id: int | None) -> str:
    """Where a thread is running now, for the event of a request past its time limit."""
    frame = sys._current_frames().get(thread_id) if thread_id is not None else None
    if frame is None:
        return ""
    return "Still running in the worker thread:\n" + "".join(traceback.format_stack(frame))


class DaemonPool(concurrent.futures.Executor):
    """``size`` daemon threads taking work from one queue; nothing waits for them at exit."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._work: queue.SimpleQueue[tuple[concurrent.futures.Future[Any], Callable[[], Any]] | None]
        self._work = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot run work after the pool was shut down")
            if len(self._threads) < self._size:  # threads start on demand, up to size
                thread = threading.Thread(target=self._run, name=f"{self._name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._work.put((future, lambda: fn(*args, **kwargs)))
        return future

    def _run(self) -> None:
        while (item := self._work.get()) is not None:
            future, function = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = function()
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
            else:
                future.set_result(result)
            del item, future, function  # a finished request's data is not kept alive by an idle thread

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking work; queued work is cancelled, running work finishes on its own (never waited for)."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        while True:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in threads:
            self._work.put(None)


class WorkerPools:
    """The built-in pool and the notebook-function pool of one server, ``size`` threads each, and the
    processes that parse large frames (started at the first large frame)."""

    def __init__(self, size: int, *, request_timeout: float) -> None:
        self.size = size
        self.request_timeout = request_timeout
        self._builtin: DaemonPool | None = None
        self._user: DaemonPool | None = None  # replaced when one of its functions gets stuck
        self._parsers = ParserProcesses()
        self._pending: set[asyncio.Future[Any]] = set()
        #: Built-in requests queued or running (changed on the event loop, read by the workers).
        self._builtin_in_flight = 0

    def start(self) -> None:
        self._builtin = DaemonPool(self.size, "codette-worker")
        self._user = self._new_user_pool()

    def _new_user_pool(self) -> DaemonPool:
        return DaemonPool(self.size, "codette-user-code")

    def cancel_pending(self) -> None:
        """Cancel the requests still running: the server is closing and will not wait for them."""
        for future in list(self._pending):
            future.cancel()

    async def shutdown(self) -> bool:
        """Stop the pools without waiting for their threads, and the parsing processes; False when
        they were not running."""
        pools = [pool for pool in (self._builtin, self._user) if pool is not None]
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
        self._builtin = self._user = None
        await self._parsers.stop()
        return bool(pools)

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in the built-in pool, with no time limit."""
        assert self._builtin is not None, "the server was not started"
        return await self._track(asyncio.get_running_loop().run_in_executor(self._builtin, function, *args))

    async def parse(self, frame: bytes, *, max_seconds: float) -> tuple[Request, DecodedAudio]:
        """A large or attachment frame parsed, and its audio decoded (attached files no longer than
        ``max_seconds``), in a parsing process (see :func:`~codette_lab.attached_audio.parse_with_audio`)."""
        return await self._track(asyncio.ensure_future(self._parsers.parse(frame, max_seconds=max_seconds)))

    async def _track(self, future: asyncio.Future[T]) -> T:
        self._pending.add(future)
        try:
            return await future
        finally:
            self._pending.discard(future)

    async def run(self, job: Job, answer: Callable[[], T]) -> T:
        """``answer()`` for ``job``: in the notebook pool within the time limit when notebook code
        answers it, else in the built-in pool. Raises RequestTimeoutError past the limit."""
        assert self._builtin is not None and self._user is not None, "the server was not started"
        thread_id: list[int] = []
        pool = self._user if job.runs_user_code else self._builtin

        def work() -> T:
            thread_id.append(threading.get_ident())
            if pool is self._builtin and self._builtin_in_flight > 1:
                from ..analysis import single_threaded

                with single_threaded():  # other requests keep the other cores busy: no helper thread
                    return answer()
            return answer()

        self._builtin_in_flight += pool is self._builtin
        future = asyncio.get_running_loop().run_in_executor(pool, work)
        self._pending.add(future)
        try:
            return await asyncio.wait_for(future, self.request_timeout if job.runs_user_code else None)
        except TimeoutError:
            if pool is self._user:
                self._user = self._new_user_pool()
                pool.shutdown(wait=False)
            text = f"{job.label} did not answer within {self.request_timeout:g} s"
            raise RequestTimeoutError(text, stack=_stack_of(thread_id[0] if thread_id else None)) from None
        finally:
            self._pending.discard(future)
            self._builtin_in_flight -= pool is self._builtin
