"""The Ardour bridge: an Ardour session joins a Codette server as a DAW (``codette-lab bridge ardour``).

Ardour's side: its OSC control surface (port 3819, with feedback) and the Lua
hook :func:`lua_hook_path` (``codette_tracks.lua``), which tells the bridge where
each track's audio files are. See :class:`ArdourBridge`.
"""

from importlib.resources import files
from pathlib import Path

from .bridge import DEFAULT_LEVELS_INTERVAL, DEFAULT_SERVER_URL, Answer, ArdourBridge
from .session import ArdourSession, ArdourTrack
from .surface import DEFAULT_ARDOUR_PORT, DEFAULT_LISTEN_PORT


def lua_hook_path() -> Path:
    """The Lua hook to install in Ardour (Edit > Lua Scripts > Script Manager > Action Hooks)."""
    return Path(str(files(__package__) / "codette_tracks.lua"))


__all__ = [
    "DEFAULT_ARDOUR_PORT",
    "DEFAULT_LEVELS_INTERVAL",
    "DEFAULT_LISTEN_PORT",
    "DEFAULT_SERVER_URL",
    "Answer",
    "ArdourBridge",
    "ArdourSession",
    "ArdourTrack",
    "lua_hook_path",
]
