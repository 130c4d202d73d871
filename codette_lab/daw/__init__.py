"""A DAW simulator: clients that connect to the Codette server and speak its protocol like a DAW.

For notebooks, lessons and tests there is rarely a real DAW at hand.
:class:`SimulatedDAW` (in :mod:`.client`) chats about and analyzes the tracks
of a :class:`Session` (:mod:`.session`, by default the demo session shipped
with the package), sending audio as :mod:`.payloads` builds it;
:func:`simulate_class` (:mod:`.classroom`) runs several student DAWs at once.
Its errors, :class:`~codette_lab.errors.DAWError` and
:class:`~codette_lab.errors.DAWConnectionError`, live in :mod:`codette_lab.errors`.
"""

from .classroom import CLASS_ANALYSES, CLASS_QUESTIONS, StudentResult, simulate_class
from .client import DEFAULT_URL, SimulatedDAW, TranscriptEntry
from .payloads import AUDIO_PAYLOADS
from .session import SILENCE_FLOOR_DBFS, Session, Track, audio_levels, read_audio

__all__ = [
    "AUDIO_PAYLOADS",
    "CLASS_ANALYSES",
    "CLASS_QUESTIONS",
    "DEFAULT_URL",
    "SILENCE_FLOOR_DBFS",
    "Session",
    "SimulatedDAW",
    "StudentResult",
    "Track",
    "TranscriptEntry",
    "audio_levels",
    "read_audio",
    "simulate_class",
]
