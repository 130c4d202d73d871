"""Real, headless Ardour for the tests: a session with the demo stems, played by ``ardour7-lua``.

:func:`build_session` builds it as ``scripts/make_ardour_session.py`` does; the package's
:class:`HeadlessArdour` plays it (Dummy backend, ``HOME`` in a temporary folder). Ardour's
OSC surface is the only way the tests learn anything from Ardour: what it prints on
stdout is debug text, kept only to show when it fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from codette_lab.bridges.ardour.demo_session import make_session
from codette_lab.bridges.ardour.headless import DEMO_NAME, HeadlessArdour

__all__ = ["HeadlessArdour", "build_session", "need_ardour"]

REPO_ROOT = Path(__file__).resolve().parents[1]
ARDOUR_LUA = shutil.which(os.environ.get("ARDOUR_LUA", "ardour7-lua"))


def need_ardour() -> str:
    """The path of ``ardour7-lua``, or skip saying how to get it."""
    if ARDOUR_LUA is None:
        pytest.skip("ardour7-lua is missing: run scripts/install-test-deps.sh (Debian package 'ardour')")
    return ARDOUR_LUA


def build_session(folder: Path) -> Path:
    """The demo session built as an Ardour session in ``folder/<name>``; its folder."""
    target = folder / "low_tide"
    make_session(target, DEMO_NAME)
    return target
