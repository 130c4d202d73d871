"""Hand work to the kernel's main thread, from any thread, without blocking the caller.

Server events arrive on the server's event-loop thread and, with JupyterLab's
comms over subshells, widget callbacks may run on a subshell thread; but
widget views are best updated, and matplotlib must draw, on the kernel's main
thread. A :class:`MainThread` captured when a panel is built (in a cell, so on
the main thread) remembers that thread and the kernel's event loop, and
:meth:`MainThread.call_soon` schedules a function there with a thread-safe
hand-off. Outside a kernel (plain Python, tests) there is no loop to hand to:
``call_soon`` then reports False and the caller refreshes on demand instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any


def _kernel_loop() -> Callable[[Callable[[], Any]], Any] | None:
    """The thread-safe "run this on the kernel's main loop" function, when running in an IPython kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    io_loop = getattr(getattr(shell, "kernel", None), "io_loop", None)
    return io_loop.add_callback if io_loop is not None else None


def _running_asyncio_loop() -> Callable[[Callable[[], Any]], Any] | None:
    try:
        return asyncio.get_running_loop().call_soon_threadsafe
    except RuntimeError:
        return None


class MainThread:
    """The thread (and event loop) a panel was built on; see the module's docstring."""

    def __init__(self) -> None:
        kernel_loop = _kernel_loop()
        # The kernel's loop runs on the process's main thread, even when a subshell builds the panel.
        self.thread = threading.main_thread() if kernel_loop is not None else threading.current_thread()
        self._schedule = kernel_loop or _running_asyncio_loop()

    def is_current(self) -> bool:
        return threading.current_thread() is self.thread

    def call_soon(self, function: Callable[[], Any]) -> bool:
        """Schedule ``function()`` on the main thread; never blocks. False when there is no loop to use."""
        if self._schedule is None:
            return False
        self._schedule(function)
        return True

    def run(self, function: Callable[[], Any]) -> bool:
        """Run ``function()`` now when on the main thread, else schedule it there.

        Returns True when it ran now. Off the main thread with no loop to hand
        to, it also runs now (nothing else could run it).
        """
        if self.is_current() or not self.call_soon(function):
            function()
            return True
        return False


class Coalescer:
    """Many requests from any thread, one ``function()`` call on the main thread per burst."""

    def __init__(self, main: MainThread, function: Callable[[], Any]) -> None:
        self._main = main
        self._function = function
        self._pending = False
        self._lock = threading.Lock()

    def request(self) -> None:
        """Ask for a run; returns at once (safe on the server thread)."""
        with self._lock:
            if self._pending:
                return
            self._pending = True
        if not self._main.call_soon(self._run):
            with self._lock:
                self._pending = False

    def _run(self) -> None:
        with self._lock:
            self._pending = False
        self._function()
