"""The Monitor tab: who is connected (by name), what they ask and get back, what was refused, what broke.

The server thread only appends to ``lab.events`` and asks for a refresh; the
refresh itself (rebuilding the HTML) runs on the kernel's main thread, at most
once per burst of events, so a busy server never waits on the notebook.
Connections are named by ``lab.clients`` (the DAW's project and track, or the
name in its URL); the Lab panel's own Chat connection is shown as the
notebook's and not counted as a DAW. The log is newest first, can be
filtered to one connection, and saved to a text file.
"""

from __future__ import annotations

import html
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..errors import CodetteError
from ..server import ServerEvent
from .mainthread import Coalescer, MainThread

if TYPE_CHECKING:
    from .interface import LabLike

#: How many recent events the message log shows (the Lab keeps more in ``lab.events``).
LOG_LINES = 200

#: How many recent failures are listed with their tracebacks.
ERRORS_SHOWN = 20

#: How many refused connections are listed.
REFUSED_SHOWN = 20

#: The filter value that shows every connection.
ALL = -1

#: Where :meth:`MonitorPanel.save` writes when the path box is left as it is.
DEFAULT_LOG_PATH = "codette_monitor.log"

#: What each event kind is called in a log line.
VERBS = {"message": "asked", "reply": "answered", "error": "error", "user_error": "notebook error"}


def _time(event: ServerEvent) -> str:
    return event.timestamp.strftime("%H:%M:%S.") + f"{event.timestamp.microsecond // 1000:03d}"


def format_event(event: ServerEvent, who: str | None = None) -> str:
    """One log line: ``12:00:01.123 Studio A message chat “How do I EQ…”``."""
    name = who or (f"#{event.connection_id}" if event.connection_id is not None else "-")
    parts = [_time(event), name, event.kind, event.message_type or "", event.summary, event.detail]
    return " ".join(part for part in parts if part)


class MonitorPanel(widgets.VBox):
    """Named connections, a filtered newest-first log, refusals and errors with tracebacks; :meth:`save`."""

    def __init__(self, lab: LabLike, *, main: MainThread | None = None) -> None:
        self.lab = lab
        self.main = main or MainThread()
        self.summary = widgets.HTML()
        self.connection_list = widgets.HTML(layout=widgets.Layout(width="100%", overflow="auto"))
        self.filter = widgets.Dropdown(description="Show", options=[("all connections", ALL)], value=ALL)
        self.message_log = widgets.Textarea(disabled=True, layout=widgets.Layout(width="100%", height="220px"))
        self.refused = widgets.HTML()
        self.errors = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.clear_button = widgets.Button(description="Clear log", icon="trash")
        self.path = widgets.Text(value=DEFAULT_LOG_PATH, description="Save to")
        self.save_button = widgets.Button(description="Save log", icon="save")
        self.status = widgets.HTML()
        self.message_log.add_class("codette-monitor-log")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.clear_button.on_click(lambda _: self.clear())
        self.save_button.on_click(lambda _: self._save_clicked())
        self.filter.observe(lambda _: self.refresh(), names="value")
        self._live = Coalescer(self.main, self.refresh)
        lab.events.subscribe(self._on_event)
        wrap = widgets.Layout(flex_flow="row wrap")
        super().__init__(
            [
                widgets.HBox([self.summary, self.refresh_button, self.clear_button], layout=wrap),
                self.connection_list,
                widgets.HBox([self.filter, widgets.HTML("<i>&nbsp;newest first</i>")], layout=wrap),
                self.message_log,
                widgets.HBox([self.path, self.save_button, self.status], layout=wrap),
                widgets.HTML("<b>Refused connections</b>"),
                self.refused,
                widgets.HTML("<b>Errors</b> (newest first; notebook functions show their traceback)"),
                self.errors,
            ],
            layout=widgets.Layout(overflow="hidden"),
        )
        self.refresh()

    def _on_event(self, event: ServerEvent) -> None:
        """Called on the server thread: only ask for a refresh on the main thread."""
        self._live.request()

    def _who(self, connection_id: int | None) -> str:
        return self.lab.clients.get(connection_id).name if connection_id is not None else "-"

    def lines(self, connection_id: int = ALL) -> list[str]:
        """The log lines kept, newest first (only ``connection_id``'s unless :data:`ALL`)."""
        events = [
            event
            for event in self.lab.events.snapshot()
            if event.kind != "refused" and connection_id in (ALL, event.connection_id)
        ]
        return [format_event(event, self._who(event.connection_id)) for event in reversed(events)]

    def refresh(self) -> None:
        """Redraw everything from ``lab.events``, ``lab.clients`` and the server's connection list."""
        lab = self.lab
        connections = lab.connections()
        notebook = {client.connection_id for client in lab.clients.all() if client.is_notebook}
        daws = [c for c in connections if c.id not in notebook]
        own = " (and this notebook's Chat tab)" if len(daws) < len(connections) else ""
        state = f"serving <code>{html.escape(lab.url)}</code>" if lab.running else "stopped"
        self.summary.value = f"<b>{len(daws)}</b> DAW(s) connected{own} &mdash; {state}"
        self.connection_list.value = self._connections_html(connections)
        self._refresh_filter(connections)
        self.message_log.value = "\n".join(self.lines(self.filter.value)[:LOG_LINES])
        refused = lab.events.of_kind("refused")[-REFUSED_SHOWN:]
        self.refused.value = (
            "".join(
                f"<div style='color:#a60;overflow-wrap:anywhere'>{html.escape(_time(e))} {html.escape(e.detail)}</div>"
                for e in reversed(refused)
            )
            or "<i>None.</i>"
        )
        failures = lab.events.errors()[-ERRORS_SHOWN:]
        self.errors.value = "".join(self._error_html(event) for event in reversed(failures)) or "<i>None.</i>"

    def _connections_html(self, connections: list[Any]) -> str:
        if not connections:
            return "<i>No DAW connected.</i>"
        cell = "<td style='padding:2px 12px 2px 0;overflow-wrap:anywhere'>{}</td>"
        rows = "".join(
            "<tr>"
            + "".join(
                cell.format(html.escape(str(value)))
                for value in (
                    f"#{c.id}",
                    self._who(c.id),
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
            for title in ("id", "name", "address", "origin", "since", "messages")
        )
        return f"<table><tr>{header}</tr>{rows}</table>"

    def _refresh_filter(self, connections: list[Any]) -> None:
        """One filter entry per open connection (and the one chosen, even after it closed)."""
        chosen = self.filter.value
        ids = [c.id for c in connections]
        if chosen != ALL and chosen not in ids:
            ids.append(chosen)
        options = [("all connections", ALL)] + [(f"#{i} {self._who(i)}", i) for i in ids]
        if list(self.filter.options) != options:
            self.filter.options = options
            self.filter.value = chosen

    def save(self, path: str | PathLike[str] | None = None) -> Path:
        """Write every event kept (all connections, oldest first) to a text file; returns its path."""
        target = Path(path if path is not None else self.path.value).expanduser()
        text = "\n".join(reversed(self.lines())) + "\n"
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CodetteError(f"Cannot save the log to {target}: {exc.strerror or exc}") from None
        where = html.escape(str(target.resolve()))
        self.status.value = f"<span style='color:#080'>Saved to <code>{where}</code></span>"
        return target

    def _save_clicked(self) -> None:
        try:
            self.save()
        except CodetteError as exc:
            self.status.value = f"<span style='color:#a00'>{html.escape(str(exc))}</span>"

    def clear(self) -> None:
        """Forget the logged events (the connections stay)."""
        self.lab.events.clear()
        self.refresh()

    def close(self) -> None:
        self.lab.events.unsubscribe(self._on_event)
        super().close()

    def _error_html(self, event: ServerEvent) -> str:
        who = self._who(event.connection_id)
        title = html.escape(f"{_time(event)} {who} {event.message_type or ''} {event.detail}")
        if not event.traceback:
            return f"<div style='color:#a00;overflow-wrap:anywhere'>{title}</div>"
        return (
            f"<details><summary style='color:#a00;overflow-wrap:anywhere'>{title}</summary>"
            f"<pre style='font-size:11px;white-space:pre-wrap'>{html.escape(event.traceback)}</pre></details>"
        )
