"""Real, headless Ardour for the tests: a session with the demo stems, played by ``ardour7-lua``.

:func:`build_session` runs ``scripts/make_ardour_session.py``; :class:`HeadlessArdour`
plays that session with ``tests/ardour/play_session.lua`` (the "None (Dummy)"
backend, ``HOME`` in a temporary folder, the transport looping, the project's Lua
hook called every second, its reports sent to the bridge's port). Ardour's OSC
surface is the only way the tests learn anything from Ardour: what it prints on
stdout is debug text, kept only to show when it fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from codette_lab.bridges.ardour import lua_hook_path

REPO_ROOT = Path(__file__).resolve().parents[1]
ARDOUR_LUA = shutil.which(os.environ.get("ARDOUR_LUA", "ardour7-lua"))
PLAY_SCRIPT = REPO_ROOT / "tests" / "ardour" / "play_session.lua"
SESSION_NAME = "Low Tide"

#: The longest a headless Ardour runs (s), so a test process that dies cannot leave it playing for ever.
MAX_RUN_S = 900


def need_ardour() -> str:
    """The path of ``ardour7-lua``, or skip saying how to get it."""
    if ARDOUR_LUA is None:
        pytest.skip("ardour7-lua is missing: run scripts/install-test-deps.sh (Debian package 'ardour')")
    return ARDOUR_LUA


def build_session(folder: Path) -> Path:
    """The demo session built as an Ardour session in ``folder/<name>``; its folder."""
    spec = importlib.util.spec_from_file_location("make_ardour_session", REPO_ROOT / "scripts/make_ardour_session.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    target = folder / "low_tide"
    module.make_session(target, SESSION_NAME)
    return target


class HeadlessArdour:
    """One ``ardour7-lua`` process playing ``session`` while it runs; reports go to ``hook_port``."""

    def __init__(self, session: Path, hook_port: int) -> None:
        self.session = session
        self.hook_port = hook_port
        self._home = tempfile.TemporaryDirectory(prefix="codette-ardour-home-")
        self._log = Path(self._home.name) / "ardour.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> HeadlessArdour:
        env = {
            **os.environ,
            "HOME": self._home.name,
            "CODETTE_SESSION_DIR": str(self.session),
            "CODETTE_SESSION_NAME": SESSION_NAME,
            "CODETTE_LUA_HOOK": str(lua_hook_path()),
            "CODETTE_ARDOUR_PORT": str(self.hook_port),
            "CODETTE_ARDOUR_SECONDS": str(MAX_RUN_S),
        }
        with self._log.open("ab") as log:
            self.process = subprocess.Popen([need_ardour(), str(PLAY_SCRIPT)], env=env, stdout=log, stderr=log)
        return self

    def stop(self) -> None:
        """Quit Ardour (SIGTERM, then SIGKILL if it hangs) and wait for it."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)

    def output(self) -> str:
        """What Ardour printed (for failure messages)."""
        return self._log.read_text(errors="replace")[-4000:] if self._log.exists() else ""

    def close(self) -> None:
        self.stop()
        self._home.cleanup()

    def __enter__(self) -> HeadlessArdour:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
