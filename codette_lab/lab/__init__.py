"""The notebook side of codette_lab: a :class:`Lab` serves the engine from a kernel and reshapes it live.

:mod:`.facade` holds the Lab itself (one per kernel: re-running the start
cell hands it back, :mod:`.settings` says what a changed argument needs),
:mod:`.definitions` the notebook functions it puts into the engine's
registries, :mod:`.direct` the calls that ask the engine without a socket,
:mod:`.recent_audio` the memory of the audio DAWs just sent and
:mod:`.clients` the names of the connections (both request hooks on the
engine, for the panels) and :mod:`.warm_up` the one-time background load of
the analysis stack. The Lab's event log is the server's
:class:`~codette_lab.server.events.EventLog`.
"""

from ..extras import require

require("lab", "codette_lab.Lab")  # before the imports below: a core install reads one line naming the extra

from .facade import Lab  # noqa: E402
from .recent_audio import ReceivedAudio, RecentAudio  # noqa: E402

__all__ = ["Lab", "ReceivedAudio", "RecentAudio"]
