"""Where long work runs: the server's two thread pools, and the time limit on notebook functions.

Built-in work (analyses, parsing frames too large for the event loop) runs in
one pool with no time limit. Functions defined in a notebook run in a pool of
their own within the per-request time limit. A notebook function past its
limit keeps its thread (threads cannot be killed): it runs on until it returns
(its result is dropped) and its pool is replaced, so stuck user code never
starves the built-in analyses or the next notebook function of workers.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import RequestTimeoutError

if TYPE_CHECKING:
    from ..engine import Job

T = TypeVar("T")


def _stack_of(thread_id: int | None) -> str:
    """Where a thread is running now, for the event of a request past its time limit."""
    frame = sys._current_frames().get(thread_id) if thread_id is not None else None
    if frame is None:
        return ""
    return "Still running in the worker thread:\n" + "".join(traceback.format_stack(frame))


class WorkerPools:
    """The built-in pool and the notebook-function pool of one server, ``size`` threads each."""

    def __init__(self, size: int, *, request_timeout: float) -> None:
        self.size = size
        self.request_timeout = request_timeout
        self._builtin: ThreadPoolExecutor | None = None
        self._user: ThreadPoolExecutor | None = None  # replaced when one of its functions gets stuck
        self._pending: set[asyncio.Future[Any]] = set()

    def start(self) -> None:
        self._builtin = ThreadPoolExecutor(self.size, thread_name_prefix="codette-worker")
        self._user = self._new_user_pool()

    def _new_user_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self.size, thread_name_prefix="codette-user-code")

    def cancel_pending(self) -> None:
        """Cancel the requests still running: the server is closing and will not wait for them."""
        for future in list(self._pending):
            future.cancel()

    def shutdown(self) -> bool:
        """Stop both pools without waiting for their threads; False when they were not running."""
        pools = [pool for pool in (self._builtin, self._user) if pool is not None]
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
        self._builtin = self._user = None
        return bool(pools)

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in the built-in pool, with no time limit (parsing a large frame)."""
        assert self._builtin is not None, "the server was not started"
        return await asyncio.get_running_loop().run_in_executor(self._builtin, function, *args)

    async def run(self, job: Job, answer: Callable[[], T]) -> T:
        """``answer()`` for ``job``: in the notebook pool within the time limit when notebook code
        answers it, else in the built-in pool. Raises RequestTimeoutError past the limit."""
        assert self._builtin is not None and self._user is not None, "the server was not started"
        thread_id: list[int] = []

        def work() -> T:
            thread_id.append(threading.get_ident())
            return answer()

        pool = self._user if job.runs_user_code else self._builtin
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
