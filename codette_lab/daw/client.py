"""The simulated DAW: a synchronous WebSocket client that speaks the Codette protocol like a DAW.

It opens ``ws://.../ws``, reads the welcome and sends the protocol's requests
(``ping``, ``status``, ``chat``, ``analyze``) about the tracks of a
:class:`~codette_lab.daw.session.Session`, returning each reply as a dict. It
is built on ``websockets.sync.client``, so a notebook cell calls it while the
server runs on its own thread: no asyncio in the caller's thread.

Replies are returned as they come: an ``error`` reply is a dict of type
``"error"``, not an exception, so a lesson can show what the server says about
bad input (:meth:`SimulatedDAW.send_raw`). Only a connection that cannot be
opened, is lost or stays silent raises :class:`DAWConnectionError` (naming
the URL).

Keepalive follows the protocol document's best practice (a ping every 30 s,
a pong expected within 5 s); the sync client sends and answers WebSocket ping
frames on its own background thread, so an idle simulator in a notebook stays
connected between cells.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.frames import CloseCode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect

from ..errors import DAWConnectionError, DAWError
from ..protocol.timestamps import utc_timestamp
from ..server import DEFAULT_HOST, DEFAULT_PORT, websocket_url
from ..server.address import daw_url
from .payloads import audio_payload
from .session import Message, Session, Track

#: Where the simulator connects when given no URL: the server's defaults.
DEFAULT_URL = websocket_url(DEFAULT_HOST, DEFAULT_PORT)

#: How long the simulator waits for the handshake and for each reply (seconds).
DEFAULT_REPLY_TIMEOUT = 10.0

#: Keepalive as the protocol document recommends: ping every 30 s, expect the pong within 5 s.
PING_INTERVAL_S = 30.0
PING_TIMEOUT_S = 5.0

#: Largest reply accepted (replies are small; this only guards against a runaway server).
MAX_REPLY_BYTES = 16 * 2**20

#: How long a simulator keeps trying to come back after a server restart (seconds).
REJOIN_SECONDS = 30.0

#: How many sent/received messages :attr:`SimulatedDAW.transcript` keeps (oldest dropped first).
TRANSCRIPT_LIMIT = 1000

#: The simulator keeps its connection across cells, so it opens it directly, not in a ``with`` block;
#: websockets 17 wants that said with ``legacy=True`` (older versions have no such flag).
_DIRECT_CONNECTION: dict[str, Any] = {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}


@dataclass(frozen=True)
class TranscriptEntry:
    """One message the simulator sent or received: its JSON value (a dict for protocol messages), or
    the raw text of a frame that was not JSON."""

    direction: str  # "sent" or "received"
    message: Any
    timestamp: str


class SimulatedDAW:
    """A DAW connected to the Codette server: chat about the session's tracks, analyze them.

    ``session`` is a :class:`Session`, a path to a session file, or None for
    the demo session; ``timeout`` bounds the connection handshake and each
    wait for a reply (seconds). Use as a context manager, or call
    :meth:`connect` and :meth:`close`. Calls are serialised by a lock, so
    a widget callback and a cell never interleave their requests.

    If the server closed the connection, the next request reconnects first,
    up to ``reconnect_attempts`` times with a doubling delay, as the
    document's client does; a request is never sent twice. A server that
    restarts (close code 1012, "service restart": a Lab whose start cell ran
    again with another host or port) is rejoined at once, on a thread of the
    simulator's own, as a DAW would: the student is back in the Monitor
    without asking anything.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        session: Session | str | PathLike[str] | None = None,
        name: str = "DAW",
        timeout: float = DEFAULT_REPLY_TIMEOUT,
        reconnect_attempts: int = 5,
    ) -> None:
        self.url = daw_url(url)  # a join page's URL works too
        self.name = name
        self.timeout = timeout
        self.reconnect_attempts = reconnect_attempts
        self.session = Session.coerce(session)
        self.selected: Track | None = self.session.selected
        self.welcome: Message | None = None
        self._connection: ClientConnection | None = None
        self._rejoining: threading.Thread | None = None  # the rejoin thread while it runs (under _rejoin_lock)
        self._rejoin_until = 0.0  # when it gives up: REJOIN_SECONDS after the last reconnect_soon
        self._rejoin_lock = threading.Lock()
        self._closed_by_us = False
        self._transcript: deque[TranscriptEntry] = deque(maxlen=TRANSCRIPT_LIMIT)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        return f"<SimulatedDAW {self.name!r} {self.url} {state}, session {self.session.title!r}>"

    def __enter__(self) -> SimulatedDAW:
        if not self.connected:
            self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- connection lifecycle ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the WebSocket is open (the server may still close it at any moment)."""
        connection = self._connection
        return connection is not None and connection.state is State.OPEN

    @property
    def transcript(self) -> list[TranscriptEntry]:
        """Every message sent and received, oldest first (the last TRANSCRIPT_LIMIT of them)."""
        return list(self._transcript)

    def connect(self) -> Message:
        """Open the connection and read the welcome (kept as :attr:`welcome`, and returned)."""
        with self._lock:
            self._drop_connection()
            try:
                connection = connect(
                    named_url(self.url, self.name),
                    open_timeout=self.timeout,
                    close_timeout=self.timeout,
                    ping_interval=PING_INTERVAL_S,
                    ping_timeout=PING_TIMEOUT_S,
                    compression=None,  # audio frames are large and local: deflate would only cost time
                    max_size=MAX_REPLY_BYTES,
                    proxy=None,
                    **_DIRECT_CONNECTION,
                )
            # ConnectionClosed: a server going down resets the socket while the handshake is being sent
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ConnectionClosed) as exc:
                raise DAWConnectionError(f"{self.name}: cannot connect to {self.url}: {_describe(exc)}") from None
            self._connection = connection
            self._closed_by_us = False
            threading.Thread(
                target=self._watch, args=(connection,), name=f"codette-daw-watch-{self.name}", daemon=True
            ).start()
            welcome = self._receive(after="the connection")
            if not isinstance(welcome, dict) or welcome.get("type") != "connection":
                self._drop_connection()
                raise DAWConnectionError(
                    f"{self.name}: {self.url} did not greet with a 'connection' message, it sent {welcome!r}"
                )
            self.welcome = welcome
            return welcome

    def close(self) -> None:
        """Close the connection (normal closure, 1000); a restart is no longer followed. Safe to call twice."""
        self._closed_by_us = True
        with self._lock:
            self._drop_connection()

    def reconnect_soon(self) -> None:
        """Reconnect on a thread of its own (to :attr:`url`, read at each try) unless connected already; a rejoin
        under way keeps trying REJOIN_SECONDS from now (a second restart while it runs is followed too)."""
        if self._closed_by_us:
            return
        with self._rejoin_lock:
            self._rejoin_until = time.monotonic() + REJOIN_SECONDS
            if self._rejoining is not None or self.connected:
                return  # the running rejoin looks at the connection again before it ends
            self._rejoining = threading.Thread(target=self._rejoin, name=f"codette-daw-rejoin-{self.name}", daemon=True)
            self._rejoining.start()

    def _watch(self, connection: ClientConnection) -> None:
        """Wait for ``connection`` to end; after a server restart (1012), come back (see the class docstring)."""
        connection.recv_events_thread.join()
        received = connection.protocol.close_rcvd
        if received is not None and received.code == CloseCode.SERVICE_RESTART and not self._closed_by_us:
            self.reconnect_soon()

    def _rejoin(self) -> None:
        """Try to connect with a doubling delay until connected, closed by us or past the deadline (give up quietly
        then). Whether to end is decided under the lock :meth:`reconnect_soon` takes, after looking at the
        connection once more: a restart that closes the connection just made is never missed."""
        delay = 0.1
        try:
            while True:
                with self._rejoin_lock:
                    if self._closed_by_us or self.connected or time.monotonic() >= self._rejoin_until:
                        self._rejoining = None
                        return
                try:
                    with self._lock:
                        if not self.connected and not self._closed_by_us:
                            self.connect()
                    continue  # connected: the next look ends the thread, unless the server closed it meanwhile
                except DAWConnectionError:
                    pass
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        finally:  # an unexpected error ends the thread too: the next reconnect_soon starts another
            with self._rejoin_lock:
                if self._rejoining is threading.current_thread():
                    self._rejoining = None

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    # -- the protocol's requests ------------------------------------------------------------------------

    def ping(self) -> Message:
        """``ping`` -> ``pong``."""
        return self.request({"type": "ping"})

    def status(self) -> Message:
        """``status`` -> ``status_response`` (connections, memory size, engine)."""
        return self.request({"type": "status"})

    def chat(
        self, message: str, *, perspective: str | None = None, daw_context: Mapping[str, Any] | None = None
    ) -> Message:
        """``chat`` -> ``chat_response``. Sends the session's context (tracks, selected track) unless given one."""
        request: Message = {"type": "chat", "message": message}
        if perspective is not None:
            request["perspective"] = perspective
        request["daw_context"] = dict(daw_context) if daw_context is not None else self.daw_context()
        return self.request(request)

    def select(self, track: str | Track) -> Track:
        """Select a track (by id, name or type), as clicking it in the DAW would; later chats mention it."""
        self.selected = self.session.track(track)
        return self.selected

    def daw_context(self) -> Message:
        """The ``daw_context`` this DAW sends with a chat: the session's tracks and the selected one."""
        return self.session.daw_context(self.selected)

    def analyze(
        self,
        track: str | Track | None = None,
        *,
        analysis_type: str = "spectrum",
        send: str = "levels",
        other: str | Track | None = None,
        seconds: float | None = None,
    ) -> Message:
        """``analyze`` -> ``analysis_response`` for a track (default: the selected one).

        ``send`` chooses what goes in ``audio_data``: ``"levels"`` (the
        document's peak/RMS/duration/sample rate, measured from the stem),
        ``"samples"`` (levels plus the audio as base64 float32, with
        ``channels``) or ``"path"`` (levels plus the stem's ``file_path``, for
        a server whose audio roots include it). ``other`` adds a second track
        as ``other_track`` (for ``masking``), sent the same way. ``seconds``
        sends only the first seconds of the audio.
        """
        payload = audio_payload(send, "analyze")
        chosen = self._target(track)
        request: Message = {
            "type": "analyze",
            "track_data": chosen.track_data(),
            "audio_data": payload(chosen, seconds),
            "analysis_type": analysis_type,
        }
        if other is not None:
            second = self.session.track(other)
            request["other_track"] = {"track_data": second.track_data(), "audio_data": payload(second, seconds)}
        return self.request(request)

    def send_raw(self, text: str) -> Message:
        """Send any text frame as is (bad JSON, unknown types, ...) and return the server's reply."""
        return self._exchange(text)

    def request(self, message: Mapping[str, Any]) -> Message:
        """Send one protocol message and return the server's reply to it."""
        return self._exchange(json.dumps(message))

    # -- plumbing ---------------------------------------------------------------------------------------

    def _target(self, track: str | Track | None) -> Track:
        if track is not None:
            return self.session.track(track)
        if self.selected is None:
            raise DAWError(f"{self.name}: analyze() needs a track: none given and none selected")
        return self.selected

    def _exchange(self, text: str) -> Message:
        """Send ``text`` (reconnecting first if the server had closed) and return the next reply."""
        sent = _parsed(text)
        kind = sent.get("type") if isinstance(sent, dict) else None
        with self._lock:
            self._send(text)
            self._record("sent", sent)
            return self._receive(after=f"a '{kind}' request" if isinstance(kind, str) else "a raw message")

    def _send(self, text: str) -> None:
        """Send one frame, (re)connecting first when the connection is gone, with a doubling delay."""
        failure: DAWConnectionError | None = None
        for attempt in range(self.reconnect_attempts + 1):
            try:
                if not self.connected:
                    if attempt:
                        time.sleep(min(0.1 * 2**attempt, 2.0))
                    self.connect()
                self._open_connection().send(text)
                return
            except ConnectionClosed:
                self._connection = None  # closed before this frame left: safe to send it again
            except DAWConnectionError as exc:
                failure = exc
        raise failure or DAWConnectionError(
            f"{self.name}: the connection to {self.url} keeps closing ({self.reconnect_attempts} reconnects tried)"
        )

    def _open_connection(self) -> ClientConnection:
        """The current connection, or DAWConnectionError when there is none."""
        if self._connection is None:
            raise DAWConnectionError(f"{self.name}: not connected to {self.url}")
        return self._connection

    def _receive(self, *, after: str) -> Message:
        connection = self._open_connection()
        try:
            text = connection.recv(timeout=self.timeout)
        except TimeoutError:
            self._drop_connection()  # a late reply would be taken for the next request's: start afresh
            raise DAWConnectionError(
                f"{self.name}: no reply from {self.url} within {self.timeout:g} s after {after}"
            ) from None
        except ConnectionClosed as exc:
            self._connection = None
            raise DAWConnectionError(
                f"{self.name}: {self.url} closed the connection while we waited for a reply to {after} "
                f"(code {exc.rcvd.code if exc.rcvd else 'none'})"
            ) from None
        reply = _parsed(text)
        self._record("received", reply)
        return reply

    def _record(self, direction: str, message: Any) -> None:
        self._transcript.append(TranscriptEntry(direction, message, utc_timestamp()))


def named_url(url: str, name: str) -> str:
    """``url`` with ``?name=<name>`` added, so the server's Monitor can name this DAW (kept if it names one)."""
    query = parse_qs(urlsplit(url).query)
    if "name" in query or "client" in query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'name': name})}"


def _parsed(text: str | bytes) -> Any:
    """A frame's JSON value, or the frame itself when it is not JSON (raw messages sent on purpose)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
