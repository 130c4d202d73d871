"""Ardour's OSC control surface, seen from the bridge: one UDP socket, one thread.

The socket is bound on ``listen`` (default port :data:`DEFAULT_LISTEN_PORT`)
and sends to Ardour's surface (default ``127.0.0.1:3819``) from there, so
Ardour's replies and the Lua hook's reports (``codette_tracks.lua`` sends to
the same port) arrive on it. The handshake follows what Ardour 7 needs:
``/transport_frame`` until Ardour answers, ``/set_surface`` with feedback
that includes :data:`FEEDBACK_OSC_REPLY` (else replies come as ``#reply``,
which OSC libraries cannot parse), ``/strip/list`` until ``end_route_list``.
Ardour sends nothing while it is stopped, so the thread asks for the
transport position every :data:`HEARTBEAT_S`; silence for ``timeout``
seconds means Ardour is gone, and the handshake starts over when it answers
again (a restarted Ardour, a reloaded session).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from .defaults import DEFAULT_ARDOUR_PORT, DEFAULT_LISTEN_PORT
from .session import ArdourSession

#: ``/set_surface`` feedback bits: buttons (1), values (2), master (16), meters in dB (128), signal present
#: (1024) and replies as ``/reply`` (16384).
FEEDBACK_OSC_REPLY = 16384
FEEDBACK = 1 | 2 | 16 | 128 | 1024 | FEEDBACK_OSC_REPLY

#: Strip types for ``/set_surface``: audio tracks (1).
STRIP_TYPES = 1

#: How often the bridge asks Ardour for the transport position (s), which doubles as a heartbeat.
HEARTBEAT_S = 0.5

#: How often the strip list is asked for until it arrives whole (s).
LIST_RETRY_S = 0.5

Listener = Callable[[str, list[Any]], None]


def _messages(datagram: bytes) -> Iterator[OscMessage]:
    """The messages in one datagram (Ardour bundles some of its feedback)."""
    if OscBundle.dgram_is_bundle(datagram):
        for content in OscBundle(datagram):
            if isinstance(content, OscMessage):
                yield content
            else:
                yield from _messages(content.dgram)
    elif OscMessage.dgram_is_message(datagram):
        yield OscMessage(datagram)


def encode(address: str, *args: Any) -> bytes:
    """One OSC message as bytes."""
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class ArdourSurface:
    """The UDP link to Ardour's OSC surface, kept up on its own thread; state goes into ``session``."""

    def __init__(
        self,
        session: ArdourSession,
        *,
        ardour: tuple[str, int] = ("127.0.0.1", DEFAULT_ARDOUR_PORT),
        listen: tuple[str, int] = ("127.0.0.1", DEFAULT_LISTEN_PORT),
        timeout: float = 3.0,
    ) -> None:
        self.session = session
        self.ardour = ardour
        self.timeout = timeout
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(listen)
        self._socket.settimeout(0.05)
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False  # Ardour answers and its strips are listed
        self._heard_at = 0.0  # when Ardour last sent anything
        self._asked_at = 0.0
        self._listed_at = 0.0
        self.handshakes = 0
        self.undecodable = 0  # datagrams that could not be read (Ardour's ``#reply`` before the handshake, ...)
        self.last_problem: str | None = None

    @property
    def listen_port(self) -> int:
        """The UDP port the bridge listens on (the one the system chose for port 0)."""
        return int(self._socket.getsockname()[1])

    def add_listener(self, listener: Listener) -> None:
        """``listener(address, args)`` runs on the surface thread for every message (it must not block)."""
        self._listeners.append(listener)

    def send(self, address: str, *args: Any) -> None:
        """Send one OSC message to Ardour (``/transport_play``, ``/strip/gain 2 -3.0``, ...)."""
        with contextlib.suppress(OSError):  # Ardour's port is closed (not running): the heartbeat finds out
            self._socket.sendto(encode(address, *args), self.ardour)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="codette-ardour-osc", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._tick(time.monotonic())
            try:
                datagram = self._socket.recv(65536)
            except (TimeoutError, ConnectionRefusedError):
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            try:
                self._received(datagram)
            except Exception as exc:  # a datagram python-osc cannot parse, or a listener that raised:
                self.undecodable += 1  # the link to Ardour must outlive it
                self.last_problem = f"{type(exc).__name__}: {exc}"

    def _tick(self, now: float) -> None:
        """Heartbeat, loss of Ardour, and the steps of the handshake that are due."""
        if self.connected and now - self._heard_at > self.timeout:
            self.connected = False
            self.session.forget()
        if now - self._asked_at >= HEARTBEAT_S:
            self._asked_at = now
            self.send("/transport_frame")
        heard = self._heard_at and now - self._heard_at < self.timeout
        if not self.connected and heard and now - self._listed_at >= LIST_RETRY_S:
            self._listed_at = now
            self.send("/set_surface", 0, STRIP_TYPES, FEEDBACK, 0, 0, 0, 0)
            self.send("/strip/list")

    def _received(self, datagram: bytes) -> None:
        from_ardour = False
        for message in _messages(datagram):
            if not message.address.startswith("/codette/"):
                from_ardour = True
            changed = self.session.apply(message.address, list(message.params))
            if changed == "session":  # another session: list its strips again
                self.connected = False
            if changed == "tracks" and self.session.listed and not self.connected:
                self.connected = True
                self.handshakes += 1
            for listener in self._listeners:
                listener(message.address, list(message.params))
        if from_ardour:
            self._heard_at = time.monotonic()
