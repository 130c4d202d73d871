"""Sessions recorded as JSON Lines, and replayed with other rules to see what a rule change moves.

- :class:`Recorder` writes every frame and reply of a server (``codette-lab
  serve --record DIR``, ``lab.record(DIR)``), flushed per line, in parts of
  bounded size; audio samples are kept as a hash unless asked otherwise.
- :func:`read_recording` reads one back as :class:`RecordedExchange` objects
  (request, reply, connection, rules identity).
- :func:`replay` answers the recorded requests again with other rules
  (through an :class:`~codette_lab.engine.Engine`, no server) and returns a
  :class:`ReplayReport`: per request, the findings and suggestions that
  appeared or disappeared and how the score moved.
"""

from .reading import RecordedExchange, RecordingSource, read_recording, recording_files
from .recorder import Recorder
from .replay import replay
from .report import Outcome, ReplayReport

__all__ = [
    "Outcome",
    "RecordedExchange",
    "Recorder",
    "RecordingSource",
    "ReplayReport",
    "read_recording",
    "recording_files",
    "replay",
]
