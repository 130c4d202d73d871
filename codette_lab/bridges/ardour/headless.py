"""A headless Ardour playing a session: for trying the bridge, the lesson and the tests with no Ardour open.

:class:`HeadlessArdour` runs ``ardour7-lua`` with ``play_session.lua`` (the
"None (Dummy)" backend with silent inputs, ``HOME`` in a temporary folder so the
user's Ardour settings are left alone, the transport looping over the session,
the Lua hook ``codette_tracks.lua`` called every second as Ardour's editor would,
its reports sent to ``hook_port``). Its OSC surface answers on port 3819 like a
desktop Ardour's. What it prints is debug text, kept only for :meth:`output`.
:func:`play_demo` builds the demo session once (in a cache folder) and plays it,
handing back the one already playing when called again (a re-run cell).
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import tempfile
import time
from importlib.resources import files
from pathlib import Path

from ...errors import BridgeError
from .defaults import DEFAULT_ARDOUR_PORT
from .demo_session import ARDOUR_LUA, make_session
from .surface import encode

#: The longest a headless Ardour plays (s), so one left behind by a crashed kernel stops on its own.
MAX_RUN_S = 900

#: What the player prints once the session is loaded and rolling.
READY_LINE = "CODETTE-READY"

#: How long a started Ardour may take to load the session and answer on its OSC port (s) before it is
#: started again: now and then (about one start in five on a loaded machine) Ardour 7.3's OSC surface
#: never answers, while the rest of Ardour plays on.
ANSWER_WITHIN_S = 20.0

DEMO_NAME = "Low Tide"


class HeadlessArdour:
    """One ``ardour7-lua`` process playing the session in ``folder`` (its ``name``.ardour) while it runs."""

    def __init__(self, folder: str | os.PathLike[str], hook_port: int, *, name: str = DEMO_NAME) -> None:
        self.folder = Path(folder)
        self.name = name
        self.hook_port = hook_port
        self._home = tempfile.TemporaryDirectory(prefix="codette-ardour-home-")
        self._log = Path(self._home.name) / "ardour.log"
        self.process: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> HeadlessArdour:
        """Start Ardour (at once: it answers on its OSC port a second or two later)."""
        if self.running:
            return self
        env = {
            **os.environ,
            "HOME": self._home.name,
            "CODETTE_SESSION_DIR": str(self.folder),
            "CODETTE_SESSION_NAME": self.name,
            "CODETTE_LUA_HOOK": str(files(__package__) / "codette_tracks.lua"),
            "CODETTE_ARDOUR_PORT": str(self.hook_port),
            "CODETTE_ARDOUR_SECONDS": str(MAX_RUN_S),
        }
        script = str(files(__package__) / "play_session.lua")
        try:
            with self._log.open("ab") as log:
                self.process = subprocess.Popen([ARDOUR_LUA, script], env=env, stdout=log, stderr=log)
        except FileNotFoundError:
            raise BridgeError(f"{ARDOUR_LUA} is not installed (Debian: apt-get install ardour)") from None
        return self

    def start_answering(self, *, attempts: int = 3) -> HeadlessArdour:
        """Start Ardour and wait until its OSC surface answers; starts it again when the surface stays mute."""
        for _ in range(attempts):
            self.start()
            if self._answers_within(ANSWER_WITHIN_S):
                return self
            self.stop()
        raise BridgeError(f"headless Ardour's OSC surface did not answer in {attempts} starts:\n{self.output()}")

    def _answers_within(self, timeout: float) -> bool:
        """True once the session is loaded and the OSC surface answers ``/transport_frame``."""
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            probe.settimeout(0.25)
            while time.monotonic() < deadline and self.running:
                if READY_LINE not in self.output():
                    time.sleep(0.1)
                    continue
                try:
                    probe.sendto(encode("/transport_frame"), ("127.0.0.1", DEFAULT_ARDOUR_PORT))
                    if probe.recv(65536).startswith(b"/transport_frame"):
                        return True
                except OSError:  # not listening yet (ICMP unreachable), or no answer within the timeout
                    continue
        return False

    def stop(self) -> None:
        """Quit Ardour (SIGTERM, then SIGKILL if it hangs) and wait for it. Safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)

    def output(self) -> str:
        """The end of what Ardour printed (for error messages)."""
        return self._log.read_text(errors="replace")[-4000:] if self._log.exists() else ""

    def close(self) -> None:
        self.stop()
        self._home.cleanup()

    def __enter__(self) -> HeadlessArdour:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_playing: HeadlessArdour | None = None


def demo_session_folder() -> Path:
    """The demo session as an Ardour session, built on first use in the user's cache folder."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "codette_lab" / "ardour"
    folder = cache / "low_tide"
    if not (folder / f"{DEMO_NAME}.ardour").exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as scratch:  # built aside, then moved: never half a session
            built = Path(scratch) / "low_tide"
            make_session(built, DEMO_NAME)
            built.rename(folder)
    return folder


def play_demo(hook_port: int) -> HeadlessArdour:
    """A headless Ardour playing the demo session, its hook reporting to ``hook_port``; the one already
    playing when there is one (for the same port)."""
    global _playing
    if _playing is not None and _playing.running and _playing.hook_port == hook_port:
        return _playing
    if _playing is not None:
        _playing.close()
    _playing = HeadlessArdour(demo_session_folder(), hook_port).start_answering()
    return _playing
