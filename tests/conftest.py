"""Fixtures shared by every test file.

- ``repo_root``: the repository's root folder.
- ``closed_port``: a loopback port bound (not listening) for the test's length: nobody can answer on it.
- ``wait_until(condition, within=, what=)``: poll for a state, with a deadline against a hang.
- ``ServeProcess(*arguments)``: ``codette-lab serve --port 0`` in a subprocess; ``wait_for_port()`` reads its port.
- ``engine``: a fresh :class:`codette_lab.engine.Engine`.
- ``server``: a BackgroundServer for ``engine`` on 127.0.0.1 (free port), stopped after the test.
- ``ws_client``: ``ws_client(url=None, *, origin=None)`` connects a :class:`WsClient` to ``url``
  (default: the ``server`` fixture), having read the welcome; every client is closed after the test.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from websockets.sync.client import ClientConnection, connect

REPO_ROOT = Path(__file__).resolve().parents[1]


class WsClient:
    """A blocking WebSocket client that speaks JSON: ``client.ask({"type": "ping"})["type"] == "pong"``."""

    def __init__(self, url: str, *, origin: str | None = None, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._exit = ExitStack()
        self.socket: ClientConnection = self._exit.enter_context(
            connect(url, origin=origin, open_timeout=timeout, max_size=None)
        )
        self.welcome = self.recv()

    def send(self, message: dict[str, Any] | str | bytes) -> None:
        """A dict is sent as JSON text; a str or bytes frame is sent as it is."""
        self.socket.send(json.dumps(message) if isinstance(message, dict) else message)

    def recv(self) -> dict[str, Any]:
        return json.loads(self.socket.recv(timeout=self.timeout))

    def ask(self, message: dict[str, Any] | str | bytes) -> dict[str, Any]:
        self.send(message)
        return self.recv()

    def close(self) -> None:
        self._exit.close()

    @property
    def close_code(self) -> int | None:
        return self.socket.close_code

    def __enter__(self) -> WsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


def wait_until(condition: Callable[[], object], *, within: float = 30.0, what: str = "the state") -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` if it is not within ``within`` seconds
    (a deadline against a hang, not a measure of speed)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what} was not reached within {within:g} s"
        time.sleep(0.01)


def free_tcp_port() -> int:
    """A loopback port nobody listens on right now, picked and released: another process may take it before
    it is used. Only for what must be told a port number in advance (the lessons' ``CODETTE_PORT``, a Lab
    moved to a port named on purpose); everything else binds port 0 and reads the port back."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port held by this test (bound, not listening) for its whole length: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


LISTENING = re.compile(r"listening on ws://[^:]+:(\d+)/ws")


class ServeProcess:
    """``codette-lab serve --port 0 ...`` as a subprocess: the port it bound is read back from its log.

    ``log()`` is everything it wrote to stderr so far (and, once it has exited, all of it).
    """

    def __init__(self, *arguments: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "codette_lab", "serve", "--port", "0", *arguments],
            cwd=cwd or REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.append(line)

    def log(self) -> str:
        if self.process.poll() is not None:
            self._reader.join(10)
        return "".join(self._lines)

    def wait_for_port(self, within: float = 60.0) -> int:
        """The port from the "listening on" line; fails with the log if the server exits first."""
        deadline = time.monotonic() + within
        while True:
            if found := LISTENING.search(self.log()):
                return int(found.group(1))
            assert self.process.poll() is None, f"the server exited with {self.process.returncode}: {self.log()}"
            assert time.monotonic() < deadline, f"the server did not listen within {within:g} s: {self.log()}"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def venv_kernel_manager(spec_dir: Path, *, display_name: str = "codette_lab tests") -> KernelManager:
    """A python3 kernel running this interpreter (so no other Python's ipykernel is used),
    with the repository importable. The kernel spec is written under ``spec_dir``."""
    kernel_dir = spec_dir / "kernels" / "python3"
    kernel_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
        "env": {"PYTHONPATH": str(REPO_ROOT)},
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(spec_dir / "kernels")])
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


@pytest.fixture
def engine():
    from codette_lab.engine import Engine

    return Engine()


@pytest.fixture
def server(engine):
    from codette_lab.server import BackgroundServer

    background = BackgroundServer(engine, host="127.0.0.1", port=0).start()
    yield background
    background.stop()


@pytest.fixture
def ws_client(request: pytest.FixtureRequest) -> Iterator[Callable[..., WsClient]]:
    clients: list[WsClient] = []

    def connect_client(url: str | None = None, *, origin: str | None = None) -> WsClient:
        client = WsClient(url or request.getfixturevalue("server").url, origin=origin)
        clients.append(client)
        return client

    yield connect_client
    for client in clients:
        client.close()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event slow notebook functions wait on; set at teardown so no worker thread is left waiting."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """One Dask cluster per corpus test module: two threaded workers in this process, on TCP so that a
    ``codette-lab corpus --scheduler`` run in a subprocess can use them too. It is closed with its module:
    Dask's threads draw on the global ``random``, which hypothesis, in later modules, takes for its own."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=":0"
        ) as cluster,
        Client(cluster) as connected,
    ):
        yield connected
