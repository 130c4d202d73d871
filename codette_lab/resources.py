"""Where the data the package needs at run time lives, in a source checkout and in an installed wheel alike.

Layer 1 (imports nothing of ours). Every file the package reads at run time
sits inside the package folder and ships as package data (see
``[tool.setuptools.package-data]`` in ``pyproject.toml``), so the same paths
work from ``git clone`` and from ``pip install codette-lab``. Callers ask here
instead of building paths from ``__file__`` themselves, so a move of the data
is a change to this one module.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def demo_folder() -> Path:
    """The demo session's folder ("Low Tide"): ``session.json`` and ``stems/*.flac``."""
    return _PACKAGE_DATA / "demo"


def demo_session_path() -> Path:
    """The demo session file the DAW simulator loads when given no other."""
    return demo_folder() / "session.json"


def default_audio_root() -> Path:
    """The folder ``analyze`` requests may read files from when no audio root is configured.

    It is the demo session's folder, so the demo stems are reachable both as
    ``stems/vocal.flac`` (relative) and by their absolute paths.
    """
    return demo_folder()


def page_folder() -> Path:
    """The join page's built files (``index.html`` and its assets), served by the server at ``/``."""
    return Path(__file__).resolve().parent / "page" / "static"
