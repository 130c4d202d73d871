"""``codette-lab bridge ardour`` as a user runs it: its own process, a headless Ardour, a Lab's server.

It says where it listens, joins as ``Ardour: <session>``, prints its status as
Ardour's side changes, follows Ardour to another session (it rejoins under the
new name), and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from codette_lab import Lab
from codette_lab.bridges.ardour.demo_session import make_session
from codette_lab.bridges.ardour.headless import HeadlessArdour
from tests.ardour_support import build_session, need_ardour

START_S = 90.0


def wait_for(condition, timeout: float, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"not within {timeout:g} s: {what() if callable(what) else what}")


class Command:
    """The bridge command in a process of its own; its output lines collected as they come."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "codette_lab", "bridge", "ardour", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    need_ardour()
    folder = tmp_path_factory.mktemp("ardour")
    second = folder / "second_take"
    make_session(second, "Second Take")
    return build_session(folder), second


@pytest.fixture
def lab() -> Iterator[Lab]:
    lab = Lab(port=0, warm_up=False).start()
    yield lab
    lab.stop()


def _ardour_clients(lab: Lab) -> list[str]:
    return [client.name for client in lab.clients.all() if client.name.startswith("Ardour")]


def test_the_command_joins_follows_another_session_and_stops_cleanly(lab, sessions):
    first, second = sessions
    command = Command("--url", lab.url, "--listen-port", "0", "--levels-every", "0.1")
    try:
        listening = wait_for(lambda: command.lines[:1], 60, command.output)[0]
        assert listening.startswith("Listening for Ardour on UDP 127.0.0.1:")
        port = int(listening.split("127.0.0.1:", 1)[1].split()[0].rstrip(";"))
        assert f"CODETTE_ARDOUR_PORT={port}" in listening  # not the default port: the user is told what to set
        wait_for(lambda: any(line.startswith("waiting for Ardour's OSC surface") for line in command.lines), 60, "")
        with HeadlessArdour(first, port).start_answering():
            wait_for(lambda: _ardour_clients(lab) == ["Ardour: Low Tide"], START_S, command.output)
            wait_for(
                lambda: any("Ardour 'Low Tide': 4 tracks, playing | connected to" in line for line in command.lines),
                START_S,
                command.output,
            )
            wait_for(lambda: sum(c.messages for c in lab.connections()) > 8, START_S, "levels-only analyses")
        with HeadlessArdour(second, port, name="Second Take").start_answering():
            wait_for(lambda: _ardour_clients(lab) == ["Ardour: Second Take"], START_S, command.output)
            wait_for(lambda: any("Ardour 'Second Take'" in line for line in command.lines), START_S, command.output)
    finally:
        code = command.stop()
    assert code == 0, command.output()
