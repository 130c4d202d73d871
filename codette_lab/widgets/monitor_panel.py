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
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..server import ServerEvent
from .mainthread import Coalescer, MainThread
from .saving import OverwriteQuestion, default_name, save_clicked, write_text

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

#: Where :meth:`MonitorPanel.save` writes when the path box is left as it is (a name of the notebook's own).
DEFAULT_LOG_NAME = "monitor.log"

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
        self.filter = widgets.Dropdown(
            description="Show", options=[("all connections", ALL)], value=ALL, layout=widgets.Layout(width="auto")
        )
        self.message_log = widgets.Textarea(disabled=True, layout=widgets.Layout(width="100%", height="220px"))
        self.refused = widgets.HTML()
        self.errors = widgets.HTML()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.clear_button = widgets.Button(description="Clear log", icon="trash")
        self.path = widgets.Text(value=default_name(DEFAULT_LOG_NAME), description="Save to")
        self.question = OverwriteQuestion()
        self.follow_note = widgets.HTML()
        self.save_button = widgets.Button(description="Save log", icon="save")
        self.status = widgets.HTML()
        self.message_log.add_class("codette-monitor-log")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.clear_button.on_click(lambda _: self.clear())
        self.save_button.on_click(lambda _: self._save_clicked())
        self._relisting = False
        self.filter.observe(lambda _: None if self._relisting else self.refresh(), names="value")
        self._live = Coalescer(self.main, self.refresh)
        lab.events.subscribe(self._on_event)
        wrap = widgets.Layout(flex_flow="row wrap")
        super().__init__(
            [
                widgets.HBox([self.summary, self.refresh_button, self.clear_button], layout=wrap),
                self.connection_list,
                widgets.HBox([self.filter, widgets.HTML("<i>&nbsp;newest first</i>"), self.follow_note], layout=wrap),
                self.message_log,
                widgets.HBox([self.path, self.save_button, self.status], layout=wrap),
                self.question,
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

    def refresh(self) -> None:
        """Redraw everything from ``lab.events``, ``lab.clients`` and the server's connection list."""
        lab = self.lab
        connections = {c.id: c for c in lab.connections()}
        students = [student for student in lab.clients.students() if student.connected]
        notebook = any(client.is_notebook for client in lab.clients.all())
        own = " (and this notebook's Chat tab)" if notebook and lab.running else ""
        if lab.running:
            state = f"students join at <code>{html.escape(lab.join_url)}</code>"
        else:
            state = "<b style='color:#a00'>the Lab is stopped</b>: run <code>lab.start()</code> (or the start cell)"
        self.summary.value = f"<b>{len(students)}</b> DAW(s) connected{own} &mdash; {state}"
        self.connection_list.value = self._students_html(students, connections)
        self._refresh_filter(students)
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

    def _students_html(self, students: list[Any], connections: dict[int, Any]) -> str:
        """One row per student (a reconnect is the same student): their connection(s) and their tracks."""
        if not students:
            return "<i>No DAW connected.</i>" if self.lab.running else "<i>No DAW connected: the Lab is stopped.</i>"
        cell = "<td style='padding:2px 12px 2px 0;overflow-wrap:anywhere'>{}</td>"
        rows = []
        for student in students:
            open_ = [connections[c.connection_id] for c in student.connections if c.connection_id in connections]
            first = open_[0] if open_ else None
            tracks = ", ".join(
                f"<b>{html.escape(name)}</b>" if name == student.selected_track else html.escape(name)
                for name in student.tracks
            ) or html.escape(student.selected_track or "-")
            values = (
                html.escape(student.name),
                html.escape(" ".join(f"#{c.connection_id}" for c in student.connections)),
                html.escape(first.remote_address if first else "-"),
                html.escape(f"{first.connected_at:%H:%M:%S}" if first else "-"),
                html.escape(str(sum(c.messages for c in open_))),
                tracks,
            )
            rows.append("<tr>" + "".join(cell.format(value) for value in values) + "</tr>")
        header = "".join(
            f"<th style='text-align:left;padding:2px 12px 2px 0'>{title}</th>"
            for title in ("student", "connection", "address", "since", "messages", "tracks (selected in bold)")
        )
        return f"<table class='codette-students'><tr>{header}</tr>{''.join(rows)}</table>"

    def _refresh_filter(self, students: list[Any]) -> None:
        """One filter entry per student; the one followed stays chosen, marked when they have left."""
        chosen = self.filter.value
        names = [student.name for student in students]
        options: list[tuple[str, Any]] = [("all connections", ALL)] + [(name, name) for name in names]
        if chosen != ALL and chosen not in names:
            options.append((f"{chosen} (left)", chosen))
        if list(self.filter.options) != options:
            self._relisting = True  # new options pass through another value: not a choice of the user's
            try:
                self.filter.options = options
                self.filter.value = chosen
            finally:
                self._relisting = False
        followed = chosen != ALL and chosen not in names
        self.follow_note.value = (
            f"<span style='color:#a60'>{html.escape(str(chosen))} has left (no open connection).</span>"
            if followed
            else ""
        )

    def lines(self, who: int | str = ALL) -> list[str]:
        """The log lines kept, newest first (only the student ``who``'s, by name, unless :data:`ALL`)."""
        ids = None if who == ALL else self.lab.clients.student(str(who)).connection_ids
        events = [
            event
            for event in self.lab.events.snapshot()
            if event.kind != "refused" and (ids is None or event.connection_id in ids)
        ]
        return [format_event(event, self._who(event.connection_id)) for event in reversed(events)]

    def log_text(self) -> str:
        """What *Save log* writes: a header (when, where, which version), every event kept, then the
        transcript: each request and its whole answer, oldest first, under the student's name."""
        from .. import __version__

        now = datetime.now(UTC)
        header = [
            f"# Codette Lab monitor log, saved {now:%Y-%m-%d %H:%M:%S} UTC by codette_lab {__version__}",
            f"# served at {self.lab.url} (students join at {self.lab.join_url})",
            f"# students: {', '.join(student.name for student in self.lab.clients.students()) or 'none connected'}",
            "",
            "## Events (oldest first)",
        ]
        transcript = [
            f"{entry.timestamp:%H:%M:%S}.{entry.timestamp.microsecond // 1000:03d} "
            f"{self._who(entry.connection_id)} {entry.direction}: {entry.text}"
            for entry in self.lab.transcript.entries()
        ]
        sections = [*header, *reversed(self.lines()), "", "## Transcript: every request and whole answer"]
        return "\n".join([*sections, *(transcript or ["(nothing yet)"])]) + "\n"

    def save(self, path: str | PathLike[str] | None = None, *, overwrite: bool = False) -> Path:
        """Write the log (see :meth:`log_text`) to a text file; returns its path.

        A file there that this Lab did not write is replaced only with ``overwrite=True`` (the button asks).
        """
        target = Path(path if path is not None else self.path.value).expanduser()
        target = write_text(target, self.log_text(), overwrite=overwrite, what="log")
        where = html.escape(str(target.resolve()))
        self.status.value = f"<span style='color:#080'>Saved to <code>{where}</code></span>"
        return target

    def _save_clicked(self) -> None:
        save_clicked(
            self.question,
            self.path.value,
            lambda overwrite: self.save(overwrite=overwrite),
            lambda text: setattr(self.status, "value", f"<span style='color:#a00'>{text}</span>"),
        )

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
