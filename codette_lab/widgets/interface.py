"""What the panels need from a Lab, declared once: :class:`LabLike`.

The panels are views over a :class:`~codette_lab.lab.Lab`, but they depend
only on this protocol (the Lab's public face), never on its engine or server
internals, so the Lab can change how it is built without the panels noticing,
and a test or another host can drive them with anything that has these members.
What the Lab hands the panels (a DAW's recent audio, the connected clients and
students) is declared here too, so that ``widgets`` imports nothing of ``lab``:
the Lab imports the panels, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from ..analysis_types import AnalysisResult
    from ..audio_input import AudioRoots
    from ..protocol import AnalyzeRequest
    from ..rules import RuleSet
    from ..server import ConnectionInfo
    from ..server.events import EventLog


class ReceivedAudioLike(Protocol):
    """An analyze request a DAW sent with audio (the Lab's ``ReceivedAudio``)."""

    @property
    def request(self) -> AnalyzeRequest: ...

    @property
    def label(self) -> str: ...

    def audio(self, roots: AudioRoots) -> tuple[Any, int] | None: ...


class ClientLike(Protocol):
    """One connection as the panels name it (the Lab's ``Client``)."""

    @property
    def connection_id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def is_notebook(self) -> bool: ...

    @property
    def track(self) -> str | None: ...

    @property
    def last_context(self) -> Mapping[str, Any]: ...


class StudentLike(Protocol):
    """One Monitor row: a name and its connections (the Lab's ``Student``)."""

    @property
    def name(self) -> str: ...

    @property
    def connections(self) -> tuple[ClientLike, ...]: ...

    @property
    def connection_ids(self) -> frozenset[int]: ...

    @property
    def connected(self) -> bool: ...

    @property
    def tracks(self) -> list[str]: ...

    @property
    def selected_track(self) -> str | None: ...


class TranscriptEntryLike(Protocol):
    """One frame of the Lab's transcript (the Lab's ``transcript.Entry``)."""

    @property
    def connection_id(self) -> int: ...

    @property
    def direction(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def timestamp(self) -> datetime: ...


class TranscriptLike(Protocol):
    """The last requests and whole replies (the Lab's ``Transcript``)."""

    def entries(self) -> Sequence[TranscriptEntryLike]: ...


class ClientsLike(Protocol):
    """Who is connected, by name (the Lab's ``Clients``)."""

    def get(self, connection_id: int) -> ClientLike: ...

    def all(self) -> Sequence[ClientLike]: ...

    def students(self) -> Sequence[StudentLike]: ...

    def student(self, name: str) -> StudentLike: ...


class LabLike(Protocol):
    """The members of a Lab that the Chat, Monitor, Analysis and Rules panels use."""

    #: The server's events (the Monitor lists them; the Analysis panel follows DAW analyses).
    events: EventLog

    #: The open connections by name, with each DAW's last ``daw_context`` (Monitor names, Chat contexts).
    @property
    def clients(self) -> ClientsLike: ...

    @property
    def transcript(self) -> TranscriptLike:
        """The last requests and whole replies (the Monitor's *Save log* writes them)."""

    @property
    def url(self) -> str:
        """Where a DAW connects (the Chat panel connects there too)."""

    @property
    def join_url(self) -> str:
        """What students are given (the Monitor's header shows it)."""

    @property
    def running(self) -> bool: ...

    @property
    def rules(self) -> RuleSet:
        """The live rule set the Rules panel's sliders edit."""

    @property
    def audio_roots(self) -> AudioRoots:
        """The folders whose audio files the Analysis panel lists and may read."""

    @property
    def default_perspective(self) -> str | None: ...

    def connections(self) -> list[ConnectionInfo]: ...

    def perspectives(self) -> list[str]: ...

    def analysis_types(self) -> list[str]: ...

    def resolve_analysis_type(self, name: str) -> str:
        """The registered name of an analysis type given by name or alias."""

    def recent_audio(self) -> Sequence[ReceivedAudioLike]:
        """The last analyze requests DAWs sent with audio, newest first."""

    def analyze(
        self,
        y: Any,
        sr: float,
        *,
        kind: str = ...,
        track_type: str = ...,
        track_name: str | None = ...,
        **options: Any,
    ) -> AnalysisResult: ...

    def figure_function(self, analysis_type: str) -> Callable[..., Any] | None:
        """The figure a notebook analysis type was defined with (None: the tab draws its own)."""

    def time_limit(self, analysis_type: str) -> float | None:
        """Seconds a DAW's request of this analysis type may take (None: no limit, a built-in)."""

    def add_definition_listener(self, callback: Callable[[str, str], None]) -> None:
        """Call ``callback(kind, name)`` after a perspective or analysis type is defined or removed."""

    def remove_definition_listener(self, callback: Callable[[str, str], None]) -> None: ...

    def when_started(self, callback: Callable[[Any], None]) -> None:
        """Call the bound method ``callback(lab)`` whenever a Lab of this kernel starts (this one again, or
        the next one after a stop), so the panels follow it."""
