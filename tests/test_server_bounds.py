"""Bounded and never stalled: pings at once, large frames off the loop, caps, unread replies, stop.

Real servers, real sockets. A "frozen" client completes the handshake, then
reads nothing: its socket's receive buffer is made small and its websockets
client stops reading after one queued message, so the server's writes back up
as they would for a DAW whose machine went to sleep.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import socket
import struct
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_until
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from codette_lab.engine import Engine
from codette_lab.server import BackgroundServer

RATE = 44100
LEVELS_ONLY = {
    "type": "analyze",
    "track_data": {"track_id": "t1", "track_name": "Bass", "track_type": "bass"},
    "audio_data": {"peak_level": -3.0, "rms_level": -15.0, "duration": 60.0, "sample_rate": 44100},
    "analysis_type": "dynamics",
}


def samples_frame(seconds: float, *, track_id: str = "clip", analysis_type: str = "loudness") -> str:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((int(seconds * RATE), 2)) * 0.1).astype("<f4")
    audio = {"samples": base64.b64encode(x.tobytes()).decode(), "sample_rate": RATE, "channels": 2}
    return json.dumps(
        {
            "type": "analyze",
            "analysis_type": analysis_type,
            "track_data": {"track_id": track_id, "track_type": "master"},
            "audio_data": audio,
        }
    )


@contextlib.contextmanager
def frozen_client(url: str) -> Iterator[ClientConnection]:
    """A connected client that reads nothing after the welcome (small receive buffer, one queued message)."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((host, int(port)))
    with connect(url, sock=raw, max_queue=1, open_timeout=10, close_timeout=0.1) as client:
        yield client


def backed_up(client: ClientConnection) -> bool:
    """True once the server has stopped reading ``client``: bytes it sent wait unread in its socket's send queue
    (on loopback a byte leaves the send queue as soon as the server's receive buffer has room for it)."""
    queued = fcntl.ioctl(client.socket.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
    return struct.unpack("i", queued)[0] > 0


def flood(client: ClientConnection, count: int) -> None:
    """Send ``count`` status requests without reading (stops quietly once the server drops the client)."""
    try:
        for _ in range(count):
            client.send('{"type": "status", "padding": "' + "x" * 2000 + '"}')
    except Exception:  # the server closed or aborted the connection: that is what is tested
        pass


def test_a_ping_is_answered_while_the_same_connections_analysis_runs(ws_client, release):
    engine = Engine()
    started = threading.Event()

    def held(request):  # runs until the test lets it finish
        started.set()
        release.wait(20)
        return {"insights": "held", "quality_score": 0.5}

    engine.analysis_types.register("held", held)
    with BackgroundServer(engine, port=0, request_timeout=30) as server:
        client = ws_client(server.url)
        client.send({**LEVELS_ONLY, "analysis_type": "held"})
        client.send({"type": "status"})
        assert started.wait(10)
        client.send({"type": "ping"})
        first = client.recv()  # the analysis cannot have finished: it waits for ``release``
        assert first["type"] == "pong" and not release.is_set()  # not behind the analysis
        release.set()
        assert [client.recv()["type"] for _ in range(2)] == ["analysis_response", "status_response"]  # in order


def test_large_samples_frames_are_parsed_in_a_child_process_with_the_same_answer(ws_client, server):
    client = ws_client()
    large = samples_frame(10)  # about 4.7 MB: parsed and decoded in a child process
    small = samples_frame(0.5)
    assert len(large) > 256 * 2**10 > len(small)
    reply = client.ask(large)
    assert reply["type"] == "analysis_response" and reply["analysis"]["measured_from"] == "audio"
    assert reply["analysis"]["metrics"]["duration_s"] == pytest.approx(10, abs=0.01)
    broken = json.loads(large)
    broken["audio_data"]["samples"] = broken["audio_data"]["samples"][:-3] + "!!!"
    error = client.ask(json.dumps(broken))
    assert error["type"] == "error" and "'audio_data.samples'" in error["message"] and "base64" in error["message"]
    assert client.ask(json.dumps({"type": "chat", "message": "x" * 300_000}))["type"] in ("chat_response", "error")
    assert client.ask({"type": "ping"})["type"] == "pong"


def test_audio_in_flight_and_queued_analyses_are_capped_with_a_busy_error(ws_client):
    engine = Engine()
    release = threading.Event()
    running = threading.Semaphore(0)

    def held(request):
        running.release()
        return release.wait(20) and {"insights": "done"}

    engine.analysis_types.register("held", held)
    with BackgroundServer(
        engine, port=0, request_timeout=30, max_queued_analyses=2, max_audio_bytes=6 * 2**20
    ) as server:
        try:
            first, second, third = ws_client(server.url), ws_client(server.url), ws_client(server.url)
            first.send({**LEVELS_ONLY, "analysis_type": "held"})
            second.send({**LEVELS_ONLY, "analysis_type": "held"})
            assert running.acquire(timeout=20) and running.acquire(timeout=20)  # both admitted and running
            busy = third.ask({**LEVELS_ONLY, "analysis_type": "held"})
            assert busy["type"] == "error" and busy["message"].startswith("Server busy: 2 analyses are already queued")
            assert third.ask({"type": "ping"})["type"] == "pong"  # the connection carries on
            release.set()
            assert first.recv()["type"] == second.recv()["type"] == "analysis_response"
            frame = samples_frame(8)  # 3.8 MB: one fits in the 6 MB budget, two do not
            first.send(frame)
            too_much = second.ask(frame)
            assert too_much["type"] == "error" and "MB of audio are being analyzed" in too_much["message"]
            assert first.recv()["type"] == "analysis_response"
            assert second.ask(frame)["type"] == "analysis_response"  # room again once the first was answered
        finally:
            release.set()


def test_a_client_that_leaves_replies_unread_is_closed_and_the_others_carry_on(ws_client, caplog):
    caplog.set_level("WARNING", logger="codette_lab.server")
    with BackgroundServer(Engine(), port=0, reply_timeout=0.5) as server, frozen_client(server.url) as frozen:
        sender = threading.Thread(target=flood, args=(frozen, 20_000), daemon=True)
        sender.start()
        deadline = time.monotonic() + 20
        while "left its replies unread" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "left its replies unread for 0.5 s" in caplog.text
        while server.active_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.active_connections == 0
        assert ws_client(server.url).ask({"type": "ping"})["type"] == "pong"


def test_stop_and_restart_never_hang_on_a_client_that_stopped_reading():
    engine = Engine()
    server = BackgroundServer(engine, port=0).start()
    port = server.port
    with frozen_client(server.url) as frozen:
        threading.Thread(target=flood, args=(frozen, 20_000), daemon=True).start()
        wait_until(lambda: backed_up(frozen), what="the frozen client's requests backing up")
        server.stop(timeout=20)  # raises ServerError if it hangs; how long it takes: bench_responsiveness.py
        assert not server.running
        again = BackgroundServer(engine, port=port).start()  # a re-run start cell gets the same port at once
        try:
            with connect(again.url, open_timeout=5) as client:
                assert json.loads(client.recv())["type"] == "connection"
        finally:
            again.stop()


def test_the_frame_limit_fits_a_minute_of_stereo_and_refuses_more(ws_client):
    from codette_lab.server.limits import DEFAULT_MAX_MESSAGE_BYTES

    assert DEFAULT_MAX_MESSAGE_BYTES >= len(samples_frame(60)) > 28 * 10**6
    with BackgroundServer(Engine(), port=0, max_message_bytes=2**20) as server:
        client = ws_client(server.url)
        client.send(samples_frame(3))  # 1.4 MB
        with pytest.raises(ConnectionClosed):
            client.recv()
        assert client.close_code == 1009
        assert ws_client(server.url).ask({"type": "ping"})["type"] == "pong"


def _parse_children() -> list[int]:
    """This process's children running the frame parser (read from /proc)."""
    found = []
    for task in Path("/proc/self/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:  # a thread that ended since the listing (the server's pipe threads come and go)
            continue
        for child in children:
            try:
                if b"parse_child" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
            except OSError:
                pass
    return found


def test_large_frames_from_many_daws_at_once_share_two_parsing_processes(ws_client):
    from codette_lab.server.parsing import PARSE_PROCESSES

    frame = samples_frame(4, analysis_type="spectrum")
    with BackgroundServer(Engine(), port=0) as server:
        clients = [ws_client(server.url) for _ in range(8)]
        for client in clients:
            client.send(frame)
        seen = set()
        for client in clients:
            seen.update(_parse_children())
            assert client.recv()["type"] == "analysis_response"
        assert 1 <= len(seen | set(_parse_children())) <= PARSE_PROCESSES
    wait_until(lambda: not set(_parse_children()) & seen, what="the parsing children ending with the server")


def test_a_client_leaving_with_queued_requests_gives_their_room_back(ws_client):
    engine = Engine()
    release = threading.Event()
    engine.analysis_types.register("held", lambda request: release.wait(20) and {"insights": "done"})
    engine.analysis_types.register("quick", lambda request: {"insights": "at once"})  # also in a worker
    quick = {**LEVELS_ONLY, "analysis_type": "quick"}
    with BackgroundServer(engine, port=0, request_timeout=30, max_queued_analyses=3) as server:
        try:
            leaver = ws_client(server.url)
            for _ in range(3):  # one running, two queued behind it: the whole budget
                leaver.send({**LEVELS_ONLY, "analysis_type": "held"})
            asking = ws_client(server.url)
            wait_until(  # until the server has read all three (an answered "quick" takes nothing away)
                lambda: asking.ask(quick).get("message", "").startswith("Server busy"), what="the budget filling"
            )
            assert ws_client(server.url).ask(LEVELS_ONLY)["type"] == "analysis_response"  # inline: no worker
            leaver.close()
            staying = ws_client(server.url)
            wait_until(lambda: staying.ask(quick)["type"] == "analysis_response", what="the leaver's room coming back")
            assert [staying.ask(quick)["type"] for _ in range(3)] == ["analysis_response"] * 3
        finally:
            release.set()
