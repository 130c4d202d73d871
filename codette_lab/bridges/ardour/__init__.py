"""The Ardour bridge: an Ardour session joins a Codette server as a DAW (``codette-lab bridge ardour``).

Ardour's side: its OSC control surface (port 3819, with feedback) and the Lua
hook :func:`lua_hook_path` (``codette_tracks.lua``), which tells the bridge where
each track's audio files are. See :class:`ArdourBridge` (needs the ``ardour``
extra: python-osc); the package itself imports lightly, so the command line
starts fast.
"""

from __future__ import annotations

from importlib import import_module
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...extras import require
from .defaults import DEFAULT_ARDOUR_PORT, DEFAULT_LEVELS_INTERVAL, DEFAULT_LISTEN_PORT, DEFAULT_SERVER_URL

if TYPE_CHECKING:
    from .bridge import Answer, ArdourBridge
    from .session import ArdourSession, ArdourTrack

_LAZY = {"Answer": ".bridge", "ArdourBridge": ".bridge", "ArdourSession": ".session", "ArdourTrack": ".session"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        require("ardour", f"codette_lab.bridges.ardour.{name}")  # one line naming the extra when it is missing
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def lua_hook_path() -> Path:
    """The Lua hook to install in Ardour (Edit > Lua Scripts > Script Manager > Action Hooks)."""
    return Path(str(files(__name__) / "codette_tracks.lua"))


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
