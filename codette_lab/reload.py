"""Following a rule file: a running server's rules reloaded when the file changes, and on demand (SIGHUP).

A :class:`RuleFileWatcher` looks at the file's identity (inode, size,
modification time) every ``interval`` seconds from the server's event loop;
when it changed, and stays unchanged for a moment (an editor may write in
steps), the file is loaded in a worker thread and swapped in whole with
:meth:`RuleSet.replace`. Connections stay open; a request already being
answered keeps the rule snapshot it started with; the next one gets the new
rules. A file that cannot be loaded is refused with a logged error naming the
problem, and the rules in force stay. Every reload is logged with the rules'
identity, which ``status_response.rules`` also reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from os import PathLike
from pathlib import Path

from .errors import CodetteError
from .rules import RuleSet

logger = logging.getLogger("codette_lab.reload")

#: Seconds between two looks at the rule file.
POLL_INTERVAL = 1.0
#: Seconds a changed file must stay unchanged before it is read (an editor may write it in steps).
SETTLE_TIME = 0.2

Signature = tuple[int, int, int] | None


def file_signature(path: Path) -> Signature:
    """(inode, size, modification time in ns) of ``path``, None when it cannot be looked at."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_ino, status.st_size, status.st_mtime_ns)


class RuleFileWatcher:
    """Keeps ``rules`` following the file at ``path`` while a server runs on the current event loop.

    ``start()`` begins polling every ``interval`` seconds; ``reload()`` loads
    the file now (what SIGHUP calls through :meth:`request_reload`);
    ``stop()`` ends the polling.
    """

    def __init__(self, rules: RuleSet, path: str | PathLike[str], *, interval: float = POLL_INTERVAL) -> None:
        self.rules = rules
        self.path = Path(path)
        self.interval = interval
        self._signature = file_signature(self.path)  # what the rules in force were loaded from
        self._task: asyncio.Task[None] | None = None
        self._reloads: set[asyncio.Task[bool]] = set()
        self._lock: asyncio.Lock | None = None

    def start(self) -> None:
        """Start polling on the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._poll(), name=f"watch {self.path}")

    async def stop(self) -> None:
        """Stop polling (and any reload under way)."""
        tasks = [task for task in (self._task, *self._reloads) if task is not None]
        self._task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def request_reload(self, reason: str = "SIGHUP") -> None:
        """Reload soon, on the event loop (a signal handler's call)."""
        task = asyncio.get_running_loop().create_task(self.reload(reason))
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def reload(self, reason: str = "asked") -> bool:
        """Load the file and swap its rules in; False (logged, rules kept) when it cannot be loaded."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            self._signature = file_signature(self.path)
            in_force = self.rules.snapshot()
            try:
                loaded = await asyncio.to_thread(RuleSet.load, self.path)
            except Exception as exc:  # whatever is wrong with the file, the server keeps serving
                problem = str(exc) if isinstance(exc, CodetteError) else f"{type(exc).__name__}: {exc}"
                logger.error(
                    "Rules not reloaded (%s): %s. The rules in force stay (identity %s, from %s)",
                    reason,
                    problem,
                    in_force.identity,
                    in_force.document.source,
                )
                return False
            self.rules.replace(loaded)
            identity = self.rules.snapshot().identity
            if identity == in_force.identity:
                logger.info("Rules reloaded from %s (%s): unchanged, identity %s", self.path, reason, identity)
            else:
                logger.info(
                    "Rules reloaded from %s (%s): identity %s, was %s", self.path, reason, identity, in_force.identity
                )
            return True

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            signature = file_signature(self.path)
            if signature == self._signature:
                continue
            await asyncio.sleep(SETTLE_TIME)
            if file_signature(self.path) == signature:
                await self.reload("file changed")
