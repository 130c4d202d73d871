"""The Monitor tab: who is connected, what they send, and what broke (with tracebacks).

The server thread only appends to ``lab.events`` and asks for a refresh; the
refresh itself (rebuilding the HTML) runs on the kernel's main thread, at most
once per burst of events, so a busy server never waits on the notebook.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

from ..server import ServerEvent
from ..server.events import ERROR_KINDS
from .mainthread import Coalescer, MainThread

if TYPE_CHECKING:
    from .interface import LabLike

#: How many recent events the message log shows (the Lab keeps more in ``lab.events``).
LOG_LINES = 200

#: How many recent failures are listed with their tracebacks.
ERRORS_SHOWN = 20


def _time(event: ServerEvent) -> str:
    return event.timestamp.strftime("%H:%M:%S.") + f"{event.timestamp.microsecond // 1000:03d}"


def format_event(event: ServerEvent) -> str:
    """One log line: ``12:00:01.123 #3 message chat``."""
    who = f"#{event.connection_id}" if event.connection_id is not None else "-"
    parts = [_time(event), who, event.kind, event.message_type or "", event.detail]
    return " ".join(part for part in parts if part)


class MonitorPanel(widgets.VBox):
    """Connection count and list, a bounded live message log, and errors with tracebacks."""

    def __init__(self, lab: LabLike, *, main: MainThread | None = None) -> None:
        self.lab = lab
        self.main = main or MainThread()
        self.summary = widgets.HTML()
        self.connection_list = widgets.HTML()
        self.message_log = widgets.Textarea(
            disabled=True, layout=widgets.Layout(width="100%", height="220px"), description="Log"
        )
        self.errors = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.clear_button = widgets.Button(description="Clear log", icon="trash")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.clear_button.on_click(lambda _: self.clear())
        self._live = Coalescer(self.main, self.refresh)
        lab.events.subscribe(self._on_event)
        super().__init__(
            [
                widgets.HBox([self.summary, self.refresh_button, self.clear_button]),
                self.connection_list,
                self.message_log,
                widgets.HTML("<b>Errors</b> (newest first; notebook functions show their traceback)"),
                self.errors,
            ]
        )
        self.refresh()

    def _on_event(self, event: ServerEvent) -> None:
        """Called on the server thread: only ask for a refresh on the main thread."""
        self._live.request()

    def refresh(self) -> None:
        """Redraw everything from ``lab.events`` and the server's connection list."""
        lab = self.lab
        connections = lab.connections()
        state = f"serving <code>{html.escape(lab.url)}</code>" if lab.running else "stopped"
        self.summary.value = f"<b>{len(connections)}</b> connection(s) &mdash; {state}"
        cell = "<td style='padding:2px 12px 2px 0'>{}</td>"
        rows = "".join(
            "<tr>"
            + "".join(
                cell.format(html.escape(str(value)))
                for value in (
                    f"#{c.id}",
                    c.remote_address,
                    c.origin or "no origin",
                    f"{c.connected_at:%H:%M:%S}",
                    c.messages,
                )
            )
            + "</tr>"
            for c in connections
        )
        header = "".join(
            f"<th style='text-align:left;padding:2px 12px 2px 0'>{title}</th>"
            for title in ("id", "address", "origin", "since", "messages")
        )
        self.connection_list.value = (
            f"<table><tr>{header}</tr>{rows}</table>" if connections else "<i>No DAW connected.</i>"
        )
        events = lab.events.snapshot()
        self.message_log.value = "\n".join(format_event(event) for event in events[-LOG_LINES:])
        failures = [event for event in events if event.kind in ERROR_KINDS][-ERRORS_SHOWN:]
        self.errors.value = "".join(self._error_html(event) for event in reversed(failures)) or "<i>None.</i>"

    def clear(self) -> None:
        """Forget the logged events (the connections stay)."""
        self.lab.events.clear()
        self.refresh()

    def close(self) -> None:
        self.lab.events.unsubscribe(self._on_event)
        super().close()

    @staticmethod
    def _error_html(event: ServerEvent) -> str:
        title = html.escape(f"{_time(event)} #{event.connection_id} {event.message_type or ''} {event.detail}")
        if not event.traceback:
            return f"<div style='color:#a00'>{title}</div>"
        return (
            f"<details><summary style='color:#a00'>{title}</summary>"
            f"<pre style='font-size:11px'>{html.escape(event.traceback)}</pre></details>"
        )
