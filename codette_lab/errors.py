"""The exceptions codette_lab raises, all under one root: :class:`CodetteError`.

Every exception that can reach a client carries the exact text the server
puts in the ``message`` field of its ``error`` reply (``str(exc)``), so a
notebook user calling the engine directly reads the same words a DAW gets.
"""

from __future__ import annotations


class CodetteError(Exception):
    """Root of every error codette_lab raises on purpose."""


class ProtocolError(CodetteError):
    """A message that is not valid protocol: bad JSON, unknown type, a field of the wrong shape."""


class RequestError(CodetteError):
    """A well-formed request asking for something that cannot be done (unknown perspective, ...)."""


class AudioError(RequestError):
    """Audio in a request that cannot be used: undecodable, inconsistent, unreadable or not allowed."""


class AnalysisInputError(RequestError):
    """A value handed to the analysis functions (``analysis/``) that they cannot use: an unknown
    measurement kind, a count out of range. Raised by the analysis layer itself, which knows nothing
    of messages; it is a RequestError so a request that led to it gets the same error text back.
    """


class UserCodeError(RequestError):
    """A function defined in a notebook cell raised or returned something unusable (too slow: RequestTimeoutError).

    ``function`` names it (``perspective 'brighter' (function brighter_mix)``) and
    ``traceback`` holds the formatted traceback, when there is one, for the notebook.
    """

    def __init__(self, message: str, *, function: str, traceback: str = "") -> None:
        super().__init__(message)
        self.function = function
        self.traceback = traceback


class RequestTimeoutError(CodetteError):
    """A function defined in a notebook did not answer within the server's per-request time limit.

    ``stack`` shows where its worker thread was still running (threads cannot be stopped).
    """

    def __init__(self, message: str, *, stack: str = "") -> None:
        super().__init__(message)
        self.stack = stack


class RulesError(CodetteError):
    """A rule set or parameter value that does not fit its schema or range."""


class ServerError(CodetteError):
    """The server could not start or stop as asked."""


class PortInUseError(ServerError):
    """The port is held by another process (not by a server of this kernel).

    Its text says what to do, so IPython shows that text alone, without a traceback.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class DAWError(CodetteError):
    """The DAW simulator was asked for something it cannot do (unknown track, unknown send mode, ...)."""


class DAWConnectionError(DAWError):
    """The simulator could not reach the server at its URL, lost the connection, or got no reply in time."""


class BridgeError(CodetteError):
    """A bridge to a real DAW (Ardour) was asked for something it cannot do: a track it does not know,
    audio it was not told the place of, a setting out of range, or a server that went away mid-request."""


class KnowledgeError(CodetteError):
    """A knowledge-base document that does not have the expected shape; the text names the entry and field."""


class RecordingError(CodetteError):
    """A recording that cannot be written or read back (not JSON Lines, not a recording, no such file)."""


class UsageError(CodetteError):
    """A command-line argument that names something unusable (``codette-lab`` exits with status 2)."""


class PathEscapeError(AudioError):
    """A link (or a ``..`` inside one) leads out of the audio root being walked; another root may still answer."""


class MissingExtraError(CodetteError, ImportError):
    """A part of codette_lab whose libraries are not installed (the notebook side, the Dask side).

    Its text is one line naming what is missing and the ``pip install`` command that
    brings it; IPython shows that line alone. It is an ImportError too, so code that
    guards an optional import keeps working.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]
