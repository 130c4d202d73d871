"""Who is connected, by name: what the Monitor calls each connection and the Chat tab offers as context.

A :class:`Clients` listens to the server's events (a ``connect`` event
carries the name a client gave in its URL, ``?name=...`` or ``?client=...``)
and is a request hook on the engine (a chat's ``daw_context`` says which
project and track the DAW has open). It keeps, per open connection, a
display name and the last ``daw_context`` that DAW sent, so a teacher reads
"Studio A" instead of "#3" (one row per name, :meth:`Clients.students`: a
reconnect is the same student), and the Chat tab can ask a question
in the context a student's DAW last had. The Lab panel's own Chat connection
names itself :data:`~codette_lab.server.events.NOTEBOOK_CLIENT` and is not a DAW.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..engine import Job
from ..protocol import ChatRequest
from ..server import ServerEvent
from ..server.connections import session_name
from ..server.events import NOTEBOOK_CLIENT, shorten

#: The ``daw_context`` keys that may name a DAW's project, in order of preference.
PROJECT_KEYS = ("project_name", "project", "session_name", "session")

#: How long a connection's display name may be (characters).
NAME_CHARS = 48

#: How many closed connections keep their names (so older log lines still read "Studio A", not "#3").
PAST_CLIENTS = 500


@dataclass(frozen=True)
class Client:
    """One connection as the panels name it."""

    connection_id: int
    given_name: str | None = None
    project: str | None = None
    track: str | None = None
    last_context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_notebook(self) -> bool:
        """True for the Lab panel's own Chat connection (this notebook, not a DAW)."""
        return self.given_name == NOTEBOOK_CLIENT

    @property
    def name(self) -> str:
        """The student: ``Studio A``, ``Low Tide`` (its project), or ``DAW #3`` when it said nothing about itself.

        A student is their name: a reconnect under the same name is the same student, and the track they
        have selected is shown beside the name (:attr:`track`), never as part of it."""
        if self.is_notebook:
            return "this notebook (Chat tab)"
        return shorten(self.given_name or self.project or f"DAW #{self.connection_id}", NAME_CHARS)

    @property
    def tracks(self) -> list[str]:
        """The track names in the DAW's last ``daw_context`` (its session's tracks), in its order."""
        listed = self.last_context.get("tracks")
        if not isinstance(listed, list):
            return []
        names = (track.get("track_name") or track.get("name") for track in listed if isinstance(track, Mapping))
        return [name for name in names if isinstance(name, str) and name]


@dataclass(frozen=True)
class Student:
    """One row of the Monitor: a name and the connections that came under it (a reconnect is the same student)."""

    name: str
    #: The open connections, oldest first (usually one; more when the same name is open twice).
    connections: tuple[Client, ...]
    #: Every connection id seen under this name, open or closed (the log filter shows all of them).
    connection_ids: frozenset[int]
    #: The latest of its connections (open or closed) that sent a ``daw_context``: what it has loaded.
    context: Client | None = None

    @property
    def connected(self) -> bool:
        return bool(self.connections)

    @property
    def latest(self) -> Client | None:
        return self.connections[-1] if self.connections else None

    @property
    def tracks(self) -> list[str]:
        return self.context.tracks if self.context is not None else []

    @property
    def selected_track(self) -> str | None:
        return self.context.track if self.context is not None else None


def _context_names(context: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(project, selected track) named in a ``daw_context``, when it names them."""
    project = next((str(context[key]) for key in PROJECT_KEYS if isinstance(context.get(key), str)), None)
    selected = context.get("selected_track")
    track = None
    if isinstance(selected, Mapping):
        named = selected.get("track_name") or selected.get("name")
        track = str(named) if isinstance(named, str) and named else None
    return project, track


def _natural(name: str) -> list[Any]:
    """A sort key that orders the numbers in names by value."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", name)]


class Clients:
    """The open connections by id, named (see the module's docstring). Thread-safe."""

    def __init__(self) -> None:
        self._clients: dict[int, Client] = {}
        self._past: dict[int, Client] = {}
        self._sessions: dict[str, int] = {}
        self._lock = threading.Lock()

    def on_event(self, event: ServerEvent) -> None:
        """A server listener: learn a connection's given name when it connects, forget it when it leaves."""
        if event.connection_id is None:
            return
        with self._lock:
            if event.kind == "connect":
                self._clients[event.connection_id] = Client(event.connection_id, given_name=event.summary or None)
                self._sessions[session_name(event.connection_id)] = event.connection_id
            elif event.kind == "disconnect":
                gone = self._clients.pop(event.connection_id, None)
                self._sessions.pop(session_name(event.connection_id), None)
                if gone is not None:
                    self._past[gone.connection_id] = gone
                    while len(self._past) > PAST_CLIENTS:
                        del self._past[next(iter(self._past))]

    def __call__(self, job: Job, session: str) -> None:
        """A request hook: a chat's ``daw_context`` names the DAW's project and selected track."""
        request = job.request
        if not isinstance(request, ChatRequest) or not request.daw_context:
            return
        project, track = _context_names(request.daw_context)
        with self._lock:
            connection_id = self._sessions.get(session)
            client = self._clients.get(connection_id) if connection_id is not None else None
            if client is not None:
                self._clients[client.connection_id] = replace(
                    client,
                    project=project or client.project,
                    track=track or client.track,
                    last_context=request.daw_context,
                )

    def get(self, connection_id: int) -> Client:
        """The connection's record, open or recently closed (a bare ``DAW #id`` for one not seen connecting)."""
        with self._lock:
            return self._clients.get(connection_id) or self._past.get(connection_id) or Client(connection_id)

    def all(self) -> list[Client]:
        """Every open connection's record, oldest first."""
        with self._lock:
            return [self._clients[key] for key in sorted(self._clients)]

    def students(self) -> list[Student]:
        """The DAWs connected now, one per name (the notebook's own Chat connection left out), by name
        (``student_2`` before ``student_10``)."""
        with self._lock:
            open_ = [self._clients[key] for key in sorted(self._clients) if not self._clients[key].is_notebook]
            seen = [*self._past.values(), *open_]
        rows: dict[str, list[Client]] = {}
        for client in open_:
            rows.setdefault(client.name, []).append(client)
        students = []
        for name, clients in sorted(rows.items(), key=lambda row: _natural(row[0])):
            same = sorted((c for c in seen if c.name == name), key=lambda c: c.connection_id)
            context = next((c for c in reversed(same) if c.last_context), None)
            students.append(Student(name, tuple(clients), frozenset(c.connection_id for c in same), context))
        return students

    def student(self, name: str) -> Student:
        """The student of that name, connected or not (a student who left has no open connections)."""
        found = next((student for student in self.students() if student.name == name), None)
        if found is not None:
            return found
        with self._lock:
            ids = frozenset(c.connection_id for c in self._past.values() if c.name == name)
        return Student(name, (), ids)
