"""A panel action that takes time: run off the kernel's main thread, show that it runs, hold a time limit.

An :class:`Activity` belongs to one panel action (Analyze, Send). While the
action runs, its buttons are disabled and a busy line counts the seconds
(with a progress bar towards the time limit when there is one); the work
itself runs on a thread of its own, so the notebook stays usable and the
server keeps answering. When it ends, the outcome is handed to the kernel's
main thread (see :class:`~.mainthread.MainThread`).

:meth:`Activity.start` returns a :class:`concurrent.futures.Future` that
resolves with the outcome once the panel has been told, so code can wait for
it (``panel.analysis.run().result()``). :func:`within` holds one step of the
work (a notebook function) to a time limit, as the server holds a DAW's
request: past it the step's thread keeps running (threads cannot be
stopped), its late result is dropped and the action fails with a
RequestTimeoutError.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

import ipywidgets as widgets

from ..errors import CodetteError, RequestTimeoutError
from .mainthread import MainThread

T = TypeVar("T")

#: How often the busy line's seconds (and the progress bar) move.
TICK_SECONDS = 0.25


@dataclass(frozen=True)
class _Action(Generic[T]):
    """What :meth:`Activity.start` was asked to run (see there)."""

    what: str
    work: Callable[[], T]
    show: Callable[[T], None]
    fail: Callable[[CodetteError], None]
    limit: float | None


def within(limit: float | None, label: str, function: Callable[[], T]) -> T:
    """``function()``, on a thread of its own when ``limit`` is set; RequestTimeoutError naming ``label``
    past ``limit`` seconds (its thread runs on, its result is dropped)."""
    if limit is None:
        return function()
    done: Future[T] = Future()

    def run() -> None:
        try:
            done.set_result(function())
        except BaseException as exc:  # re-raised below, in the caller's thread
            done.set_exception(exc)

    threading.Thread(target=run, name="codette-panel-limited", daemon=True).start()
    try:
        return done.result(timeout=limit)
    except FutureTimeout:
        raise RequestTimeoutError(f"{label} did not answer within {limit:g} s") from None


class Activity:
    """One long action of a panel at a time; ``indicator`` is the widget to place next to its button."""

    def __init__(self, main: MainThread, *, buttons: Sequence[widgets.Button]) -> None:
        self.main = main
        self.buttons = tuple(buttons)
        self.label = widgets.HTML(layout=widgets.Layout(margin="0 0 0 8px"))
        self.progress = widgets.FloatProgress(
            min=0.0, max=1.0, bar_style="info", layout=widgets.Layout(width="160px", display="none")
        )
        self.indicator = widgets.HBox([self.label, self.progress])
        self.indicator.add_class("codette-busy")
        self._running: Future[Any] | None = None
        self._what = ""
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        running = self._running
        return running is not None and not running.done()

    def start(
        self,
        what: str,
        work: Callable[[], T],
        show: Callable[[T], None],
        fail: Callable[[CodetteError], None],
        *,
        limit: float | None = None,
    ) -> Future[T | None]:
        """Run ``work()`` on a thread; then ``show(result)`` (or ``fail(error)`` for a CodetteError) on the
        main thread.

        ``what`` names the action in the busy line ("Analyzing vocal.flac");
        ``limit`` is the time limit the work holds itself to (see :func:`within`),
        shown as a progress bar. The future resolves with the result (None after a failure).
        """
        outcome: Future[T | None] = Future()
        with self._lock:
            if self.busy:
                raise CodetteError(f"{self._what} is still running: wait for it to finish")
            self._running, self._what = outcome, what
        self.main.run(lambda: self._show_busy(what, limit))
        action = _Action(what, work, show, fail, limit)
        threading.Thread(
            target=self._supervise, args=(action, outcome), name="codette-panel-action", daemon=True
        ).start()
        return outcome

    def _supervise(self, action: _Action[T], outcome: Future[T | None]) -> None:
        """On the action's own thread: run the work on another and tick the busy line until it ends."""
        done: Future[T] = Future()

        def run() -> None:
            try:
                done.set_result(action.work())
            except BaseException as exc:  # handed to fail() below, or dropped after a timeout
                done.set_exception(exc)

        threading.Thread(target=run, name="codette-panel-work", daemon=True).start()
        started, limit = time.monotonic(), action.limit
        while True:
            elapsed = time.monotonic() - started
            try:
                result = done.result(timeout=TICK_SECONDS)
            except FutureTimeout:
                self.main.call_soon(partial(self._tick, action.what, elapsed, limit))
                continue
            except CodetteError as exc:
                self._finish(outcome, None, partial(action.fail, exc))
                return
            except BaseException as exc:  # a bug of ours: the caller of .result() sees it
                outcome.set_exception(exc)
                self.main.run(self._show_idle)
                return
            self._finish(outcome, result, partial(action.show, result))
            return

    def _finish(self, outcome: Future[T | None], result: T | None, update: Callable[[], None]) -> None:
        """Hand ``update`` and the idle state to the main thread, then resolve ``outcome``."""

        def on_main() -> None:
            try:
                update()
            finally:
                self._show_idle()

        self.main.run(on_main)
        outcome.set_result(result)

    def _show_busy(self, what: str, limit: float | None) -> None:
        for button in self.buttons:
            button.disabled = True
        self.progress.value = 0.0
        self.progress.layout.display = "" if limit else "none"
        self._tick(what, 0.0, limit)

    def _tick(self, what: str, elapsed: float, limit: float | None) -> None:
        if not self.busy:
            return
        bound = f" of at most {limit:g} s" if limit else ""
        self.label.value = (
            "<span class='codette-busy-label'><i class='fa fa-spinner fa-spin'></i> "
            f"{html.escape(what)}&hellip; {elapsed:.0f} s{bound}</span>"
        )
        if limit:
            self.progress.value = min(1.0, elapsed / limit)

    def _show_idle(self) -> None:
        for button in self.buttons:
            button.disabled = False
        self.label.value = ""
        self.progress.layout.display = "none"
